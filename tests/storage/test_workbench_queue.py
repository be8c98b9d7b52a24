"""The console's queue on SQLite and PostgreSQL: a count that stops at a cap and still pages
through everything, the districts without a scan of the roster, and only names shown."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from storage import workbench
from storage.demo import seed_roster
from storage.models import Person
from storage.uow import UnitOfWork
from storage.workbench import QueueFilter, Someone


async def _requests(sessions, now: datetime, people: int, each: int) -> list[int]:
    async with UnitOfWork(sessions) as uow:
        ids = await seed_roster(uow, people, now)
        made = []
        for n, pid in enumerate(ids * each):
            request = await uow.requests.create(
                "medical_escort", now=now + timedelta(minutes=n), actor="test", person_id=pid
            )
            made.append(request.id)
        await uow.commit()
    return made


async def _walk(sessions, where: QueueFilter, size: int) -> list[list[int]]:
    pages, offset = [], 0
    while True:
        async with UnitOfWork(sessions) as uow:
            page = await uow.workbench.queue(where, offset, size)
        pages.append([r.id for r, _ in page.rows])
        if not page.has_next:
            return pages
        offset += size


async def test_a_capped_count_still_pages_through_every_request(
    sessions, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await _requests(sessions, now, people=3, each=4)  # 12 open requests
    async with UnitOfWork(sessions) as uow:
        whole = await uow.workbench.queue(QueueFilter(), 0, 50)
    assert (whole.total, whole.capped, whole.has_next) == (12, False, False)
    assert [r.id for r, _ in whole.rows] == made  # longest waiting first

    monkeypatch.setattr(workbench, "COUNT_CAP", 5)
    async with UnitOfWork(sessions) as uow:
        first = await uow.workbench.queue(QueueFilter(), 0, 4)
    assert (first.total, first.capped, first.has_next) == (5, True, True)
    pages = await _walk(sessions, QueueFilter(), 4)
    assert [i for page in pages for i in page] == made  # nothing lost past the cap
    assert [len(page) for page in pages] == [4, 4, 4]


async def test_by_date_the_soonest_day_comes_first_and_no_day_last(sessions, now: datetime) -> None:
    made = await _requests(sessions, now, people=2, each=3)
    days = [now.date() + timedelta(days=d) for d in (5, 1, 3)]
    async with UnitOfWork(sessions) as uow:
        for request_id, day in zip(made, days, strict=False):
            (await uow.requests.get(request_id)).scheduled_date = day
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        page = await uow.workbench.queue(QueueFilter(by_date=True), 0, 50)
    shown = [r.scheduled_date for r, _ in page.rows]
    assert shown == [*sorted(days), None, None, None]


async def test_the_queue_shows_names_and_districts_and_opens_no_sealed_field(
    sessions, now: datetime
) -> None:
    await _requests(sessions, now, people=4, each=1)
    async with UnitOfWork(sessions) as uow:
        page = await uow.workbench.queue(QueueFilter(), 0, 50)
        people = {p.id: p for p in await uow.session.scalars(select(Person))}
    assert page.rows
    for request, someone in page.rows:
        person = people[request.person_id]
        assert someone == Someone(person.name, person.district)
        assert not hasattr(someone, "phone")


async def test_the_districts_are_every_district_once_in_order(sessions, now: datetime) -> None:
    async with UnitOfWork(sessions) as uow:
        await seed_roster(uow, 30, now)
        people = list(await uow.session.scalars(select(Person)))
        people[0].district = None
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        found = await uow.workbench.districts()
        every = {p.district for p in await uow.session.scalars(select(Person))}
    assert found == sorted(d for d in every if d is not None)
    assert len(found) > 1
