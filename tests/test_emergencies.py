"""An emergency needs only the database: with Redis away, the conversation locked, the
handler failing, the database stalled or away, or the task cancelled, it is answered with
the hotline at once and written exactly once (now, or from the spool when the database
is back). A message handled once is never handled again, whatever the state store says."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot import pipeline as pipeline_module
from bot.messages import InboundMessage
from bot.pipeline import Pipeline
from bot.spool import Spool
from handlers import texts
from handlers.base import Ctx, Reply, ServiceConfig
from nlu.engine import EmbeddedEngine
from storage.db import AsyncSession, make_engine, make_sessions
from storage.demo import seed_demo
from storage.keys import Keys
from storage.models import Alert, MessageRecord, ServiceRequest
from storage.state import MemoryStore, MessageKey, RedisStore
from storage.uow import UnitOfWork
from tests.conftest import PG_SERVER, _dsn
from tests.harness import Harness, texts_of

HOTLINE = "0512-65000000"
FALL = "救命 我老伴摔倒了"


async def _seeded(sessions: async_sessionmaker[AsyncSession], now: datetime) -> None:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()


async def _counts(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int, int]:
    """(SOS requests, alerts, hand-offs)."""
    async with UnitOfWork(sessions) as uow:
        session = uow.session
        sos = await session.scalar(
            select(func.count()).select_from(ServiceRequest).where(ServiceRequest.kind == "sos")
        )
        alerts = await session.scalar(select(func.count()).select_from(Alert))
        handoffs = await session.scalar(
            select(func.count()).select_from(ServiceRequest).where(ServiceRequest.kind == "handoff")
        )
    return int(sos or 0), int(alerts or 0), int(handoffs or 0)


def _message(now: datetime, text: str = FALL, message_id: str = "m-sos") -> InboundMessage:
    return InboundMessage("test", "u1", message_id, now, text)


@pytest.fixture
async def bot(
    sessions: async_sessionmaker[AsyncSession],
    store: MemoryStore | RedisStore,
    engine_nlu: EmbeddedEngine,
    config: ServiceConfig,
    now: datetime,
    tmp_path: Path,
) -> Harness:
    await _seeded(sessions, now)
    pipeline = Pipeline(sessions, store, engine_nlu, config, spool=Spool(tmp_path))
    await pipeline.refresh_lookups(now)
    harness = Harness(pipeline, sessions, now)
    await harness.bind("u1")
    return harness


# ------------------------------------------------------------------ Redis away
async def test_with_redis_away_an_emergency_is_written_and_answered(
    sessions: async_sessionmaker[AsyncSession],
    engine_nlu: EmbeddedEngine,
    config: ServiceConfig,
    now: datetime,
) -> None:
    await _seeded(sessions, now)
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    pipeline = Pipeline(sessions, RedisStore(dead, Keys("x:")), engine_nlu, config)
    bot = Harness(pipeline, sessions, now)
    await bot.bind("u1")
    try:
        started = time.monotonic()
        response = await bot.say("u1", FALL)
        assert time.monotonic() - started < 3
        assert response.intent == "sos"
        assert "已收到您的紧急求助" in texts_of(response)
        assert HOTLINE in texts_of(response)
        assert await _counts(sessions) == (1, 1, 0)
        # Anything else is answered politely and written nowhere: it can be sent again.
        other = await bot.say("u1", "明天下午来理发", message_id="m-haircut")
        assert texts_of(other) == texts.STORE_AWAY.format(hotline=HOTLINE)
        assert await bot.count(MessageRecord, message_id="m-haircut") == 0
    finally:
        await dead.aclose()


# ------------------------------------------------------------------ the handler
async def test_a_handler_error_during_an_emergency_still_raises_it(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: Ctx) -> list[Reply]:
        raise RuntimeError("a bug in parking the flow")

    monkeypatch.setattr(pipeline_module, "route", broken)
    response = await bot.say("u1", FALL)
    assert "已收到您的紧急求助" in texts_of(response)
    assert await _counts(bot.sessions) == (1, 1, 0)  # an alert, not an unpaged hand-off
    assert [e["type"] for e in response.events] == ["sos_raised"]


# ------------------------------------------------------------------ the lock
async def test_a_locked_conversation_does_not_hold_up_an_emergency(
    sessions: async_sessionmaker[AsyncSession],
    redis_store: RedisStore,
    engine_nlu: EmbeddedEngine,
    config: ServiceConfig,
    now: datetime,
) -> None:
    """Another worker holds the conversation (its message is stuck): the emergency is
    written on its own and answered in time, not told to "send again"."""
    await _seeded(sessions, now)
    pipeline = Pipeline(sessions, redis_store, engine_nlu, config, sos_answer_seconds=0.5)
    bot = Harness(pipeline, sessions, now)
    await bot.bind("u1")
    async with redis_store.turn(MessageKey("test", "u1", "stuck"), "test:u1", 60):
        started = time.monotonic()
        response = await bot.say("u1", FALL)
        assert time.monotonic() - started < 2
    assert "已收到您的紧急求助" in texts_of(response)
    await pipeline.close()  # the turn that waited for the lock, once it got it
    assert await _counts(sessions) == (1, 1, 0)
    assert await bot.count(MessageRecord, direction="in") == 1


# ------------------------------------------------------------------ once
async def test_a_message_handled_before_is_not_handled_again_whatever_the_store_says(
    bot: Harness,
) -> None:
    """The state store forgot (a crash before it marked the message done, Redis lost its
    data): the retry rolls back on the message log and is answered as the first time."""
    first = await bot.say("u1", FALL, message_id="m-1")
    bot.pipeline.store = MemoryStore()  # a store that never saw it
    again = await bot.say("u1", FALL, message_id="m-1")
    assert again.duplicate
    assert texts_of(again) == texts_of(first)
    assert await _counts(bot.sessions) == (1, 1, 0)
    async with UnitOfWork(bot.sessions) as uow:
        [alert] = (await uow.session.scalars(select(Alert))).all()
        assert [s.kind for s in await uow.alerts.steps(alert.id)] == ["raised"]
    assert await bot.count(MessageRecord, message_id="m-1", direction="in") == 1


# ------------------------------------------------------------------ the database
async def test_with_the_database_away_an_emergency_is_spooled_then_written_once(
    sessions: async_sessionmaker[AsyncSession],
    engine_nlu: EmbeddedEngine,
    config: ServiceConfig,
    now: datetime,
    tmp_path: Path,
) -> None:
    await _seeded(sessions, now)
    spool = Spool(tmp_path)
    dead = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    pipeline = Pipeline(make_sessions(dead), MemoryStore(), engine_nlu, config, spool=spool)
    try:
        response = await pipeline.handle(_message(now))
    finally:
        await dead.dispose()
    assert "已收到您的紧急求助" in texts_of(response)
    assert HOTLINE in texts_of(response)
    assert len(spool) == 1
    assert await pipeline.replay_spool() == 0  # still away: kept
    assert len(spool) == 1
    pipeline.sessions = sessions  # the database is back
    assert await pipeline.replay_spool() == 1
    assert len(spool) == 0
    assert await _counts(sessions) == (1, 1, 0)
    # The same message spooled twice (by two processes, say) is written once.
    spool.append(_message(now), "again")
    assert await pipeline.replay_spool() == 1
    assert await _counts(sessions) == (1, 1, 0)


@pytest.fixture
async def locked_alerts(pg: AsyncEngine, pg_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection that can hold the alerts table locked (a database that stalls)."""
    conn = await asyncpg.connect(_dsn(PG_SERVER, pg_url.rpartition("/")[2]))
    yield conn
    await conn.close()


async def test_a_stalled_database_gets_the_emergency_answered_in_time(
    pg: AsyncEngine,
    locked_alerts: asyncpg.Connection,
    engine_nlu: EmbeddedEngine,
    config: ServiceConfig,
    now: datetime,
    tmp_path: Path,
) -> None:
    sessions = make_sessions(pg)
    await _seeded(sessions, now)
    spool = Spool(tmp_path)
    pipeline = Pipeline(
        sessions,
        MemoryStore(),
        engine_nlu,
        config,
        spool=spool,
        sos_answer_seconds=0.5,
        sos_write_seconds=0.5,
    )
    bot = Harness(pipeline, sessions, now)
    await bot.bind("u1")
    transaction = locked_alerts.transaction()
    await transaction.start()
    await locked_alerts.execute("LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE")
    started = time.monotonic()
    response = await bot.say("u1", FALL, message_id="m-stalled")
    assert time.monotonic() - started < 2.5
    assert "已收到您的紧急求助" in texts_of(response)
    assert len(spool) == 1
    await transaction.rollback()  # the database moves again
    await pipeline.close()  # the stalled turn completes: the emergency is written
    assert await pipeline.replay_spool() == 1  # …so the spooled copy is a repeat
    assert await _counts(sessions) == (1, 1, 0)


async def test_an_emergency_cancelled_mid_message_is_spooled_and_written(
    pg: AsyncEngine,
    locked_alerts: asyncpg.Connection,
    engine_nlu: EmbeddedEngine,
    config: ServiceConfig,
    now: datetime,
    tmp_path: Path,
) -> None:
    """A deploy cancels the task while the emergency waits on the database: nobody will
    send it again (Telegram does not retry a webhook it got 200 for), so the spool has it."""
    sessions = make_sessions(pg)
    await _seeded(sessions, now)
    spool = Spool(tmp_path)
    pipeline = Pipeline(sessions, MemoryStore(), engine_nlu, config, spool=spool)
    bot = Harness(pipeline, sessions, now)
    await bot.bind("u1")
    transaction = locked_alerts.transaction()
    await transaction.start()
    await locked_alerts.execute("LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE")
    task = asyncio.create_task(bot.say("u1", FALL, message_id="m-cancelled"))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(spool) == 1
    await transaction.rollback()
    assert await pipeline.replay_spool() == 1
    assert await _counts(sessions) == (1, 1, 0)
