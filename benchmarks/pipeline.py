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

**Three processes.** The pipeline is in-process by design (``Pipeline.handle``: no
transport of its own; the HTTP path is measured by benchmarks/webhook.py and
benchmarks/scaleout.py), so it runs alone in a child process, as in ``yinling serve``,
and takes the messages from a Unix socket, one line each (user, turn, sequence number),
answering each with a line when its ``handle`` has returned. The load generator is a
second child process with its own event loop and no Yinling imports: it holds the clock,
sends, and times. The first process only starts them and prints. So the load's own work
(timers, task switches, sending) is not queued on the event loop it measures, nor counted
as the pipeline's CPU. The socket costs the pipeline's process a read and a write a
message (tens of µs; counted in its CPU figure).

**Latency from the due time.** Open loop: message i is due at ``start + i / rate`` and
its latency runs from then to its answer arriving back in the load process, so a pipeline
(or a load process) that falls behind shows as latency, as users feel it; the time inside
``handle`` (as the pipeline's process saw it) is printed beside it. Closed loop: a user's
next message is due when the previous one is answered, so latency is from sending.

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL; defaults as the tests').
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import uvloop  # noqa: E402

if TYPE_CHECKING:
    from bot.messages import InboundMessage
    from bot.pipeline import Pipeline
    from nlu.engine import EmbeddedEngine
    from storage.state import RedisStore

# Yinling is imported in the pipeline's process only (functions below): this module is
# also the load process's __main__ (multiprocessing's spawn imports it there).

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
    import asyncpg

    conn = await asyncpg.connect(SERVER.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# ------------------------------------------------------------ the pipeline's process
async def prepare(
    users: int, parser: EmbeddedEngine, pool: int, warmup: int = 0
) -> tuple[Pipeline, str, RedisStore, object]:
    from redis.asyncio import BlockingConnectionPool, Redis

    from bot.pipeline import Pipeline
    from bot.runtime import settle_heap
    from handlers.base import ServiceConfig
    from storage.db import make_engine, make_sessions, upgrade
    from storage.demo import seed_demo, seed_roster
    from storage.keys import Keys
    from storage.state import RedisStore
    from storage.uow import UnitOfWork

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
    from bot.messages import InboundMessage

    return InboundMessage(
        channel="bench",
        user_id=f"{who}{user}",
        message_id=f"{user}-{turn}-{uuid.uuid4().hex[:6]}",
        received_at=datetime.now(UTC),
        text=SCRIPT[turn % len(SCRIPT)],
    )


async def _serve_pipeline(args: argparse.Namespace, socket_path: str, control: Connection) -> None:
    """Prepare a fresh database and a warm pipeline, then handle every line of the socket
    (``user turn seq``) as a message, answering ``seq seconds-in-handle``. ``control``:
    "ready" out; "go" in (the CPU clock starts), "stop" in, (CPU seconds, messages) out."""
    from bot.logs import configure_logging
    from nlu.engine import EmbeddedEngine

    configure_logging("console", "WARNING")
    pipeline, name, store, engine = await prepare(
        args.users, EmbeddedEngine.load(), args.pool, args.warmup
    )
    handled = 0
    tasks: set[asyncio.Task[None]] = set()

    async def one(user: int, turn: int, seq: str, writer: asyncio.StreamWriter) -> None:
        nonlocal handled
        began = time.perf_counter()
        await pipeline.handle(_message(user, turn))
        handled += 1
        writer.write(f"{seq} {time.perf_counter() - began:.6f}\n".encode())

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            user, turn, seq = line.split()
            task = asyncio.create_task(one(int(user), int(turn), seq.decode(), writer))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    server = await asyncio.start_unix_server(client, socket_path)
    try:
        control.send("ready")
        await asyncio.to_thread(control.recv)  # go
        cpu = time.process_time()
        await asyncio.to_thread(control.recv)  # stop (the load process has every answer)
        control.send((time.process_time() - cpu, handled))
    finally:
        server.close()
        await cleanup(name, store, engine)


def _pipeline_process(args: argparse.Namespace, socket_path: str, control: Connection) -> None:
    uvloop.run(_serve_pipeline(args, socket_path, control))  # uvloop, as under uvicorn


# ---------------------------------------------------------------- the load process
@dataclass
class LoadResult:
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # from due (open) / sent (closed)
    in_handle: list[float] = field(default_factory=list)  # inside handle, the pipeline's view


class _Link:
    """The socket to the pipeline's process: ``send`` returns when the message's answer
    is back, with the time its ``handle`` took."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.seq = 0
        self.listener = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while line := await self.reader.readline():
            seq, seconds = line.split()
            self.waiting.pop(int(seq)).set_result(float(seconds))

    async def send(self, user: int, turn: int) -> float:
        self.seq += 1
        answer: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[self.seq] = answer
        self.writer.write(f"{user} {turn} {self.seq}\n".encode())
        return await answer


async def _closed_loop(link: _Link, args: argparse.Namespace, result: LoadResult) -> None:
    gate = asyncio.Semaphore(args.concurrency)

    async def user(u: int) -> None:
        async with gate:
            for turn in range(args.messages):
                sent = time.perf_counter()
                result.in_handle.append(await link.send(u, turn))
                result.latencies.append(time.perf_counter() - sent)

    started = time.perf_counter()
    await asyncio.gather(*(user(u) for u in range(args.users)))
    result.elapsed = time.perf_counter() - started


async def _open_loop(link: _Link, args: argparse.Namespace, result: LoadResult) -> None:
    tasks = []

    async def one(u: int, turn: int, due: float) -> None:
        result.in_handle.append(await link.send(u, turn))
        result.latencies.append(time.perf_counter() - due)

    started = time.perf_counter()
    # Round-robin over users so that one user's turns are 1/rate*users apart.
    for i in range(args.users * args.messages):
        due = started + i / args.rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i % args.users, i // args.users, due)))
    await asyncio.gather(*tasks)
    result.elapsed = time.perf_counter() - started


async def _load(kind: str, args: argparse.Namespace, socket_path: str) -> LoadResult:
    reader, writer = await asyncio.open_unix_connection(socket_path)
    link = _Link(reader, writer)
    result = LoadResult()
    await (_closed_loop if kind == "closed" else _open_loop)(link, args, result)
    writer.close()
    return result


def _load_process(kind: str, args: argparse.Namespace, socket_path: str, out: Connection) -> None:
    out.send(uvloop.run(_load(kind, args, socket_path)))


# ----------------------------------------------------------------------- the runner
def run(kind: str, args: argparse.Namespace) -> tuple[LoadResult, float, int]:
    """One run with a fresh pipeline process and a load process: (what the load saw, the
    pipeline's CPU seconds, messages it handled)."""
    context = multiprocessing.get_context("spawn")
    folder = tempfile.mkdtemp(prefix="ylpipe-")
    socket_path = os.path.join(folder, "pipeline.sock")
    control, child_control = context.Pipe()
    pipeline = context.Process(target=_pipeline_process, args=(args, socket_path, child_control))
    pipeline.start()
    try:
        if not control.poll(600) or control.recv() != "ready":
            raise RuntimeError("the pipeline's process did not start")
        results, child_results = context.Pipe()
        load = context.Process(target=_load_process, args=(kind, args, socket_path, child_results))
        control.send("go")
        load.start()
        result: LoadResult = results.recv()
        load.join(30)
        control.send("stop")
        cpu, handled = control.recv()
    finally:
        pipeline.join(120)
        if pipeline.is_alive():
            pipeline.terminate()
        with_socket = Path(socket_path)
        with_socket.unlink(missing_ok=True)
        os.rmdir(folder)
    return result, cpu, handled


def report(title: str, result: LoadResult, cpu: float, handled: int, since: str) -> None:
    n = len(result.latencies)
    ms = [x * 1000 for x in result.latencies]
    inside = [x * 1000 for x in result.in_handle]
    print(f"{title}")
    print(f"  {n} messages in {result.elapsed:.1f} s = {n / result.elapsed:.0f} messages/s"
          f"   CPU {cpu / max(1, handled) * 1000:.2f} ms/message (the pipeline's process)")  # fmt: skip
    print(f"  latency from {since}: p50 {percentile(ms, 0.5):.1f} ms   p99 {percentile(ms, 0.99):.1f} ms"
          f"   mean {statistics.mean(ms):.1f} ms")  # fmt: skip
    print(f"  inside handle:        p50 {percentile(inside, 0.5):.1f} ms   p99 {percentile(inside, 0.99):.1f} ms")  # fmt: skip


def main() -> None:
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

    for kind, title, since in (
        ("closed", f"closed loop, {args.concurrency} users at a time", "sending"),
        ("open", f"open loop, {args.rate:.0f} messages/s arriving", "the due time"),
    ):
        result, cpu, handled = run(kind, args)
        report(title, result, cpu, handled, since)
    print(
        f"\n{args.users} users x {args.messages} messages, PostgreSQL + Redis on loopback; the "
        f"pipeline in one process, the load in another (after {args.warmup} users x "
        f"{len(SCRIPT)} messages of warm-up)"
    )
    print(f"reproduce: {sys.executable} benchmarks/pipeline.py {' '.join(sys.argv[1:])}".rstrip())


if __name__ == "__main__":
    main()
