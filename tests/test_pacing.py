"""The flood-limit pacer (bot/pacing.py) against a server that counts arrivals, with
requests that bunch up on the way. Shortened periods keep the tests quick."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from bisect import bisect_left

import pytest

from bot.pacing import Pacer

LIMIT, PERIOD = 10, 0.1  # at most 10 messages in any 0.1 s: 100/s


def busiest(arrivals: list[float], period: float) -> int:
    """The most arrivals in any half-open window [t, t + period)."""
    times = sorted(arrivals)
    return max(bisect_left(times, t + period) - i for i, t in enumerate(times))


class Server:
    """Counts a message when it arrives: after a random delay on the way there, then a
    random delay back. Now and then a request is held up on the way (a busy loop)."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.arrivals: list[float] = []

    async def send(self, messages: int = 1) -> None:
        there = self.random.uniform(0, 0.004)
        if self.random.random() < 0.05:
            there += self.random.uniform(0.02, 0.06)
        await asyncio.sleep(there)
        self.arrivals.extend([time.monotonic()] * messages)
        await asyncio.sleep(self.random.uniform(0, 0.004))


async def run(pacer: Pacer, server: Server, sends: int, in_flight: int, messages: int = 1) -> None:
    gate = asyncio.Semaphore(in_flight)

    async def one() -> None:
        async with gate, pacer.turn(messages):
            await server.send(messages)

    async with asyncio.TaskGroup() as group:
        for _ in range(sends):
            group.create_task(one())


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_never_over_the_limit_however_requests_bunch_up(seed: int) -> None:
    """Starts alone paced just under the limit would let held-up requests arrive together
    with later ones; the pacer keeps every window at the server within the limit."""
    server = Server(seed)
    pacer = Pacer(rate=LIMIT / PERIOD * 0.97, limit=LIMIT, period=PERIOD)
    started = time.monotonic()
    await run(pacer, server, sends=200, in_flight=8)
    elapsed = time.monotonic() - started
    assert len(server.arrivals) == 200
    assert busiest(server.arrivals, PERIOD) <= LIMIT
    assert elapsed < 200 / (LIMIT / PERIOD) * 3  # paced, not stalled


async def test_texts_in_several_messages_take_several_turns() -> None:
    server = Server(seed=4)
    pacer = Pacer(rate=LIMIT / PERIOD, limit=LIMIT, period=PERIOD)
    await run(pacer, server, sends=60, in_flight=8, messages=3)
    assert len(server.arrivals) == 180
    assert busiest(server.arrivals, PERIOD) <= LIMIT


async def test_starts_are_evenly_spaced_not_a_burst() -> None:
    pacer = Pacer(rate=50.0, limit=LIMIT, period=PERIOD)
    starts: list[float] = []

    async def one() -> None:
        async with pacer.turn():
            starts.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(6)))
    # 50/s: the i-th start at least i x 20 ms after the first (timer resolution aside). Each
    # is judged against the schedule, not the one before: a start woken a few ms late is
    # followed by one that much sooner, which is pacing, not a burst.
    assert all(t - starts[0] >= i * 0.02 * 0.9 for i, t in enumerate(starts))
    assert max(b - a for a, b in itertools.pairwise(starts)) < 0.5  # and not stalled


async def test_a_send_cancelled_while_waiting_holds_no_one_up() -> None:
    """A send cancelled in the queue counts as answered at once: the sends after it go."""
    pacer = Pacer(rate=1000.0, limit=2, period=0.5)
    order: list[str] = []

    async def one(name: str, hold: float = 0.0) -> None:
        async with pacer.turn():
            order.append(name)
            await asyncio.sleep(hold)

    first = asyncio.create_task(one("a", hold=10))  # never answered while the test runs
    await asyncio.sleep(0.01)
    second = asyncio.create_task(one("b"))
    third = asyncio.create_task(one("c"))  # waits for a's answer (limit 2)
    await asyncio.sleep(0.05)
    assert order == ["a", "b"]
    first.cancel()  # a ends (its answer is now): c may go half a second later
    await asyncio.wait_for(asyncio.gather(second, third), timeout=2)
    assert order == ["a", "b", "c"]
    waiting = asyncio.create_task(one("d"))
    await asyncio.sleep(0.01)
    waiting.cancel()  # cancelled in the queue
    await asyncio.wait_for(one("e"), timeout=2)
    assert order[-1] == "e"


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(rate=0)
