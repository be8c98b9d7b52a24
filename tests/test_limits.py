"""The flood limits (bot/limits.py) against a server that counts arrivals, with requests
that bunch up on the way: in one process, and shared by several through real Redis.
Shortened periods keep the tests quick."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
import uuid
from bisect import bisect_left
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from bot.limits import URGENT, Lane, Limits, LocalLimits, Policy, RedisLimits, Rule
from tests.conftest import REDIS_URL

LIMIT, PERIOD = 10, 0.1  # at most 10 messages in any 0.1 s: 100/s
POLICY = Policy("test", (Rule(LIMIT, PERIOD),), headroom=2)


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


@pytest.fixture
async def shared() -> AsyncIterator[list[RedisLimits]]:
    """Three 'processes' sharing one Redis (each its own client), under a fresh prefix."""
    prefix = f"yltest:{uuid.uuid4().hex[:8]}:"
    clients = [Redis.from_url(REDIS_URL) for _ in range(3)]
    yield [RedisLimits(client, prefix) for client in clients]
    keys = [k async for k in clients[0].scan_iter(match=prefix + "*")]
    if keys:
        await clients[0].delete(*keys)
    for client in clients:
        await client.aclose()


@pytest.fixture(params=["local", "redis"])
def limits(request: pytest.FixtureRequest, shared: list[RedisLimits]) -> Limits:
    return LocalLimits() if request.param == "local" else shared[0]


async def run(
    limits: list[Limits],
    server: Server,
    sends: int,
    in_flight: int,
    lane: Lane = URGENT,
    messages: int = 1,
) -> None:
    """``sends`` sends, spread over the given limiters (processes), ``in_flight`` each."""
    gates = [asyncio.Semaphore(in_flight) for _ in limits]

    async def one(n: int) -> None:
        which = n % len(limits)
        async with gates[which], limits[which].turn("k", POLICY, lane, messages):
            await server.send(messages)

    async with asyncio.TaskGroup() as group:
        for n in range(sends):
            group.create_task(one(n))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_never_over_the_limit_however_requests_bunch_up(limits: Limits, seed: int) -> None:
    server = Server(seed)
    started = time.monotonic()
    await run([limits], server, sends=120, in_flight=8)
    elapsed = time.monotonic() - started
    assert len(server.arrivals) == 120
    assert busiest(server.arrivals, PERIOD) <= LIMIT
    assert elapsed < 120 / (LIMIT / PERIOD) * 4  # limited, not stalled


async def test_three_processes_together_never_over_the_limit(shared: list[RedisLimits]) -> None:
    server = Server(seed=7)
    await run(list(shared), server, sends=300, in_flight=8)
    assert len(server.arrivals) == 300
    assert busiest(server.arrivals, PERIOD) <= LIMIT


async def test_bulk_leaves_headroom_and_urgent_sends_go_ahead(shared: list[RedisLimits]) -> None:
    """Two processes fill the bulk lane; an urgent send from a third starts at once."""
    server = Server(seed=8)
    bulk = Lane(bulk=True, rate=LIMIT / PERIOD)
    broadcast = asyncio.create_task(run(shared[:2], server, sends=200, in_flight=8, lane=bulk))
    waits = []
    for _ in range(10):
        await asyncio.sleep(0.05)
        asked = time.monotonic()
        async with shared[2].turn("k", POLICY, URGENT):
            waits.append(time.monotonic() - asked)
            await server.send()
    await broadcast
    assert max(waits) < PERIOD / 2  # never a period behind the bulk sends
    assert busiest(server.arrivals, PERIOD) <= LIMIT


async def test_texts_in_several_messages_take_several_turns(limits: Limits) -> None:
    server = Server(seed=4)
    await run([limits], server, sends=60, in_flight=8, messages=3)
    assert len(server.arrivals) == 180
    assert busiest(server.arrivals, PERIOD) <= LIMIT


async def test_bulk_starts_are_evenly_spaced_not_a_burst(limits: Limits) -> None:
    starts: list[float] = []

    async def one() -> None:
        async with limits.turn("k", POLICY, Lane(bulk=True, rate=50.0)):
            starts.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(6)))
    # 50/s: the i-th start at least i x 20 ms after the first (timer resolution aside),
    # each judged against the schedule, not the one before.
    starts.sort()
    assert all(t - starts[0] >= i * 0.02 * 0.85 for i, t in enumerate(starts))
    assert max(b - a for a, b in itertools.pairwise(starts)) < 0.5  # and not stalled


async def test_a_send_that_never_returns_frees_its_place_after_inflight(limits: Limits) -> None:
    """A process killed mid-send never gives its places back: they lapse."""
    policy = Policy("t", (Rule(1, 0.05),), inflight=0.3)
    held = asyncio.create_task(_hold(limits, policy))
    await asyncio.sleep(0.05)
    asked = time.monotonic()
    async with limits.turn("k2", policy):
        waited = time.monotonic() - asked
    held.cancel()
    assert 0.1 < waited < 1.5


async def _hold(limits: Limits, policy: Policy) -> None:
    async with limits.turn("k2", policy):
        await asyncio.sleep(30)


async def test_with_redis_away_the_limit_holds_in_process() -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        server = Server(seed=5)
        await run([RedisLimits(dead)], server, sends=60, in_flight=8)
        assert len(server.arrivals) == 60  # pages still go out
        assert busiest(server.arrivals, PERIOD) <= LIMIT
    finally:
        await dead.aclose()


async def test_a_member_s_31st_message_within_a_minute_waits() -> None:
    """WeCom's 30 a minute and 1,000 an hour per member, on a fake clock."""
    clock = [1000.0]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    limits = LocalLimits(clock=lambda: clock[0], sleep=sleep)
    policy = Policy("wecom", (Rule(30, 60.0), Rule(1000, 3600.0)))
    for _ in range(30):
        clock[0] += 1.0  # 30 messages in 30 seconds
        async with limits.turn("member", policy):
            pass
    async with limits.turn("someone else", policy):
        pass
    assert waits == []
    async with limits.turn("member", policy):
        pass
    # It waited until the first of the 30 was a minute old, and not longer.
    assert waits == [pytest.approx(31.0)]
    hourly = Policy("t", (Rule(3, 60.0), Rule(4, 3600.0)))
    clock[0], waits[:] = 0.0, []
    for _ in range(4):  # at 0, 10, 20 s; the fourth waits for the minute rule until 60 s
        async with limits.turn("a", hourly):
            pass
        clock[0] += 10.0
    assert waits == [pytest.approx(30.0)]
    async with limits.turn("a", hourly):  # at 70 s: the hourly rule, an hour after the first
        pass
    assert waits == [pytest.approx(30.0), pytest.approx(3530.0)]


async def test_every_turn_granted_is_counted(shared: list[RedisLimits]) -> None:
    """A wait shorter than a millisecond is still a wait (a script's number is truncated
    by Redis: 0.4 ms would read as 'granted' without the place being taken)."""
    limits = shared[0]
    policy = Policy("counted", (Rule(1000, 10.0),))
    inside = 0
    release = asyncio.Event()

    async def one() -> None:
        nonlocal inside
        async with limits.turn("counted", policy, Lane(bulk=True, rate=2000.0)):
            inside += 1
            await release.wait()

    tasks = [asyncio.create_task(one()) for _ in range(60)]
    while inside < 60:  # noqa: ASYNC110 - counted by the turns themselves
        await asyncio.sleep(0.01)
    counted = await limits.redis.zcard(limits._keys("counted")[0])
    release.set()
    await asyncio.gather(*tasks)
    assert counted == 60
