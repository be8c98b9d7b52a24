"""Shared fixtures: real PostgreSQL (a database per run), real Redis (a key prefix per test),
SQLite files, the trained NLU engine, and a frozen clock.

``TEST_DATABASE_URL`` names the PostgreSQL server (default: postgres on 127.0.0.1) and
``TEST_REDIS_URL`` the Redis server (default: 127.0.0.1:6379, database 15).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from handlers.base import ServiceConfig
from handlers.policy import forget_index
from nlu.engine import EmbeddedEngine
from storage.db import AsyncSession, Base, make_engine, make_sessions, upgrade
from storage.keys import Keys
from storage.state import MemoryStore, RedisStore

NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")  # a Sunday
PG_SERVER = os.environ.get(
    "TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REPO = Path(__file__).resolve().parent.parent


async def _reachable() -> str | None:
    """None when PostgreSQL and Redis answer, else what to do about it."""
    try:
        conn = await asyncpg.connect(_dsn(PG_SERVER), timeout=5)
        await conn.close()
    except (OSError, asyncpg.PostgresError) as e:
        return f"PostgreSQL at {PG_SERVER} does not answer ({e})"
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        await client.ping()
    except (OSError, RedisError) as e:
        return f"Redis at {REDIS_URL} does not answer ({e})"
    finally:
        await client.aclose()
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop at once, with the fix, when the real services are not there."""
    problem = asyncio.run(_reachable())
    if problem:
        pytest.exit(
            f"{problem}. Start them with `docker compose up -d postgres redis` "
            "(or see README), or point TEST_DATABASE_URL / TEST_REDIS_URL at yours.",
            returncode=2,
        )


def _dsn(url: str, database: str | None = None) -> str:
    base, _, current = url.rpartition("/")
    return f"{base}/{database or current}".replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="session")
def now() -> datetime:
    """The frozen time of the tests."""
    return NOW


@pytest.fixture(scope="session")
def engine_nlu() -> EmbeddedEngine:
    """The trained embedded engine (trained once, then loaded from the disk cache)."""
    return EmbeddedEngine.load()


@pytest.fixture(scope="session")
def config() -> ServiceConfig:
    """The bureau settings handlers see."""
    return ServiceConfig(hotline="0512-65000000")


# ------------------------------------------------------------------ databases
async def _admin(sql: str) -> None:
    admin = await asyncpg.connect(_dsn(PG_SERVER))
    try:
        await admin.execute(sql)
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped at the end."""
    name = f"yinling_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield PG_SERVER.rpartition("/")[0] + "/" + name
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file for this test run."""
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'yinling.db'}"


_MIGRATED: dict[str, AsyncEngine] = {}


async def _migrated_engine(url: str) -> AsyncEngine:
    if url not in _MIGRATED:
        engine = make_engine(url)
        await upgrade(engine)
        _MIGRATED[url] = engine
    return _MIGRATED[url]


async def _truncate(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(tables)  # our own table names, not input
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, sqlite_url: str, pg_url: str) -> AsyncEngine:
    """A migrated, empty database: each test runs on SQLite and on PostgreSQL."""
    engine = await _migrated_engine(sqlite_url if request.param == "sqlite" else pg_url)
    await _truncate(engine)
    forget_index()  # the policy index caches the articles of the last database
    return engine


@pytest.fixture
async def pg(pg_url: str) -> AsyncEngine:
    """A migrated, empty PostgreSQL database (for tests about concurrency)."""
    engine = await _migrated_engine(pg_url)
    await _truncate(engine)
    forget_index()
    return engine


@pytest.fixture
def sessions(db: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the test database."""
    return make_sessions(db)


@pytest.fixture(scope="session", autouse=True)
async def _dispose_engines(pg_url: str) -> AsyncIterator[None]:
    # Depends on pg_url so that the engines close before the database is dropped.
    yield
    for engine in _MIGRATED.values():
        await engine.dispose()
    _MIGRATED.clear()


# --------------------------------------------------------------------- redis
@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    """A Redis client; the keys a test makes are removed afterwards."""
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
async def redis_store(redis: Redis) -> AsyncIterator[RedisStore]:
    """A Redis state store under a key prefix of its own."""
    prefix = f"yltest:{uuid.uuid4().hex[:8]}:"
    yield RedisStore(redis, Keys(prefix))
    keys = [k async for k in redis.scan_iter(match=prefix + "*")]
    if keys:
        await redis.delete(*keys)


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest, redis_store: RedisStore) -> MemoryStore | RedisStore:
    """Each state-store test runs on the in-process store and on real Redis."""
    return MemoryStore() if request.param == "memory" else redis_store
