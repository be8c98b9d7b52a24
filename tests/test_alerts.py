"""One-key help end to end: the SOS, the pages to staff on call, escalation by the clock,
the first "我来处理" wins, resolution, and the reconciler after a worker is killed.

Everything goes through the real app and the real python-telegram-bot against the local
Bot API double (retiree, family and three staff members are Telegram users); the database
(SQLite and PostgreSQL) and, for the fault test, Redis and a `yinling worker` process are
the real ones. The clock of the jobs is set by each test.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.channels.telegram import TelegramChannel
from bot.jobs import Jobs, build_registry, start_jobs, stop_jobs
from bot.messages import InboundMessage
from bot.metrics import Metrics
from bot.notify import Notifier, telegram_sender
from bot.pipeline import Pipeline
from bot.runtime import Runtime
from bot.settings import Settings
from handlers import texts
from handlers.base import ServiceConfig
from nlu.engine import EmbeddedEngine
from storage.alerts import BACKUP, FAMILY, LEADER, ON_DUTY
from storage.db import make_sessions
from storage.demo import seed_demo
from storage.models import Alert, AlertStep, AuditEntry, Person, ServiceRequest
from storage.state import MemoryStore
from storage.uow import UnitOfWork
from tests.channels.botapi_double import BotApiDouble, serve
from tests.channels.test_telegram import SECRET, Telegram, telegram_settings
from tests.conftest import REDIS_URL, REPO

RETIREE, DAUGHTER = 5_101, 6_101
STAFF_CHATS = {ON_DUTY: 7_001, BACKUP: 7_002, LEADER: 7_003}  # demo staff 1, 2, 3
MINUTES = 3
FALL = "我摔倒了起不来，快来人"
HOTLINE = "0512-65000000"


class HoldingDouble(BotApiDouble):
    """The Bot API double, able to hold messages to one chat unanswered (a slow network
    while a worker is killed)."""

    def __init__(self) -> None:
        super().__init__()
        self.held: set[int] = set()

    async def _sendmessage(self, params: dict[str, Any]) -> Any:
        # The double runs in a thread of its own: a flag polled, not an asyncio.Event.
        while int(params["chat_id"]) in self.held:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return await super()._sendmessage(params)


@pytest.fixture(scope="module")
def botapi() -> Iterator[HoldingDouble]:
    with serve(HoldingDouble()) as double:
        yield double  # type: ignore[misc]


@pytest.fixture
def api(botapi: HoldingDouble) -> HoldingDouble:
    botapi.reset()
    botapi.held.clear()
    return botapi


async def _people(sessions: Any, now: datetime) -> Person:
    """The demo roster and staff (with their duty roster); a retiree, her daughter and the
    three staff members on Telegram. Returns the retiree."""
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        person_id = (await uow.people.all_ids())[0]
        await uow.accounts.bind("telegram", str(RETIREE), person_id, now)
        await uow.accounts.bind(
            "telegram", str(DAUGHTER), person_id, now, role="family", relation="女儿"
        )
        for staff_id, chat in enumerate(STAFF_CHATS.values(), 1):
            await uow.accounts.bind("telegram", str(chat), 0, now, role="staff", staff_id=staff_id)
        person = await uow.people.get(person_id)
        await uow.commit()
    assert person is not None
    return person


@dataclass
class Desk:
    """The app (webhook + in-process jobs), the double, and the jobs' clock."""

    telegram: Telegram
    jobs: Jobs
    api: HoldingDouble
    person: Person
    clock: list[datetime]

    async def say(self, chat: int, text: str) -> None:
        await self.telegram.post(self.telegram.message(chat, text=text))
        await self.settle()

    async def press(self, chat: int, sent: dict[str, Any], label: str) -> None:
        await self.telegram.post(self.telegram.press(chat, sent, label))
        await self.settle()

    async def settle(self) -> None:
        """Wait for the jobs the last messages kicked (in-memory broker)."""
        await self.jobs.broker.wait_all()  # type: ignore[attr-defined]

    def at(self, minutes: float) -> datetime:
        """Set the clock to ``minutes`` after the test's start."""
        self.clock[0] = self.start + timedelta(minutes=minutes)
        return self.clock[0]

    @property
    def start(self) -> datetime:
        return self.clock[1]

    async def alert(self) -> Alert:
        async with UnitOfWork(self.telegram.runtime.sessions) as uow:
            alert = await uow.session.scalar(select(Alert))
        assert alert is not None
        return alert

    async def steps(self) -> list[AlertStep]:
        alert = await self.alert()
        async with UnitOfWork(self.telegram.runtime.sessions) as uow:
            return await uow.alerts.steps(alert.id)

    def pages(self, chat: int) -> list[str]:
        return [t for t in self.api.texts(chat) if "紧急求助" in t]


@pytest.fixture
async def desk(
    db: AsyncEngine,
    engine_nlu: EmbeddedEngine,
    api: HoldingDouble,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Desk]:
    # Only the alerts' own reconciling here: the other checks (reminders...) have their tests.
    monkeypatch.setattr("bot.worker.build_registry", lambda: build_registry().without_checks())
    sessions = make_sessions(db)
    person = await _people(sessions, now)
    settings = Settings(
        telegram=telegram_settings(api), alert_minutes=MINUTES, reconcile_seconds=3600
    )
    store = MemoryStore()
    metrics = Metrics()
    pipeline = Pipeline(sessions, store, engine_nlu, ServiceConfig(), metrics)
    await pipeline.refresh_lookups(now)
    runtime = Runtime(settings, db, sessions, None, store, engine_nlu, metrics, pipeline)
    app = create_app(runtime=runtime)
    async with app.router.lifespan_context(app):
        channel: TelegramChannel = app.state.telegram
        clock = [now, now]
        channel.clock = lambda: clock[0]
        jobs: Jobs = app.state.jobs
        jobs.clock = lambda: clock[0]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Desk(Telegram(client, channel, api, runtime), jobs, api, person, clock)


def _take_button(sent: dict[str, Any]) -> str:
    [button] = [b for row in sent["reply_markup"]["inline_keyboard"] for b in row]
    assert texts.ALERT_TAKE_LABEL in button["text"]
    return str(button["callback_data"])


# ------------------------------------------------------------------ paging
async def test_an_sos_pages_the_staff_on_duty_at_once_with_what_they_need(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    assert "已收到您的紧急求助" in desk.api.texts(RETIREE)[0]
    [page] = [m for m in desk.api.sent(STAFF_CHATS[ON_DUTY]) if "紧急求助" in m["text"]]
    person = desk.person
    for fact in (person.name, person.address, person.phone, "原话：" + FALL):
        assert fact
        assert fact in page["text"]
    alert = await desk.alert()
    assert _take_button(page) == f'/alert_take{{"request":{alert.request_id}}}'
    assert f"接 {alert.request_id}" in page["text"]  # the number staff see everywhere
    # Only the first level is paged; nobody else yet.
    assert not desk.pages(STAFF_CHATS[BACKUP])
    assert not desk.pages(STAFF_CHATS[LEADER])
    assert not desk.pages(DAUGHTER)
    steps = await desk.steps()
    assert [(s.kind, s.level, s.result) for s in steps] == [
        ("raised", 0, None),
        ("paged", ON_DUTY, "sent"),
    ]


async def test_no_acknowledgement_escalates_level_by_level_on_the_clock(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    duty, backup, leader = (STAFF_CHATS[level] for level in (ON_DUTY, BACKUP, LEADER))
    assert await desk.jobs.reconcile(desk.at(MINUTES - 0.5)) == 0  # not yet
    assert not desk.pages(backup)
    assert await desk.jobs.reconcile(desk.at(MINUTES)) == 1
    assert len(desk.pages(backup)) == 1
    assert not desk.pages(leader)
    await desk.jobs.reconcile(desk.at(2 * MINUTES))
    assert len(desk.pages(leader)) == 1
    await desk.jobs.reconcile(desk.at(3 * MINUTES))
    [family] = desk.pages(DAUGHTER)
    assert desk.person.name in family
    assert "120" in family
    # Then everyone on call again, every N minutes, until someone answers.
    await desk.jobs.reconcile(desk.at(4 * MINUTES))
    assert [len(desk.pages(chat)) for chat in (duty, backup, leader)] == [2, 2, 2]
    assert "第2次呼叫" in desk.pages(duty)[-1]
    paged = [(s.level, s.at - desk.start) for s in await desk.steps() if s.kind == "paged"]
    assert paged[:4] == [
        (ON_DUTY, timedelta(0)),
        (BACKUP, timedelta(minutes=MINUTES)),
        (LEADER, timedelta(minutes=2 * MINUTES)),
        (FAMILY, timedelta(minutes=3 * MINUTES)),
    ]


async def test_a_paging_job_delivered_twice_pages_once(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    alert = await desk.alert()
    assert await desk.jobs.page(alert.id) == []  # already paged, the next level not due
    assert len(desk.pages(STAFF_CHATS[ON_DUTY])) == 1


async def test_nobody_reachable_on_duty_goes_straight_to_the_backup(desk: Desk) -> None:
    desk.api.block(STAFF_CHATS[ON_DUTY])  # the duty officer blocked the bot
    await desk.say(RETIREE, FALL)
    assert len(desk.pages(STAFF_CHATS[BACKUP])) == 1
    steps = [(s.level, s.result) for s in await desk.steps() if s.kind == "paged"]
    assert steps == [(ON_DUTY, "blocked"), (BACKUP, "sent")]


# ------------------------------------------------------------ one alert per emergency
async def test_three_emergency_messages_in_a_minute_are_one_alert_paged_once(
    desk: Desk,
) -> None:
    """Each is acknowledged, each is in the alert's history and goes to the staff paged;
    the paging chain runs once."""
    await desk.say(RETIREE, FALL)
    desk.at(0.3)
    await desk.say(RETIREE, "快来人 头流血了")
    desk.at(0.8)
    await desk.say(DAUGHTER, "我爸摔倒了 快去看看")  # family writing for him joins it too
    retiree, daughter = desk.api.texts(RETIREE), desk.api.texts(DAUGHTER)
    assert "已收到您的紧急求助" in retiree[0]
    assert any("第2次求助已记录" in t for t in retiree)
    assert any("第3次求助已记录" in t for t in daughter)
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        alerts = list(await uow.session.scalars(select(Alert)))
        sos = list(
            await uow.session.scalars(select(ServiceRequest).where(ServiceRequest.kind == "sos"))
        )
    assert (len(alerts), len(sos)) == (1, 1)
    steps = await desk.steps()
    assert [s.kind for s in steps].count("raised") == 1
    assert [s.note for s in steps if s.kind == "message"] == [
        "快来人 头流血了",
        "我爸摔倒了 快去看看",
    ]
    duty = STAFF_CHATS[ON_DUTY]
    assert len([t for t in desk.pages(duty) if t.startswith("【紧急求助】")]) == 1  # one page
    updates = [t for t in desk.api.texts(duty) if "又发来" in t]
    assert [("头流血了" in updates[0]), ("快去看看" in updates[1])] == [True, True]
    # The escalation pages carry what was said since.
    await desk.jobs.reconcile(desk.at(MINUTES))
    [backup_page] = desk.pages(STAFF_CHATS[BACKUP])
    assert "又说：快来人 头流血了" in backup_page


async def test_after_an_emergency_is_closed_a_new_one_is_a_new_alert(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    alert = await desk.alert()
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        assert await uow.alerts.resolve(alert.id, 1, desk.at(10), "已处理")
        await uow.commit()
    await desk.say(RETIREE, FALL)
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        assert len(list(await uow.session.scalars(select(Alert)))) == 2
    assert "已收到您的紧急求助" in desk.api.texts(RETIREE)[-2]


async def test_someone_not_on_the_roster_says_who_they_are_and_the_taker_reads_it(
    desk: Desk,
) -> None:
    stranger, duty = 5_999, STAFF_CHATS[ON_DUTY]
    await desk.say(stranger, "救命 我摔倒了起不来")
    assert "请告诉我们您的姓名和所在地址" in desk.api.texts(stranger)[0]
    await desk.press(duty, desk.api.sent(duty)[-1], texts.ALERT_TAKE_LABEL)
    await desk.say(stranger, "我叫李梅 住幸福路3号 电话13912345678")
    assert desk.api.texts(stranger)[-1] == texts.SOS_DETAIL_NOTED.format(hotline=HOTLINE)
    [detail] = [s for s in await desk.steps() if s.kind == "detail"]
    assert detail.note == "我叫李梅 住幸福路3号 电话13912345678"
    assert "又发来：我叫李梅 住幸福路3号" in desk.api.texts(duty)[-1]
    assert not [t for t in desk.api.texts(STAFF_CHATS[BACKUP]) if "李梅" in t]  # the taker only
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        assert len(list(await uow.session.scalars(select(Alert)))) == 1


# ------------------------------------------------------------ sure, not jumpy
async def test_an_unanswered_are_you_in_danger_pages_after_two_minutes(desk: Desk) -> None:
    """Only the classifier thought it an emergency, so the retiree was asked; nobody
    answered. The alert was written at once and the reconciler pages it on time."""
    await desk.say(RETIREE, "头有点晕")
    assert desk.api.texts(RETIREE)[-1].startswith("您是遇到紧急情况了吗？")
    duty = STAFF_CHATS[ON_DUTY]
    assert not desk.pages(duty)
    assert await desk.jobs.reconcile(desk.at(1.9)) == 0
    assert not desk.pages(duty)
    assert await desk.jobs.reconcile(desk.at(2.0)) == 1
    [page] = desk.pages(duty)
    assert texts.ALERT_PAGE_UNANSWERED in page
    assert "原话：头有点晕" in page
    kinds = [s.kind for s in await desk.steps()]
    assert kinds == ["asked", "unanswered", "paged"]


# ------------------------------------------------------------ one number everywhere
async def _visit(desk: Desk) -> int:
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        stay = await uow.requests.create(
            "hospital_visit",
            now=desk.start,
            actor="test",
            person_id=desk.person.id,
            details={"hospital": "市立医院"},
        )
        await uow.commit()
    return stay.id


async def test_the_numbers_of_todo_are_what_take_close_and_done_accept(desk: Desk) -> None:
    """待办 shows each item's number once (no list position to mistake for it); 接, 办结
    and 完成 take that same number; closing an emergency names the person and asks first."""
    visit = await _visit(desk)
    await desk.say(RETIREE, FALL)
    sos_number = (await desk.alert()).request_id
    duty = STAFF_CHATS[ON_DUTY]
    await desk.say(duty, "待办")
    queue = desk.api.texts(duty)[-1]
    assert f"编号 {visit}：" in queue
    assert f"编号 {sos_number}：" in queue
    assert "\n1. " not in queue
    await desk.say(duty, f"接 {sos_number}")
    assert desk.api.texts(duty)[-1].startswith(
        f"您已接手 {desk.person.name} 的紧急求助（编号 {sos_number}）"
    )
    assert (await desk.alert()).status == "acknowledged"
    await desk.say(duty, f"办结 {sos_number} 已送医")
    assert desk.api.texts(duty)[-1].startswith(
        f"确认办结 {desk.person.name} 的紧急求助（编号 {sos_number}）"
    )
    await desk.say(duty, "确认")
    assert desk.api.texts(duty)[-1] == texts.ALERT_RESOLVED.format(id=sos_number)
    assert (await desk.alert()).status == "resolved"
    await desk.say(duty, f"接 {visit}")
    assert desk.api.texts(duty)[-1].startswith(f"编号 {visit} 由您负责")
    await desk.say(duty, f"完成 {visit} 已探望")
    assert desk.api.texts(duty)[-1].startswith(f"编号 {visit} 已办结")
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        audit = list(await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    staff_actions = [(a.actor, a.action) for a in audit if a.actor.startswith("staff:")]
    assert staff_actions == [
        ("staff:1", "queue_viewed"),
        ("staff:1", "alert_taken"),
        ("staff:1", "alert_resolved"),
        ("staff:1", "request_taken"),
        ("staff:1", "request_done"),
    ]
    assert all(a.at is not None for a in audit)


async def test_a_clerk_cannot_close_an_emergency(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    number = (await desk.alert()).request_id
    clerk = STAFF_CHATS[BACKUP]  # demo staff 2 is a clerk
    await desk.say(clerk, f"办结 {number} 好了")
    assert desk.api.texts(clerk)[-1] == texts.ALERT_CLOSE_NOT_ALLOWED
    await desk.say(clerk, f"完成 {number} 好了")
    assert desk.api.texts(clerk)[-1] == texts.REQUEST_IS_ALERT.format(id=number)
    assert (await desk.alert()).status == "open"


async def test_done_works_only_on_the_staff_members_own_queue(desk: Desk) -> None:
    visit = await _visit(desk)
    duty, clerk = STAFF_CHATS[ON_DUTY], STAFF_CHATS[BACKUP]
    await desk.say(duty, f"接 {visit}")
    await desk.say(clerk, "待办")
    assert f"编号 {visit}" not in desk.api.texts(clerk)[-1]
    await desk.say(clerk, f"完成 {visit}")
    assert desk.api.texts(clerk)[-1] == texts.REQUEST_NOT_YOURS.format(id=visit, staff="王晓明")
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        eldercare = await uow.requests.create(
            "eldercare", now=desk.start, actor="test", person_id=desk.person.id, status="booked"
        )
        await uow.commit()
    await desk.say(duty, f"完成 {eldercare.id}")  # not an item of 待办
    assert desk.api.texts(duty)[-1] == texts.REQUEST_NOT_QUEUED.format(id=eldercare.id)


# ------------------------------------------------------------ taking it
async def test_two_staff_press_take_at_the_same_moment_and_exactly_one_wins(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    await desk.jobs.reconcile(desk.at(MINUTES))  # the backup is paged too
    duty, backup = STAFF_CHATS[ON_DUTY], STAFF_CHATS[BACKUP]
    pages = {chat: desk.api.sent(chat)[-1] for chat in (duty, backup)}
    updates = [desk.telegram.press(chat, pages[chat], texts.ALERT_TAKE_LABEL) for chat in pages]
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    await asyncio.gather(
        *(desk.telegram.client.post("/telegram", json=u, headers=headers) for u in updates)
    )
    await desk.telegram.channel.drain()
    await desk.settle()
    won = [chat for chat in pages if any("您已接手" in t for t in desk.api.texts(chat))]
    assert len(won) == 1
    [lost] = [chat for chat in pages if chat not in won]
    assert any("您不用再处理" in t for t in desk.api.texts(lost))
    alert = await desk.alert()
    assert alert.status == "acknowledged"
    assert alert.acknowledged_by == (1 if won == [duty] else 2)
    # The retiree is told someone is coming; no more pages after that.
    assert any("已经接手您的求助" in t for t in desk.api.texts(RETIREE))
    before = len(desk.api.sent())
    await desk.jobs.reconcile(desk.at(30))
    assert len(desk.api.sent()) == before
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        request = await uow.session.scalar(
            select(ServiceRequest).where(ServiceRequest.kind == "sos")
        )
        assert request is not None
        assert (request.status, request.assigned_staff_id) == ("assigned", alert.acknowledged_by)


async def test_a_late_press_is_answered_once_not_again_by_the_worker(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    await desk.jobs.reconcile(desk.at(MINUTES))  # the backup is paged too
    backup = STAFF_CHATS[BACKUP]
    page = desk.api.sent(backup)[-1]
    alert = await desk.alert()
    # The duty officer's take has committed; the worker has not yet told the others.
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        assert await uow.alerts.acknowledge(alert.id, 1, desk.at(MINUTES + 1))
        await uow.commit()
    await desk.press(backup, page, texts.ALERT_TAKE_LABEL)
    assert sum("您不用再处理" in t for t in desk.api.texts(backup)) == 1
    await desk.jobs.tell_taken(alert.id)
    assert sum("您不用再处理" in t for t in desk.api.texts(backup)) == 1
    assert any("已经接手您的求助" in t for t in desk.api.texts(RETIREE))
    refused = [s for s in await desk.steps() if s.kind == "take_refused"]
    assert [(s.staff_id, s.account_id is not None) for s in refused] == [(2, True)]


async def test_resolving_with_a_note_closes_it_and_the_file_keeps_the_history(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    duty = STAFF_CHATS[ON_DUTY]
    await desk.press(duty, desk.api.sent(duty)[-1], texts.ALERT_TAKE_LABEL)
    alert = await desk.alert()
    number = alert.request_id
    await desk.say(duty, f"办结 {number} 已送市立医院，女儿陪同")
    question = desk.api.sent(duty)[-1]
    assert desk.person.name in question["text"]  # whose emergency is being closed
    assert (await desk.alert()).status == "acknowledged"  # not before the yes
    await desk.press(duty, question, texts.ALERT_CLOSE_YES)
    assert desk.api.texts(duty)[-1] == texts.ALERT_RESOLVED.format(id=number)
    await desk.say(duty, f"办结 {number}")
    assert desk.api.texts(duty)[-1] == texts.ALERT_ALREADY_CLOSED.format(id=number)
    kinds = [s.kind for s in await desk.steps()]
    assert kinds == ["raised", "paged", "acknowledged", "told_taken", "resolved"]
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        request = await uow.requests.get(alert.request_id)
        assert request is not None
        history = await uow.requests.history(request.id)
    assert [h.to_status for h in history] == ["open", "assigned", "resolved"]
    assert history[-1].note == "已送市立医院，女儿陪同"


async def test_a_retiree_cannot_take_an_alert(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    alert = await desk.alert()
    await desk.say(RETIREE, f"接 {alert.request_id}")
    assert (await desk.alert()).status == "open"


# ------------------------------------------------------------ the worker
def _worker(settings: dict[str, str], stderr: int | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, **settings}
    command = [sys.executable, "-m", "bot.cli", "worker"]
    return subprocess.Popen(command, cwd=REPO, env=env, stderr=stderr)  # noqa: S603 - ours


async def _wait_for(predicate: Any, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


async def _recorded_steps(sessions: Any, at_least: int) -> tuple[Alert, list[AlertStep]]:
    """The alert and its steps, once ``at_least`` steps are committed (or after 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        async with UnitOfWork(sessions) as uow:
            alert_id = await uow.session.scalar(select(Alert.id))
            assert alert_id is not None
            steps = await uow.alerts.steps(alert_id)
            # Read after its steps (each statement sees the latest commit): never older.
            alert = await uow.session.get(Alert, alert_id)
            assert alert is not None
        if len(steps) >= at_least or time.monotonic() > deadline:
            return alert, steps
        await asyncio.sleep(0.05)


@dataclass
class WorkerRig:
    """A real `yinling worker` environment on PostgreSQL + Redis, and the app's side: the
    pipeline kicking its jobs into the same Redis stream."""

    env: dict[str, str]
    sessions: Any
    pipeline: Pipeline


@asynccontextmanager
async def _worker_rig(
    pg: AsyncEngine, pg_url: str, engine_nlu: EmbeddedEngine, api: HoldingDouble, reconcile: str
) -> AsyncIterator[WorkerRig]:
    now = datetime.now(UTC)
    sessions = make_sessions(pg)
    await _people(sessions, now)
    prefix = f"yltest:{uuid.uuid4().hex[:8]}:"
    env = {
        "YINLING_DATABASE_URL": pg_url,
        "YINLING_REDIS_URL": REDIS_URL,
        "YINLING_REDIS_PREFIX": prefix,
        "YINLING_TELEGRAM__TOKEN": telegram_settings(api).token.get_secret_value(),  # type: ignore[union-attr]
        "YINLING_TELEGRAM__API_BASE": api.url,
        "YINLING_RECONCILE_SECONDS": reconcile,
        "YINLING_LOG_LEVEL": "WARNING",
    }
    settings = Settings(redis_url=REDIS_URL, redis_prefix=prefix)
    bot = telegram_sender(Settings(telegram=telegram_settings(api)))
    pipeline = Pipeline(sessions, MemoryStore(), engine_nlu, ServiceConfig(), Metrics())
    jobs = await start_jobs(settings, sessions, Notifier(telegram=bot))
    pipeline.on_events = jobs.dispatch
    try:
        yield WorkerRig(env, sessions, pipeline)
    finally:
        await stop_jobs(jobs)
        client = Redis.from_url(REDIS_URL)
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def _stop(*processes: subprocess.Popen[bytes] | None) -> None:
    for process in processes:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


async def _started(worker: subprocess.Popen[bytes]) -> None:
    """Wait for the worker to say it started (its log on stderr, read in a thread), and a
    moment more for its first reconciling pass."""
    started = threading.Event()

    def read() -> None:
        assert worker.stderr is not None
        with worker.stderr:  # closed when the worker has exited
            for line in worker.stderr:
                if b"worker_started" in line:
                    started.set()

    threading.Thread(target=read, daemon=True).start()
    assert await asyncio.to_thread(started.wait, 30), "the worker did not start"
    await asyncio.sleep(1.5)


async def _sos(rig: WorkerRig) -> None:
    message = InboundMessage("telegram", str(RETIREE), "m1", datetime.now(UTC), FALL)
    response = await rig.pipeline.handle(message)
    assert "已收到您的紧急求助" in response.replies[0].text


async def test_a_worker_killed_while_paging_is_replaced_and_the_reconciler_pages(
    pg: AsyncEngine, pg_url: str, engine_nlu: EmbeddedEngine, api: HoldingDouble
) -> None:
    """SIGKILL between writing the SOS and the page going out: the claim is rolled back
    with the dead worker's connection, and the next worker's reconciler pages."""
    duty = STAFF_CHATS[ON_DUTY]
    api.held.add(duty)  # the first page hangs in the network
    first = second = None
    async with _worker_rig(pg, pg_url, engine_nlu, api, reconcile="0.5") as rig:
        try:
            first = _worker(rig.env)
            await _sos(rig)
            # The worker has claimed the first level and is sending the page…
            await _wait_for(
                lambda: any(int(p["chat_id"]) == duty for p in api.calls_to("sendMessage"))
            )
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            api.held.clear()
            second = _worker(rig.env)
            await _wait_for(
                lambda: len([p for p in api.sent(duty) if "紧急求助" in p["text"]]) >= 2
            )
            # The double has the page; the worker records it once the answer is back.
            alert, steps = await _recorded_steps(rig.sessions, at_least=2)
            # The killed attempt left nothing behind; the reconciler's page is on record once.
            assert [(s.kind, s.level, s.result) for s in steps] == [
                ("raised", 0, None),
                ("paged", ON_DUTY, "sent"),
            ]
            assert alert.level == ON_DUTY
        finally:
            _stop(first, second)


async def test_a_worker_told_to_stop_finishes_the_page_in_hand_first(
    pg: AsyncEngine, pg_url: str, engine_nlu: EmbeddedEngine, api: HoldingDouble
) -> None:
    """SIGTERM (a deploy, `docker compose stop`) while a page is on its way: the worker takes
    no new job, finishes that one, records it and exits cleanly; nothing is left to redo."""
    duty = STAFF_CHATS[ON_DUTY]
    worker = None
    async with _worker_rig(pg, pg_url, engine_nlu, api, reconcile="3600") as rig:
        try:
            worker = _worker({**rig.env, "YINLING_LOG_LEVEL": "INFO"}, stderr=subprocess.PIPE)
            await _started(worker)  # so the job pages, not the reconciler's first pass
            api.held.add(duty)
            await _sos(rig)
            await _wait_for(
                lambda: any("紧急求助" in p["text"] for p in api.calls_to("sendMessage"))
            )
            worker.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)  # the worker is stopping while the page hangs
            assert worker.poll() is None
            api.held.clear()
            assert await asyncio.to_thread(worker.wait, 30) == 0
            _alert, steps = await _recorded_steps(rig.sessions, at_least=2)
            assert [(s.kind, s.level, s.result) for s in steps] == [
                ("raised", 0, None),
                ("paged", ON_DUTY, "sent"),
            ]
            assert len([p for p in api.sent(duty) if "紧急求助" in p["text"]]) == 1
            # …and acknowledged: Redis has nothing to hand on to the next worker.
            prefix = rig.env["YINLING_REDIS_PREFIX"]
            client = Redis.from_url(REDIS_URL)
            try:
                pending = await client.xpending(f"{prefix}jobs", f"{prefix}workers")
            finally:
                await client.aclose()
            assert pending["pending"] == 0
        finally:
            _stop(worker)


def test_the_worker_needs_redis() -> None:
    env = {k: v for k, v in os.environ.items() if k != "YINLING_REDIS_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker"],
        check=False,
        cwd=REPO,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert b"YINLING_REDIS_URL" in done.stderr


async def test_a_location_shared_after_the_sos_goes_to_whoever_took_it(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    duty = STAFF_CHATS[ON_DUTY]
    await desk.press(duty, desk.api.sent(duty)[-1], texts.ALERT_TAKE_LABEL)
    location = {"latitude": 31.2989, "longitude": 120.5853}
    await desk.telegram.post(desk.telegram.message(RETIREE, location=location))
    await desk.settle()
    assert desk.api.texts(RETIREE)[-1] == texts.LOCATION_TO_DUTY
    assert "31.2989,120.5853" in desk.api.texts(duty)[-1]
    assert not any("位置" in t for t in desk.api.texts(STAFF_CHATS[BACKUP]))
    assert (await desk.alert()).location == "31.2989,120.5853"


async def test_staff_can_raise_an_emergency_for_a_retiree(desk: Desk) -> None:
    backup = STAFF_CHATS[BACKUP]
    await desk.say(backup, f"代报求助 {desk.person.name} 邻居来电说老人摔倒了")
    alert = await desk.alert()
    assert desk.api.texts(backup)[-1] == texts.ALERT_RAISED_BY_STAFF.format(
        name=desk.person.name, id=alert.request_id
    )
    assert alert.person_id == desk.person.id
    [page] = desk.pages(STAFF_CHATS[ON_DUTY])
    assert "邻居来电说老人摔倒了" in page
    await desk.say(backup, "代报求助 没这个人")
    assert "没有找到" in desk.api.texts(backup)[-1]


# ------------------------------------------------------------ the queue
async def test_staff_close_a_request_from_the_queue_by_its_number(desk: Desk) -> None:
    """A hospital stay to visit shows in 待办 with its number; "完成 <编号> <情况>" closes
    it with the note in its history, once; it leaves the queue; a retiree cannot."""
    sessions = desk.telegram.runtime.sessions
    async with UnitOfWork(sessions) as uow:
        stay = await uow.requests.create(
            "hospital_visit",
            now=desk.start,
            actor="test",
            person_id=desk.person.id,
            details={"hospital": "市立医院"},
        )
        await uow.commit()
    duty = STAFF_CHATS[ON_DUTY]
    await desk.say(RETIREE, f"完成 {stay.id}")  # a retiree's words go to the retiree's menu
    await desk.say(duty, "待办")
    assert f"编号 {stay.id}" in desk.api.texts(duty)[-1]
    await desk.say(duty, f"完成 {stay.id} 已探望，恢复得好")
    assert desk.api.texts(duty)[-1] == texts.REQUEST_CLOSED.format(
        id=stay.id, kind=texts.REQUEST_KINDS["hospital_visit"], who=desk.person.name
    )
    await desk.say(duty, f"完成 {stay.id}")
    assert desk.api.texts(duty)[-1] == texts.REQUEST_ALREADY_CLOSED.format(
        id=stay.id, status=texts.REQUEST_STATUSES["done"]
    )
    await desk.say(duty, "待办")
    assert desk.api.texts(duty)[-1] == texts.STAFF_QUEUE_EMPTY
    await desk.say(duty, "完成 99999")
    assert desk.api.texts(duty)[-1] == texts.REQUEST_NOT_FOUND.format(id=99999)
    async with UnitOfWork(sessions) as uow:
        closed = await uow.requests.get(stay.id)
        history = await uow.requests.history(stay.id)
    assert closed is not None
    assert (closed.status, closed.assigned_staff_id) == ("done", 1)
    assert [(h.to_status, h.actor, h.note) for h in history][-1] == (
        "done",
        "staff:1",
        "已探望，恢复得好",
    )
    assert len(history) == 2  # created, closed once


async def test_an_open_emergency_is_not_closed_as_a_plain_request(desk: Desk) -> None:
    await desk.say(RETIREE, FALL)
    alert = await desk.alert()
    duty = STAFF_CHATS[ON_DUTY]
    await desk.say(duty, f"完成 {alert.request_id} 好了")
    assert desk.api.texts(duty)[-1] == texts.REQUEST_IS_ALERT.format(id=alert.request_id)
    assert (await desk.alert()).status == "open"


# ------------------------------------------------------------ broadcasts from the chat
async def test_a_leader_broadcasts_from_the_chat_after_a_preview(desk: Desk) -> None:
    duty, leader = STAFF_CHATS[ON_DUTY], STAFF_CHATS[LEADER]  # demo roles: duty, leader
    await desk.say(duty, "群发 明天上午停水，请提前储水")
    assert desk.api.texts(duty)[-1] == texts.STAFF_BROADCAST_NOT_ALLOWED
    await desk.say(leader, "群发 明天上午停水，请提前储水")
    preview = desk.api.sent(leader)[-1]
    assert "将发给 1 个账号（全部）" in preview["text"]
    assert not [t for t in desk.api.texts(RETIREE) if "停水" in t]  # nothing before the yes
    await desk.press(leader, preview, texts.STAFF_BROADCAST_SEND)
    assert "号群发已开始，共 1 个账号" in desk.api.texts(leader)[-1]
    [notice] = [t for t in desk.api.texts(RETIREE) if "停水" in t]
    assert notice.startswith("【")
    # A second press of the same button sends nothing more.
    await desk.press(leader, preview, texts.STAFF_BROADCAST_SEND)
    assert desk.api.texts(leader)[-1] == texts.STAFF_BROADCAST_NOTHING
    assert len([t for t in desk.api.texts(RETIREE) if "停水" in t]) == 1


async def test_a_broadcast_about_falls_is_no_emergency_and_can_be_cancelled(desk: Desk) -> None:
    leader = STAFF_CHATS[LEADER]
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        person = await uow.people.get(desk.person.id)
        assert person is not None
        person.lives_alone = True
        await uow.commit()
    await desk.say(leader, "群发@独居 雨天路滑，出门小心摔倒")
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        assert await uow.session.scalar(select(Alert)) is None  # no SOS was raised
    preview = desk.api.sent(leader)[-1]
    assert "将发给 1 个账号（独居）" in preview["text"]
    await desk.press(leader, preview, texts.STAFF_BROADCAST_CANCEL)
    assert desk.api.texts(leader)[-1] == texts.STAFF_BROADCAST_CANCELLED
    assert not [t for t in desk.api.texts(RETIREE) if "路滑" in t]


async def test_a_leader_broadcasts_to_a_tag_from_the_chat(desk: Desk) -> None:
    leader = STAFF_CHATS[LEADER]
    await desk.say(leader, "群发#书画组 周五下午书画组活动改到三楼")
    assert desk.api.texts(leader)[-1] == texts.STAFF_BROADCAST_EMPTY  # nobody has the tag
    async with UnitOfWork(desk.telegram.runtime.sessions) as uow:
        await uow.people.tag(desk.person.id, "书画组", desk.start)
        await uow.commit()
    await desk.say(leader, "群发#书画组 周五下午书画组活动改到三楼")
    preview = desk.api.sent(leader)[-1]
    assert "将发给 1 个账号（书画组）" in preview["text"]
    await desk.press(leader, preview, texts.STAFF_BROADCAST_SEND)
    assert [t for t in desk.api.texts(RETIREE) if "三楼" in t]
