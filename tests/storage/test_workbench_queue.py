"""The console's queue on SQLite and PostgreSQL: a count that stops at a cap and still pages
through everything, the districts without a scan of the roster, and only names shown; a
district's view from the requests' own copy of the district, kept in step by the database
(migration 0023); the page's lists kept a while (storage/queue_lists.py)."""

from __future__ import annotations

import importlib.util
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from storage import queue_lists, workbench
from storage.demo import seed_roster
from storage.models import EldercareService, Person, ServiceRequest, Staff
from storage.repos import CLOSED_STATUSES
from storage.uow import UnitOfWork
from storage.workbench import QueueFilter, Someone

MIGRATION = Path(workbench.__file__).parent / "migrations" / "versions" / "0023_queue_district.py"


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


# ------------------------------------------------------- a district's view (migration 0023)
async def _district_view(sessions, district: str) -> list[int]:
    async with UnitOfWork(sessions) as uow:
        page = await uow.workbench.queue(QueueFilter(district=district), 0, 50)
    return [r.id for r, _ in page.rows]


async def _person_in(sessions, district: str | None, now: datetime) -> int:
    async with UnitOfWork(sessions) as uow:
        [pid] = await seed_roster(uow, 1, now)
        (await uow.people.get(pid)).district = district
        await uow.commit()
    return pid


async def test_a_district_shows_its_peoples_open_requests_and_follows_a_move(
    sessions, now: datetime
) -> None:
    ann = await _person_in(sessions, "姑苏区", now)
    bob = await _person_in(sessions, "吴中区", now)
    async with UnitOfWork(sessions) as uow:
        first = await uow.requests.create("medical_escort", now=now, actor="t", person_id=ann)
        done = await uow.requests.create("eldercare", now=now, actor="t", person_id=ann)
        await uow.requests.set_status(done, "done", now=now, actor="t")
        other = await uow.requests.create("handoff", now=now, actor="t", person_id=bob)
        nobody = await uow.requests.create("handoff", now=now, actor="t", person_id=None)
        await uow.commit()
    assert await _district_view(sessions, "姑苏区") == [first.id]
    assert await _district_view(sessions, "吴中区") == [other.id]

    # The console's edit and the roster import both set the attribute and flush.
    async with UnitOfWork(sessions) as uow:
        (await uow.people.get(ann)).district = "吴中区"
        await uow.commit()
    assert await _district_view(sessions, "姑苏区") == []
    assert await _district_view(sessions, "吴中区") == [first.id, other.id]

    # A statement past the ORM is followed too; a closed request keeps its district until
    # it is opened again, and then takes the person's.
    async with UnitOfWork(sessions) as uow:
        await uow.session.execute(
            text("UPDATE people SET district = '相城区' WHERE id = :i"), {"i": ann}
        )
        await uow.commit()
    assert await _district_view(sessions, "相城区") == [first.id]
    async with UnitOfWork(sessions) as uow:
        kept = await uow.session.scalar(
            select(ServiceRequest.district).where(ServiceRequest.id == done.id)
        )
        assert kept == "姑苏区"
        await uow.requests.set_status(
            await uow.requests.get(done.id), "pending", now=now, actor="t"
        )
        await uow.commit()
    assert await _district_view(sessions, "相城区") == [first.id, done.id]
    async with UnitOfWork(sessions) as uow:
        left = await uow.session.scalar(
            select(ServiceRequest.district).where(ServiceRequest.id == nobody.id)
        )
    assert left is None


async def test_the_district_view_counts_and_pages_like_the_others(
    sessions, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await _requests(sessions, now, people=3, each=4)
    async with UnitOfWork(sessions) as uow:
        first = await uow.requests.get(made[0])
        district = (await uow.people.get(first.person_id)).district or ""
        mine = [
            r.id
            for r in await uow.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id))
            if (await uow.people.get(r.person_id)).district == district
        ]
    assert mine
    assert set(mine) <= set(made)
    monkeypatch.setattr(workbench, "COUNT_CAP", 2)
    pages = await _walk(sessions, QueueFilter(district=district), 2)
    assert [i for page in pages for i in page] == mine
    async with UnitOfWork(sessions) as uow:
        past = await uow.workbench.queue(QueueFilter(), 100, 50)
        assert (past.rows, past.total, past.capped) == ([], 12, False)  # cap 150 there
        none = await uow.workbench.queue(QueueFilter(district="无此区"), 0, 50)
        assert (none.rows, none.total, none.capped, none.has_next) == ([], 0, False, False)


# ------------------------------------------------------------------ the page's lists
async def test_the_page_names_the_owners_and_keeps_its_lists_until_they_change(
    sessions, now: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = await _requests(sessions, now, people=2, each=1)
    async with UnitOfWork(sessions) as uow:
        helper = Staff(name="李娟", role="clerk", active=True, created_at=now)
        uow.session.add(helper)
        await uow.session.flush()
        (await uow.requests.get(made[0])).assigned_staff_id = helper.id
        uow.session.add(EldercareService(code="bath", name="助浴", active=True))
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        shown = await uow.workbench.queue_page(QueueFilter())
        districts = await uow.workbench.districts()
    assert [r.id for r, _ in shown.page.rows] == made
    assert shown.names == {helper.id: "李娟"}
    assert shown.districts == districts
    assert shown.services == {"bath": "助浴"}

    # A person or a service changed through the ORM here: the lists are read again at once.
    await _person_in(sessions, "新设区", now)
    async with UnitOfWork(sessions) as uow:
        service = await uow.session.scalar(select(EldercareService))
        service.name = "上门助浴"
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        shown = await uow.workbench.queue_page(QueueFilter())
    assert "新设区" in shown.districts
    assert shown.services == {"bath": "上门助浴"}

    # Past the ORM (another process, a raw statement): kept until they expire.
    async with UnitOfWork(sessions) as uow:
        await uow.session.execute(text("UPDATE eldercare_services SET name = '助浴（新）'"))
        await uow.commit()
    async with UnitOfWork(sessions) as uow:
        assert (await uow.workbench.queue_page(QueueFilter())).services == {"bath": "上门助浴"}
    clock = time.monotonic() + queue_lists.TTL + 1
    monkeypatch.setattr(queue_lists.time, "monotonic", lambda: clock)
    async with UnitOfWork(sessions) as uow:
        assert (await uow.workbench.queue_page(QueueFilter())).services == {"bath": "助浴（新）"}


def test_the_district_triggers_and_index_leave_out_exactly_the_closed_statuses() -> None:
    spec = importlib.util.spec_from_file_location("m0023", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(re.findall(r"'(\w+)'", module.OPEN)) == CLOSED_STATUSES
    for statement in (*module.PG_UP, *module.SQLITE_UP):
        if "WHERE person_id = NEW.id" in statement:
            assert module.OPEN in statement
    [index] = [i for i in ServiceRequest.__table__.indexes if i.name.endswith("open_district")]
    for dialect in ("postgresql", "sqlite"):
        where = str(index.dialect_options[dialect]["where"])
        assert set(re.findall(r"'(\w+)'", where)) == CLOSED_STATUSES
