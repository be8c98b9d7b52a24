"""A broadcast to 10,000 Telegram recipients, on PostgreSQL, through the Redis job queue.

    .venv/bin/python benchmarks/broadcast.py [--recipients 10000] [--broker redis|memory]
                                             [--pace 29.5]

A fresh PostgreSQL database with N retirees, each with a Telegram account; a leader
creates a broadcast to all of them (``create_broadcast``: every recipient row in one
transaction) and kicks ``yinling.send_broadcast``. A worker as ``yinling worker`` runs it
(``bot.worker.run_worker``: taskiq receiver on the Redis stream + reconciler; ``--broker
memory`` runs the job in-process instead) and sends through the real python-telegram-bot
(``bot.worker.telegram_sender``: ExtBot + AIORateLimiter, untouched) to the local Bot API
double, in a process of its own as Telegram's servers are, which accepts at most 30
messages in any second and answers 429 with ``retry_after`` beyond that.

Measured at the double: messages accepted, duplicates (a chat that got the message more
than once: must be 0), elapsed from the first to the last message, the sustained rate
(goal >= 28.5/s, 95 % of the limit), the busiest 1-second window (never over 30), and how
many sends were answered 429. ``--pace 0`` turns the broadcast's own pacing off, to see
AIORateLimiter alone.

Needs PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL; defaults as the tests').
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import socket
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import uvicorn  # noqa: E402
import uvloop  # noqa: E402
from redis.asyncio import Redis  # noqa: E402
from sqlalchemy import insert, select  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402
from taskiq import InMemoryBroker  # noqa: E402

from bot import broadcasts  # noqa: E402
from bot.broadcasts import create_broadcast, send_broadcast  # noqa: E402
from bot.jobs import make_broker, start_jobs, stop_jobs  # noqa: E402
from bot.logs import configure_logging  # noqa: E402
from bot.notify import Notifier  # noqa: E402
from bot.settings import Settings, TelegramSettings  # noqa: E402
from bot.worker import run_worker, telegram_sender  # noqa: E402
from storage.db import make_engine, make_sessions, upgrade  # noqa: E402
from storage.models import ChannelAccount, Person, Staff  # noqa: E402
from storage.uow import UnitOfWork  # noqa: E402
from tests.channels.botapi_double import TOKEN, BotApiDouble  # noqa: E402

SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
LIMIT = 30
DEFAULT_PACE = broadcasts.TUNING.telegram_rate
FIRST_CHAT = 700_000_000
TEXT = "重阳节慰问：本周五起，各社区工作站为八十岁以上老同志上门送慰问品，请留意电话。"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(SERVER.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _seed(url: str, count: int, now: datetime) -> int:
    """N retirees with a Telegram account each, and a leader; the leader's id."""
    engine = make_engine(url)
    try:
        await upgrade(engine)
        async with UnitOfWork(make_sessions(engine)) as uow:
            leader = await uow.staff.add(
                Staff(name="陈建平", role="leader", active=True, created_at=now)
            )
            for start in range(0, count, 2000):
                rows = range(start, min(count, start + 2000))
                await uow.session.execute(
                    insert(Person),
                    [
                        {
                            "name": f"测试老人{i + 1:05d}",
                            "category": "tuixiu",
                            "district": "姑苏区",
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
            await uow.commit()
            return leader.id
    finally:
        await engine.dispose()


def _busiest_second(times: list[float]) -> int:
    """The most messages accepted within any 1-second window."""
    best, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


async def _wait(sessions: object, broadcast_id: int, total: int, started: float) -> None:
    shown = time.monotonic()
    while True:
        found = await broadcasts.progress(sessions, broadcast_id)  # type: ignore[arg-type]
        assert found is not None
        shown_broadcast, counts = found
        if shown_broadcast.status == "done":
            return
        if time.monotonic() - shown >= 30:
            shown = time.monotonic()
            elapsed = shown - started
            print(
                f"  … {counts['sent']}/{total} sent after {elapsed:.0f} s",
                flush=True,
            )
        await asyncio.sleep(0.5)


async def _send(
    args: argparse.Namespace, url: str, leader: int, api: str
) -> tuple[dict[str, int], str, float]:
    """Create the broadcast, kick it, wait until it is done: its counts, status, and how
    long creating and queueing it took."""
    prefix = f"ylbench:{uuid.uuid4().hex[:8]}:"
    settings = Settings(
        database_url=url,
        redis_url=REDIS if args.broker == "redis" else None,
        redis_prefix=prefix,
        telegram=TelegramSettings(token=TOKEN, api_base=api),
    )
    engine = make_engine(url)
    sessions = make_sessions(engine)
    stop = asyncio.Event()
    bot = telegram_sender(settings) if args.broker == "memory" else None
    try:
        if bot is None:
            # The worker, as `yinling worker` runs it; this process only kicks the job.
            worker = asyncio.create_task(run_worker(settings, stop))
            client = make_broker(settings)
            await client.startup()
        else:
            await bot.initialize()
            jobs = await start_jobs(
                settings, sessions, Notifier(telegram=bot), broker=InMemoryBroker()
            )
            client = jobs.broker
        started = time.monotonic()
        created = await create_broadcast(
            sessions, staff_id=leader, text=TEXT, segment={}, now=datetime.now(UTC)
        )
        await send_broadcast.kicker().with_broker(client).kiq(created.id)
        queued = time.monotonic() - started
        await _wait(sessions, created.id, created.total, started)
        if bot is None:
            await client.shutdown()
            stop.set()
            await worker
            redis = Redis.from_url(REDIS)
            keys = [k async for k in redis.scan_iter(match=prefix + "*")]
            keys += [k async for k in redis.scan_iter(match=f"autoclaim:{prefix}*")]
            if keys:
                await redis.delete(*keys)
            await redis.aclose()
        else:
            await stop_jobs(jobs)
            await bot.shutdown()
        found = await broadcasts.progress(sessions, created.id)
        assert found is not None
        return found[1], found[0].status, queued
    finally:
        await engine.dispose()


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--broker", choices=("redis", "memory"), default="redis")
    parser.add_argument(
        "--pace",
        type=float,
        default=broadcasts.TUNING.telegram_rate,
        help="the broadcast's own Telegram pacing, messages/s (0: AIORateLimiter alone)",
    )
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    broadcasts.TUNING.telegram_rate = args.pace

    name = f"yinling_broadcast_{uuid.uuid4().hex[:8]}"
    url = SERVER.rpartition("/")[0] + "/" + name
    await _admin(f'CREATE DATABASE "{name}"')
    port = _free_port()
    double = multiprocessing.get_context("spawn").Process(
        target=_run_double, args=(port, LIMIT), daemon=True
    )
    double.start()
    api = f"http://127.0.0.1:{port}"
    try:
        leader = await _seed(url, args.recipients, datetime.now(UTC))
        await _until_listening(port)
        counts, status, queued = await _send(args, url, leader, api)
        async with httpx.AsyncClient() as client:
            stats = (await client.get(f"{api}/stats", timeout=60)).json()
    finally:
        double.terminate()
        double.join(10)
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    delivered = [(float(at), int(chat)) for at, chat in stats["delivered"]]
    return _report(
        args, delivered, int(stats["too_many"]), counts=counts, status=status, queued=queued
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _until_listening(port: int) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            assert time.monotonic() < deadline, "the Bot API double did not start"
            await asyncio.sleep(0.1)
        else:
            writer.close()
            return


def _run_double(port: int, limit: int) -> None:
    """The Bot API double, in this process of its own, with ``GET /stats`` for the results."""
    double = BotApiDouble(rate_limit=limit)

    async def stats(_: Request) -> JSONResponse:
        delivered = [[d.at, d.chat_id] for d in double.delivered]
        return JSONResponse({"delivered": delivered, "too_many": len(double.too_many)})

    app = Starlette(routes=[Route("/stats", stats), *double.app.routes])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _report(
    args: argparse.Namespace,
    delivered: list[tuple[float, int]],
    too_many: int,
    *,
    counts: dict[str, int],
    status: str,
    queued: float,
) -> int:
    times = sorted(at for at, _ in delivered)
    chats = Counter(chat for _, chat in delivered)
    elapsed = times[-1] - times[0] if len(times) > 1 else 0.0
    rate = (len(times) - 1) / elapsed if elapsed else 0.0
    busiest = _busiest_second(times)
    duplicates = len(delivered) - len(chats)
    everyone = set(chats) == {FIRST_CHAT + i for i in range(args.recipients)}
    checks = {
        f"all {args.recipients} delivered": everyone and counts["sent"] == args.recipients,
        "no duplicates": duplicates == 0,
        "sustained rate >= 28.5/s": rate >= 28.5,
        f"never over {LIMIT} in any second": busiest <= LIMIT,
    }
    pacing = f"paced at {args.pace}/s" if args.pace else "not paced (AIORateLimiter alone)"
    print(
        f"{args.recipients} Telegram recipients, PostgreSQL, {args.broker} broker, "
        f"Bot API double enforcing {LIMIT} messages/s; {pacing}"
    )
    print(
        f"  delivered to {len(chats)} chats, {len(delivered)} messages  "
        f"(DB: sent {counts['sent']}, failed {counts['failed']}, blocked {counts['blocked']}, "
        f"skipped {counts['skipped']}; broadcast {status})"
    )
    print(f"  created and queued in {queued:.2f} s (every recipient row in one transaction)")
    print(f"  elapsed {elapsed:.1f} s from the first message to the last")
    print(f"  sustained {rate:.2f} messages/s (goal >= 28.5)")
    print(f"  busiest 1-second window {busiest} messages (limit {LIMIT})")
    print(f"  429 answers {too_many}")
    print(f"  duplicates {duplicates}")
    for label, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAIL'} {label}")
    extra = "" if args.recipients == 10_000 else f" --recipients {args.recipients}"
    extra += "" if args.broker == "redis" else f" --broker {args.broker}"
    extra += "" if args.pace == DEFAULT_PACE else f" --pace {args.pace}"
    print(f"reproduce: {sys.executable} benchmarks/broadcast.py{extra}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(uvloop.run(main()))
