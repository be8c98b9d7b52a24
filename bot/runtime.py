"""The composition root: builds the long-lived objects from settings, and closes them."""

from __future__ import annotations

import gc
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from redis.asyncio import BlockingConnectionPool, Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.settings import Settings
from bot.spool import Spool, default_spool_dir
from nlu.engine import EmbeddedEngine, Parser
from nlu.rasa import RasaParser
from storage.db import AsyncSession, make_sessions, upgrade
from storage.demo import seed_demo
from storage.keys import Keys
from storage.state import MemoryStore, RedisStore, StateStore
from storage.uow import UnitOfWork

__all__ = ["Runtime", "build_parser", "open_runtime", "settle_heap", "temporary_database_url"]

REDIS_SECONDS = 2.0  # connecting to Redis, waiting for a pooled connection, an answer


def build_parser(settings: Settings) -> Parser:
    """The embedded engine, or a Rasa server that falls back to it."""
    embedded = EmbeddedEngine.load(cache_dir=settings.nlu_cache)
    if settings.nlu == "rasa":
        return RasaParser(settings.rasa_url, embedded)
    return embedded


def settle_heap() -> None:
    """Move everything loaded at start-up out of the garbage collector's sight.

    The NLU model, jieba's dictionary and the ORM mappers are hundreds of thousands of
    objects that live as long as the process; without this, every full collection walks
    them all and stalls the event loop for ~80 ms (the p99 of the pipeline benchmark).
    """
    gc.collect()
    gc.freeze()


def temporary_database_url() -> str:
    """A fresh SQLite file for a demo session."""
    handle, path = tempfile.mkstemp(prefix="yinling-demo-", suffix=".db")
    os.close(handle)
    return f"sqlite+aiosqlite:///{Path(path).as_posix()}"


@dataclass(slots=True)
class Runtime:
    """Everything that holds a connection, opened together and closed together."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis: Redis | None
    store: StateStore
    parser: Parser
    metrics: Metrics
    pipeline: Pipeline

    async def close(self) -> None:
        """Let background turns finish, then release the database pool and Redis."""
        await self.pipeline.close()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()


async def open_runtime(
    settings: Settings,
    *,
    database_url: str | None = None,
    parser: Parser | None = None,
    migrate: bool = True,
    demo: bool = False,
    now: datetime | None = None,
) -> Runtime:
    """Connect, migrate, optionally seed demo data, and wire the pipeline."""
    engine = settings.open_engine(database_url)
    if migrate:
        await upgrade(engine)
    sessions = make_sessions(engine)
    if demo:
        async with UnitOfWork(sessions) as uow:
            await seed_demo(uow, now or datetime.now(UTC))
            await uow.commit()
    # A blocking pool: under a burst, callers wait for a connection instead of failing.
    # Timeouts, so that a Redis that hangs is found out as one that is down: an emergency
    # does not wait on it (bot/pipeline.py).
    redis = (
        Redis(
            connection_pool=BlockingConnectionPool.from_url(
                settings.redis_url,
                max_connections=64,
                timeout=REDIS_SECONDS,
                socket_connect_timeout=REDIS_SECONDS,
                socket_timeout=REDIS_SECONDS,
            )
        )
        if settings.redis_url
        else None
    )
    store: StateStore = (
        RedisStore(redis, Keys(settings.redis_prefix)) if redis is not None else MemoryStore()
    )
    parser = parser or build_parser(settings)
    metrics = Metrics()
    if demo:  # a demo's emergencies belong to its own, temporary database
        spool = Spool(Path(tempfile.mkdtemp(prefix="yinling-demo-spool-")))
    else:
        spool = Spool(settings.spool_dir or default_spool_dir())
    pipeline = Pipeline(sessions, store, parser, settings.service_config(), metrics, spool=spool)
    await pipeline.refresh_lookups(now or datetime.now(UTC))
    settle_heap()
    return Runtime(settings, engine, sessions, redis, store, parser, metrics, pipeline)
