"""Fixtures for the staff console: the app around a real database (SQLite and PostgreSQL),
one signed-up staff member per role, a small seeded world (a person, their bound account,
a hand-off request, an open emergency), clients that sign in the way a browser does, and
a snapshot of every table to prove that a refused request changed nothing."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import sys
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from starlette.applications import Starlette

from bot import cli
from bot.app import create_app
from bot.console.access import ROLES
from bot.console.auth import COOKIE, hash_password
from bot.logs import NOISY, configure_logging
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.base import ServiceConfig
from nlu.engine import EmbeddedEngine
from storage.db import AsyncSession, Base, make_sessions
from storage.models import Activity, AuditEntry, ChannelAccount, Person, Staff
from storage.state import MemoryStore
from storage.uow import UnitOfWork

BASE = "http://t"
PASSWORD = "Lao-Gan-Bu-2026"  # every seeded staff member's (a valid console password)
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')
# Paging of the seeded emergency is due long after any test (the in-app reconciler must not
# touch it while a test compares the tables before and after a refused request).
FAR = datetime.fromisoformat("2100-01-01T00:00:00+00:00")


@pytest.fixture(scope="session")
async def password_hash() -> str:
    """One argon2id hash of PASSWORD, shared by every seeded staff member (hashing costs)."""
    return await hash_password(PASSWORD)


@dataclass
class Console:
    """The running app and what was seeded into its database."""

    app: Starlette
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    staff: dict[str, int]  # role -> staff id (user name = role)
    ids: dict[str, int]  # alert (the emergency's request id), request, person, account
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(
        self, base_url: str = BASE, *, raise_errors: bool = True, **headers: str
    ) -> httpx.AsyncClient:
        """A browser of its own (its own cookie jar), closed with the fixture."""
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=raise_errors)
        made = httpx.AsyncClient(transport=transport, base_url=base_url, headers=headers)
        self.clients.append(made)
        return made

    def with_cookie(self, value: str) -> httpx.AsyncClient:
        """A browser that sends exactly this session cookie (and keeps no other)."""
        return self.client(Cookie=f"{COOKIE}={value}")

    @staticmethod
    async def csrf(client: httpx.AsyncClient) -> str:
        """The CSRF token of the client's session (the sign-in form shows it; a GET of the
        form without a session starts an anonymous one)."""
        page = await client.get("/console/login")
        assert page.status_code == 200, page.text
        found = CSRF_FIELD.search(page.text)
        assert found is not None, "no CSRF token on the sign-in form"
        assert found[1], "an empty CSRF token on the sign-in form"
        return found[1]

    async def login(
        self,
        username: str,
        password: str = PASSWORD,
        client: httpx.AsyncClient | None = None,
        **extra: str,
    ) -> httpx.Response:
        """Post the sign-in form as a browser would (GET it first for the CSRF token)."""
        client = client or self.client()
        token = await self.csrf(client)
        form = {"csrf": token, "username": username, "password": password, **extra}
        return await client.post("/console/login", data=form)

    async def signed_in(self, username: str, password: str = PASSWORD) -> httpx.AsyncClient:
        """A browser signed in as this user."""
        client = self.client()
        response = await self.login(username, password, client)
        assert response.status_code == 303, (username, response.status_code, response.text)
        assert client.cookies.get(COOKIE), "signing in set no cookie"
        return client

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row of every table (to compare before and after a refused request)."""
        tables: dict[str, list[tuple[Any, ...]]] = {}
        async with self.engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                query = select(table).order_by(*table.primary_key.columns)
                tables[table.name] = [tuple(row) for row in await conn.execute(query)]
        return tables

    async def audit(self, action: str | None = None) -> list[AuditEntry]:
        """The audit log (one action's rows), oldest first."""
        async with UnitOfWork(self.sessions) as uow:
            query = select(AuditEntry).order_by(AuditEntry.id)
            if action is not None:
                query = query.where(AuditEntry.action == action)
            return list(await uow.session.scalars(query))

    async def member(self, staff_id: int) -> Staff:
        """A staff member as the database has them now."""
        async with UnitOfWork(self.sessions) as uow:
            found = await uow.staff.get(staff_id)
            assert found is not None
            return found

    async def update_staff(self, staff_id: int, **values: Any) -> None:
        """Change a staff member's row directly (as another process would)."""
        async with UnitOfWork(self.sessions) as uow:
            found = await uow.staff.get(staff_id)
            assert found is not None
            for name, value in values.items():
                setattr(found, name, value)
            await uow.commit()


async def _seed(
    sessions: async_sessionmaker[AsyncSession], now: datetime, password_hash: str
) -> tuple[dict[str, int], dict[str, int]]:
    async with UnitOfWork(sessions) as uow:
        staff = {}
        for role in ROLES:
            member = await uow.staff.add(
                Staff(
                    name=f"{role}测试",
                    role=role,
                    active=True,
                    created_at=now,
                    username=role,
                    password_hash=password_hash,
                )
            )
            staff[role] = member.id
        person = await uow.people.add(
            Person(
                name="张建国",
                category="tuixiu",
                district="姑苏区",
                address="示范路1号",
                health_notes="高血压",
                notes="原始备注",
                lives_alone=False,
                created_at=now,
                updated_at=now,
            )
        )
        account = ChannelAccount(
            channel="telegram",
            external_id="1001",
            role="retiree",
            person_id=person.id,
            active=True,
            created_at=now,
            bound_at=now,
        )
        uow.session.add(account)
        await uow.session.flush()
        handoff = await uow.requests.create(
            "handoff",
            now=now,
            actor=f"account:{account.id}",
            person_id=person.id,
            account_id=account.id,
            details={"text": "我想找工作人员说说"},
        )
        sos = await uow.requests.create(
            "sos",
            now=now + timedelta(minutes=1),
            actor=f"account:{account.id}",
            person_id=person.id,
            status="open",
            account_id=account.id,
            details={"text": "救命 我摔倒了"},
            due_at=now,
        )
        alert = await uow.alerts.raise_alert(sos, "示范路1号", now, f"account:{account.id}")
        alert.next_page_at = FAR
        await uow.commit()
        ids = {"alert": sos.id, "request": handoff.id, "person": person.id, "account": account.id}
    # The emergency's request and its alert have different ids: a route that mixed them up
    # would find nothing.
    assert ids["alert"] != alert.id
    return staff, ids


@asynccontextmanager
async def open_console(
    engine: AsyncEngine,
    engine_nlu: EmbeddedEngine,
    now: datetime,
    password_hash: str,
    settings: Settings | None = None,
) -> AsyncIterator[Console]:
    """The app on this (empty, migrated) database, seeded, its lifespan entered."""
    sessions = make_sessions(engine)
    staff, ids = await _seed(sessions, now, password_hash)
    metrics = Metrics()
    store = MemoryStore()
    pipeline = Pipeline(sessions, store, engine_nlu, ServiceConfig(), metrics)
    runtime = Runtime(
        settings or Settings(), engine, sessions, None, store, engine_nlu, metrics, pipeline
    )
    app = create_app(runtime=runtime)
    console = Console(app, engine, sessions, staff, ids)
    async with app.router.lifespan_context(app):
        try:
            yield console
        finally:
            for client in console.clients:
                await client.aclose()


@pytest.fixture
async def console(
    db: AsyncEngine, engine_nlu: EmbeddedEngine, now: datetime, password_hash: str
) -> AsyncIterator[Console]:
    """The console on SQLite and on PostgreSQL."""
    async with open_console(db, engine_nlu, now, password_hash) as opened:
        yield opened


@pytest.fixture
async def pg_console(
    pg: AsyncEngine, engine_nlu: EmbeddedEngine, now: datetime, password_hash: str
) -> AsyncIterator[Console]:
    """The console on PostgreSQL only (what only PostgreSQL enforces)."""
    async with open_console(pg, engine_nlu, now, password_hash) as opened:
        yield opened


# ----------------------------------------------------------------------- the CLI
@dataclass(frozen=True)
class Ran:
    """How a `yinling` command went."""

    code: int
    out: str
    err: str


@pytest.fixture
def yinling(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Run `yinling …` in this process (bot.cli.main, on a thread of its own: it runs its
    own event loop) against a test database, with ``stdin`` as standard input."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in NOISY}
    saved = structlog.get_config()

    async def run(engine: AsyncEngine, *args: str, stdin: str = "") -> Ran:
        monkeypatch.setenv("YINLING_DATABASE_URL", engine.url.render_as_string(False))
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        capsys.readouterr()
        try:
            code = await asyncio.to_thread(cli.main, list(args))
        finally:
            logging.captureWarnings(False)
        captured = capsys.readouterr()
        return Ran(code, captured.out, captured.err)

    try:
        yield run
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, was in levels.items():
            logging.getLogger(name).setLevel(was)


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Every log line of the test, as production writes them (JSON), in a buffer."""
    buffer = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    saved = structlog.get_config()
    configure_logging("json", "DEBUG", stream=buffer)
    try:
        yield buffer
    finally:
        structlog.configure(**saved)
        root.handlers[:] = handlers
        root.setLevel(level)


def location(response: httpx.Response) -> str:
    """Where a redirect points."""
    return str(response.headers.get("location", ""))


def cookie_of(response: httpx.Response) -> Mapping[str, str]:
    """The session cookie's Set-Cookie line: its value and attributes (lower-case names)."""
    lines = [v for v in response.headers.get_list("set-cookie") if v.startswith(f"{COOKIE}=")]
    assert len(lines) == 1, lines
    first, *attributes = (part.strip() for part in lines[0].split(";"))
    found = {"value": first.partition("=")[2]}
    for attribute in attributes:
        name, _, value = attribute.partition("=")
        found[name.lower()] = value
    return found


async def with_activity(console: Console) -> int:
    """An upcoming activity (the fixture seeds none), for the routes under /activities/{id};
    its id is ``console.ids["activity"]``. Made once per console."""
    if "activity" not in console.ids:
        now = datetime.now(UTC)
        async with UnitOfWork(console.sessions) as uow:
            activity = await uow.activities.add(
                Activity(title="测试书画讲座", category="文体", starts_at=now + timedelta(days=30),
                         place="老干部活动中心", capacity=2, created_at=now)
            )  # fmt: skip
            await uow.commit()
            console.ids["activity"] = activity.id
    return console.ids["activity"]
