"""Yinling's intent layer: Chinese text in, Rasa-format parse results out.

Standalone: it imports nothing from ``bot``, ``handlers`` or ``storage``.

    >>> from nlu import parse
    >>> parse("下礼拜三想去省人民医院看看心内科")["intent"]["name"]
    'medical_escort'
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from nlu.engine import EmbeddedEngine, Parser
from nlu.result import ParseDict

__all__ = ["EmbeddedEngine", "ParseDict", "Parser", "default_engine", "parse"]


@cache
def default_engine() -> EmbeddedEngine:
    """The embedded engine trained from the packaged data (cached on disk)."""
    return EmbeddedEngine.load()


def parse(text: str, now: datetime | None = None) -> ParseDict:
    """Parse one message with the default embedded engine."""
    return default_engine().parse(text, now)
