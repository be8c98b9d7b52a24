"""Channels: each turns platform updates into InboundMessages and renders replies.

``base.py`` is the contract (``Channel``) and says how to add one; ``passive.py`` and
``tasks.py`` are the parts the channels share. One module per platform: ``wechat.py``,
``wecom.py``, ``telegram.py`` (with ``*_api.py`` / ``*_inbound.py`` / ``*_render.py`` beside
them where one file would be too long), and ``console.py`` for development.
"""
