"""The three reads that must stay fast at a province's size (issue 19 item 5: "my records",
the identity lookup of a binding and the staff's queue) are served by indexes, not by
scanning the big tables.

A modest data set made by benchmarks/province.py's own generator (4,000 people, 40,000
requests, registrations, accounts, message-log lines; VACUUM ANALYZE'd), enough for
PostgreSQL's planner to prefer an index where one serves. Each read is run through the
real storage code, every statement it sends is captured as it goes to the database
(SQLAlchemy's ``before_cursor_execute`` and asyncpg's query logger, for the storage
layer's lone asyncpg reads), and EXPLAIN (FORMAT JSON) of each must show no sequential
scan of a big table: a query changed to one no index serves fails here.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.base import Ctx, ServiceConfig, Turn
from handlers.records import my_records
from storage.db import make_sessions
from storage.models import Person
from storage.queue_lists import forget_lists
from storage.state import Conversation
from storage.uow import UnitOfWork
from storage.workbench import QueueFilter
from tests.conftest import NOW, _migrated_engine, _truncate

PROVINCE = Path(__file__).resolve().parents[2] / "benchmarks" / "province.py"
# Tables that grow with the roster and the years: never read whole by these reads.
BIG = frozenset(
    {
        "people",
        "service_requests",
        "request_status_history",
        "registrations",
        "channel_accounts",
        "message_log",
        "identity_checks",
    }
)
INDEXED = frozenset({"Index Scan", "Index Only Scan", "Bitmap Heap Scan"})
Statement = tuple[str, tuple[Any, ...]]


def _province() -> Any:
    spec = importlib.util.spec_from_file_location("province_benchmark", PROVINCE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True, slots=True)
class World:
    engine: AsyncEngine
    people: list[Person]  # a few, person 1 (a long file) first
    staff: list[int]


@pytest.fixture(scope="module")
async def world(pg_url: str) -> AsyncIterator[World]:
    """The shared test database, generated at a modest size (other tests truncate it)."""
    engine = await _migrated_engine(pg_url)
    await _truncate(engine)
    province = _province()
    scale = province.Scale(
        people=4_000,
        long_requests=300,
        messages=40_000,
        long_messages=2_000,
        staff=50,
        activities_a_week=2,
        seats=40,
    )
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    await province.generate(dsn, scale, NOW, lambda _said: None)
    async with UnitOfWork(make_sessions(engine)) as uow:
        people = [p for i in (1, 17, 1234, 2718, 3999) if (p := await uow.people.get(i))]
        staff = [s.id for s in await uow.workbench.active_staff()]
    yield World(engine, people, staff)
    await _truncate(engine)


@contextmanager
def captured(engine: AsyncEngine) -> Iterator[list[Statement]]:
    """Every statement sent while in the block: through SQLAlchemy, and on the pool's
    asyncpg connections directly (their query logger)."""
    statements: list[Statement] = []
    drivers: list[Any] = []

    def sent(_c: Any, _cur: Any, statement: str, parameters: Any, *_a: Any) -> None:
        statements.append((statement, tuple(parameters or ())))

    def logged(record: Any) -> None:
        statements.append((record.query, tuple(record.args or ())))

    def checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = dbapi_connection.driver_connection
        if driver not in drivers:
            driver.add_query_logger(logged)
            drivers.append(driver)

    event.listen(engine.sync_engine, "before_cursor_execute", sent)
    event.listen(engine.sync_engine.pool, "checkout", checkout)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", sent)
        event.remove(engine.sync_engine.pool, "checkout", checkout)
        for driver in drivers:
            driver.remove_query_logger(logged)


def _scans(plan: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(node type, table) of every node of a plan that reads a table."""
    if "Relation Name" in plan:
        yield plan["Node Type"], plan["Relation Name"]
    for child in plan.get("Plans", ()):
        yield from _scans(child)


async def plans_of(engine: AsyncEngine, read: Callable[[], Awaitable[Any]]) -> list[Any]:
    """(statement, its scans) of every read statement ``read`` sends, each once."""
    with captured(engine) as statements:
        await read()
        await asyncio.sleep(0)  # asyncpg calls its query loggers soon, not at once
    dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    conn = await asyncpg.connect(dsn)
    found, seen = [], set()
    try:
        for statement, args in statements:
            one_line = " ".join(statement.split())
            if not one_line.upper().startswith(("SELECT", "WITH")) or one_line in seen:
                continue
            seen.add(one_line)
            plan = json.loads(await conn.fetchval(f"EXPLAIN (FORMAT JSON) {statement}", *args))
            found.append((one_line, list(_scans(plan[0]["Plan"]))))
    finally:
        await conn.close()
    assert found, "the read sent no SELECT"
    return found


def assert_indexed(found: list[Any]) -> None:
    """No big table read by a sequential scan; every big table read through an index."""
    for statement, scans in found:
        whole = [t for kind, t in scans if t in BIG and kind not in INDEXED]
        assert not whole, f"{', '.join(whole)} scanned whole ({scans}) by: {statement[:300]}"


def _ctx(uow: UnitOfWork, person: Person) -> Ctx:
    return Ctx(
        now=NOW,
        turn=Turn(text="我的记录", intent="my_records", confidence=1.0),
        uow=uow,
        conv=Conversation(),
        channel="wechat",
        external_id=f"oProv{person.id:08d}",
        account=None,
        person=person,
        config=ServiceConfig(),
    )


async def test_my_records_reads_through_indexes(world: World) -> None:
    sessions = make_sessions(world.engine)
    for person in world.people:

        async def read(person: Person = person) -> None:
            async with UnitOfWork(sessions) as uow:
                assert await my_records(_ctx(uow, person))

        found = await plans_of(world.engine, read)
        tables = {t for _, scans in found for _, t in scans}
        assert {"registrations", "service_requests"} <= tables  # both parts were read
        assert_indexed(found)


async def test_the_identity_lookup_reads_through_indexes(world: World) -> None:
    sessions = make_sessions(world.engine)
    for person in world.people:
        assert person.phone

        async def read(person: Person = person) -> None:
            async with UnitOfWork(sessions) as uow:
                found = await uow.people.find_by_name_and_phone(person.name, person.phone or "")
                assert found is not None
                assert found.id == person.id
                await uow.accounts.identify("wechat", f"oProv{person.id:08d}")

        assert_indexed(await plans_of(world.engine, read))


def _filters(staff: list[int]) -> list[tuple[QueueFilter, int]]:
    return [
        (QueueFilter(), 0),
        (QueueFilter(), 100),
        (QueueFilter(kinds=("medical_escort",)), 0),
        (QueueFilter(status="pending"), 0),
        (QueueFilter(staff_id=staff[0]), 0),
        (QueueFilter(unassigned=True), 0),
        (QueueFilter(district="苏州市第二区"), 0),
        (QueueFilter(by_date=True), 0),
    ]


async def test_the_staff_queue_reads_through_indexes(world: World) -> None:
    sessions = make_sessions(world.engine)
    for where, offset in _filters(world.staff):

        async def read(where: QueueFilter = where, offset: int = offset) -> None:
            # What the console's 待办 page reads (bot/console/queue.py), its lists not kept.
            forget_lists()
            async with UnitOfWork(sessions) as uow:
                shown = await uow.workbench.queue_page(where, offset)
                assert shown.page.rows
                assert shown.districts

        found = await plans_of(world.engine, read)
        assert len(found) == 3  # the page in one statement, the districts, the services
        assert_indexed(found)
        if where.district:  # the requests' own district (migration 0023): no join to filter
            [statement] = [f for f, _ in found if "service_requests" in f]
            assert "service_requests.district =" in statement
            assert "people.district =" not in statement


async def test_a_scan_of_a_big_table_is_caught(world: World) -> None:
    """The check itself: a read no index serves (people by their category) fails it."""
    from sqlalchemy import select

    async def read() -> None:
        async with UnitOfWork(make_sessions(world.engine)) as uow:
            await uow.session.scalars(select(Person).where(Person.category == "lixiu"))

    with pytest.raises(AssertionError, match="people scanned whole"):
        assert_indexed(await plans_of(world.engine, read))
