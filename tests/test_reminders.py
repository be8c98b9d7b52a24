"""Reminders end to end: activities and bookings the day before, the staff's daily 必访
list, each sent once (also when two workers look at the same moment), on the right day,
not before the hour, not to the waitlist or the cancelled, and a blocked account (403)
does not stop the others.

Everything goes through the real python-telegram-bot against the local Bot API double, on
SQLite and PostgreSQL; the clock is whatever each test passes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from taskiq import InMemoryBroker

from bot.jobs import Jobs, Registry, build_registry
from bot.notify import Notifier, telegram_sender
from bot.settings import Settings
from handlers import texts
from handlers.base import TZ, ServiceConfig
from services import reminders
from storage.db import AsyncSession, make_sessions
from storage.models import Activity, Person, Reminder, Staff
from storage.uow import UnitOfWork
from tests.channels.botapi_double import BotApiDouble, serve
from tests.channels.test_telegram import telegram_settings

TODAY = date(2026, 11, 22)  # a Sunday
TOMORROW = TODAY + timedelta(days=1)
# Retirees (Telegram chats) and what they have tomorrow.
ZHAO = 1004  # a seat; has blocked the bot (her account comes first)
ZHANG = 1001  # seats for himself and his wife (booked by his daughter); an escort booked
DAUGHTER = 2001  # 张建国's daughter, who signed them up
SON = 2002  # 张建国's son, who booked nothing
WANG = 1002  # on the waitlist; a home haircut booked
LI = 1003  # cancelled her seat and her escort
SUN = 1005  # a seat
DUTY, BACKUP, OFF_DUTY = 7001, 7002, 7003
RETIREE_CHATS = (ZHAO, ZHANG, DAUGHTER, SON, WANG, LI, SUN)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ)


@pytest.fixture(scope="module")
def botapi() -> Iterator[BotApiDouble]:
    with serve(BotApiDouble()) as double:
        yield double


@pytest.fixture
def api(botapi: BotApiDouble) -> BotApiDouble:
    botapi.reset()
    return botapi


@pytest.fixture
async def notifier(api: BotApiDouble) -> AsyncIterator[Notifier]:
    bot = telegram_sender(Settings(telegram=telegram_settings(api)))
    assert bot is not None
    await bot.initialize()
    try:
        yield Notifier(telegram=bot)
    finally:
        await bot.shutdown()


def make_jobs(
    sessions: async_sessionmaker[AsyncSession],
    notifier: Notifier,
    registry: Registry | None = None,
) -> Jobs:
    return Jobs(
        InMemoryBroker(), sessions, notifier, ServiceConfig(), registry=registry or Registry()
    )


@dataclass
class World:
    people: dict[str, int]
    accounts: dict[int, int]  # chat -> account id
    activity: int  # tomorrow's 书法班


async def _world(sessions: async_sessionmaker[AsyncSession]) -> World:
    created = at(TODAY, 7)
    people = [
        # name, born, lives alone
        ("赵淑兰", date(1950, 3, 1), False),
        ("张建国", date(1931, 5, 1), False),
        ("王秀英", date(1944, 6, 2), False),
        ("李卫东", date(1948, 7, 3), False),
        ("孙立华", date(1952, 8, 4), False),
        ("陈志强", date(1929, 3, 3), True),  # lives alone
        ("周振华", date(1946, 11, 22), False),  # 80 today
        ("吴玉兰", date(1947, 11, 22), False),  # 79 today
        ("郑国平", date(1940, 11, 23), False),  # 86 tomorrow
    ]
    async with UnitOfWork(sessions) as uow:
        ids = {}
        for name, born, alone in people:
            person = await uow.people.add(
                Person(
                    name=name,
                    category="tuixiu",
                    phone=f"1390000{len(ids):04d}",
                    address=f"{name}家",
                    birth_date=born,
                    lives_alone=alone,
                    created_at=created,
                    updated_at=created,
                )
            )
            ids[name] = person.id
        accounts = {}
        for chat, name, role in (
            (ZHAO, "赵淑兰", "retiree"),
            (ZHANG, "张建国", "retiree"),
            (DAUGHTER, "张建国", "family"),
            (SON, "张建国", "family"),
            (WANG, "王秀英", "retiree"),
            (LI, "李卫东", "retiree"),
            (SUN, "孙立华", "retiree"),
        ):
            relation = "女儿" if role == "family" else None
            account = await uow.accounts.bind(
                "telegram", str(chat), ids[name], created, role=role, relation=relation
            )
            accounts[chat] = account.id
        for level, chat, starts, ends in (
            (1, DUTY, at(TODAY, 0), at(TODAY + timedelta(days=30), 0)),
            (2, BACKUP, at(TODAY, 0), at(TODAY + timedelta(days=30), 0)),
            (1, OFF_DUTY, at(TODAY - timedelta(days=2), 0), at(TODAY, 0)),
        ):
            member = await uow.staff.add(
                Staff(name=f"值班{level}", role="duty", active=True, created_at=created)
            )
            await uow.alerts.add_shift(member.id, level, starts, ends)
            account = await uow.accounts.bind(
                "telegram", str(chat), 0, created, role="staff", staff_id=member.id
            )
            accounts[chat] = account.id
        calligraphy = await uow.activities.add(
            Activity(
                title="书法班",
                category="class",
                starts_at=at(TOMORROW, 9),
                place="老干部活动中心二楼书画室",
                capacity=4,
                created_at=created,
            )
        )
        later = await uow.activities.add(
            Activity(
                title="国画班",
                category="class",
                starts_at=at(TOMORROW + timedelta(days=1), 9),
                place="老干部活动中心二楼书画室",
                capacity=10,
                created_at=created,
            )
        )
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        act = calligraphy.id
        signed = await uow.activities.sign_up(act, ids["李卫东"], "self", created, accounts[LI])
        registration = await uow.activities.registration(signed.id)
        assert registration is not None
        await uow.activities.cancel(registration, created)
        await uow.activities.sign_up(act, ids["赵淑兰"], "self", created, accounts[ZHAO])
        for attendee in ("self", "spouse"):
            await uow.activities.sign_up(act, ids["张建国"], attendee, created, accounts[DAUGHTER])
        await uow.activities.sign_up(act, ids["孙立华"], "self", created, accounts[SUN])
        waiting = await uow.activities.sign_up(act, ids["王秀英"], "self", created, accounts[WANG])
        assert waiting.status == "waitlisted"
        await uow.activities.sign_up(later.id, ids["张建国"], "self", created, accounts[ZHANG])
        # Bookings: tomorrow (open, cancelled) and the day after.
        await uow.requests.create(
            "medical_escort", now=created, actor="test", person_id=ids["张建国"],
            beneficiary="spouse", account_id=accounts[ZHANG], scheduled_date=TOMORROW,
            scheduled_time="morning", details={"hospital": "省人民医院", "department": "心内科"},
        )  # fmt: skip
        care = {"service": "haircut", "service_name": "理发"}
        await uow.requests.create(
            "eldercare", now=created, actor="test", person_id=ids["王秀英"], status="booked",
            account_id=accounts[WANG], scheduled_date=TOMORROW, scheduled_time="afternoon",
            details=care,
        )  # fmt: skip
        await uow.requests.create(
            "eldercare", now=created, actor="test", person_id=ids["孙立华"], status="booked",
            account_id=accounts[SUN], scheduled_date=TOMORROW + timedelta(days=1),
            scheduled_time="morning", details=care,
        )  # fmt: skip
        dropped = await uow.requests.create(
            "medical_escort", now=created, actor="test", person_id=ids["李卫东"],
            account_id=accounts[LI], scheduled_date=TOMORROW, scheduled_time="morning",
            details={"hospital": "市第一人民医院", "department": "眼科"},
        )  # fmt: skip
        await uow.requests.set_status(dropped, "cancelled", now=created, actor="test")
        # Hospital stays: a visit due today, one overdue, one far off, one done.
        stay = {"hospital": "市第一人民医院", "department": "骨科"}
        for name, due, status in (
            ("张建国", at(TODAY, 18), "pending"),
            ("赵淑兰", at(TODAY - timedelta(days=1), 10), "pending"),
            ("王秀英", at(TODAY + timedelta(days=3), 12), "pending"),
            ("孙立华", at(TODAY, 12), "done"),
        ):
            await uow.requests.create(
                "hospital_visit", now=created, actor="test", person_id=ids[name],
                status=status, details=stay, due_at=due,
            )  # fmt: skip
        await uow.commit()
    return World(ids, accounts, calligraphy.id)


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    return await _world(sessions)


def per_chat(api: BotApiDouble) -> Counter[int]:
    return Counter(int(m["chat_id"]) for m in api.sent())


async def rows(sessions: async_sessionmaker[AsyncSession]) -> list[Reminder]:
    async with UnitOfWork(sessions) as uow:
        return list(await uow.session.scalars(select(Reminder).order_by(Reminder.id)))


# ------------------------------------------------------------- retirees
async def test_the_day_before_from_nine_attendees_and_bookers_are_reminded_once(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    api: BotApiDouble,
    notifier: Notifier,
) -> None:
    jobs = make_jobs(sessions, notifier)
    api.block(ZHAO)
    await reminders.send_due(jobs, at(TODAY, 8, 59))
    assert not any(per_chat(api)[chat] for chat in RETIREE_CHATS)  # not before nine

    outcome = await reminders.send_due(jobs, at(TODAY, 9))
    assert outcome.results == Counter(sent=5, blocked=1)
    sent = {chat: n for chat, n in per_chat(api).items() if chat in RETIREE_CHATS}
    # 赵淑兰 blocked the bot (her account came first): everyone after her still got theirs.
    assert sent == {ZHAO: 1, ZHANG: 2, DAUGHTER: 1, WANG: 1, SUN: 1}
    assert api.texts(ZHAO)
    assert not [m for m in api.delivered if m.chat_id == ZHAO]

    activity, escort = api.texts(ZHANG)
    assert activity.startswith("张老，明天11月23日（周一）09:00有书法班")
    assert "参加：您和老伴" in activity
    assert "老干部活动中心二楼书画室" in activity
    assert "省人民医院 心内科" in escort
    assert "为您的老伴" in escort
    [for_daughter] = api.texts(DAUGHTER)
    assert for_daughter.startswith("您好，明天11月23日（周一）09:00有书法班")
    assert "张建国和老伴" in for_daughter
    [haircut] = api.texts(WANG)  # on the waitlist: only her booking
    assert "上门理发" in haircut
    assert "下午" in haircut
    buttons = [
        b["text"] for row in api.sent(SUN)[0]["reply_markup"]["inline_keyboard"] for b in row
    ]
    assert buttons == [f"1. {texts.REMIND_CANCEL}", f"2. {texts.REMIND_PERSON}"]

    async with UnitOfWork(sessions) as uow:
        blocked = await uow.accounts.get(world.accounts[ZHAO])
    assert blocked is not None
    assert not blocked.active
    results = Counter(
        (r.kind, r.result) for r in await rows(sessions) if r.kind not in reminders.STAFF_KINDS
    )
    assert results == Counter(
        {("activity", "sent"): 3, ("activity", "blocked"): 1, ("medical_escort", "sent"): 1,
         ("eldercare", "sent"): 1}
    )  # fmt: skip

    # Looking again (later that day, or at once) sends nothing more.
    before = len(api.sent())
    for moment in (at(TODAY, 9), at(TODAY, 9, 1), at(TODAY, 19, 59)):
        assert (await reminders.send_due(jobs, moment)).sent == 0
    assert len(api.sent()) == before


async def test_retirees_are_reminded_only_the_day_before_and_not_in_the_evening(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    api: BotApiDouble,
    notifier: Notifier,
) -> None:
    jobs = make_jobs(sessions, notifier)
    for moment in (
        at(TODAY - timedelta(days=1), 10),  # two days before
        at(TODAY, 20),  # the evening before: too late to disturb
    ):
        await reminders.send_due(jobs, moment)
        assert not any(per_chat(api)[chat] for chat in RETIREE_CHATS), moment
    # The day of the 书法班 and the escort: nothing about them; the day before the 国画班
    # and 孙立华's haircut.
    await reminders.send_due(jobs, at(TOMORROW, 10))
    [text] = api.texts(ZHANG)
    assert text.startswith("张老，明天11月24日（周二）09:00有国画班")
    assert "上门理发" in api.texts(SUN)[0]
    assert not api.texts(DAUGHTER)  # she did not sign him up for that one


async def test_a_full_batch_looks_again_and_reaches_everyone_once(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    api: BotApiDouble,
    notifier: Notifier,
) -> None:
    jobs = make_jobs(sessions, notifier)
    looks = 0
    while True:
        looks += 1
        assert looks < 10, "the batches never end"
        if not (await reminders.send_due(jobs, at(TODAY, 9), batch=2)).more:
            break
    sent = {chat: n for chat, n in per_chat(api).items() if chat in RETIREE_CHATS}
    assert sent == {ZHAO: 1, ZHANG: 2, DAUGHTER: 1, WANG: 1, SUN: 1}
    # 张建国's seat and his wife's are one reminder, even when a batch ends between them.
    [activity] = [t for t in api.texts(ZHANG) if "书法班" in t]
    assert "参加：您和老伴" in activity


# ---------------------------------------------------------------- staff
async def test_the_staff_on_duty_get_the_days_visits_from_half_past_eight_once(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    api: BotApiDouble,
    notifier: Notifier,
) -> None:
    jobs = make_jobs(sessions, notifier)
    await reminders.send_due(jobs, at(TODAY, 8, 29))
    assert not api.sent()
    await reminders.send_due(jobs, at(TODAY, 8, 30))
    await reminders.send_due(jobs, at(TODAY, 8, 31))
    assert per_chat(api) == Counter({DUTY: 1})  # not the backup, not last night's duty
    [first] = api.texts(DUTY)
    assert first.startswith("【今日必访】11月22日（周日）")
    lines = first.splitlines()
    assert "· 张建国，市第一人民医院 骨科，11月22日（周日）18:00前" in lines
    assert "· 赵淑兰，市第一人民医院 骨科，已超时（应于11月21日（周六）10:00前）" in lines
    assert not any(name in first for name in ("王秀英", "孙立华"))  # not due yet; visited
    assert "· 周振华，80岁，电话：13900000006" in lines
    assert not any(name in first for name in ("吴玉兰", "郑国平"))  # 79; tomorrow
    assert "陈志强" in first  # lives alone, not called yet this month

    # The next morning: the visit still open and now overdue again; no birthdays; the
    # person living alone was on yesterday's list, so not again this month.
    await reminders.send_due(jobs, at(TOMORROW, 8, 30))
    second = api.texts(DUTY)[-1]
    assert "张建国" in second
    assert not any(name in second for name in ("周振华", "陈志强"))
    # A new month: call the people living alone again.
    await reminders.send_due(jobs, at(date(2026, 12, 1), 9))
    assert "陈志强" in api.texts(DUTY)[-1]
    assert len(api.texts(DUTY)) == 3


async def test_a_list_that_could_not_be_delivered_leaves_the_call_to_do(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    api: BotApiDouble,
    notifier: Notifier,
) -> None:
    jobs = make_jobs(sessions, notifier)
    api.block(DUTY)
    await reminders.send_due(jobs, at(TODAY, 8, 30))
    assert {r.result for r in await rows(sessions)} == {"blocked"}
    async with UnitOfWork(sessions) as uow:  # the duty officer is back, on another phone
        old = await uow.accounts.get(world.accounts[DUTY])
        assert old is not None
        assert not old.active
        await uow.accounts.bind(
            "telegram", "7004", 0, at(TODAY, 10), role="staff", staff_id=old.staff_id
        )
        await uow.commit()
    await reminders.send_due(jobs, at(TODAY, 10))
    [again] = api.texts(7004)
    assert "陈志强" in again
    assert "张建国" in again


# ---------------------------------------------------------- concurrency
async def test_workers_looking_at_the_same_moment_send_each_reminder_once(
    pg: AsyncEngine, api: BotApiDouble, notifier: Notifier
) -> None:
    sessions = make_sessions(pg)
    await _world(sessions)
    workers = [make_jobs(make_sessions(pg), notifier) for _ in range(4)]
    moment = at(TODAY, 9)
    outcomes = await asyncio.gather(*(reminders.send_due(jobs, moment) for jobs in workers))
    assert sum(o.sent for o in outcomes) == 7  # six retiree reminders, one staff list
    assert per_chat(api) == Counter({ZHAO: 1, ZHANG: 2, DAUGHTER: 1, WANG: 1, SUN: 1, DUTY: 1})
    keys = [(r.day, r.kind, r.target, r.account_id) for r in await rows(sessions)]
    assert len(keys) == len(set(keys))
    assert {r.result for r in await rows(sessions)} <= {"sent"}


# ------------------------------------------------------- the reconciler
async def test_every_workers_reconciler_runs_the_check_at_most_once_a_minute(
    sessions: async_sessionmaker[AsyncSession],
    world: World,
    api: BotApiDouble,
    notifier: Notifier,
) -> None:
    registry = build_registry()  # as every worker builds it at start
    assert any(isinstance(check, reminders.ReminderCheck) for check in registry.checks)
    jobs = make_jobs(sessions, notifier, registry)
    assert await jobs.reconcile(at(TODAY, 9)) == 0  # reminders are not lost work re-started
    assert per_chat(api)[SUN] == 1
    assert not api.texts(LI)
    async with UnitOfWork(sessions) as uow:  # 李卫东 books a haircut for tomorrow at 9:00
        await uow.requests.create(
            "eldercare", now=at(TODAY, 9), actor="test", person_id=world.people["李卫东"],
            status="booked", account_id=world.accounts[LI], scheduled_date=TOMORROW,
            scheduled_time="morning", details={"service": "haircut", "service_name": "理发"},
        )  # fmt: skip
        await uow.commit()
    await jobs.reconcile(at(TODAY, 9) + timedelta(seconds=30))
    assert not api.texts(LI)  # looked less than a minute ago
    await jobs.reconcile(at(TODAY, 9, 1))
    assert len(api.texts(LI)) == 1
    assert per_chat(api)[SUN] == 1  # and nobody twice
