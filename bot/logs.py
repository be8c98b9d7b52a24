"""Structured logging (structlog): console in development, JSON in production.

No personal data in a log line, wherever it would appear (a field, an exception's message,
a traceback): phone and ID-card numbers are masked, and every run of Chinese characters —
names, addresses, health notes, what people wrote — is replaced by its length ("[中×3]").
Events, reasons and ids are English and numbers, and stay readable.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO
from urllib.parse import unquote

import structlog

__all__ = ["configure_logging", "mask"]

_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")


def mask(text: str) -> str:
    """139****5678 for phones, 320502********123X for ID numbers, [中×3] for 张建国 (also
    when percent-encoded, as in the query string of an access log line)."""
    if "%" in text:
        text = unquote(text)
    text = _ID_CARD.sub(r"\1********\2", text)
    text = _PHONE.sub(r"\1****\2", text)
    return _CJK.sub(lambda m: f"[中×{len(m[0])}]", text)


def _mask_values(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {k: _mask_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mask_values(v) for v in value)
    return value


def _mask_processor(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        event[key] = _mask_values(value)
    return event


NOISY = ("jieba", "httpx", "asyncio", "aiosqlite", "alembic", "bm25s")


def _library(name: str) -> str:
    return name.split(".", 1)[0]


def configure_logging(
    fmt: str = "console", level: str = "INFO", stream: TextIO | None = None
) -> None:
    """Route structlog and the standard library through one masked renderer."""
    renderer: Any = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _mask_processor,
    ]
    structlog.configure(
        # Drop lines below the level before any processor runs (one per message matters).
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    floor = max(logging.WARNING, root.level)
    for noisy in NOISY:
        logging.getLogger(noisy).setLevel(floor)
    # Some libraries set their own logger's level when first imported (bm25s: DEBUG, on the
    # first policy question): the handler drops their chatter whatever their level says.
    handler.addFilter(lambda record: record.levelno >= floor or _library(record.name) not in NOISY)
