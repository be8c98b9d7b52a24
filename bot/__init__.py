"""Yinling's composition root and transports: pipeline, routing, channels, CLI and ASGI app."""
