"""Binding that proves who you are: a stranger with a retiree's name and phone gets a
pending binding — an emergency and public questions, nothing of the person's — until an
SMS code, a staff member or the person's own account proves it; codes have attempt
limits; consent is asked first and recorded; "删除我的信息" reaches staff."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.jobs import Jobs
from bot.notify import Notifier
from bot.pipeline import Pipeline
from handlers import texts
from handlers.base import Reply, ServiceConfig
from nlu.engine import EmbeddedEngine
from services import bindings, retention
from storage.db import AsyncSession
from storage.demo import seed_demo
from storage.models import (
    AuditEntry,
    BindingCode,
    ChannelAccount,
    IdentityCheck,
    MessageRecord,
    Person,
    ServiceRequest,
)
from storage.state import MemoryStore
from storage.uow import UnitOfWork
from tests.harness import Harness, texts_of


class FakeSms:
    """Keeps what would have been sent (the SMS provider is a network service)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    async def send(self, phone: str, code: str) -> bool:
        self.sent.append((phone, code))
        return True


def _bot(
    sessions: async_sessionmaker[AsyncSession], engine_nlu: EmbeddedEngine, now: datetime,
    config: ServiceConfig,
) -> Harness:  # fmt: skip
    pipeline = Pipeline(sessions, MemoryStore(), engine_nlu, config)
    return Harness(pipeline, sessions, now, channel="console")


@pytest.fixture
async def bot(
    sessions: async_sessionmaker[AsyncSession], engine_nlu: EmbeddedEngine, now: datetime
) -> Harness:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    harness = _bot(sessions, engine_nlu, now, ServiceConfig(sms_codes=True))
    await harness.pipeline.refresh_lookups(now)
    return harness


@pytest.fixture
def outbox() -> list[tuple[str, list[Reply]]]:
    return []


@pytest.fixture
def jobs(bot: Harness, outbox: list[tuple[str, list[Reply]]]) -> Jobs:
    """Jobs that deliver to the console channel's outbox and "send" SMS into a list."""
    return Jobs(
        broker=None,  # type: ignore[arg-type] - the tests call the job functions directly
        sessions=bot.sessions,
        notifier=Notifier(console=outbox),
        config=ServiceConfig(sms_codes=True),
        sms=FakeSms(),
        clock=lambda: bot.now,
    )


async def _person(bot: Harness, person_id: int) -> Person:
    async with UnitOfWork(bot.sessions) as uow:
        person = await uow.people.get(person_id)
    assert person is not None
    assert person.phone
    return person


async def _claim(bot: Harness, user: str, person: Person) -> str:
    """A stranger agrees to the notice and types a roster name and phone."""
    said = texts_of(await bot.say(user, "你好", unbound=True))
    assert "同意" in said
    await bot.say(user, "1", unbound=True)
    await bot.say(user, person.name, unbound=True)
    return texts_of(await bot.say(user, str(person.phone), unbound=True))


async def _account(bot: Harness, user: str) -> ChannelAccount:
    async with UnitOfWork(bot.sessions) as uow:
        account = await uow.accounts.find(bot.channel, user)
    assert account is not None
    return account


async def test_a_stranger_with_name_and_phone_sees_nothing_of_the_person(
    bot: Harness, jobs: Jobs, outbox: list[tuple[str, list[Reply]]]
) -> None:
    person = await _person(bot, 1)
    assert person.address
    await bot.bind("owner", person.id)
    await bot.say("owner", "报名书法班")  # something in the person's records
    await bot.say("owner", "确认")

    said = await _claim(bot, "stranger", person)
    assert "验证码" in said
    assert str(person.phone)[-4:] in said
    account = await _account(bot, "stranger")
    assert account.person_id is None
    assert account.pending_person_id == person.id

    replies = [said]
    for text in ("我的记录", "取消书法班", "我家地址是哪里", "绑定家属", "查看我的预约"):
        response = await bot.say("stranger", text, unbound=True)
        replies.append(texts_of(response))
        assert response.events == () or all(
            e["type"] not in {"booking_cancelled", "account_bound"} for e in response.events
        )
    emergency = await bot.say("stranger", "救命 我摔倒了起不来", unbound=True)
    assert [e["type"] for e in emergency.events] == ["sos_raised"]
    replies.append(texts_of(emergency))
    everything = "\n".join(replies)
    assert person.address not in everything
    assert "书法" not in everything
    assert await bot.count(BindingCode) == 0
    [sos] = await bot.requests("sos")
    assert sos.person_id is None
    assert sos.details["claimed_person_id"] == person.id

    # The person's own account is asked about it (the job after the commit).
    [check] = await _checks(bot)
    assert await bindings.tell_owners(jobs, check.id) == 1
    [(to, [notice])] = outbox
    assert to == "owner"
    assert person.name in notice.text
    assert "不是我们" in notice.text


async def _checks(bot: Harness) -> list[IdentityCheck]:
    async with UnitOfWork(bot.sessions) as uow:
        return list(await uow.session.scalars(select(IdentityCheck).order_by(IdentityCheck.id)))


async def test_the_sms_code_typed_back_completes_the_binding(bot: Harness, jobs: Jobs) -> None:
    person = await _person(bot, 2)
    await _claim(bot, "new", person)
    [check] = await _checks(bot)
    assert check.code is not None
    assert check.sms == "to_send"
    assert await bindings.send_code(jobs, check.id, bot.now)
    assert not await bindings.send_code(jobs, check.id, bot.now)  # sent once
    sms = jobs.sms
    assert isinstance(sms, FakeSms)
    [(phone, code)] = sms.sent
    assert phone == person.phone

    done = await bot.say("new", code, unbound=True)
    assert [e["type"] for e in done.events] == ["account_bound"]
    assert done.events[0]["how"] == "sms"
    account = await _account(bot, "new")
    assert (account.person_id, account.pending_person_id) == (person.id, None)
    [check] = await _checks(bot)
    assert (check.status, check.how, check.code) == ("verified", "sms", None)
    [queue_item] = await bot.requests("identity_check")
    assert queue_item.status == "done"
    bot.bound["new"] = person.id
    assert "王" in texts_of(await bot.say("new", "你好"))


async def test_wrong_sms_codes_are_limited_and_say_when_to_try_again(bot: Harness) -> None:
    person = await _person(bot, 2)
    await _claim(bot, "guesser", person)
    [check] = await _checks(bot)
    # A wrong code that reads like an emergency number is still a code ("120" in it).
    wrong = "227120" if check.code != "227120" else "417120"
    answers = [texts_of(await bot.say("guesser", wrong, unbound=True)) for _ in range(5)]
    assert "还可以试 4 次" in answers[0]
    assert "验证码不对" in answers[3]
    assert re.search(r"\d\d:\d\d以后再试", answers[4]), answers[4]
    # Even the right code is refused now: the pause holds, and the spent code is void.
    refused = await bot.say("guesser", str(check.code), unbound=True)
    assert "以后再试" in texts_of(refused)
    assert (await _account(bot, "guesser")).person_id is None


async def test_twenty_wrong_binding_codes_are_throttled_before_the_twentieth(
    bot: Harness,
) -> None:
    answers = [
        texts_of(await bot.say("scanner", f"绑定码 {10_000_000 + i}", unbound=True))
        for i in range(20)
    ]
    throttled = [i for i, a in enumerate(answers) if "以后再试" in a]
    assert throttled
    assert throttled[0] < 19
    assert throttled[0] == 4  # five wrong codes an hour
    assert "这个码不对" in answers[0]
    # An hour later the user may try again (the count is per hour, not forever).
    bot.later(hours=1, minutes=1)
    assert "这个码不对" in texts_of(await bot.say("scanner", "绑定码 10000099", unbound=True))


async def test_a_used_code_is_told_apart_from_a_wrong_one(bot: Harness) -> None:
    async with UnitOfWork(bot.sessions) as uow:
        issued = await uow.codes.issue(bot.now, "test", role="retiree", person_id=1)
        expired = await uow.codes.issue(
            bot.now - timedelta(days=8), "test", role="retiree", person_id=2
        )
        await uow.commit()
    await bot.say("first", "你好", unbound=True)
    await bot.say("first", "1", unbound=True)
    bound = await bot.say("first", f"绑定 {issued.code}", unbound=True)
    assert [e["type"] for e in bound.events] == ["account_bound"]
    used = texts_of(await bot.say("second", f"绑定 {issued.code}", unbound=True))
    old = texts_of(await bot.say("third", f"绑定 {expired.code}", unbound=True))
    wrong = texts_of(await bot.say("fourth", "绑定 12121212", unbound=True))
    assert "用过或过期" in used
    assert "用过或过期" in old
    assert "不对" not in used
    assert "不对" in wrong
    assert "用过或过期" not in wrong


async def test_a_typed_code_is_a_code_whatever_its_digits(bot: Harness) -> None:
    # The codes are random: "绑定 <8 digits>" once read as a hand-off for some digits
    # (CI failed on one), so the digits must decide before the words are read.
    import random

    draw = random.Random(20261207)
    once_misread = ["09990504", "90301234", "20079420", "99980901"]  # hand-off, emergency
    codes = once_misread + [f"{draw.randrange(10**8):08d}" for _ in range(40)]
    for n, code in enumerate(codes):
        forms = ["绑定 {}", "绑定码 {}", "绑定{}"]
        form = draw.choice(forms) if n >= len(once_misread) else "绑定 {}"
        said = form.format(code)
        answer = texts_of(await bot.say(f"guess{n}", said, unbound=True))
        assert "不对" in answer, (said, answer)


async def test_a_staff_code_expires_within_a_day(bot: Harness) -> None:
    async with UnitOfWork(bot.sessions) as uow:
        issued = await uow.codes.issue(
            bot.now, "test", role="staff", staff_id=1, valid_for=timedelta(days=7)
        )
        await uow.commit()
    assert issued.expires_at - issued.created_at <= timedelta(hours=24)


async def test_names_that_do_not_match_are_limited_too(bot: Harness) -> None:
    await bot.say("prober", "你好", unbound=True)
    await bot.say("prober", "1", unbound=True)
    for _ in range(3):
        await bot.say("prober", "张建国", unbound=True)
        await bot.say("prober", "13812345678", unbound=True)
    # After three misses the flow does not start unlimited guessing again.
    await bot.say("prober", "你好", unbound=True)
    await bot.say("prober", "1", unbound=True)
    await bot.say("prober", "张建国", unbound=True)
    fourth = texts_of(await bot.say("prober", "13900000001", unbound=True))
    assert "以后再试" in fourth
    assert await bot.count(ChannelAccount, external_id="prober") == 0


async def test_staff_approve_a_pending_binding_from_the_queue(
    bot: Harness, jobs: Jobs, outbox: list[tuple[str, list[Reply]]]
) -> None:
    person = await _person(bot, 3)
    await _claim(bot, "claimant", person)
    [item] = await bot.requests("identity_check")
    async with UnitOfWork(bot.sessions) as uow:
        staff = await uow.accounts.bind(bot.channel, "clerk", 0, bot.now, role="staff", staff_id=1)
        await uow.commit()
    bot.bound["clerk"] = 0
    queue = texts_of(await bot.say("clerk", "待办"))
    assert f"编号 {item.id}" in queue
    assert "核实身份" in queue
    assert "核实" in texts_of(await bot.say("clerk", f"完成 {item.id}"))  # not closed by 完成
    approved = await bot.say("clerk", f"核实 {item.id}")
    assert [e["type"] for e in approved.events] == ["account_bound", "binding_decided"]
    account = await _account(bot, "claimant")
    assert account.person_id == person.id
    assert await bindings.tell_decided(jobs, account.id, approved=True)
    assert outbox[-1][0] == "claimant"
    assert "核实" in outbox[-1][1][0].text
    async with UnitOfWork(bot.sessions) as uow:
        audit = await uow.session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor == f"account:{staff.id}")
        )
        assert "account_bound" in set(audit)


async def test_the_persons_own_account_approves_or_refuses(bot: Harness) -> None:
    person = await _person(bot, 1)
    await bot.bind("dad", person.id)
    await _claim(bot, "daughter", person)
    approved = await bot.say("dad", "同意绑定")
    assert "已同意" in texts_of(approved)
    assert (await _account(bot, "daughter")).person_id == person.id

    await _claim(bot, "impostor", person)
    refused = await bot.say("dad", "不是我们")
    assert "已拒绝" in texts_of(refused)
    account = await _account(bot, "impostor")
    assert account.person_id is None
    assert account.pending_person_id is None
    handoffs = await bot.requests("handoff")
    assert any(h.details.get("reason") == "binding_rejected" for h in handoffs)
    # Nothing pending: the words are answered plainly, nothing changes.
    assert "没有等您确认" in texts_of(await bot.say("dad", "同意绑定"))


async def test_consent_is_asked_first_and_recorded_with_its_version(bot: Harness) -> None:
    person = await _person(bot, 2)
    said = await _claim(bot, "agreeing", person)
    assert "验证码" in said
    account = await _account(bot, "agreeing")
    assert account.consent_version == texts.CONSENT_VERSION
    assert account.consented_at == bot.now

    notice = texts_of(await bot.say("declining", "我是王德明 13900000002", unbound=True))
    assert "您同意吗" in notice
    declined = texts_of(await bot.say("declining", "2", unbound=True))
    assert "不登记" in declined
    assert await bot.count(ChannelAccount, external_id="declining") == 0


async def test_asking_to_delete_my_data_files_a_request_to_staff(bot: Harness) -> None:
    await bot.bind("leaving", 1)
    for text in ("删除我的信息", "这个不想用了"):
        response = await bot.say("leaving", text)
        assert "删除" in texts_of(response)
    requests = await bot.requests("forget_me")
    assert len(requests) == 2
    assert all(r.person_id == 1 for r in requests)


async def test_without_sms_the_pending_binding_waits_for_a_person(
    sessions: async_sessionmaker[AsyncSession], engine_nlu: EmbeddedEngine, now: datetime
) -> None:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    harness = _bot(sessions, engine_nlu, now, replace(ServiceConfig(), sms_codes=False))
    person = await _person(harness, 1)
    said = await _claim(harness, "new", person)
    assert "工作人员核实" in said
    assert "验证码" not in said
    [check] = await _checks(harness)
    assert (check.code, check.sms) == (None, "off")
    assert (await _account(harness, "new")).pending_person_id == person.id


async def test_the_account_is_told_of_a_new_binding(
    bot: Harness, jobs: Jobs, outbox: list[tuple[str, list[Reply]]]
) -> None:
    await bot.bind("mum", 4)
    new = await bot.bind("son", 4, role="family", relation="儿子")
    assert new == 4
    told = await bindings.tell_bound(jobs, bot.accounts["son"], 4)
    assert told == 1
    assert outbox[0][0] == "mum"
    assert "新的" in outbox[0][1][0].text


async def test_the_message_log_forgets_old_text_but_keeps_records(bot: Harness, jobs: Jobs) -> None:
    await bot.bind("old", 1)
    await bot.say("old", "下周三帮我约个理发")
    await bot.say("old", "确认")
    records = await bot.count(ServiceRequest)
    assert records >= 1
    async with UnitOfWork(bot.sessions) as uow:
        texts_before = list(await uow.session.scalars(select(MessageRecord.text)))
    assert any(t and "理发" in t for t in texts_before)
    assert await retention.expire(jobs, bot.now + timedelta(days=179)) == 0
    blanked = await retention.expire(jobs, bot.now + timedelta(days=181), batch=2)
    assert blanked == len(texts_before)
    async with UnitOfWork(bot.sessions) as uow:
        left = list(await uow.session.scalars(select(MessageRecord.text)))
    assert left == [None] * len(texts_before)
    assert await bot.count(ServiceRequest) == records
