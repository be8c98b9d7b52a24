"""Each person's plan (一人一策), contact (一对一) and family doctor, on SQLite and PostgreSQL:
the risk rules and their reasons, due plan items and expiring contracts filed as tasks
once however often the job runs, overdue tasks reported to the leader on duty, the
family-doctor sheet, and the hand-off that reaches one's contact in office hours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from taskiq import InMemoryBroker

from bot.jobs import Jobs, Registry, build_registry
from bot.pipeline import Pipeline
from handlers.base import TZ, Reply, ServiceConfig
from handlers.care import assess, risk_of
from services import care
from services.ports import SENT, URGENT, Lane
from storage.db import AsyncSession
from storage.demo import seed_demo
from storage.imports import KINDS, apply, plan
from storage.models import (
    ChannelAccount,
    DoctorContract,
    Person,
    Reminder,
    RequestStatusChange,
    ServiceRequest,
    Staff,
)
from storage.state import MemoryStore
from storage.uow import UnitOfWork
from tests.harness import Harness, texts_of


@dataclass
class Recorder:
    """A ``Sender`` that keeps what it was asked to send."""

    sent: list[tuple[int, str]] = field(default_factory=list)

    async def send(
        self,
        account: ChannelAccount,
        replies: Sequence[Reply],
        purpose: str,
        *,
        lane: Lane = URGENT,
    ) -> str:
        self.sent.extend((account.id, r.text) for r in replies)
        return SENT

    def turn(self, account: ChannelAccount, replies: Sequence[Reply], lane: Lane) -> Any:
        raise NotImplementedError


def jobs_of(sessions: async_sessionmaker[AsyncSession], days: int = 3) -> tuple[Jobs, Recorder]:
    recorder = Recorder()
    config = ServiceConfig(plan_overdue_days=days)
    return Jobs(InMemoryBroker(), sessions, recorder, config, registry=Registry()), recorder


def person(**values: Any) -> Person:
    base: dict[str, Any] = {"name": "测试", "category": "tuixiu", "lives_alone": False}
    return Person(**{**base, **values})


# ------------------------------------------------------------------- risk
def test_risk_levels_come_with_a_reason_for_each_rule() -> None:
    today = date(2026, 11, 22)
    young = assess(person(birth_date=date(1950, 1, 1)), today)
    assert (young.level, young.reasons) == ("low", ())

    chronic = assess(person(birth_date=date(1944, 1, 1), health_notes="高血压，糖尿病"), today)
    assert chronic.level == "medium"
    assert chronic.reasons == ("82岁（80岁及以上）", "慢性病：高血压、糖尿病")

    alone = assess(
        person(birth_date=date(1929, 3, 3), lives_alone=True, health_notes="卧床"), today
    )
    assert alone.level == "high"
    assert alone.reasons == ("97岁（90岁及以上）", "独居且80岁以上", "健康情况：卧床")
    assert alone.missing({"monthly_call"}) == ["weekly_care", "quarterly_visit", "doctor_followup"]

    emergencies = assess(person(birth_date=date(1950, 1, 1)), today, alerts=2, stays=1)
    assert emergencies.level == "high"
    assert emergencies.reasons == ("近90天紧急求助2次", "近180天住院1次")
    assert emergencies.points == 4

    born_tomorrow = assess(person(birth_date=date(1946, 11, 23)), today)  # 79 until tomorrow
    assert born_tomorrow.reasons == ()


async def test_recent_emergencies_and_stays_count_a_denied_one_does_not(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    async with UnitOfWork(sessions) as uow:
        who = await uow.people.add(person(birth_date=date(1950, 1, 1), created_at=now,
                                          updated_at=now))  # fmt: skip
        for kind, status, days in (
            ("sos", "resolved", 10), ("sos", "cancelled", 5), ("sos", "resolved", 200),
            ("hospital_admission", "reported", 30),
        ):  # fmt: skip
            await uow.requests.create(kind, now=now - timedelta(days=days), actor="test",
                                      person_id=who.id, status=status)  # fmt: skip
        risk = await risk_of(uow, who, now, now.astimezone(TZ).date())
    assert risk.reasons == ("近90天紧急求助1次", "近180天住院1次")
    assert risk.level == "medium"


# ------------------------------------------------------- plan items, tasks
async def _person_with_item(
    sessions: async_sessionmaker[AsyncSession], now: datetime, due: date, cadence: str
) -> tuple[int, int]:
    async with UnitOfWork(sessions) as uow:
        who = await uow.people.add(person(created_at=now, updated_at=now))
        item = await uow.care.add_item(who.id, cadence, "staff", due, note="量血压", now=now)
        await uow.commit()
        return who.id, item.id


async def _tasks(sessions: async_sessionmaker[AsyncSession], kind: str) -> list[ServiceRequest]:
    async with UnitOfWork(sessions) as uow:
        rows = await uow.session.scalars(
            select(ServiceRequest).where(ServiceRequest.kind == kind).order_by(ServiceRequest.id)
        )
        return list(rows)


async def test_a_due_item_becomes_one_task_however_often_the_job_runs(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    today = now.astimezone(TZ).date()  # Sunday 2026-11-22
    who, item_id = await _person_with_item(sessions, now, today, "monthly_call")
    jobs, _ = jobs_of(sessions)
    filed = await care.file_due(jobs, today, now)
    assert filed == {"plan_item": 1}
    again = await care.file_due(jobs, today, now + timedelta(minutes=5))
    assert not again
    await care.CarePlans()(jobs, now + timedelta(hours=2))  # the registry's hook too
    [task] = await _tasks(sessions, "plan_item")
    assert (task.person_id, task.status, task.scheduled_date) == (who, "pending", today)
    assert task.details["plan_item_id"] == item_id
    assert task.details["cadence"] == "monthly_call"
    async with UnitOfWork(sessions) as uow:
        item = await uow.care.item(who, item_id)
        assert item is not None
        assert item.next_due == date(2026, 12, 22)  # a month on
    # The next month's day files the next one.
    await care.file_due(jobs, date(2026, 12, 22), now + timedelta(days=30))
    assert len(await _tasks(sessions, "plan_item")) == 2


async def test_an_item_left_for_months_files_one_task_not_a_backlog(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    today = now.astimezone(TZ).date()
    who, item_id = await _person_with_item(sessions, now, today - timedelta(weeks=9), "weekly_care")
    jobs, _ = jobs_of(sessions)
    await care.file_due(jobs, today, now)
    assert len(await _tasks(sessions, "plan_item")) == 1
    async with UnitOfWork(sessions) as uow:
        item = await uow.care.item(who, item_id)
        assert item is not None
        assert today < item.next_due <= today + timedelta(weeks=1)


def test_cadences_step_by_weeks_and_months() -> None:
    assert care.following("weekly_care", date(2026, 11, 22), date(2026, 11, 22)) == date(
        2026, 11, 29
    )
    assert care.following("quarterly_visit", date(2026, 11, 30), date(2026, 11, 30)) == date(
        2027, 2, 28
    )
    assert care.following("monthly_call", date(2027, 1, 31), date(2027, 1, 31)) == date(2027, 2, 28)


# ----------------------------------------------------- overdue -> leader
async def _leader_account(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    async with UnitOfWork(sessions) as uow:
        leader = await uow.staff.add(Staff(name="陈建平", role="leader", active=True,
                                           created_at=now))  # fmt: skip
        await uow.alerts.add_shift(leader.id, 3, now - timedelta(days=30), now + timedelta(days=30))
        account = ChannelAccount(channel="telegram", external_id="leader", role="staff",
                                 staff_id=leader.id, active=True, created_at=now)  # fmt: skip
        uow.session.add(account)
        await uow.commit()
        return account.id


async def test_a_task_overdue_by_the_configured_days_is_reported_to_the_leader_once(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    today = now.astimezone(TZ).date()
    account = await _leader_account(sessions, now)
    due = today - timedelta(days=5)
    await _person_with_item(sessions, now, due, "quarterly_visit")
    jobs, recorder = jobs_of(sessions, days=5)
    await care.file_due(jobs, today - timedelta(days=5), now - timedelta(days=5))
    [task] = await _tasks(sessions, "plan_item")
    # Four days late with five configured: nobody is told yet.
    assert not await care.escalate(jobs, today - timedelta(days=1), now - timedelta(days=1))
    assert recorder.sent == []
    # Five days: the leader on duty is.
    assert await care.escalate(jobs, today, now) == {SENT: 1}
    [(to, text)] = recorder.sent
    assert to == account
    assert "超过5天" in text
    assert f"编号 {task.id}" in text
    assert "每季度上门看望" in text
    # Once: a second look, the next day too, sends nothing more.
    assert not await care.escalate(jobs, today, now + timedelta(minutes=5))
    assert not await care.escalate(jobs, today + timedelta(days=1), now + timedelta(days=1))
    assert len(recorder.sent) == 1
    async with UnitOfWork(sessions) as uow:
        claims = list(await uow.session.scalars(select(Reminder)))
        notes = list(
            await uow.session.scalars(
                select(RequestStatusChange).where(RequestStatusChange.request_id == task.id)
            )
        )
    assert [(c.kind, c.target, c.result) for c in claims] == [("plan_overdue", task.id, SENT)]
    assert notes[-1].note == "超期5天，已报告领导"


async def test_a_task_done_in_time_is_not_reported(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    today = now.astimezone(TZ).date()
    await _leader_account(sessions, now)
    await _person_with_item(sessions, now, today - timedelta(days=10), "monthly_call")
    jobs, recorder = jobs_of(sessions)
    await care.file_due(jobs, today - timedelta(days=10), now - timedelta(days=10))
    [task] = await _tasks(sessions, "plan_item")
    async with UnitOfWork(sessions) as uow:
        found = await uow.requests.get(task.id)
        assert found is not None
        await uow.requests.set_status(found, "done", now=now - timedelta(days=9), actor="staff:1")
        await uow.commit()
    assert not await care.escalate(jobs, today, now)
    assert recorder.sent == []


# ------------------------------------------------------ doctor contracts
async def test_a_contract_running_out_within_30_days_becomes_one_task(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    today = now.astimezone(TZ).date()
    async with UnitOfWork(sessions) as uow:
        who = await uow.people.add(person(created_at=now, updated_at=now))
        for doctor, days in (("近医生", 20), ("远医生", 90)):
            uow.session.add(
                DoctorContract(person_id=who.id, doctor=doctor, valid_until=today
                               + timedelta(days=days), created_at=now, updated_at=now)
            )  # fmt: skip
        await uow.commit()
    jobs, _ = jobs_of(sessions)
    assert await care.file_due(jobs, today, now) == {"doctor_renewal": 1}
    assert not await care.file_due(jobs, today + timedelta(days=1), now + timedelta(days=1))
    [task] = await _tasks(sessions, "doctor_renewal")
    assert task.details["doctor"] == "近医生"
    assert task.scheduled_date == today + timedelta(days=20)
    # Renewed for a year, then running out again: a new task for the new day.
    async with UnitOfWork(sessions) as uow:
        contract = await uow.care.contract(who.id, "近医生")
        assert contract is not None
        contract.valid_until = today + timedelta(days=380)
        await uow.commit()
    await care.file_due(jobs, today + timedelta(days=360), now + timedelta(days=360))
    assert len(await _tasks(sessions, "doctor_renewal")) == 3  # and 远医生's


async def test_the_family_doctor_sheet_imports_and_again_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    kind = KINDS["doctors"]
    headings = ["老干部姓名", "老干部电话", "家庭医生", "签约机构", "医生电话", "有效期至"]
    rows = [
        (
            2,
            [
                "王德明",
                "13900000002",
                "周医生",
                "吴中区社区卫生服务中心",
                "0512-66001234",
                "2027-03-31",
            ],
        ),
        (3, ["陈志强", "13900000003", "郑医生", "", "", "2027/12/31"]),
        (4, ["没有这人", "13900009999", "钱医生", "", "", "2027-01-01"]),
    ]
    async with UnitOfWork(sessions) as uow:
        checked = await plan(uow, kind, headings, rows)
    assert [r.action for r in checked.rows] == ["add", "add", "error"]
    assert "名册里找不到" in checked.rows[2].errors[0][1]
    async with UnitOfWork(sessions) as uow:
        checked = await plan(uow, kind, headings, rows[:2])
        assert await apply(uow, checked, now, "test") == {"add": 2, "update": 0, "same": 0}
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        again = await plan(uow, kind, headings, rows[:2])
        assert [r.action for r in again.rows] == ["same", "same"]
        changed = [(2, [*rows[0][1][:5], "2028-03-31"])]
        moved = await plan(uow, kind, headings, changed)
        assert [(r.action, r.changes) for r in moved.rows] == [("update", ["有效期至"])]
        wang = await uow.people.named("王德明")
        [contract] = await uow.care.contracts(wang[0].id)
    assert (contract.doctor, contract.clinic, contract.phone) == (
        "周医生", "吴中区社区卫生服务中心", "0512-66001234",
    )  # fmt: skip
    assert contract.valid_until == date(2027, 3, 31)


# ------------------------------------------------------- hand-off routing
@pytest.fixture
async def bot(
    sessions: async_sessionmaker[AsyncSession], engine_nlu: Any, now: datetime
) -> Harness:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    pipeline = Pipeline(sessions, MemoryStore(), engine_nlu, ServiceConfig())
    await pipeline.refresh_lookups(now)
    return Harness(pipeline, sessions, now)


async def test_a_hand_off_in_office_hours_goes_to_ones_contact_who_is_told(
    bot: Harness, now: datetime
) -> None:
    first = await bot.bind("dad", 1)
    async with UnitOfWork(bot.sessions) as uow:
        contact = await uow.care.contact(first)
        assert contact is not None
        staff_account = ChannelAccount(
            channel="telegram", external_id="lijuan", role="staff", staff_id=contact.id,
            active=True, created_at=now,
        )  # fmt: skip
        uow.session.add(staff_account)
        await uow.commit()
    bot.now = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)  # Monday, office hours
    said = await bot.say("dad", "转人工")
    assert f"联系人{contact.name}" in texts_of(said)
    [handoff] = await bot.requests("handoff")
    assert handoff.assigned_staff_id == contact.id
    assert handoff.details["routed_to"] == "contact"
    # The committed event kicks the job that tells the contact on their staff account.
    recorder = Recorder()
    registry = build_registry()
    jobs = Jobs(InMemoryBroker(), bot.sessions, recorder, ServiceConfig(), registry=registry)
    job, arguments = registry.events["handoff_requested"]
    args = arguments(said.events[0])
    assert args == (handoff.id,)
    assert await registry.jobs[job](jobs, *args) == 1
    [(to, text)] = recorder.sent
    assert to == staff_account.id
    assert "张建国" in text
    assert f"编号 {handoff.id}" in text


async def test_out_of_office_hours_or_without_a_contact_the_hand_off_is_nobodys_yet(
    bot: Harness,
) -> None:
    await bot.bind("dad", 1)
    await bot.say("dad", "转人工")  # Sunday
    bot.now = datetime(2026, 11, 23, 10, 0, tzinfo=TZ)
    await bot.bind("wang", 2)  # no contact
    said = await bot.say("wang", "转人工")
    assert "一般半小时内联系您" in texts_of(said)
    handoffs = await bot.requests("handoff")
    assert [h.assigned_staff_id for h in handoffs] == [None, None]
    assert all("routed_to" not in h.details for h in handoffs)


async def test_an_account_not_yet_proven_hears_nobodys_doctor_or_contact(
    bot: Harness, now: datetime
) -> None:
    async with UnitOfWork(bot.sessions) as uow:
        first = (await uow.people.all_ids())[0]
        uow.session.add(
            ChannelAccount(channel=bot.channel, external_id="claims", role="family",
                           pending_person_id=first, active=True, created_at=now)
        )  # fmt: skip
        await uow.commit()
    for asked in ("我爸的家庭医生是谁", "我爸的联系人电话多少", "我爸的服务计划"):
        said = texts_of(await bot.say("claims", asked, unbound=True))
        for private in ("刘文华", "0512-65001001", "李娟", "13800001002", "每周上门照护"):
            assert private not in said, (asked, said)
    await bot.bind("real", first, role="family", relation="女儿")
    assert "刘文华" in texts_of(await bot.say("real", "我爸的家庭医生是谁"))


async def test_the_contacts_sheet_sets_each_persons_contact(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)  # 张建国's contact is 李娟
        await uow.commit()
    kind = KINDS["contacts"]
    headings = ["老干部姓名", "老干部电话", "联系人", "联系人电话"]
    rows = [
        (2, ["张建国", "13900000001", "王晓明", ""]),
        (3, ["王德明", "13900000002", "李娟", "13800001002"]),
        (4, ["陈志强", "13900000003", "没这人", ""]),
    ]
    async with UnitOfWork(sessions) as uow:
        checked = await plan(uow, kind, headings, rows)
        assert [r.action for r in checked.rows] == ["update", "add", "error"]
        assert "工作人员里没有" in checked.rows[2].errors[0][1]
        ready = await plan(uow, kind, headings, rows[:2])
        assert await apply(uow, ready, now, "test") == {"add": 1, "update": 1, "same": 0}
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        again = await plan(uow, kind, headings, rows[:2])
        assert [r.action for r in again.rows] == ["same", "same"]
        ids = await uow.people.all_ids()
        first, second = await uow.care.contact(ids[0]), await uow.care.contact(ids[1])
    assert (first and first.name, second and second.name) == ("王晓明", "李娟")
