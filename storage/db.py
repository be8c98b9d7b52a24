"""Database plumbing: the declarative base, UTC timestamps, engines from a URL, migrations."""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
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
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

__all__ = [
    "AsyncSession",
    "Base",
    "UTCDateTime",
    "Unit",
    "UnitRepo",
    "downgrade",
    "make_engine",
    "make_sessions",
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


# Plain SQLAlchemy 2.0 only (issue 19): AsyncSession, AsyncConnection, select(), Core
# insert(); no private SQLAlchemy name and no raw asyncpg. Four hand-made paths were
# measured against their plain replacements before they went (CPU per operation on
# PostgreSQL, this 2-core machine, quiet; x its frequency in benchmarks/pipeline.py, over a
# message's 1.7 ms of CPU at 300 messages/s):
#   the message log of a unit that wrote nothing else   +0.14 ms x 0.79/message   ~7 %
#   "my records" (open requests and sign-ups, 2 reads)   +1.1 ms x 0.10/message    ~6.5 %
#   the identity lookup on a cache miss                  +0.5 ms x 0.10/message    ~3 %
#   the second (asyncpg) sign-up path                    not in the mix             0 %
# Each under 10 %, so none is kept. Together the pipeline benchmark's open loop at 300/s went
# from 1.7 to 2.1 ms of CPU a message (p50 latency 2.8 -> 4.0 ms): a price for one way to
# read and write that is well inside what a bureau's few messages a second need. The log's
# asynchronous commit (storage/repos/messages.py) is PostgreSQL, not SQLAlchemy, and stays.


class Unit(Protocol):
    """What a repository needs of its unit of work (storage/uow.py)."""

    @property
    def session(self) -> AsyncSession: ...
    @property
    def opened(self) -> bool: ...
    @property
    def engine(self) -> AsyncEngine: ...


class UnitRepo:
    """A repository that works through its unit of work, whose session opens on first use
    (so that a unit's last, lone write can go through a connection of its own instead)."""

    def __init__(self, unit: Unit) -> None:
        self.unit = unit

    @property
    def session(self) -> AsyncSession:
        """The unit's session (opened by this use)."""
        return self.unit.session


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
