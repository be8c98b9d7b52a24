"""What the command groups share: the ``--now``/``--at`` time argument and the event loop
a command's coroutine runs on."""

from __future__ import annotations

import argparse
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

__all__ = ["now_arg", "run_async"]


def now_arg(value: str) -> datetime:
    """An ISO-8601 time with its zone (``--now``, ``--at``, ``--from``, ``--to``)."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError("--now needs a time zone, e.g. 2026-11-22T10:00:00+08:00")
    return moment


def run_async(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a command's coroutine to its end; its result."""
    import uvloop  # noqa: PLC0415 - the event loop `yinling serve` runs on too (via uvicorn)

    return uvloop.run(coro)
