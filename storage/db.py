"""Database plumbing: the declarative base, UTC timestamps, engines from a URL, migrations."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, make_transient_to_detached
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator
from sqlalchemy.util import greenlet_spawn

__all__ = [
    "AsyncSession",
    "Base",
    "UTCDateTime",
    "Unit",
    "UnitRepo",
    "detached",
    "downgrade",
    "lone_asyncpg",
    "make_engine",
    "make_sessions",
    "sql_columns",
    "upgrade",
]

# Named constraints, so that migrations can alter them on SQLite and PostgreSQL alike.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model."""

    metadata = MetaData(naming_convention=NAMING)


# The bureau's time zone: times are stored in UTC and told, asked and reported in this one
# (the one place it is defined for bot, handlers and storage; nlu, which imports none of
# them, keeps its own in nlu/dates.py).
TZ = ZoneInfo("Asia/Shanghai")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as UTC (SQLite keeps no zone, so it is added back on load)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Refuse naive datetimes; convert to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


# JSON columns refuse NaN and infinities (json.dumps would write them; PostgreSQL then
# refuses the whole transaction as invalid JSON).
_json = functools.partial(json.dumps, allow_nan=False)


def make_engine(url: str, pool_size: int = 5, echo: bool = False) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url, echo=echo, poolclass=NullPool, json_serializer=_json, hide_parameters=True
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip per message; stale connections are recycled
    # instead, and a message that meets a broken one is answered with an apology.
    # Up to twice ``pool_size`` connections, all kept once opened: an "overflow" connection
    # would be closed on its return and opened again by the next burst (a connect, the
    # TLS probe and every statement prepared anew: 6 % of the CPU under load).
    return create_async_engine(
        url,
        echo=echo,
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_recycle=1800,
        json_serializer=_json,
        # Bound values (names, addresses, health notes, what people wrote) never appear in
        # an exception's message, so never in a log line.
        hide_parameters=True,
    )


async def asyncpg_connection(session: AsyncSession, *, begin: bool = True) -> Any | None:
    """The asyncpg connection under a PostgreSQL session, inside its transaction; else None.

    For the few hot statements that skip SQLAlchemy's per-statement CPU. SQLAlchemy sends
    BEGIN lazily with its first statement; if none has run yet in this unit, it is sent here
    (``begin=False`` skips that for a last, lone statement that asyncpg makes atomic by
    itself, such as an executemany: one transaction, two round trips fewer).
    """
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        return None
    await session.flush()  # what this unit wrote through the ORM goes first
    raw = await connection.get_raw_connection()
    if begin and getattr(raw.dbapi_connection, "_transaction", None) is None:
        await connection.exec_driver_sql("SELECT 1")
    return raw.driver_connection


class Unit(Protocol):
    """What repositories with a lone fast path need of their unit of work (storage/uow.py)."""

    @property
    def session(self) -> AsyncSession: ...
    @property
    def opened(self) -> bool: ...
    @property
    def engine(self) -> AsyncEngine: ...


class UnitRepo:
    """A repository that works through its unit of work, whose session opens on first use
    (so that it can also read and write without one, through :func:`lone_asyncpg`)."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit

    @property
    def session(self) -> AsyncSession:
        """The unit's session (opened by this use)."""
        return self.unit.session


@asynccontextmanager
async def lone_asyncpg(unit: Unit) -> AsyncIterator[Any | None]:
    """A pooled asyncpg connection outside any transaction, for a unit that has not opened
    its session, on PostgreSQL; else None (use the session).

    For a hot read or a last, lone write of a unit that did nothing else: one round trip,
    none of the session's BEGIN/COMMIT and a fraction of SQLAlchemy's per-statement CPU.
    """
    if unit.opened or unit.engine.dialect.name != "postgresql":
        yield None
        return
    # The pool's connection itself, without a Connection around it (half the CPU); it is
    # given back as AsyncConnection.close gives one back, inside SQLAlchemy's greenlet.
    pooled = await unit.engine.raw_connection()
    try:
        yield pooled.driver_connection
    finally:
        await greenlet_spawn(pooled.close)


M = TypeVar("M", bound="Base")
_Processors = tuple[tuple[str, Callable[[Any], Any] | None], ...]
_PROCESSORS: dict[tuple[type[Any], str], _Processors] = {}


def sql_columns(model: type[Base], alias: str) -> str:
    """``alias.col, …`` for every column of a model, in the order :func:`detached` takes."""
    return ", ".join(f"{alias}.{c.name}" for c in model.__table__.columns)


def detached(model: type[M], values: Sequence[Any], dialect: Dialect) -> M:
    """A model instance from a row read outside the session (the columns of
    :func:`sql_columns`), typed as the session would load it, then detached: reading works
    as on any object of a closed session; to change it, load it in a session."""
    processors = _PROCESSORS.get((model, dialect.name))
    if processors is None:
        mapper = model.__mapper__
        processors = _PROCESSORS[(model, dialect.name)] = tuple(
            (
                mapper.get_property_by_column(c).key,
                c.type.dialect_impl(dialect).result_processor(dialect, None),
            )
            for c in model.__table__.columns
        )
    fields = {
        key: process(value) if process is not None and value is not None else value
        for (key, process), value in zip(processors, values, strict=True)
    }
    instance = model(**fields)
    make_transient_to_detached(instance)
    return instance


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory; objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(Path(str(resources.files("storage"))) / "migrations")
    )
    config.attributes["connection"] = connection
    return config


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision``."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(_alembic_config(c), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    """Revert Alembic migrations down to ``revision``."""
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(_alembic_config(c), revision))
