"""Work a channel does after its webhook has answered: tracked, logged, drained at shutdown.

A task nobody holds can be garbage-collected mid-flight, and its exception is lost; so
every one is kept in a set until it ends, a failure is logged, and ``drain`` (or ``stop``,
with a time limit) waits for the set to empty — as PTB's ``Application.create_task`` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import structlog

__all__ = ["Tasks"]


class Tasks:
    """Background tasks of one channel; a failure is logged as ``failure_event``."""

    def __init__(self, logger: str, failure_event: str) -> None:
        self._log = structlog.get_logger(logger)
        self._failure_event = failure_event
        self._running: set[asyncio.Task[None]] = set()

    def __len__(self) -> int:
        return len(self._running)

    def track(self, work: Awaitable[None]) -> None:
        """Run ``work`` in the background until it ends."""
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._running.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.error(self._failure_event, error=repr(task.exception()))

    async def drain(self) -> None:
        """Wait until every task (and any it started meanwhile) has ended."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def stop(self, timeout: float) -> None:  # noqa: ASYNC109 - a grace period, then cancel
        """Wait up to ``timeout`` seconds, then cancel what is still running."""
        if not self._running:
            return
        _, late = await asyncio.wait(list(self._running), timeout=timeout)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
