"""志愿者与时间银行 in the console: entering a volunteer, offering a request to the matching
volunteers (sent through the notifier), confirming hours, redeeming them — each audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.console.routes import ROUTES
from storage.models import (
    AuditEntry,
    Person,
    TimeBankEntry,
    Volunteer,
    VolunteerOffer,
    VolunteerTask,
)
from storage.uow import UnitOfWork
from tests.console.conftest import Console


async def with_volunteers(console: Console) -> None:
    """A volunteer of 姑苏区 (escort), an escort request of the fixture's retiree to offer
    (``vol_request``), one a volunteer took (``vol_task``), and hours in the volunteer's
    bank with a booked request to redeem them for (``vol_person``, ``vol_redeem``). Once."""
    if "vol_request" in console.ids:
        return
    now = datetime.now(UTC)
    later = (now + timedelta(days=10)).date()  # no reminder falls due while tables are compared
    async with UnitOfWork(console.sessions) as uow:
        helper = await uow.people.add(
            Person(name="志愿者测试", category="tuixiu", district="姑苏区", lives_alone=False,
                   created_at=now, updated_at=now)
        )  # fmt: skip
        volunteer = await uow.volunteers.register(
            helper.id, ["escort"], ["姑苏区"], actor="test", now=now
        )
        person = console.ids["person"]
        offered = await uow.requests.create(
            "medical_escort", now=now, actor="test", person_id=person, scheduled_date=later,
            scheduled_time="morning", details={"hospital": "省人民医院", "department": "骨科"},
        )  # fmt: skip
        taken = await uow.requests.create(
            "medical_escort", now=now, actor="test", person_id=person, scheduled_date=later,
            scheduled_time="afternoon", details={"hospital": "市一院", "department": "眼科"},
        )  # fmt: skip
        task = VolunteerTask(
            request_id=taken.id, skill="escort", status="accepted", volunteer_id=volunteer.id,
            minutes=120, offered_by="test", offered_at=now, accepted_at=now,
        )  # fmt: skip
        uow.session.add(task)
        uow.session.add(
            TimeBankEntry(
                person_id=helper.id, kind="earn", minutes=180, actor="test", created_at=now
            )
        )
        booked = await uow.requests.create(
            "eldercare", now=now, actor="test", person_id=helper.id, status="booked",
            details={"service": "cleaning"}, scheduled_date=later, scheduled_time="morning",
        )  # fmt: skip
        await uow.commit()
        console.ids.update(
            vol_request=offered.id, vol_task=task.id, vol_person=helper.id, vol_redeem=booked.id
        )


def volunteer_forms(console: Console) -> dict[str, dict[str, str]]:
    """What the volunteers page posts to each of its routes (enough to succeed)."""
    ids = console.ids
    return {
        "/volunteers": {"person": str(ids["person"]), "skills": "escort", "districts": "姑苏区"},
        "/volunteers/offer": {"request": str(ids.get("vol_request", 0))},
        "/volunteers/hours": {"task": str(ids.get("vol_task", 0)), "hours": "2"},
        "/volunteers/redeem": {
            "person": str(ids.get("vol_person", 0)),
            "request": str(ids.get("vol_redeem", 0)),
            "hours": "1",
        },
    }


async def _post(console: Console, role: str, path: str) -> tuple[int, str]:
    browser = await console.signed_in(role)
    form = {**volunteer_forms(console)[path], "csrf": await console.csrf(browser)}
    response = await browser.post("/console" + path, data=form)
    return response.status_code, response.text


async def test_the_routes_are_in_the_table() -> None:
    table = {(p, m[0]): needed for p, _, m, needed in ROUTES}
    assert table["/volunteers", "GET"] == "volunteer.view"
    for path in ("/volunteers", "/volunteers/offer", "/volunteers/hours", "/volunteers/redeem"):
        assert table[path, "POST"] == "volunteer.manage"


async def test_staff_enter_offer_confirm_and_redeem(console: Console) -> None:
    await with_volunteers(console)
    browser = await console.signed_in("clerk")
    page = await browser.get("/console/volunteers")
    assert page.status_code == 200
    assert "志愿者测试" in page.text
    assert "派给志愿者" in page.text
    assert "3小时" in page.text

    status, text = await _post(console, "clerk", "/volunteers")
    assert status == 200
    assert "已登记志愿者 张建国" in text
    status, text = await _post(console, "clerk", "/volunteers/offer")
    assert status == 200
    assert "已发给 1 位志愿者" in text
    status, text = await _post(console, "clerk", "/volunteers/hours")
    assert status == 200
    assert "已确认 2小时" in text
    status, _ = await _post(console, "clerk", "/volunteers/hours")
    assert status == 409  # once
    status, text = await _post(console, "leader", "/volunteers/redeem")
    assert status == 200
    assert "已兑换 1小时" in text
    status, _ = await _post(console, "leader", "/volunteers/redeem")
    assert status == 409  # once per request

    async with UnitOfWork(console.sessions) as uow:
        helper = console.ids["vol_person"]
        assert await uow.volunteers.balance(helper) == 180 + 120 - 60
        offers = list(await uow.session.scalars(select(VolunteerOffer)))
        registered = await uow.session.scalar(
            select(Volunteer).where(Volunteer.person_id == console.ids["person"])
        )
        actions = set(await uow.session.scalars(select(AuditEntry.action)))
    assert len(offers) == 1
    assert registered is not None
    assert {
        "volunteer_registered",
        "volunteer_offered",
        "volunteer_hours_confirmed",
        "time_bank_redeemed",
    } <= actions


async def test_a_duty_officer_sees_but_does_not_act(console: Console) -> None:
    await with_volunteers(console)
    browser = await console.signed_in("duty")
    page = await browser.get("/console/volunteers")
    assert page.status_code == 200
    assert 'action="/console/volunteers/offer"' not in page.text
    status, _ = await _post(console, "duty", "/volunteers/offer")
    assert status == 403
