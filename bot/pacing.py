"""Pacing bulk sends under a platform's flood limit ("at most 30 messages in any second").

A server counts a message when the request reaches it: some time after we started the
request and before its answer came back to us. Spacing the *starts* evenly is not enough:
requests bunch up on the way (a busy event loop, a process not scheduled, a slow
connection), and 31 may reach the server within one second although they left more than
a second apart. So a :class:`Pacer` lets send number n start only ``period`` after every
send up to n - ``limit`` was *answered*. Any ``period`` at the server then holds at most
``limit`` messages, whatever happens on the way: if sends m < n both arrived within one
``period`` and n - m >= limit, then n started after m was answered, which is after m
arrived, plus ``period`` — a contradiction.

On top of that, starts are spaced evenly at ``rate`` a second, so a queue of sends never
leaves as a burst. With answers that come back quickly (a few ms on a local network) the
even spacing sets the pace; with slow answers (round trip ``rtt``) the pace is at most
``limit / (period + rtt)``: a little slower, never a 429.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["Pacer"]

TIMER_SLACK = 0.002  # uvloop's timers count whole milliseconds: never wake up early


class Pacer:
    """Evenly spaced starts at ``rate`` a second, never more than ``limit`` a ``period``
    as the server counts (see the module's docstring). One per event loop."""

    def __init__(self, rate: float, limit: int = 30, period: float = 1.0) -> None:
        if rate <= 0 or limit < 1 or period <= 0:
            raise ValueError("rate, limit and period must be positive")
        self.rate, self.limit, self.period = rate, limit, period
        self._interval = 1.0 / rate
        self._next = 0.0  # the earliest start of the next send (even spacing)
        self._issued = 0  # turns handed out (a text sent in k messages takes k)
        self._answers: dict[int, asyncio.Future[float]] = {}  # turn -> when it was answered
        self._settled = 0  # turns below this one are answered and folded into _horizon
        self._horizon = float("-inf")  # the latest answer among the settled turns
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def turn(self, messages: int = 1) -> AsyncIterator[None]:
        """Wait for this send's turn, send inside the block; the block's end is the answer.

        A send cancelled while it waits takes no turn from the others: its turns count as
        answered at once (nothing went out)."""
        messages = max(1, min(messages, self.limit))
        answered: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        try:
            async with self._lock:
                first = self._issued
                self._issued += messages
                for turn in range(first, first + messages):
                    self._answers[turn] = answered
                # Every send up to (our last turn - limit) must have been answered.
                while self._settled <= first + messages - 1 - self.limit:
                    at = await asyncio.shield(self._answers[self._settled])
                    del self._answers[self._settled]
                    self._horizon = max(self._horizon, at)
                    self._settled += 1
                start = max(time.monotonic(), self._next, self._horizon + self.period)
                self._next = start + self._interval * messages
                delay = start - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay + TIMER_SLACK)
            yield
        finally:
            if not answered.done():
                answered.set_result(time.monotonic())
