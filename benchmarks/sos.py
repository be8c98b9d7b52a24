"""Benchmark of one-key help: time from an SOS message to the page reaching the staff on duty.

    .venv/bin/python benchmarks/sos.py [--alerts 100] [--rate 5]

As deployed: the pipeline (this process) writes the SOS and its alert on PostgreSQL and
kicks the paging job into Redis; a `yinling worker` process takes it and pages the duty
officer through the real python-telegram-bot; the page arrives at a local Bot API double
(in this process, so both ends are timed on one clock). Retirees press 🆘 at a fixed
rate; prints p50/p99/max from message to page received, and whether every alert was paged
exactly once.

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL; defaults as the tests').
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import uvloop  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from bot.jobs import start_jobs, stop_jobs  # noqa: E402
from bot.logs import configure_logging  # noqa: E402
from bot.messages import InboundMessage  # noqa: E402
from bot.metrics import Metrics  # noqa: E402
from bot.notify import Notifier  # noqa: E402
from bot.pipeline import Pipeline  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.base import ServiceConfig, payload  # noqa: E402
from nlu.engine import EmbeddedEngine  # noqa: E402
from storage.db import make_engine, make_sessions, upgrade  # noqa: E402
from storage.demo import seed_demo, seed_roster  # noqa: E402
from storage.keys import Keys  # noqa: E402
from storage.state import RedisStore  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402
from tests.channels.botapi_double import TOKEN, BotApiDouble, serve  # noqa: E402

SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
DUTY_CHAT = 9001
ALERT_ID = re.compile(r"回复“接 (\d+)”")  # the request's number, one per alert


class TimingDouble(BotApiDouble):
    """The Bot API double, noting when each page arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[int, list[float]] = {}

    async def _sendmessage(self, params: dict[str, Any]) -> Any:
        found = ALERT_ID.search(str(params.get("text", "")))
        if found:
            self.arrived.setdefault(int(found[1]), []).append(time.perf_counter())
        return await super()._sendmessage(params)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(SERVER.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def prepare(engine: Any) -> Any:
    """Migrate and seed a fresh database; the duty officer (staff 1) is on Telegram."""
    await upgrade(engine)
    sessions = make_sessions(engine)
    now = datetime.now(UTC)
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.accounts.bind("telegram", str(DUTY_CHAT), 0, now, role="staff", staff_id=1)
        await uow.commit()
    return sessions


async def retirees(sessions: Any, count: int) -> list[int]:
    """``count`` more retirees, each bound to a Telegram account."""
    now = datetime.now(UTC)
    async with UnitOfWork(sessions) as uow:
        more = await seed_roster(uow, count, now, start=await uow.people.count())
        for person_id in more:
            await uow.accounts.bind("telegram", str(100_000 + person_id), person_id, now)
        await uow.commit()
    return more


async def press_all(pipeline: Pipeline, people: list[int], rate: float) -> dict[int, float]:
    """Each retiree presses 🆘 once, ``rate`` a second; the request's number (what the
    page shows: "接 12") -> when the message came."""
    sent_at: dict[int, float] = {}

    async def press(n: int, person_id: int) -> None:
        user = str(100_000 + person_id)
        message = InboundMessage(
            "telegram", user, f"sos-{n}", datetime.now(UTC), "🆘 一键求助", "button",
            payload("sos"),
        )  # fmt: skip
        started = time.perf_counter()
        response = await pipeline.handle(message)
        for event in response.events:
            if event.get("type") == "sos_raised":
                sent_at[int(event["request_id"])] = started

    began = time.perf_counter()
    tasks = []
    for n, person_id in enumerate(people):
        delay = began + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(press(n, person_id)))
    await asyncio.gather(*tasks)
    return sent_at


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=100)
    parser.add_argument("--rate", type=float, default=5.0, help="SOS messages per second")
    args = parser.parse_args()
    configure_logging("console", "WARNING")

    name = f"yinling_sos_{uuid.uuid4().hex[:8]}"
    url = SERVER.rpartition("/")[0] + "/" + name
    prefix = f"ylbench:{uuid.uuid4().hex[:8]}:"
    await _admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    redis = Redis.from_url(REDIS_URL)
    worker = None
    try:
        sessions = await prepare(engine)
        more = await retirees(sessions, args.alerts)
        with serve(TimingDouble()) as double:
            env = {
                **os.environ,
                "YINLING_DATABASE_URL": url,
                "YINLING_REDIS_URL": REDIS_URL,
                "YINLING_REDIS_PREFIX": prefix,
                "YINLING_TELEGRAM__TOKEN": TOKEN,
                "YINLING_TELEGRAM__API_BASE": double.url,
                "YINLING_LOG_LEVEL": "WARNING",
            }
            command = [sys.executable, "-m", "bot.cli", "worker"]
            worker = subprocess.Popen(command, cwd=REPO, env=env)  # noqa: S603, ASYNC220 - our own, started once
            settings = Settings(redis_url=REDIS_URL, redis_prefix=prefix)
            jobs = await start_jobs(settings, sessions, Notifier())
            nlu = EmbeddedEngine.load()
            store = RedisStore(redis, Keys(prefix))
            pipeline = Pipeline(sessions, store, nlu, ServiceConfig(), Metrics())
            pipeline.on_events = jobs.dispatch
            await asyncio.sleep(3.0)  # the worker starts (imports, connections)
            sent_at = await press_all(pipeline, more, args.rate)
            deadline = time.monotonic() + 30
            # The double runs in a thread of its own: its record is polled.
            while len(double.arrived) < len(sent_at) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
            await stop_jobs(jobs)
            arrived = dict(double.arrived)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        keys = [k async for k in redis.scan_iter(match=prefix + "*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
        await engine.dispose()
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return report(sent_at, arrived, args.rate)


def report(sent_at: dict[int, float], arrived: dict[int, list[float]], rate: float) -> int:
    """Print the figures; 1 if an alert was not paged, or paged twice."""
    latencies = [(arrived[a][0] - t) * 1000 for a, t in sent_at.items() if a in arrived]
    missing = len(sent_at) - len(latencies)
    twice = sum(1 for a in arrived if len(arrived[a]) > 1)
    print(f"SOS -> page to the duty officer: {len(sent_at)} alerts at {rate:g}/s")
    print("  pipeline + PostgreSQL + Redis stream + `yinling worker` + python-telegram-bot")
    if latencies:
        print(
            f"  message to page received: p50 {percentile(latencies, 0.5):.0f} ms, "
            f"p99 {percentile(latencies, 0.99):.0f} ms, max {max(latencies):.0f} ms"
        )
    print(f"  paged {len(latencies)}, not paged {missing}, paged twice {twice}")
    print(f"reproduce: {sys.executable} benchmarks/sos.py " + " ".join(sys.argv[1:]))
    return 0 if missing == 0 and twice == 0 else 1


if __name__ == "__main__":
    sys.exit(uvloop.run(main()))
