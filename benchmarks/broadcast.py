"""Broadcasts to Telegram recipients from several `yinling worker` processes at once, and
an emergency raised in the middle of them, on PostgreSQL through the Redis job queue.

    .venv/bin/python benchmarks/broadcast.py [--recipients 2000] [--workers 2]
                                             [--sos-at 10]

A fresh PostgreSQL database with N retirees, each with a Telegram account, split into one
segment per worker; a leader creates one broadcast per segment (every recipient row in
one transaction) and kicks them. ``--workers`` real ``yinling worker`` processes (taskiq
receiver on the Redis stream + reconciler) send them at the same time through the real
python-telegram-bot, on the flood limit they share in Redis (bot/limits.py), to the local
Bot API double — in a process of its own, as Telegram's servers are — which accepts at
most 30 messages in any second and answers 429 with ``retry_after`` beyond that.
``--sos-at`` seconds after the first message, a retiree presses 🆘: the pipeline (this
process, as the app) writes the SOS and kicks the page; a worker pages the duty officer.

Measured at the double: messages accepted, duplicates (a chat that got the message more
than once: must be 0), the sustained rate (goal >= 95 % of the bulk lane's
pace over all workers, 27.5/s), the busiest 1-second window over all workers together (never
over 30), 429 answers, and the time from the SOS to its page arriving (goal <= 1 s).

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL; defaults as the tests').
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "benchmarks"))  # last: benchmarks/nlu.py hides no package

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import uvloop  # noqa: E402
from deployment import (  # noqa: E402
    busiest_second,
    clean_redis,
    free_port,
    listening,
    run_telegram_double,
)
from sqlalchemy import insert, select  # noqa: E402

from bot.jobs import start_jobs, stop_jobs  # noqa: E402
from bot.logs import configure_logging  # noqa: E402
from bot.messages import InboundMessage  # noqa: E402
from bot.metrics import Metrics  # noqa: E402
from bot.notify import Notifier  # noqa: E402
from bot.pipeline import Pipeline  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.base import ServiceConfig, payload  # noqa: E402
from nlu.engine import EmbeddedEngine  # noqa: E402
from services import broadcasts  # noqa: E402
from services.broadcasts import SEND, create_broadcast  # noqa: E402
from storage.db import make_engine, make_sessions, upgrade  # noqa: E402
from storage.models import ChannelAccount, Person, Staff  # noqa: E402
from storage.state import MemoryStore  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402
from tests.channels.botapi_double import TOKEN  # noqa: E402

SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
LIMIT = 30
DEFAULT_PACE = broadcasts.TUNING.telegram_rate
FIRST_CHAT = 700_000_000
DUTY_CHAT, SOS_CHAT = 9_000_001, 9_000_002
TEXT = "重阳节慰问：本周五起，各社区工作站为八十岁以上老同志上门送慰问品，请留意电话。"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(SERVER.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _seed(url: str, count: int, segments: int, now: datetime) -> tuple[int, int]:
    """N retirees with a Telegram account each, in ``segments`` districts; a leader; a duty
    officer on call with a Telegram account; a retiree outside every segment who will
    press 🆘. Returns the leader's id and the SOS presser's person id."""
    engine = make_engine(url)
    try:
        await upgrade(engine)
        async with UnitOfWork(make_sessions(engine)) as uow:
            leader = await uow.staff.add(
                Staff(name="陈建平", role="leader", active=True, created_at=now)
            )
            duty = await uow.staff.add(
                Staff(name="王晓明", role="duty", active=True, created_at=now)
            )
            await uow.alerts.add_shift(
                duty.id, 1, now - timedelta(hours=1), now + timedelta(days=1)
            )
            for start in range(0, count, 2000):
                rows = range(start, min(count, start + 2000))
                await uow.session.execute(
                    insert(Person),
                    [
                        {
                            "name": f"测试老人{i + 1:05d}",
                            "category": "tuixiu",
                            "district": f"第{i % segments}区",
                            "birth_date": date(1940 + i % 20, 1 + i % 12, 1 + i % 28),
                            "lives_alone": False,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i in rows
                    ],
                )
            ids = list(await uow.session.scalars(select(Person.id).order_by(Person.id)))
            for start in range(0, count, 2000):
                await uow.session.execute(
                    insert(ChannelAccount),
                    [
                        {
                            "channel": "telegram",
                            "external_id": str(FIRST_CHAT + i),
                            "role": "retiree",
                            "person_id": ids[i],
                            "active": True,
                            "created_at": now,
                            "bound_at": now,
                        }
                        for i in range(start, min(count, start + 2000))
                    ],
                )
            presser = await uow.people.add(
                Person(
                    name="张建国",
                    category="lixiu",
                    district="未群发区",
                    address="姑苏区示范路1号",
                    created_at=now,
                    updated_at=now,
                )
            )
            await uow.accounts.bind("telegram", str(SOS_CHAT), presser.id, now)
            await uow.accounts.bind(
                "telegram", str(DUTY_CHAT), 0, now, role="staff", staff_id=duty.id
            )
            await uow.commit()
            return leader.id, presser.id
    finally:
        await engine.dispose()


async def _wait(sessions: object, ids: list[int], total: int, started: float) -> None:
    shown = time.monotonic()
    while True:
        sent, done = 0, 0
        for broadcast_id in ids:
            found = await broadcasts.progress(sessions, broadcast_id)  # type: ignore[arg-type]
            assert found is not None
            sent += found[1]["sent"]
            done += found[0].status == "done"
        if done == len(ids):
            return
        if time.monotonic() - shown >= 30:
            shown = time.monotonic()
            print(f"  … {sent}/{total} sent after {shown - started:.0f} s", flush=True)
        await asyncio.sleep(0.5)


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """A real `yinling worker` process."""
    command = [sys.executable, "-m", "bot.cli", "worker"]
    return subprocess.Popen(command, cwd=REPO, env={**os.environ, **env})  # noqa: S603


async def _first_delivery(api: str) -> None:
    async with httpx.AsyncClient() as client:
        while not (await client.get(f"{api}/stats?first=1", timeout=10)).json()["delivered"]:  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def _sos(sessions: object, settings: Settings, at: float) -> float:
    """Press 🆘 as the app would take it: the pipeline writes the SOS and kicks the page
    into the Redis stream. Returns when (time.monotonic(), shared by the double's process
    on Linux) the message came in."""
    jobs = await start_jobs(settings, sessions, Notifier())  # type: ignore[arg-type]
    nlu = EmbeddedEngine.load()
    pipeline = Pipeline(sessions, MemoryStore(), nlu, ServiceConfig(), Metrics())  # type: ignore[arg-type]
    pipeline.on_events = jobs.dispatch
    try:
        await asyncio.sleep(at)
        pressed = time.monotonic()
        message = InboundMessage(
            "telegram", str(SOS_CHAT), "sos-1", datetime.now(UTC), "", payload=payload("sos")
        )
        response = await pipeline.handle(message)
        assert "紧急求助" in response.replies[0].text
        return pressed
    finally:
        await stop_jobs(jobs)


async def _send(
    args: argparse.Namespace, url: str, leader: int, api: str
) -> tuple[list[dict[str, int]], float | None, float]:
    """Start the workers, create and kick one broadcast per worker, press 🆘 mid-way, wait
    until every broadcast is done: their counts, when the SOS came in, and how long
    creating and queueing the broadcasts took."""
    prefix = f"ylbench:{uuid.uuid4().hex[:8]}:"
    settings = Settings(database_url=url, redis_url=REDIS, redis_prefix=prefix)
    env = {
        "YINLING_DATABASE_URL": url,
        "YINLING_REDIS_URL": REDIS,
        "YINLING_REDIS_PREFIX": prefix,
        "YINLING_TELEGRAM__TOKEN": TOKEN,
        "YINLING_TELEGRAM__API_BASE": api,
        "YINLING_RECONCILE_SECONDS": "2",
        "YINLING_LOG_LEVEL": "WARNING",
        "YINLING_SPOOL_DIR": tempfile.mkdtemp(prefix="ylbench-spool-"),
    }
    engine = make_engine(url)
    sessions = make_sessions(engine)
    workers = [_worker(env) for _ in range(args.workers)]
    try:
        jobs = await start_jobs(settings, sessions, Notifier())
        started = time.monotonic()
        created = [
            await create_broadcast(
                sessions,
                staff_id=leader,
                text=TEXT,
                segment={"district": f"第{k}区"},
                now=datetime.now(UTC),
            )
            for k in range(args.workers)
        ]
        for broadcast in created:
            await jobs.kick(SEND, broadcast.id)
        queued = time.monotonic() - started
        await stop_jobs(jobs)
        pressed = None
        if args.sos_at:
            await _first_delivery(api)
            pressed = await _sos(sessions, settings, args.sos_at)
        total = sum(b.total for b in created)
        await _wait(sessions, [b.id for b in created], total, started)
        counts = []
        for broadcast in created:
            found = await broadcasts.progress(sessions, broadcast.id)
            assert found is not None
            counts.append(found[1])
        return counts, pressed, queued
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        await engine.dispose()
        await clean_redis(REDIS, prefix)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="yinling worker processes")
    parser.add_argument(
        "--sos-at", type=float, default=10.0, help="seconds in: press 🆘 (0: no emergency)"
    )
    args = parser.parse_args()
    configure_logging("console", "WARNING")

    name = f"yinling_broadcast_{uuid.uuid4().hex[:8]}"
    url = SERVER.rpartition("/")[0] + "/" + name
    await _admin(f'CREATE DATABASE "{name}"')
    port = free_port()
    double = multiprocessing.get_context("spawn").Process(
        target=run_telegram_double, args=(port, LIMIT), daemon=True
    )
    double.start()
    api = f"http://127.0.0.1:{port}"
    try:
        leader, _ = await _seed(url, args.recipients, args.workers, datetime.now(UTC))
        await asyncio.to_thread(listening, port)
        counts, pressed, queued = await _send(args, url, leader, api)
        async with httpx.AsyncClient() as client:
            stats = (await client.get(f"{api}/stats", timeout=60)).json()
    finally:
        double.terminate()
        double.join(10)
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    delivered = [(float(at), int(chat)) for at, chat, _ in stats["delivered"]]
    return _report(
        args, delivered, int(stats["too_many"]), counts=counts, pressed=pressed, queued=queued
    )


def _report(
    args: argparse.Namespace,
    delivered: list[tuple[float, int]],
    too_many: int,
    *,
    counts: list[dict[str, int]],
    pressed: float | None,
    queued: float,
) -> int:
    broadcast = [(at, chat) for at, chat in delivered if chat >= FIRST_CHAT]
    pages = [at for at, chat in delivered if chat == DUTY_CHAT]
    times = sorted(at for at, _ in delivered)  # what Telegram counts: every message
    sent_times = sorted(at for at, _ in broadcast)
    chats = Counter(chat for _, chat in broadcast)
    elapsed = sent_times[-1] - sent_times[0] if len(sent_times) > 1 else 0.0
    rate = (len(sent_times) - 1) / elapsed if elapsed else 0.0
    busiest = busiest_second(times)
    duplicates = len(broadcast) - len(chats)
    everyone = set(chats) == {FIRST_CHAT + i for i in range(args.recipients)}
    sent = sum(c["sent"] for c in counts)
    page_after = (min(pages) - pressed) if pages and pressed is not None else None
    checks = {
        f"all {args.recipients} delivered": everyone and sent == args.recipients,
        "no duplicates": duplicates == 0,
        f"sustained rate >= {0.95 * DEFAULT_PACE:.1f}/s": rate >= 0.95 * DEFAULT_PACE,
        f"never over {LIMIT} in any second (all workers together)": busiest <= LIMIT,
    }
    if pressed is not None:
        checks["the SOS paged within 1 s, mid-broadcast"] = (
            page_after is not None and page_after <= 1.0 and len(pages) == 1
        )
    print(
        f"{args.recipients} Telegram recipients in {args.workers} broadcasts, sent by "
        f"{args.workers} `yinling worker` processes at once; PostgreSQL, Redis job queue, "
        f"Bot API double enforcing {LIMIT} messages/s; bulk pace {DEFAULT_PACE}/s in all"
    )
    failed = sum(c["failed"] for c in counts)
    print(
        f"  delivered to {len(chats)} chats, {len(broadcast)} messages "
        f"(DB: sent {sent}, failed {failed})"
    )
    print(f"  created and queued in {queued:.2f} s")
    print(f"  elapsed {elapsed:.1f} s from the first message to the last")
    print(f"  sustained {rate:.2f} messages/s (goal >= {0.95 * DEFAULT_PACE:.1f})")
    print(f"  busiest 1-second window {busiest} messages, all workers (limit {LIMIT})")
    print(f"  429 answers {too_many}")
    print(f"  duplicates {duplicates}")
    if pressed is not None:
        shown = f"{page_after * 1000:.0f} ms" if page_after is not None else "never"
        print(f"  SOS pressed {args.sos_at:.0f} s in: page at the duty officer after {shown}")
    for label, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {label}")
    extra = "" if args.recipients == 2000 else f" --recipients {args.recipients}"
    extra += "" if args.workers == 2 else f" --workers {args.workers}"
    extra += "" if args.sos_at == 10.0 else f" --sos-at {args.sos_at}"
    print(f"reproduce: {sys.executable} benchmarks/broadcast.py{extra}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(uvloop.run(main()))
