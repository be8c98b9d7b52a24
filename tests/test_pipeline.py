"""The message pipeline end to end on SQLite and PostgreSQL, with in-process and Redis state."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import routing
from bot.messages import InboundMessage
from bot.pipeline import Pipeline, option_number
from handlers import texts
from handlers.base import Ctx, Reply, ServiceConfig
from nlu.engine import EmbeddedEngine
from storage.db import AsyncSession
from storage.demo import seed_demo
from storage.models import ChannelAccount, MessageRecord, ServiceRequest
from storage.state import MemoryStore, MessageKey, RedisStore
from storage.uow import UnitOfWork
from tests.harness import Harness, texts_of

HOTLINE = "0512-65000000"


@pytest.fixture
async def bot(
    sessions: async_sessionmaker[AsyncSession],
    store: MemoryStore | RedisStore,
    engine_nlu: EmbeddedEngine,
    config: ServiceConfig,
    now: datetime,
) -> Harness:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    pipeline = Pipeline(sessions, store, engine_nlu, config)
    await pipeline.refresh_lookups(now)
    return Harness(pipeline, sessions, now)


async def test_greeting_offers_the_numbered_menu(bot: Harness) -> None:
    response = await bot.say("u1", "你好")
    assert response.intent == "greet"
    [reply] = response.replies
    assert "张老" in reply.text
    assert len(reply.options) == 8
    assert reply.options[-1].payload == "/human_agent"


async def test_a_number_picks_the_option_shown(bot: Harness) -> None:
    await bot.say("u1", "你好")
    response = await bot.say("u1", "８")  # full-width digit
    assert response.intent == "human_agent"
    [handoff] = await bot.requests("handoff")
    assert handoff.status == "open"
    transcript = handoff.details["transcript"]
    assert [m["direction"] for m in transcript][:2] == ["in", "out"]
    assert transcript[0]["text"] == "你好"


@pytest.mark.parametrize(
    ("text", "number"), [("2", 2), ("二", 2), ("第三个", 3), ("12", 12), ("好", None)]
)
def test_option_numbers(text: str, number: int | None) -> None:
    assert option_number(text) == number


async def test_concurrent_duplicates_are_handled_once(bot: Harness) -> None:
    await bot.bind("u1")
    message = InboundMessage("test", "u1", "dup-1", bot.now, "救命 我摔倒了起不来")
    responses = await asyncio.gather(*(bot.pipeline.handle(message) for _ in range(5)))
    assert len(await bot.requests("sos")) == 1
    assert sorted(r.duplicate for r in responses) == [False, True, True, True, True]
    assert len({texts_of(r) for r in responses}) == 1
    # A retry long after the answer gets the same answer and changes nothing.
    again = await bot.pipeline.handle(message)
    assert again.duplicate
    assert texts_of(again) == texts_of(responses[0])
    assert len(await bot.requests("sos")) == 1


async def test_a_conversation_locked_too_long_gets_a_polite_busy_and_a_resend_works(
    sessions: async_sessionmaker[AsyncSession],
    redis_store: RedisStore,
    engine_nlu: EmbeddedEngine,
    config: ServiceConfig,
    now: datetime,
) -> None:
    """Another worker holds the conversation (its message is stuck): after the lock wait
    the user is asked to send again, nothing is written, and the resend is handled (the
    message is not taken for a duplicate)."""
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    store = RedisStore(redis_store.redis, redis_store.keys, lock_seconds=0.3)  # waits 0.3 s
    bot = Harness(Pipeline(sessions, store, engine_nlu, config), sessions, now)
    await bot.bind("u1")
    stuck = MessageKey("test", "u1", "stuck-1")
    message = InboundMessage("test", "u1", "busy-1", now, "你好")
    async with redis_store.turn(stuck, "test:u1", 60):  # held for up to 15 s
        busy = await bot.pipeline.handle(message)
    assert texts_of(busy) == texts.BUSY.format(hotline=config.hotline)
    assert await bot.count(MessageRecord, message_id="busy-1", direction="in") == 0
    resent = await bot.pipeline.handle(message)
    assert not resent.duplicate
    assert resent.intent == "greet"
    assert await bot.count(MessageRecord, message_id="busy-1", direction="in") == 1


async def test_two_emergencies_in_a_row_are_one_alert_and_both_are_acknowledged(
    bot: Harness,
) -> None:
    first = await bot.say("u1", "救命")
    again = await bot.say("u1", "救命")
    assert len(await bot.requests("sos")) == 1
    assert "已收到您的紧急求助" in texts_of(first)
    assert "第2次求助已记录" in texts_of(again)
    assert HOTLINE in texts_of(again)


async def test_binding_by_name_and_phone(bot: Harness) -> None:
    first = await bot.say("new", "你好", unbound=True)
    assert "同意" in texts_of(first)  # the privacy notice comes first
    assert "姓名" in texts_of(await bot.say("new", "1", unbound=True))
    assert "手机" in texts_of(await bot.say("new", "我叫张建国", unbound=True))
    pending = await bot.say("new", "13900000001", unbound=True)
    assert [e["type"] for e in pending.events] == ["binding_requested"]
    assert "核实" in texts_of(pending)
    account = await bot.count(ChannelAccount, channel="test", external_id="new", person_id=None)
    assert account == 1  # pending: not yet the person's
    [item] = await bot.requests("identity_check")
    async with UnitOfWork(bot.sessions) as uow:
        await uow.accounts.bind("test", "clerk", 0, bot.now, role="staff", staff_id=1)
        await uow.commit()
    bot.bound["clerk"] = 0
    approved = await bot.say("clerk", f"核实 {item.id}")
    assert [e["type"] for e in approved.events] == ["account_bound", "binding_decided"]
    assert await bot.count(ChannelAccount, channel="test", external_id="new", role="retiree") == 1
    greeting = await bot.say("new", "你好", unbound=True)
    assert greeting.intent == "greet"
    assert "张老" in texts_of(greeting)


async def test_binding_in_one_message(bot: Harness) -> None:
    response = await bot.say("new", "我是王德明 13900000002", unbound=True)
    assert "同意" in texts_of(response)
    agreed = await bot.say("new", "同意", unbound=True)
    assert [e["type"] for e in agreed.events] == ["binding_requested"]


async def test_three_failed_bindings_reach_a_person(bot: Harness) -> None:
    await bot.say("new", "你好", unbound=True)
    await bot.say("new", "1", unbound=True)
    for attempt in range(3):
        await bot.say("new", "张建国", unbound=True)
        response = await bot.say("new", "13812345678", unbound=True)
        assert response.events[0] == {"type": "binding_failed", "attempts": attempt + 1}
    assert "工作人员" in texts_of(response)
    [handoff] = await bot.requests("handoff")
    assert handoff.details["reason"] == "binding"
    assert await bot.count(ChannelAccount, external_id="new") == 0


async def test_an_unbound_user_still_gets_emergency_help(bot: Harness) -> None:
    await bot.say("new", "你好", unbound=True)  # binding has started
    response = await bot.say("new", "救命 我老伴倒在地上了", unbound=True)
    assert response.intent == "sos"
    assert HOTLINE in texts_of(response)
    [sos] = await bot.requests("sos")
    assert sos.person_id is None
    assert sos.details["external_id"] == "new"


async def test_an_idle_flow_expires(bot: Harness) -> None:
    await bot.say("new", "你好", unbound=True)
    bot.later(minutes=31)
    response = await bot.say("new", "13900000001", unbound=True)
    assert "等了太久" in texts_of(response)
    assert await bot.count(ChannelAccount, external_id="new") == 0


async def test_a_flow_within_its_time_does_not_expire(bot: Harness) -> None:
    await bot.say("new", "你好", unbound=True)
    await bot.say("new", "1", unbound=True)
    bot.later(minutes=29)
    response = await bot.say("new", "张建国", unbound=True)
    assert "等了太久" not in texts_of(response)
    assert "手机" in texts_of(response)


@pytest.fixture
def unsure_bot(bot: Harness, config: ServiceConfig) -> Harness:
    """The same bot, but it trusts no NLU guess below 0.99: every free text is unsure."""
    strict = replace(config, confidence_threshold=0.99)
    pipeline = Pipeline(bot.sessions, bot.pipeline.store, bot.pipeline.parser, strict)
    return Harness(pipeline, bot.sessions, bot.now)


async def test_low_confidence_asks_then_offers_a_person_first(unsure_bot: Harness) -> None:
    first = await unsure_bot.say("u1", "我想问问那个事")
    [reply] = first.replies
    assert reply.options[-1].payload == "/human_agent"
    assert 2 <= len(reply.options) <= 5
    assert await unsure_bot.requests("handoff") == []
    second = await unsure_bot.say("u1", "就是上回说的那个")
    [again] = second.replies
    assert again.options[0].payload == "/human_agent"  # the second time: a person first
    assert await unsure_bot.requests("handoff") == []  # offered, not opened unasked
    chosen = await unsure_bot.say("u1", "1")
    assert [e["type"] for e in chosen.events] == ["handoff_requested"]


async def test_asking_for_a_person_again_keeps_one_ticket(bot: Harness) -> None:
    await bot.say("u1", "转人工")
    again = await bot.say("u1", "我要找工作人员")
    assert "已经请工作人员了" in texts_of(again)
    assert len(await bot.requests("handoff")) == 1


async def test_a_clarifying_choice_is_taken(unsure_bot: Harness) -> None:
    first = await unsure_bot.say("u1", "我想问问那个事")
    labels = [o.label for o in first.replies[0].options]
    response = await unsure_bot.say("u1", str(labels.index("找工作人员") + 1))
    assert response.intent == "human_agent"
    assert len(await unsure_bot.requests("handoff")) == 1


async def test_stop_leaves_the_flow(bot: Harness) -> None:
    await bot.say("u1", "你好")
    response = await bot.say("u1", "算了")
    assert response.intent == "stop"
    assert len(response.replies[0].options) == 8


async def test_a_handler_error_rolls_back_everything(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(ctx: Ctx) -> list[Reply]:
        await ctx.uow.requests.create(
            "medical_escort", now=ctx.now, actor=ctx.actor, person_id=ctx.person.id
        )
        raise RuntimeError("boom")

    monkeypatch.setitem(routing.ROUTES, "greet", broken)  # type: ignore[index]
    await bot.say("u1", "算了")  # some state first
    response = await bot.say("u1", "你好")
    assert HOTLINE in texts_of(response)
    assert "boom" not in texts_of(response)
    assert await bot.requests("medical_escort") == []
    [handoff] = await bot.requests("handoff")  # a person takes over the failed conversation
    assert handoff.details["reason"] == "error"
    assert handoff.details["transcript"][-1]["text"] == "你好"
    assert await bot.count(MessageRecord, direction="in", error=True) == 1
    assert await bot.count(MessageRecord, text="你好") == 1
    monkeypatch.undo()
    assert (await bot.say("u1", "你好")).intent == "greet"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("", "text"),
        ("   \n\t ", "text"),
        ("😀😀🙏", "text"),
        ("", "sticker"),
        ("好" * 5200, "text"),
        ("\x00\x01\x02", "text"),
        ("<b>hi</b><script>alert(1)</script>", "text"),
        ("'; DROP TABLE people; --", "text"),
        ("。。。？？？", "text"),
    ],
)
async def test_bad_input_gets_a_polite_answer(bot: Harness, text: str, kind: str) -> None:
    requests_before = await bot.count(ServiceRequest)
    response = await bot.say("u1", text, kind=kind)
    assert response.replies
    answer = texts_of(response)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in answer)
    assert "Traceback" not in answer
    assert "Error" not in answer
    assert await bot.count(ServiceRequest) == requests_before
    assert await bot.count(MessageRecord, direction="in") == 1


async def test_an_emergency_inside_a_long_message_is_not_missed(bot: Harness) -> None:
    text = "我跟你们说一下家里的情况，" * 40 + "老伴现在倒在地上起不来了"
    response = await bot.say("u1", text[:1990])
    assert response.intent == "sos"


async def test_each_message_is_logged_in_and_out(bot: Harness) -> None:
    await bot.say("u1", "你好")
    assert await bot.count(MessageRecord, direction="in") == 1
    assert await bot.count(MessageRecord, direction="out") == 1
