"""An emergency needs only the database: with Redis away, the conversation locked, the
handler failing, the database stalled or away, or the task cancelled, it is answered with
the hotline at once and written exactly once (now, or from the spool when the database
is back). A message handled once is never handled again, whatever the state store says."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot import pipeline as pipeline_module
from bot.messages import InboundMessage
from bot.pipeline import Pipeline
from bot.routing import ASK, NOW, urgency
from bot.spool import Spool
from handlers import texts
from handlers.base import Ctx, Reply, ServiceConfig, Turn
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


# ------------------------------------------------------------------ sure, not jumpy
SLIGHT = "头有点晕"  # the classifier thinks of an emergency; the rules find it slight
OVER = "刚才以为煤气漏了 后来发现是垃圾桶的味 没事了"  # the rules find a false alarm, over


async def _read_as(bot: Harness, text: str) -> str | None:
    turn = await bot.pipeline._read(_message(bot.now, text), text)
    assert turn is not None
    return urgency(turn)


async def _alert(bot: Harness) -> Alert:
    async with UnitOfWork(bot.sessions) as uow:
        alert = await uow.session.scalar(select(Alert))
    assert alert is not None
    return alert


@pytest.mark.parametrize("text", [SLIGHT, OVER])
async def test_an_unsure_emergency_is_asked_about_and_paged_on_yes(bot: Harness, text: str) -> None:
    assert await _read_as(bot, text) == ASK  # the premise
    asked = await bot.say("u1", text)
    assert asked.events == ()  # nobody paged yet…
    assert texts_of(asked).startswith("您是遇到紧急情况了吗？")
    assert HOTLINE in texts_of(asked)
    assert [o.label for o in asked.replies[-1].options] == ["是，快来人", "不是", "找工作人员"]
    alert = await _alert(bot)  # …but it is written, and pages by itself if unanswered
    assert (alert.status, alert.next_page_at) == ("unconfirmed", bot.now + timedelta(seconds=120))
    yes = await bot.say("u1", "1")
    assert [e["type"] for e in yes.events] == ["sos_raised"]
    assert "已收到您的紧急求助" in texts_of(yes)
    assert (await _alert(bot)).status == "open"


async def test_a_yes_in_words_pages_too(bot: Harness) -> None:
    await bot.say("u1", SLIGHT)
    yes = await bot.say("u1", "是的 快来人")
    assert [e["type"] for e in yes.events] == ["sos_raised"]


async def test_a_no_dismisses_it_and_goes_on_with_what_was_said(bot: Harness) -> None:
    await bot.say("u1", SLIGHT)
    no = await bot.say("u1", "不是")
    assert no.events == ()
    assert texts_of(no).startswith(texts.SOS_DENIED)
    alert = await _alert(bot)
    assert alert.status == "dismissed"
    [request] = await bot.requests("sos")
    assert request.status == "cancelled"
    assert await _counts(bot.sessions) == (1, 1, 0)  # on file, closed; nothing open


async def test_a_clear_new_request_instead_of_an_answer_is_a_no(bot: Harness) -> None:
    await bot.say("u1", SLIGHT)
    other = await bot.say("u1", "明天下午来理发")
    assert other.events == ()
    assert (await _alert(bot)).status == "dismissed"
    assert "理发" in texts_of(other)


async def test_loneliness_gets_a_warm_word_and_company_not_the_emergency_text(
    bot: Harness,
) -> None:
    response = await bot.say("u1", "一个人在家好闷 没人说话")
    assert response.intent == "lonely"
    assert response.events == ()
    assert "挂念" in texts_of(response)
    labels = [o.label for o in response.replies[-1].options]
    assert labels == [texts.LONELY_VISIT, texts.LONELY_CALL, texts.LONELY_NO]
    assert await _counts(bot.sessions) == (0, 0, 0)


# ------------------------------------------------------------ the emergency model's say
def _turn(intent: str, confidence: float, guard: str, classifier: float, model: float | None):
    return Turn(
        "…", intent=intent, confidence=confidence, guard=guard,
        classifier_sos=classifier, emergency_now=model,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("turn", "expected"),
    [
        # the rules force an emergency: at once, unless the emergency model doubts it
        (_turn("sos", 0.95, "force", 0.4, 0.9), NOW),
        (_turn("sos", 0.95, "force", 0.4, 0.1), ASK),
        (_turn("sos", 0.95, "force", 0.4, None), NOW),  # an engine without the model
        # the classifier sure and nothing calming: at once, unless doubted
        (_turn("sos", 0.9, "none", 0.9, 0.6), NOW),
        (_turn("sos", 0.9, "none", 0.9, 0.2), ASK),
        # the rules found a booking or a question around it: asked, unless both models agree
        (_turn("sos", 0.02, "calm", 0.95, 0.5), ASK),
        (_turn("sos", 0.02, "calm", 0.95, 0.97), NOW),
        (_turn("medical_escort", 0.7, "calm", 0.5, 0.99), ASK),
        # only the emergency model finds it likely: asked, never routed as something else
        (_turn("lonely", 0.8, "none", 0.1, 0.7), ASK),
        (_turn("lonely", 0.8, "none", 0.1, 0.2), None),
        # the rules found its only danger words denied: the models' sure reading set aside
        (_turn("sos", 0.99, "denied", 0.99, 0.99), None),
    ],
)
def test_the_emergency_model_weighs_in(turn: Turn, expected: str | None) -> None:
    assert urgency(turn) == expected


async def test_a_farewell_without_the_words_of_dying_pages_at_once(bot: Harness) -> None:
    """Warning signs of ending one's life, said indirectly, are an emergency now."""
    for text in ("不想再拖累儿女了 今天跟大家告个别", "后事我都交代好了 你们以后不用再来看我"):
        assert await _read_as(bot, text) == NOW, text


@pytest.mark.parametrize("asks", ["还没有人来吗", "人呢", "怎么还没人来啊", "快点来 等了好久了"])
async def test_asking_after_help_joins_the_open_emergency(bot: Harness, asks: str) -> None:
    """After their SOS, "还没有人来吗" is about that emergency (it was read as a home-service
    request and got the service menu): the staff on it are told, the person hears who is
    on it and the numbers to call, and nothing else is opened."""
    await bot.say("u1", FALL)
    response = await bot.say("u1", asks)
    said = texts_of(response)
    assert "120" in said
    assert HOTLINE in said
    assert "上门服务" not in said
    assert [e["type"] for e in response.events] == ["alert_updated"]
    async with UnitOfWork(bot.sessions) as uow:
        [alert] = list(await uow.session.scalars(select(Alert)))
        steps = await uow.alerts.steps(alert.id)
        assert [s.note for s in steps if s.kind == "message"] == [asks]
        # Once someone has it, the person hears who.
        await uow.alerts.acknowledge(alert.id, 1, bot.now)
        await uow.commit()
    again = texts_of(await bot.say("u1", asks))
    assert "王晓明" in again  # who is on it
    assert "120" in again
    assert len(await bot.requests("sos")) == 1  # nothing else opened


async def test_asking_after_help_with_no_emergency_open_is_read_as_usual(bot: Harness) -> None:
    response = await bot.say("u1", "人呢")
    assert not response.events
    assert await bot.count(Alert) == 0
