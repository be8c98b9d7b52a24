"""The must-visit ledger (五必访): the daily job makes a visit task for each landmark
birthday (the day before), each festival of the lunar calendar, each hospital stay; running
it twice adds nothing; staff log a visit; the monthly report shows coverage by district.
SQLite and PostgreSQL (the ``sessions`` fixture)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from taskiq import InMemoryBroker

from bot.console.reports import build
from bot.jobs import Jobs, Registry
from handlers import visits as actions
from handlers.base import TZ, ServiceConfig
from services import visits
from storage.db import AsyncSession
from storage.demo import NINETIETH, NINETIETH_IN, seed_demo
from storage.models import AuditEntry, MustVisit, Person, RequestStatusChange, ServiceRequest, Staff
from storage.reports import Month
from storage.uow import UnitOfWork
from storage.visits import VisitRepo

ZHONGYANG = {2026: date(2026, 10, 18), 2027: date(2027, 10, 8), 2028: date(2028, 10, 26)}


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), TZ)


def jobs_for(sessions: async_sessionmaker[AsyncSession], **config: Any) -> Jobs:
    """The jobs' context with the ledger's check alone (nothing here sends a message)."""
    registry = Registry(checks=(visits.VisitLedger(),))
    return Jobs(
        InMemoryBroker(), sessions, cast(Any, None), ServiceConfig(**config), registry=registry
    )


async def add_person(
    sessions: async_sessionmaker[AsyncSession],
    name: str,
    born: date,
    *,
    category: str = "tuixiu",
    district: str | None = "姑苏区",
) -> int:
    now = datetime.now(UTC)
    async with UnitOfWork(sessions) as uow:
        person = await uow.people.add(
            Person(
                name=name,
                category=category,
                district=district,
                birth_date=born,
                created_at=now,
                updated_at=now,
            )
        )
        await uow.commit()
        return person.id


async def ledger(sessions: async_sessionmaker[AsyncSession]) -> list[tuple[Any, ...]]:
    async with UnitOfWork(sessions) as uow:
        rows = await uow.session.execute(
            select(
                MustVisit.person_id,
                MustVisit.occasion,
                MustVisit.occasion_date,
                MustVisit.due_date,
                MustVisit.detail,
                ServiceRequest.kind,
                ServiceRequest.scheduled_date,
                ServiceRequest.status,
            )
            .join(ServiceRequest, ServiceRequest.id == MustVisit.request_id)
            .order_by(MustVisit.id)
        )
        return [tuple(r) for r in rows]


# ------------------------------------------------------------ the calendar
@pytest.mark.parametrize("year", sorted(ZHONGYANG))
def test_chongyang_is_the_ninth_day_of_the_ninth_lunar_month(year: int) -> None:
    assert visits.festival_day(year, 9, 9) == ZHONGYANG[year]
    [chongyang] = [f for f in visits.parse_festivals(visits.DEFAULT_FESTIVALS) if f.month == 9]
    assert chongyang.on(year) == ZHONGYANG[year]


def test_spring_festival_and_a_day_the_lunar_month_lacks() -> None:
    assert visits.festival_day(2027, 1, 1) == date(2027, 2, 6)
    assert visits.festival_day(2028, 1, 1) == date(2028, 1, 26)
    # The 12th lunar month of 2026 has 29 days: no 30th (除夕 is then the 29th).
    assert visits.festival_day(2026, 12, 30) is None
    with pytest.raises(ValueError, match="bad festival"):
        visits.parse_festivals("chongyang=moon:9-9")


def test_landmark_birthdays() -> None:
    born = date(1936, 11, 25)
    wanted = {80, 85, 90, 95, *range(100, 110)}
    for age in range(75, 110):
        day = date(born.year + age, 11, 25)
        assert visits.landmark(born, day) == (age in wanted), age


@pytest.mark.parametrize("year", sorted(ZHONGYANG))
async def test_the_chongyang_visit_task_falls_on_the_lunar_date(
    sessions: async_sessionmaker[AsyncSession], year: int
) -> None:
    """A 离休 cadre and someone of 80 get a 重阳节 visit on 九月初九 of that year; a
    younger 退休 one does not."""
    festival = ZHONGYANG[year]
    lixiu = await add_person(sessions, "离休甲", date(1950, 1, 1), category="lixiu")
    old = await add_person(sessions, "高龄乙", festival.replace(year=year - 80))
    await add_person(sessions, "退休丙", festival.replace(year=year - 80) + timedelta(days=1))
    today = festival - timedelta(days=3)
    async with UnitOfWork(sessions) as uow:
        added = await visits.generate(uow, today, at(today))
        await uow.commit()
    assert added["festival"] == 2
    rows = [r for r in await ledger(sessions) if r[1] == "festival"]
    assert rows == [
        (lixiu, "festival", festival, festival, "double_ninth", "must_visit", festival, "pending"),
        (old, "festival", festival, festival, "double_ninth", "must_visit", festival, "pending"),
    ]


async def test_the_calendar_and_whom_festivals_are_for_are_configurable(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Only 国庆节 (solar), and only those of 90 and over: the 离休 cadre of 76 is not
    visited; the visit is due two days before."""
    await add_person(sessions, "离休甲", date(1950, 1, 1), category="lixiu")
    old = await add_person(sessions, "高龄乙", date(1930, 5, 5))
    config = ServiceConfig(visit_festivals="national_day=solar:10-01:2", festival_visits_for="90")
    today = date(2026, 9, 27)
    async with UnitOfWork(sessions) as uow:
        await visits.generate(uow, today, at(today), config=config)
        await uow.commit()
    rows = await ledger(sessions)
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == [
        (old, date(2026, 10, 1), date(2026, 9, 29), "national_day")
    ]


# ------------------------------------------------------------ birthdays
async def test_a_90th_birthday_in_the_demo_data_gets_a_visit_the_day_before(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
        ninety = (await uow.people.all_ids())[NINETIETH]
    today = now.astimezone(TZ).date()
    birthday = today + NINETIETH_IN
    before = birthday - timedelta(days=1)

    async def run(day: date) -> list[tuple[Any, ...]]:
        async with UnitOfWork(sessions) as uow:  # made on the very day it is due
            await visits.generate(uow, day, at(day, 7), lead=timedelta(0))
            await uow.commit()
        return [r for r in await ledger(sessions) if r[0] == ninety and r[1] == "birthday"]

    assert await run(before - timedelta(days=1)) == []  # two days before: not yet
    expected = (ninety, "birthday", birthday, before, "90", "must_visit", before, "pending")
    assert await run(before) == [expected]
    assert await run(birthday) == [expected]  # the next run adds nothing

    # The daily job, as the workers run it (a week ahead): the same task, made once.
    await empty_ledger(sessions)
    jobs = jobs_for(sessions)
    await jobs.reconcile(at(today, 7))
    await jobs.reconcile(at(today, 8))  # the same worker, later that day: nothing new
    await jobs_for(sessions).reconcile(at(today, 9))  # another worker: nothing new
    found = [r for r in await ledger(sessions) if r[0] == ninety and r[1] == "birthday"]
    assert found == [expected]


async def empty_ledger(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Empty the ledger and its tasks (to run the job again from nothing)."""
    async with UnitOfWork(sessions) as uow:
        ids = list(await uow.session.scalars(select(MustVisit.request_id)))
        await uow.session.execute(MustVisit.__table__.delete())
        if ids:
            await uow.session.execute(
                RequestStatusChange.__table__.delete().where(
                    RequestStatusChange.request_id.in_(ids)
                )
            )
            await uow.session.execute(
                ServiceRequest.__table__.delete().where(ServiceRequest.id.in_(ids))
            )
        await uow.commit()


async def test_the_job_runs_once_a_day_from_six_and_twice_adds_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    today = date(2026, 12, 8)
    hundred = await add_person(sessions, "百岁老人", date(1926, 12, 10), category="lixiu")
    await add_person(sessions, "八十一", date(1945, 12, 10))  # 81: no landmark
    jobs = jobs_for(sessions)
    await jobs.reconcile(at(today, 5))  # before six: nothing yet
    assert await ledger(sessions) == []
    await jobs.reconcile(at(today, 6))
    first = await ledger(sessions)
    assert [(r[0], r[1], r[2], r[3], r[4]) for r in first] == [
        (hundred, "birthday", date(2026, 12, 10), date(2026, 12, 9), "100")
    ]
    again = visits.VisitLedger()  # a second worker, the same morning
    await again(jobs, at(today, 6))
    async with UnitOfWork(sessions) as uow:
        await visits.generate(uow, today, at(today, 10))
        await uow.commit()
    assert await ledger(sessions) == first
    # The unique key holds even against a writer that skips the look first.
    async with UnitOfWork(sessions) as uow:
        request = await uow.requests.create(
            "must_visit", now=at(today), actor="t", person_id=hundred
        )
        uow.session.add(
            MustVisit(
                person_id=hundred,
                occasion="birthday",
                occasion_date=date(2026, 12, 10),
                due_date=date(2026, 12, 9),
                request_id=request.id,
                created_at=at(today),
            )
        )
        with pytest.raises(IntegrityError):
            await uow.session.flush()


# ------------------------------------------------------------ hospital stays
async def test_hospital_stays_join_the_ledger_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    person = await add_person(sessions, "住院者", date(1940, 3, 3))
    created = at(date(2026, 12, 8), 10)
    async with UnitOfWork(sessions) as uow:
        await uow.requests.create(
            "hospital_visit", now=created, actor="t", person_id=person,
            details={"hospital": "市一院", "since": "2026-12-07"},
            due_at=created + timedelta(hours=24),
        )  # fmt: skip
        await uow.commit()
    jobs = jobs_for(sessions)
    await jobs.reconcile(created)  # the daily run takes it in
    await jobs.reconcile(created + timedelta(minutes=20))  # and a later look adds nothing
    assert [(r[0], r[1], r[2], r[3], r[5]) for r in await ledger(sessions)] == [
        (person, "hospital", date(2026, 12, 7), date(2026, 12, 9), "hospital_visit")
    ]


# ------------------------------------------------------------ staff
async def test_logging_a_visit_closes_the_task_and_is_audited(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    person = await add_person(sessions, "困难户", date(1938, 6, 1))
    now = at(date(2026, 12, 8), 10)
    async with UnitOfWork(sessions) as uow:
        clerk = await uow.staff.add(Staff(name="李娟", role="clerk", active=True, created_at=now))
        admin = await uow.staff.add(Staff(name="管理员", role="admin", active=True, created_at=now))
        recorded = await actions.record_occasion(
            uow, clerk, person, "hardship", "孙子生病", now=now
        )
        refused = await actions.record_occasion(uow, admin, person, "situation", "", now=now)
        await uow.commit()
    assert recorded.ok
    assert "请在12月11日" in recorded.message
    assert not refused.ok  # an admin works no requests
    [row] = await ledger(sessions)
    assert row[1:4] == ("hardship", date(2026, 12, 8), date(2026, 12, 11))
    async with UnitOfWork(sessions) as uow:
        [visit] = await VisitRepo(uow.session).of_person(person)
        task = visit.request_id
        member = await uow.staff.get(clerk.id)
        assert member is not None
        done = await actions.log_visit(uow, member, task, " 送了慰问金 ", now=now, via="chat")
        twice = await actions.log_visit(uow, member, task, "", now=now, via="chat")
        await uow.commit()
    assert done.ok
    assert "已记录探望" in done.message
    assert not twice.ok
    async with UnitOfWork(sessions) as uow:
        [visit] = await VisitRepo(uow.session).of_person(person)
        audited = list(
            await uow.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.in_(["visit_logged", "visit_occasion_recorded"]))
                .order_by(AuditEntry.id)
            )
        )
    assert (visit.visited_by, visit.visit_note) == (clerk.id, "送了慰问金")
    assert audited == ["visit_occasion_recorded", "visit_logged"]


# ------------------------------------------------------------ the report
async def test_the_report_shows_must_visit_coverage_per_month_by_district(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    now = at(date(2026, 12, 1), 10)
    gusu = [await add_person(sessions, f"姑苏{i}", date(1940, 1, 1)) for i in range(3)]
    wuzhong = await add_person(sessions, "吴中", date(1940, 1, 1), district="吴中区")
    nowhere = await add_person(sessions, "无区", date(1940, 1, 1), district=None)
    async with UnitOfWork(sessions) as uow:
        clerk = await uow.staff.add(Staff(name="李娟", role="clerk", active=True, created_at=now))
        repo = VisitRepo(uow.session)
        tasks = {}
        for pid, due in (
            (gusu[0], date(2026, 12, 3)),
            (gusu[1], date(2026, 12, 20)),
            (gusu[2], date(2026, 12, 31)),
            (wuzhong, date(2026, 12, 1)),
            (nowhere, date(2026, 12, 15)),
            (gusu[0], date(2027, 1, 1)),  # next month's
            (wuzhong, date(2026, 11, 30)),  # last month's
        ):
            person = await uow.people.get(pid)
            assert person is not None
            row = await repo.add(person, "situation", due, due, now=now, actor="t")
            assert row is not None
            tasks[(pid, due)] = row.request_id
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        member = await uow.staff.get(clerk.id)
        assert member is not None
        for key in ((gusu[0], date(2026, 12, 3)), (wuzhong, date(2026, 12, 1))):
            assert (await actions.log_visit(uow, member, tasks[key], "", now=now, via="t")).ok
        # Closed with 完成 (the queue's command) counts as visited too.
        request = await uow.requests.get(tasks[(gusu[2], date(2026, 12, 31))])
        assert request is not None
        await uow.requests.set_status(request, "done", now=now, actor="staff:1")
        # A task staff dropped is no longer owed.
        dropped = await uow.requests.get(tasks[(nowhere, date(2026, 12, 15))])
        assert dropped is not None
        await uow.requests.set_status(dropped, "cancelled", now=now, actor="staff:1")
        await uow.commit()
    month = Month(2026, 12)
    async with UnitOfWork(sessions) as uow:
        coverage = await uow.reports.visit_coverage(month)
        charts = await build(uow, month)
        november = await uow.reports.visit_coverage(month.previous)
    assert coverage == [("吴中区", 1, 1), ("姑苏区", 3, 2)]
    assert november == [("吴中区", 1, 0)]
    chart = next(c for c in charts if c.name == "visits")
    assert chart.rows == [
        ["吴中区", 1, 1, 0, "100.0%"],
        ["姑苏区", 3, 2, 1, "66.7%"],
        ["合计", 4, 3, 1, "75.0%"],
    ]
    assert charts[-1].name == "contact"  # the page reads the contact chart last
