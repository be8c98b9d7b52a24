"""Volunteers and the time bank, end to end through the real pipeline (SQLite and
PostgreSQL): a volunteer registers by chat, a retiree books an escorted hospital visit,
staff offer it to the matching volunteers, the first to accept ("1 接受") gets it, the
others and the retiree are told, the retiree confirms the hours a day later ("1") and they
land in the volunteer's time bank; then hours are redeemed, never below zero."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from taskiq import InMemoryBroker

from bot.jobs import Jobs, build_registry
from bot.notify import Notifier
from bot.pipeline import Pipeline
from handlers import volunteers
from handlers.base import Reply, ServiceConfig
from nlu.engine import EmbeddedEngine
from services import volunteers as jobs_of
from storage.db import AsyncSession
from storage.demo import seed_demo
from storage.models import (
    AuditEntry,
    ServiceRequest,
    Staff,
    TimeBankEntry,
    Volunteer,
    VolunteerOffer,
    VolunteerTask,
)
from storage.state import MemoryStore
from storage.uow import UnitOfWork
from storage.volunteers import Overdrawn
from tests.harness import Harness, texts_of

# Demo roster: 1 张建国 (姑苏区, the retiree), 6 徐卫东 and 8 朱秀珍 (姑苏区), 2 王德明 (吴中区).
RETIREE, FIRST, SECOND, ELSEWHERE = 1, 6, 8, 2
Outbox = list[tuple[str, list[Reply]]]


@pytest.fixture
async def bot(
    sessions: async_sessionmaker[AsyncSession], engine_nlu: EmbeddedEngine, now: datetime
) -> Harness:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    pipeline = Pipeline(sessions, MemoryStore(), engine_nlu, ServiceConfig())
    await pipeline.refresh_lookups(now)
    harness = Harness(pipeline, sessions, now, channel="console")
    for person in (RETIREE, FIRST, SECOND, ELSEWHERE):
        await harness.bind(f"u{person}", person)
    return harness


@pytest.fixture
def outbox() -> Outbox:
    return []


@pytest.fixture
async def jobs(bot: Harness, outbox: Outbox) -> AsyncIterator[Jobs]:
    """The registry's jobs on an in-process broker, delivering to the console channel's
    outbox (the periodic checks are called by the tests)."""
    broker = InMemoryBroker()
    await broker.startup()
    yield Jobs(
        broker=broker,
        sessions=bot.sessions,
        notifier=Notifier(console=outbox),
        config=ServiceConfig(),
        clock=lambda: bot.now,
        registry=build_registry().without_checks(),
    )
    await broker.shutdown()


async def publish(jobs: Jobs, events: Sequence[Mapping[str, Any]]) -> None:
    """What the pipeline (and the console) do after a commit: kick the events' jobs."""
    await jobs.dispatch(events)
    await jobs.broker.wait_all()  # type: ignore[attr-defined]


def sent_to(outbox: Outbox, user: str) -> str:
    return "\n".join(
        "\n".join([r.text, *(o.label for o in r.options)])
        for u, rs in outbox
        if u == user
        for r in rs
    )


async def _staff(bot: Harness) -> Staff:
    async with UnitOfWork(bot.sessions) as uow:
        member = await uow.session.scalar(select(Staff).order_by(Staff.id))
    assert member is not None
    return member


async def _register_by_chat(bot: Harness, user: str) -> str:
    said = texts_of(await bot.say(user, "我想当志愿者"))
    assert "能做哪些事" in said
    assert "陪诊" in said
    said = texts_of(await bot.say(user, "陪诊 读报"))
    assert "哪些区" in said
    assert "就在姑苏区" in said
    said = texts_of(await bot.say(user, "1"))
    assert "请核对" in said
    assert "陪诊、读报" in said
    assert "姑苏区" in said
    return texts_of(await bot.say(user, "1"))


async def _book_escort(bot: Harness) -> ServiceRequest:
    assert "请核对" in texts_of(await bot.say("u1", "下周三上午去省人民医院看心内科"))
    assert "已登记" in texts_of(await bot.say("u1", "对"))
    (request,) = await bot.requests("medical_escort")
    return request


async def test_escort_volunteer_accepts_and_hours_land_in_the_bank(  # noqa: PLR0915 - one story
    bot: Harness, jobs: Jobs, outbox: Outbox
) -> None:
    # Two volunteers of the retiree's district register by chat; one elsewhere.
    assert "已登记为志愿者" in await _register_by_chat(bot, "u6")
    assert "已登记为志愿者" in await _register_by_chat(bot, "u8")
    async with UnitOfWork(bot.sessions) as uow:
        await uow.volunteers.register(ELSEWHERE, ["escort"], ["吴中区"], actor="t", now=bot.now)
        await uow.commit()
    assert await bot.count(Volunteer) == 3
    request = await _book_escort(bot)

    # Staff offer it (the console's action): the two of 姑苏区 are offered it, not 吴中区's.
    member = await _staff(bot)
    async with UnitOfWork(bot.sessions) as uow:
        done = await volunteers.offer_request(uow, member, request.id, bot.now)
        await uow.commit()
    assert done.ok, done.message
    (event,) = [e.to_dict() for e in done.events]
    assert event["type"] == "volunteer_offered"
    assert event["offers"] == 2
    await publish(jobs, [event])  # as the console does after the action commits
    assert await jobs_of.send_offers(jobs, event["task_id"]) == 0  # sent once
    assert await bot.count(VolunteerOffer, result="sent") == 2
    offer = sent_to(outbox, "u8")
    assert "陪诊" in offer
    assert "1 接受" in offer
    assert "姑苏区" in offer
    assert "省人民医院" in offer
    assert "张建国" not in offer  # who it is, and where they live, only once it is taken
    assert "陪诊" in sent_to(outbox, "u6")
    assert sent_to(outbox, "u2") == ""

    # 朱秀珍 accepts first, in chat; the others are told; the retiree learns who comes.
    bot.later(minutes=5)
    outbox.clear()
    accepted = await bot.say("u8", "1 接受")
    assert "由您去" in texts_of(accepted)
    assert [e["type"] for e in accepted.events] == ["volunteer_accepted"]
    await publish(jobs, accepted.events)  # as the pipeline does after the turn commits
    assert "已经有志愿者接了" in sent_to(outbox, "u6")
    coming = sent_to(outbox, "u1")
    assert "志愿者朱秀珍会来陪您" in coming
    async with UnitOfWork(bot.sessions) as uow:
        helper = await uow.people.get(SECOND)
    assert helper is not None
    assert helper.phone
    assert helper.phone not in coming
    # 徐卫东 answers late: it is taken.
    said = texts_of(await bot.say("u6", "接受"))
    assert "已经有别的志愿者接了" in said
    async with UnitOfWork(bot.sessions) as uow:
        task = await uow.volunteers.task(event["task_id"])
        second = await uow.volunteers.of_person(SECOND)
    assert task is not None
    assert second is not None
    assert task.volunteer_id == second.id
    assert task.status == "accepted"

    # Not before the service day is over: nobody is asked.
    assert await jobs_of.ask_hours(jobs, bot.now) == 0
    bot.now = datetime.fromisoformat("2026-11-26T10:00:00+08:00")  # the day after
    outbox.clear()
    assert await jobs_of.ask_hours(jobs, bot.now) == 1
    assert await jobs_of.ask_hours(jobs, bot.now) == 0  # asked once
    question = sent_to(outbox, "u1")
    assert "志愿者朱秀珍陪您去了医院，大约2小时，对吗？" in question
    assert await bot.count(TimeBankEntry) == 0

    confirmed = await bot.say("u1", "1")
    assert "已给志愿者朱秀珍记上2小时" in texts_of(confirmed)
    async with UnitOfWork(bot.sessions) as uow:
        entries = list(await uow.session.scalars(select(TimeBankEntry)))
        balance = await uow.volunteers.balance(SECOND)
    assert [(e.person_id, e.kind, e.minutes) for e in entries] == [(SECOND, "earn", 120)]
    assert balance == 120
    outbox.clear()
    await publish(jobs, confirmed.events)
    assert "已存入时间银行" in sent_to(outbox, "u8")

    # "我的时间银行": the balance and the line, in plain words.
    said = texts_of(await bot.say("u8", "我的时间银行"))
    assert "现有2小时" in said
    assert "陪诊，存入2小时" in said
    # A second "1" does not credit twice.
    await bot.say("u1", "1")
    assert await bot.count(TimeBankEntry) == 1
    assert await bot.count(AuditEntry, action="volunteer_hours_confirmed") == 1


async def test_a_retiree_who_says_the_hours_are_wrong_reaches_staff(
    bot: Harness, jobs: Jobs, outbox: Outbox
) -> None:
    async with UnitOfWork(bot.sessions) as uow:
        await uow.volunteers.register(SECOND, ["escort"], ["*"], actor="t", now=bot.now)
        await uow.commit()
    request = await _book_escort(bot)
    member = await _staff(bot)
    async with UnitOfWork(bot.sessions) as uow:
        done = await volunteers.offer_request(uow, member, request.id, bot.now)
        await uow.commit()
    task_id = done.events[0].to_dict()["task_id"]
    await jobs_of.send_offers(jobs, task_id)
    assert "由您去" in texts_of(await bot.say("u8", "1"))
    bot.now = datetime.fromisoformat("2026-11-27T09:00:00+08:00")
    assert await jobs_of.ask_hours(jobs, bot.now) == 1
    assert "工作人员会和您核对" in texts_of(await bot.say("u1", "2 不对"))
    assert await bot.count(TimeBankEntry) == 0
    (disputed,) = await bot.requests("volunteer_hours")
    assert disputed.details["task_id"] == task_id
    # Staff confirm 1.5 hours in the console's action: credited, the check closed.
    async with UnitOfWork(bot.sessions) as uow:
        done = await volunteers.confirm_hours(uow, member, task_id, 90, bot.now)
        await uow.commit()
    assert done.ok
    async with UnitOfWork(bot.sessions) as uow:
        assert await uow.volunteers.balance(SECOND) == 90
        closed = await uow.requests.get(disputed.id)
    assert closed is not None
    assert closed.status == "done"
    said = texts_of(await bot.say("u8", "我存了多少小时"))
    assert "1小时30分钟" in said


async def test_hours_are_redeemed_for_a_booked_request_never_below_zero(bot: Harness) -> None:
    request = await _book_escort(bot)
    member = await _staff(bot)
    async with UnitOfWork(bot.sessions) as uow:
        volunteer = await uow.volunteers.register(
            RETIREE, ["repair"], ["*"], actor="t", now=bot.now
        )
        task = VolunteerTask(
            request_id=request.id, skill="repair", status="accepted", volunteer_id=volunteer.id,
            minutes=60, offered_by="t", offered_at=bot.now,
        )  # fmt: skip
        uow.session.add(task)
        await uow.session.flush()
        assert await uow.volunteers.credit(task, 60, actor="t", now=bot.now) is not None
        await uow.commit()
    async with UnitOfWork(bot.sessions) as uow:
        refused = await volunteers.redeem(uow, member, RETIREE, request.id, 90, now=bot.now)
        await uow.commit()
    assert not refused.ok
    async with UnitOfWork(bot.sessions) as uow:
        done = await volunteers.redeem(uow, member, RETIREE, request.id, 45, now=bot.now)
        await uow.commit()
    assert done.ok, done.message
    async with UnitOfWork(bot.sessions) as uow:
        again = await volunteers.redeem(uow, member, RETIREE, request.id, 10, now=bot.now)
        assert await uow.volunteers.balance(RETIREE) == 15
        request_two = await uow.requests.create(
            "eldercare", now=bot.now, actor="t", person_id=RETIREE, status="booked"
        )
        with pytest.raises(Overdrawn):
            await uow.volunteers.redeem(RETIREE, request_two, 16, actor="t", now=bot.now)
    assert not again.ok  # once per request
    said = texts_of(await bot.say("u1", "我的时间银行"))
    assert "现有15分钟" in said
    assert "用去45分钟" in said


async def test_nothing_fits_and_nobody_matches_offer_nothing(bot: Harness) -> None:
    member = await _staff(bot)
    request = await _book_escort(bot)
    async with UnitOfWork(bot.sessions) as uow:
        none = await volunteers.offer_request(uow, member, request.id, bot.now)
        await uow.volunteers.register(ELSEWHERE, ["escort"], ["吴中区"], actor="t", now=bot.now)
        elsewhere = await volunteers.offer_request(uow, member, request.id, bot.now)
        await uow.volunteers.register(FIRST, ["companionship"], ["*"], actor="t", now=bot.now)
        unskilled = await volunteers.offer_request(uow, member, request.id, bot.now)
        handoff = await uow.requests.create("handoff", now=bot.now, actor="t", person_id=RETIREE)
        unfit = await volunteers.offer_request(uow, member, handoff.id, bot.now)
        await uow.commit()
    assert not any(d.ok for d in (none, elsewhere, unskilled, unfit))
    assert await bot.count(VolunteerOffer) == 0


async def test_a_typed_1_answers_our_own_list_when_we_asked_something_since(
    bot: Harness, jobs: Jobs
) -> None:
    """An offer sent, then the volunteer talks with us: "1" picks from our menu, not the offer."""
    async with UnitOfWork(bot.sessions) as uow:
        await uow.volunteers.register(SECOND, ["escort"], ["*"], actor="t", now=bot.now)
        await uow.commit()
    request = await _book_escort(bot)
    member = await _staff(bot)
    async with UnitOfWork(bot.sessions) as uow:
        done = await volunteers.offer_request(uow, member, request.id, bot.now)
        await uow.commit()
    await jobs_of.send_offers(jobs, done.events[0].to_dict()["task_id"])
    bot.later(minutes=1)
    assert "看病陪诊" in texts_of(await bot.say("u8", "你好"))  # the menu
    said = texts_of(await bot.say("u8", "1"))
    assert "由您去" not in said
    async with UnitOfWork(bot.sessions) as uow:
        task = await uow.volunteers.task_of(request.id)
    assert task is not None
    assert task.volunteer_id is None


async def test_the_buttons_answer_even_in_the_middle_of_a_booking(
    bot: Harness, jobs: Jobs, outbox: Outbox
) -> None:
    """Telegram shows the offer's options as buttons: pressing one answers that offer, even
    while the volunteer is half-way through booking something of their own."""
    async with UnitOfWork(bot.sessions) as uow:
        await uow.volunteers.register(SECOND, ["escort"], ["*"], actor="t", now=bot.now)
        await uow.commit()
    request = await _book_escort(bot)
    member = await _staff(bot)
    async with UnitOfWork(bot.sessions) as uow:
        done = await volunteers.offer_request(uow, member, request.id, bot.now)
        await uow.commit()
    await publish(jobs, [e.to_dict() for e in done.events])
    (offer,) = [r for u, rs in outbox if u == "u8" for r in rs]
    accept = offer.options[0].payload
    assert "请核对" in texts_of(await bot.say("u8", "明天下午来理发"))  # a flow of their own
    said = texts_of(await bot.say("u8", offer.options[0].label, kind="button", payload=accept))
    assert "由您去" in said
    again = await bot.say("u8", offer.options[0].label, kind="button", payload=accept)
    assert "已经回复过了" in texts_of(again)
    assert await bot.count(VolunteerTask, status="accepted") == 1
