"""The staff console's pages against a full-size database, timed in-process.

    .venv/bin/python benchmarks/console.py [--runs 50] [--passes 3] [--reuse] [--keep]
                                           [--database yinling_bench_console]
                                           [--only queue] [--explain] [--sqlite PATH]
                                           [--drop-index console | NAME,NAME…]

Goal (issue 17): every page renders in <= 100 ms p95 server time with 10,000 people and
100,000 requests in the database; the monthly report (issue 18 item 6: a month's figures
aggregated over those 100,000 requests, and one of its Excel downloads) in <= 1 s
(``PAGE_GOALS_MS``).

A PostgreSQL database (BENCH_DATABASE_URL's server) is created, migrated
(``storage.db.upgrade``) and seeded with bulk inserts: 10,000 fake people (encrypted
phones with their blind index), 100,000 service requests over every kind (a few thousand
open) with their status histories, ~200 open and a few thousand closed emergencies with
their steps, 200,000 message-log lines, 50,000 audit entries, activities with
registrations, broadcasts with recipients, and 50 staff who sign in with argon2 hashes.
Person 1 has a long file (300 requests, 1,000 messages). ``--reuse`` keeps a database
already seeded at this size (and does not drop it at the end); ``--keep`` keeps a fresh one.
``--drop-index`` drops indexes for the run, to measure without them, and makes them
again at the end (``console``: the five of migration 0013, the console's).

The real app (``bot.app.create_app`` on a hand-built ``Runtime``, as tests/test_app.py
builds one) is driven through ``httpx.ASGITransport``: a leader signs in, then every page
is asked for ``--runs`` times after two unmeasured requests. Server time is from sending
the request to the whole response read, in this process (no network). The whole timing
pass runs ``--passes`` times (the machine is shared): a table per pass, then each page's
p95 in every pass and its verdict on the median p95. ``queries`` is the number of SQL
statements one request of the page sends (the sign-in check and the audit entry of a file
viewed or a search included), ``sql`` the median time spent in them, ``kB`` the page's size.

``--explain`` runs EXPLAIN (ANALYZE, BUFFERS) on every query one request of each page
sends (PostgreSQL) and prints the slow ones' plans. ``--sqlite PATH`` runs the same on a
SQLite file instead, for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "benchmarks"))  # last: benchmarks/nlu.py hides no package

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import uvloop  # noqa: E402
from console_data import analyze, seed  # noqa: E402
from console_pages import (  # noqa: E402
    GOAL_MS,
    PAGE_GOALS_MS,
    Counter,
    Result,
    explain,
    pages,
    sign_in,
    spread,
    table,
    targets,
    time_page,
)
from console_scale import CONSOLE_INDEXES, Scale  # noqa: E402
from sqlalchemy import Index, func, select, text  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bot.app import create_app  # noqa: E402
from bot.logs import configure_logging  # noqa: E402
from bot.metrics import Metrics  # noqa: E402
from bot.pipeline import Pipeline  # noqa: E402
from bot.runtime import Runtime, settle_heap  # noqa: E402
from bot.settings import Settings  # noqa: E402
from nlu.engine import EmbeddedEngine  # noqa: E402
from storage.db import Base, make_engine, make_sessions, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    AuditEntry,
    MessageRecord,
    Person,
    ServiceRequest,
)
from storage.state import MemoryStore  # noqa: E402

SERVER = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(SERVER.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _exists(name: str) -> bool:
    conn = await asyncpg.connect(SERVER.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


async def seeded(engine: AsyncEngine, scale: Scale) -> bool:
    """Whether the database already holds the seed at this scale."""
    try:
        async with engine.connect() as conn:
            people = await conn.scalar(select(func.count()).select_from(Person))
            requests = await conn.scalar(select(func.count()).select_from(ServiceRequest))
            messages = await conn.scalar(select(func.count()).select_from(MessageRecord))
            audit = int(await conn.scalar(select(func.count()).select_from(AuditEntry)) or 0)
    except Exception:
        return False
    # Every run adds a few thousand audit entries (files viewed, searches, sign-ins).
    return (people, requests, messages) == (
        scale.people,
        scale.requests,
        scale.messages,
    ) and scale.audit <= audit < 2 * scale.audit


async def migrate(engine: AsyncEngine) -> str:
    """Up to the newest revision; that revision."""
    await upgrade(engine)
    async with engine.connect() as conn:
        return str(await conn.scalar(text("SELECT version_num FROM alembic_version")))


def indexes(names: str) -> list[Index]:
    """The models' indexes by name (``console``: those of migration 0013)."""
    given = [n.strip() for n in names.split(",") if n.strip()]
    wanted = [i for n in given for i in (CONSOLE_INDEXES if n == "console" else (n,))]
    known = {i.name: i for t in Base.metadata.tables.values() for i in t.indexes}
    missing = [n for n in wanted if n not in known]
    if missing:
        raise SystemExit(f"no such index in the models: {', '.join(missing)}")
    return [known[n] for n in wanted]


@asynccontextmanager
async def without(engine: AsyncEngine, dropped: list[Index]) -> AsyncIterator[None]:
    """These indexes dropped for a while (then made again: the schema stays the
    migrations')."""
    async with engine.begin() as conn:
        for index in dropped:
            await conn.run_sync(index.drop)
    if dropped:
        print("without the indexes " + ", ".join(str(i.name) for i in dropped))
        await analyze(engine)
    try:
        yield
    finally:
        async with engine.begin() as conn:
            for index in dropped:
                await conn.run_sync(index.create)


async def run(args: argparse.Namespace) -> int:
    scale = Scale(
        people=args.people, requests=args.requests, messages=args.messages, audit=args.audit
    )
    now = datetime.now(UTC)
    sqlite = args.sqlite is not None
    if sqlite:
        url = f"sqlite+aiosqlite:///{args.sqlite}"
    else:
        name = args.database
        base = SERVER.rsplit("/", 1)[0]
        url = f"{base}/{name}"
        if not (args.reuse and await _exists(name)):
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await _admin(f'CREATE DATABASE "{name}"')
    engine = make_engine(url)
    drop = not (args.reuse or args.keep) and not sqlite
    try:
        reused = args.reuse and await seeded(engine, scale)
        if not reused and args.reuse:
            if not sqlite:  # not at this scale: start afresh
                await engine.dispose()
                await _admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
                await _admin(f'CREATE DATABASE "{args.database}"')
            else:
                await asyncio.to_thread(Path(args.sqlite).unlink, missing_ok=True)
        revision = await migrate(engine)
        if reused:
            print(f"database: {engine.url.database} (reused), at revision {revision}")
            await analyze(engine)
        else:
            started = time.perf_counter()
            counts = await seed(engine, scale, now)
            took = time.perf_counter() - started
            print(f"database: {engine.url.database}, at revision {revision}")
            print(
                f"seeded in {took:.1f} s (rows built, inserted, analyzed): "
                + ", ".join(f"{t} {n:,}" for t, n in counts.items())
            )
        async with without(engine, indexes(args.drop_index)):
            return await measure(args, engine)
    finally:
        await engine.dispose()
        if drop:
            await _admin(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


async def measure(args: argparse.Namespace, engine: AsyncEngine) -> int:
    found = await targets(engine)
    todo = [(n, p) for n, p in pages(found) if not args.only or args.only in n]
    # The reconciler runs in a worker in production (it shares the app's event loop only on
    # the in-memory broker): once at start here, then not again for an hour.
    settings = Settings(reconcile_seconds=3600)
    sessions = make_sessions(engine)
    store = MemoryStore()
    nlu = EmbeddedEngine.load()
    metrics = Metrics()
    pipeline = Pipeline(sessions, store, nlu, settings.service_config(), metrics)
    runtime = Runtime(settings, engine, sessions, None, store, nlu, metrics, pipeline)
    app = create_app(runtime=runtime)
    counter = Counter()
    counter.watch(engine)
    settle_heap()  # as open_runtime does
    passes: list[list[Result]] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await sign_in(client)
            await asyncio.sleep(1)  # the reconciler's first look
            if args.explain:
                if engine.dialect.name != "postgresql":
                    print("--explain needs PostgreSQL")
                else:
                    await explain(client, counter, engine, todo)
            for n in range(args.passes):
                print(f"\npass {n + 1}/{args.passes}: {args.runs} requests a page")
                results = [
                    await time_page(client, counter, name, path, args.runs) for name, path in todo
                ]
                table(results, args.goal)
                passes.append(results)
    await pipeline.close()
    ok = spread(passes, args.goal)
    print(
        f"\n{engine.dialect.name}, {args.people:,} people, {args.requests:,} requests"
        f" (open: {found.open_total:,}), {args.messages:,} messages, {args.audit:,} audit"
        " entries; server time in-process through httpx.ASGITransport, uvloop, one client"
        " at a time"
    )
    print(f"command: {args.command}")
    own = "".join(f", {page}* <= {ms:.0f} ms" for page, ms in PAGE_GOALS_MS.items())
    print(f"goal: every page p95 <= {args.goal:.0f} ms{own}: {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="timed requests a page a pass")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--database", default="yinling_bench_console")
    parser.add_argument("--reuse", action="store_true", help="reuse a seeded database")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--drop-index", default="", metavar="NAMES", help="measure without these indexes"
    )
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--audit", type=int, default=50_000, help="audit entries")
    parser.add_argument("--only", default="", help="time only pages whose name has this")
    parser.add_argument("--goal", type=float, default=GOAL_MS, help="p95 goal (ms)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE every query")
    parser.add_argument("--sqlite", metavar="PATH", help="a SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    args.command = shlex.join([os.path.relpath(sys.executable, REPO), *sys.argv])
    if args.sqlite and not args.reuse:
        Path(args.sqlite).unlink(missing_ok=True)
    configure_logging("console", "WARNING")
    return uvloop.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
