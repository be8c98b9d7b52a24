"""The three reads benchmarks/province.py times ("my records", the identity lookup of a
binding, the staff's queue), each as the product runs it, and the tools to time them, to
capture the statements one call sends and to explain them."""

from __future__ import annotations

import asyncio
import functools
import json
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from province_scale import DISTRICTS, LONG, Scale
from sqlalchemy import event, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.base import Ctx, ServiceConfig, Turn
from handlers.records import my_records
from storage.db import make_sessions
from storage.models import Person, ServiceRequest
from storage.repos import CLOSED_STATUSES
from storage.state import Conversation
from storage.uow import UnitOfWork
from storage.workbench import COUNT_CAP, QueueFilter

WARMUP = 50


# ------------------------------------------------------------------------ the reads
@dataclass(frozen=True, slots=True)
class Sample:
    """Who the reads are asked about: people (with their account, name and phone), staff."""

    people: list[tuple[int, str, str]]  # id, name, phone
    staff: list[int]


async def sample(engine: AsyncEngine, scale: Scale, n: int, rng: random.Random) -> Sample:
    """``n`` random people (person LONG among them) and the staff."""
    ids = [LONG, *rng.sample(range(2, scale.people + 1), min(n, scale.people - 1) - 1)]
    sessions = make_sessions(engine)
    people = []
    async with UnitOfWork(sessions) as uow:
        for person_id in ids:
            person = await uow.people.get(person_id)
            assert person is not None
            people.append((person.id, person.name, person.phone or ""))
        staff = [s.id for s in await uow.workbench.active_staff()]
    return Sample(people, staff)


def queue_filter(rng: random.Random, staff: list[int]) -> tuple[str, QueueFilter, int]:
    """One of the 待办 page's views, as a member of staff picks them; (name, filter, offset)."""
    choice = rng.randrange(10)
    if choice < 3:
        return "open", QueueFilter(), 0
    if choice == 3:
        return "open page 2-5", QueueFilter(), 50 * rng.randrange(1, 5)
    if choice == 4:
        kind = rng.choice(("medical_escort", "eldercare", "reimbursement", "handoff"))
        return "kind", QueueFilter(kinds=(kind,)), 0
    if choice == 5:
        return "status=pending", QueueFilter(status="pending"), 0
    if choice == 6:
        return "owner=mine", QueueFilter(staff_id=rng.choice(staff)), 0
    if choice == 7:
        return "owner=nobody", QueueFilter(unassigned=True), 0
    if choice == 8:
        return "district", QueueFilter(district=rng.choice(DISTRICTS)), 0
    return "sort=date", QueueFilter(by_date=True), 0


class Reads:
    """The three reads, as the product runs them: each in a unit of work of its own."""

    def __init__(self, engine: AsyncEngine, found: Sample, now: datetime) -> None:
        self.sessions = make_sessions(engine)
        self.found = found
        self.now = now
        self.config = ServiceConfig()

    async def my_records(self, rng: random.Random) -> str:
        """The handler itself (a message "我的记录" from a bound person)."""
        person_id, _, _ = rng.choice(self.found.people)
        async with UnitOfWork(self.sessions) as uow:
            # The pipeline knows the person from its identity cache; loaded unmeasured.
            person = PEOPLE.get(person_id)
            ctx = Ctx(
                now=self.now,
                turn=Turn(text="我的记录", intent="my_records", confidence=1.0),
                uow=uow,
                conv=Conversation(),
                channel="wechat",
                external_id=f"oProv{person_id:08d}",
                account=None,
                person=person,
                config=self.config,
            )
            replies = await my_records(ctx)
        assert replies, "my records said nothing"
        return "long file" if person_id == LONG else ""

    async def identity(self, rng: random.Random) -> str:
        """A binding's roster match: the name and phone the user typed (one in ten wrong)."""
        _, name, phone = rng.choice(self.found.people)
        wrong = rng.random() < 0.1
        if wrong:
            phone = phone[:-4] + f"{rng.randrange(10_000):04d}"
        async with UnitOfWork(self.sessions) as uow:
            person = await uow.people.find_by_name_and_phone(name, phone)
        return "miss" if person is None else ""

    async def identify(self, rng: random.Random) -> str:
        """Every message that misses the identity cache: its account and person."""
        person_id, _, _ = rng.choice(self.found.people)
        async with UnitOfWork(self.sessions) as uow:
            await uow.accounts.identify("wechat", f"oProv{person_id:08d}")
        return ""

    async def queue(self, rng: random.Random) -> str:
        """The console's 待办 page: what bot/console/queue.py reads for it."""
        name, where, offset = queue_filter(rng, self.found.staff)
        async with UnitOfWork(self.sessions) as uow:
            await uow.workbench.queue_page(where, offset)
        return name

    async def queue_before(self, rng: random.Random) -> str:
        """The 待办 page as it was before migration 0023 (for a ratio within one run): five
        statements, the district filter joined to people, the lists asked every time."""
        name, where, offset = queue_filter(rng, self.found.staff)
        async with UnitOfWork(self.sessions) as uow:
            rows = await _page_before(uow, where, offset)
            await uow.workbench.staff_names([r.assigned_staff_id for r, *_ in rows])
            await uow.workbench.districts()
            await uow.workbench.service_names()
        return name

    async def floor(self, rng: random.Random) -> str:
        """The noise floor: a unit of work that sends SELECT 1 (what the machine's load
        adds to any read)."""
        async with UnitOfWork(self.sessions) as uow:
            await uow.session.execute(text("SELECT 1"))
        return ""

    async def queue_list(self, rng: random.Random) -> str:
        """The queue's list alone (WorkbenchRepo.queue)."""
        name, where, offset = queue_filter(rng, self.found.staff)
        async with UnitOfWork(self.sessions) as uow:
            await uow.workbench.queue(where, offset)
        return name


async def _page_before(uow: UnitOfWork, where: QueueFilter, offset: int) -> list[Any]:
    """WorkbenchRepo.queue before migration 0023: its count, then its rows."""
    query = select(ServiceRequest.id).outerjoin(Person, Person.id == ServiceRequest.person_id)
    if where.status:
        query = query.where(ServiceRequest.status == where.status)
    else:
        query = query.where(ServiceRequest.status.not_in(CLOSED_STATUSES))
    if where.kinds:
        query = query.where(ServiceRequest.kind.in_(where.kinds))
    if where.district:
        query = query.where(Person.district == where.district)
    if where.unassigned:
        query = query.where(ServiceRequest.assigned_staff_id.is_(None))
    elif where.staff_id is not None:
        query = query.where(
            or_(
                ServiceRequest.assigned_staff_id.is_(None),
                ServiceRequest.assigned_staff_id == where.staff_id,
            )
        )
    upto = query.limit(max(COUNT_CAP, offset + 50) + 1).subquery()
    await uow.session.scalar(select(func.count()).select_from(upto))
    first = (ServiceRequest.scheduled_date.asc().nulls_last(),) if where.by_date else ()
    order = (*first, ServiceRequest.created_at, ServiceRequest.id)
    ids = query.order_by(*order).offset(offset).limit(50)
    rows = await uow.session.execute(
        select(ServiceRequest, Person.name, Person.district)
        .outerjoin(Person, Person.id == ServiceRequest.person_id)
        .where(ServiceRequest.id.in_(ids.scalar_subquery()))
        .order_by(*order)
    )
    return list(rows)


PEOPLE: dict[int, Person] = {}


READS: tuple[tuple[str, str, bool], ...] = (  # name, Reads method, has a goal
    ("my records", "my_records", True),
    ("identity lookup (name + phone)", "identity", True),
    ("staff queue (待办 page)", "queue", True),
    ("  identify (account + person)", "identify", False),
    ("  queue list alone", "queue_list", False),
    ("  the page before 0023", "queue_before", False),
    ("  floor: SELECT 1 in a unit", "floor", False),
)


@dataclass(slots=True)
class Timed:
    name: str
    times: list[float]  # ms
    by_case: dict[str, list[float]]

    def pct(self, q: float, times: list[float] | None = None) -> float:
        ordered = sorted(self.times if times is None else times)
        return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


async def time_read(
    name: str, call: Callable[[random.Random], Awaitable[str]], runs: int, seed: int
) -> Timed:
    rng = random.Random(seed)
    for _ in range(WARMUP):
        await call(rng)
    times: list[float] = []
    by_case: dict[str, list[float]] = {}
    for _ in range(runs):
        started = time.perf_counter()
        case = await call(rng)
        elapsed = (time.perf_counter() - started) * 1000
        times.append(elapsed)
        if case:
            by_case.setdefault(case, []).append(elapsed)
    return Timed(name, times, by_case)


async def sent_by(
    engine: AsyncEngine, call: Callable[[], Awaitable[Any]]
) -> tuple[list[tuple[str, Any]], list[str]]:
    """The reads (statement, arguments) one call sends, each once, and its other lines."""
    captured: list[tuple[str, Any]] = []

    def before(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
        captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        with asyncpg_log(engine, captured):
            await call()
            await asyncio.sleep(0)  # asyncpg calls its query loggers soon, not at once
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)
    reads, other, seen = [], [], set()
    for statement, parameters in captured:
        one_line = " ".join(statement.split())
        if not one_line.upper().startswith(("SELECT", "WITH")):
            other.append(one_line)
        elif (one_line, repr(parameters)) not in seen:  # SQLAlchemy's, seen again by asyncpg
            seen.add((one_line, repr(parameters)))
            reads.append((statement, list(parameters or ())))
    return reads, other


async def explain(engine: AsyncEngine, reads: Reads) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement one call of each read sends."""
    raw = await asyncpg.connect(raw_dsn(engine))
    try:
        rng = random.Random(5)
        for name, method, _ in READS:
            sent, other = await sent_by(engine, functools.partial(getattr(reads, method), rng))
            print(f"\n== {name.strip()} ({len(sent)} reads; also {', '.join(other) or '-'})")
            for statement, args in sent:
                plan = await raw.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", *args)
                print("   " + " ".join(statement.split())[:160])
                for row in plan:
                    print(f"      {row[0]}")
    finally:
        await raw.close()


async def server_times(engine: AsyncEngine, reads: Reads, calls: int) -> None:
    """Each read's server time: the sum of the execution times (EXPLAIN ANALYZE) of the
    statements one call sends, over ``calls`` calls with random people (no client, no
    network, no waiting for the CPU between statements: what the plans cost)."""
    raw = await asyncpg.connect(raw_dsn(engine))
    print(f"\nserver time a call (ms; EXPLAIN ANALYZE of its statements, {calls} calls a read)")
    print(f"{'read':<34} {'reads':>5} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}")
    try:
        for name, method, _ in READS:
            rng = random.Random(11)
            times, width = [], 0
            for _ in range(calls):
                sent, _other = await sent_by(engine, functools.partial(getattr(reads, method), rng))
                total = 0.0
                for statement, args in sent:
                    plan = await raw.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", *args)
                    total += float(json.loads(plan)[0]["Execution Time"])
                times.append(total)
                width = len(sent)
            timed = Timed(name, times, {})
            print(
                f"{name:<34} {width:>5} {timed.pct(0.5):>7.2f} {timed.pct(0.95):>7.2f}"
                f" {timed.pct(0.99):>7.2f} {max(times):>7.2f}"
            )
    finally:
        await raw.close()


class asyncpg_log:  # noqa: N801 - used as a context manager
    """Statements sent on the pool's asyncpg connections outside SQLAlchemy's cursor (the
    storage layer's lone fast paths), added to ``into`` while in the block."""

    def __init__(self, engine: AsyncEngine, into: list[tuple[str, Any]]) -> None:
        self.engine, self.into = engine, into
        self.connections: list[Any] = []

    def _log(self, record: Any) -> None:
        self.into.append((record.query, record.args))

    def _add(self, dbapi_connection: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None) or getattr(
            dbapi_connection, "_connection", None
        )
        if driver is not None and hasattr(driver, "add_query_logger"):
            driver.add_query_logger(self._log)
            self.connections.append(driver)

    def _checkout(self, dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver not in self.connections:
            self._add(dbapi_connection)

    def __enter__(self) -> asyncpg_log:
        event.listen(self.engine.sync_engine.pool, "checkout", self._checkout)
        return self

    def __exit__(self, *_exc: object) -> None:
        event.remove(self.engine.sync_engine.pool, "checkout", self._checkout)
        for driver in self.connections:
            driver.remove_query_logger(self._log)
        self.connections.clear()


def raw_dsn(engine: AsyncEngine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
