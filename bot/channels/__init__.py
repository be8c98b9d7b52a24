"""Channels: each turns platform updates into InboundMessages and renders replies."""
