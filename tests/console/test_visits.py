"""必访探望 on the console: 记录探望 closes a must-visit task and keeps who, when and the
note on the ledger; 登记必访事由 on a person's page owes a visit within three days; both
audited, both refused to roles without ``request.work``."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select

from handlers.base import TZ
from storage.models import AuditEntry, MustVisit, ServiceRequest
from storage.uow import UnitOfWork
from storage.visits import VisitRepo
from tests.console.conftest import Console

FLASH = re.compile(r'<p class="flash [a-z]+" role="status">([^<]*)</p>')


def flash(response: httpx.Response) -> str:
    """What the page says about how the action went."""
    found = FLASH.search(response.text)
    return found[1] if found else ""


async def _signed_in(console: Console, role: str) -> tuple[httpx.AsyncClient, str]:
    client = await console.signed_in(role)
    return client, await console.csrf(client)


async def with_visit(console: Console) -> int:
    """A must-visit task (a 90th birthday the day after tomorrow) for the seeded person; its
    request id (what /visits/{id}/log takes)."""
    now = datetime.now(UTC)
    birthday = now.astimezone(TZ).date() + timedelta(days=2)
    async with UnitOfWork(console.sessions) as uow:
        person = await uow.people.get(console.ids["person"])
        assert person is not None
        row = await VisitRepo(uow.session).add(
            person, "birthday", birthday, birthday - timedelta(days=1),
            now=now, actor="test", detail="90",
        )  # fmt: skip
        assert row is not None
        await uow.commit()
        console.ids["visit"] = row.request_id
        return row.request_id


async def test_logging_a_visit_closes_the_task_and_keeps_who_when_and_the_note(
    console: Console,
) -> None:
    task = await with_visit(console)
    clerk, token = await _signed_in(console, "clerk")
    page = await clerk.get(f"/console/requests/{task}")
    assert "记录探望" in page.text
    assert "必访事由" in page.text
    response = await clerk.post(
        f"/console/visits/{task}/log", data={"csrf": token, "note": "送了慰问品 精神不错"}
    )
    assert response.status_code == 200, response.text
    assert "已记录探望" in flash(response)
    async with UnitOfWork(console.sessions) as uow:
        row = await uow.session.scalar(select(MustVisit).where(MustVisit.request_id == task))
        request = await uow.session.get(ServiceRequest, task)
        audit = list(
            await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "visit_logged"))
        )
    assert row is not None
    assert request is not None
    assert row.visited_by == console.staff["clerk"]
    assert row.visited_at is not None
    assert row.visit_note == "送了慰问品 精神不错"
    assert request.status == "done"
    assert [(a.actor, a.target_id, a.details["via"]) for a in audit] == [
        (f"staff:{console.staff['clerk']}", str(task), "console")
    ]
    again = await clerk.post(f"/console/visits/{task}/log", data={"csrf": token, "note": "又去了"})
    assert again.status_code == 409  # closed already: nothing is written twice
    handoff = console.ids["request"]
    refused = await clerk.post(f"/console/visits/{handoff}/log", data={"csrf": token, "note": "x"})
    assert refused.status_code == 409
    assert "不是探望事项" in flash(refused)


async def test_staff_record_an_occasion_on_the_persons_page(console: Console) -> None:
    duty, token = await _signed_in(console, "duty")
    person = console.ids["person"]
    page = await duty.get(f"/console/people/{person}")
    assert "登记必访事由" in page.text
    form = {"csrf": token, "occasion": "bereavement", "note": "老伴上周去世"}
    response = await duty.post(f"/console/people/{person}/visit-occasion", data=form)
    assert response.status_code == 200, response.text
    assert "已登记家有丧事" in flash(response)
    today = datetime.now(TZ).date()
    async with UnitOfWork(console.sessions) as uow:
        [row] = await VisitRepo(uow.session).of_person(person)
        request = await uow.session.get(ServiceRequest, row.request_id)
    assert (row.occasion, row.occasion_date, row.note) == ("bereavement", today, "老伴上周去世")
    assert row.recorded_by == console.staff["duty"]
    assert request is not None
    assert request.kind == "must_visit"
    assert request.scheduled_date == today + timedelta(days=3)
    twice = await duty.post(f"/console/people/{person}/visit-occasion", data=form)
    assert twice.status_code == 409  # one per person, occasion and day
    odd = {**form, "occasion": "birthday"}  # found by the daily job, not recorded by hand
    assert (
        await duty.post(f"/console/people/{person}/visit-occasion", data=odd)
    ).status_code == 409
