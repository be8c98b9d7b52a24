"""Database plumbing: the declarative base, UTC timestamps, engines from a URL, migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

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


def make_engine(url: str, pool_size: int = 5, echo: bool = False) -> AsyncEngine:
    """An async engine for ``sqlite+aiosqlite://`` or ``postgresql+asyncpg://`` URLs."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, echo=echo, poolclass=NullPool)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # No pre-ping: it costs a round trip per message; stale connections are recycled
    # instead, and a message that meets a broken one is answered with an apology.
    return create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800
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
