"""Alembic migrations go up and down on SQLite and on PostgreSQL, and match the models."""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import Base, downgrade, upgrade


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_down_and_up_again(db: AsyncEngine) -> None:
    expected = set(Base.metadata.tables)
    assert expected <= await _tables(db)
    await downgrade(db, "base")
    assert await _tables(db) <= {"alembic_version"}
    await upgrade(db)
    assert expected <= await _tables(db)


async def test_models_match_the_migrations(db: AsyncEngine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    async with db.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
        )
    assert diff == []
