"""Benchmark of the message pipeline on PostgreSQL + Redis, one worker (one process).

    .venv/bin/python benchmarks/pipeline.py [--users 500] [--messages 10] [--rate 300] [--pool 5]
                                            [--warmup 50]

500 bound users send 10 messages each (5,000 in all): greetings, menu choices, questions,
chit-chat, thanks — every message de-duplicated, locked, parsed, routed, logged and
committed as in production. Two runs on a fresh database each:

* closed loop: 50 users at a time send as fast as they get answers -> the most messages/s;
* open loop: messages arrive at a fixed rate (default 300/s) -> latency as users feel it.

Before each run, 50 other users (``--warmup``, 0 for none) go through the same ten
messages, unmeasured: the pools open their connections and every statement is compiled
and prepared once, as in a server that has been up for a while. The first messages of a
cold process otherwise queue behind that work (0.5–0.7 s here) and alone make the p99.

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL; defaults as the tests').
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import uvloop  # noqa: E402
from redis.asyncio import BlockingConnectionPool, Redis  # noqa: E402

from bot.logs import configure_logging  # noqa: E402
from bot.messages import InboundMessage  # noqa: E402
from bot.pipeline import Pipeline  # noqa: E402
from bot.runtime import settle_heap  # noqa: E402
from handlers.base import ServiceConfig  # noqa: E402
from nlu.engine import EmbeddedEngine  # noqa: E402
from storage.db import make_engine, make_sessions, upgrade  # noqa: E402
from storage.demo import seed_demo, seed_roster  # noqa: E402
from storage.keys import Keys  # noqa: E402
from storage.state import RedisStore  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402

SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
SCRIPT = [
    "你好",
    "6",
    "离休费今年涨了多少",
    "谢谢你",
    "今天天气怎么样",
    "在吗",
    "7",
    "护理费是什么标准",
    "好的",
    "再见",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(SERVER.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def prepare(
    users: int, parser: EmbeddedEngine, pool: int, warmup: int = 0
) -> tuple[Pipeline, str, RedisStore, object]:
    name = f"yinling_bench_{uuid.uuid4().hex[:8]}"
    await _admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(SERVER.rpartition("/")[0] + "/" + name, pool_size=pool)
    await upgrade(engine)
    sessions = make_sessions(engine)
    now = datetime.now(UTC)
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        have = await uow.people.count()
        await seed_roster(uow, max(0, users + warmup - have), now, start=have)
        ids = await uow.people.all_ids()
        for i in range(users):
            await uow.accounts.bind("bench", f"user{i}", ids[i], now)
        for i in range(warmup):
            await uow.accounts.bind("bench", f"warm{i}", ids[users + i], now)
        await uow.commit()
    redis = Redis(connection_pool=BlockingConnectionPool.from_url(REDIS_URL, max_connections=64))
    store = RedisStore(redis, Keys(f"ylbench:{uuid.uuid4().hex[:6]}:"))
    pipeline = Pipeline(sessions, store, parser, ServiceConfig())
    await pipeline.refresh_lookups(now)
    for turn in range(len(SCRIPT) if warmup else 0):
        await asyncio.gather(*(pipeline.handle(_message(u, turn, "warm")) for u in range(warmup)))
    settle_heap()  # as open_runtime does for `yinling serve`
    return pipeline, name, store, engine


async def cleanup(name: str, store: RedisStore, engine: object) -> None:
    await engine.dispose()  # type: ignore[attr-defined]
    keys = [k async for k in store.redis.scan_iter(match=store.keys.prefix + "*")]
    if keys:
        await store.redis.delete(*keys)
    await store.redis.aclose()
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _message(user: int, turn: int, who: str = "user") -> InboundMessage:
    return InboundMessage(
        channel="bench",
        user_id=f"{who}{user}",
        message_id=f"{user}-{turn}-{uuid.uuid4().hex[:6]}",
        received_at=datetime.now(UTC),
        text=SCRIPT[turn % len(SCRIPT)],
    )


async def closed_loop(
    pipeline: Pipeline, users: int, messages: int, concurrency: int
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def user(u: int) -> None:
        async with gate:
            for turn in range(messages):
                t = time.perf_counter()
                await pipeline.handle(_message(u, turn))
                latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    await asyncio.gather(*(user(u) for u in range(users)))
    return time.perf_counter() - started, latencies


async def open_loop(
    pipeline: Pipeline, users: int, messages: int, rate: float
) -> tuple[float, list[float]]:
    latencies: list[float] = []
    tasks = []

    async def one(u: int, turn: int) -> None:
        t = time.perf_counter()
        await pipeline.handle(_message(u, turn))
        latencies.append(time.perf_counter() - t)

    started = time.perf_counter()
    # Round-robin over users so that one user's turns are 1/rate*users apart.
    for i in range(users * messages):
        due = started + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i % users, i // users)))
    await asyncio.gather(*tasks)
    return time.perf_counter() - started, latencies


def report(title: str, elapsed: float, cpu: float, latencies: list[float]) -> None:
    n = len(latencies)
    print(f"{title}")
    print(f"  {n} messages in {elapsed:.1f} s = {n / elapsed:.0f} messages/s"
          f"   CPU {cpu / n * 1000:.2f} ms/message (this process)")  # fmt: skip
    print(f"  latency p50 {percentile(latencies, 0.5) * 1000:.1f} ms   p99 {percentile(latencies, 0.99) * 1000:.1f} ms"
          f"   mean {statistics.mean(latencies) * 1000:.1f} ms")  # fmt: skip


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--messages", type=int, default=10)
    parser.add_argument("--rate", type=float, default=300.0, help="arrivals per second (open loop)")
    parser.add_argument("--concurrency", type=int, default=50, help="users at a time (closed loop)")
    parser.add_argument("--pool", type=int, default=5, help="database pool (YINLING_DATABASE_POOL)")
    parser.add_argument(
        "--warmup", type=int, default=50, help="users warming up first (unmeasured)"
    )
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    nlu = EmbeddedEngine.load()

    for title, run in (
        (f"closed loop, {args.concurrency} users at a time", lambda p: closed_loop(p, args.users, args.messages, args.concurrency)),
        (f"open loop, {args.rate:.0f} messages/s arriving", lambda p: open_loop(p, args.users, args.messages, args.rate)),
    ):  # fmt: skip
        pipeline, name, store, engine = await prepare(args.users, nlu, args.pool, args.warmup)
        cpu = time.process_time()
        try:
            elapsed, latencies = await run(pipeline)
            cpu = time.process_time() - cpu
        finally:
            await cleanup(name, store, engine)
        report(title, elapsed, cpu, latencies)
    print(
        f"\n{args.users} users x {args.messages} messages, PostgreSQL + Redis on loopback, one process"
        f" (after {args.warmup} users x {len(SCRIPT)} messages of warm-up)"
    )
    print(f"reproduce: {sys.executable} benchmarks/pipeline.py")


if __name__ == "__main__":
    # uvloop, as `yinling serve` runs under uvicorn.
    uvloop.run(main())
