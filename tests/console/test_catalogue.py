"""活动与服务 in the console: activities (create, edit, cancel — the registered are told —,
capacity never below seats taken, a raised capacity promotes the waitlist, check-in),
home-service slot capacity, partner hospitals, and a refused role changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from handlers import texts
from handlers.base import TZ
from storage.models import (
    Activity,
    ChannelAccount,
    EldercareService,
    EldercareSlot,
    Hospital,
    Registration,
)
from storage.uow import UnitOfWork
from tests.console.conftest import Console


async def seed_catalogue(console: Console) -> None:
    """An activity with one seat taken (the seeded person), a slot, a hospital; their ids
    in ``console.ids`` (activity, registration, slot, hospital)."""
    now = datetime.now(UTC)
    async with UnitOfWork(console.sessions) as uow:
        activity = await uow.activities.add(
            Activity(
                title="书法班", category="文体", starts_at=now + timedelta(days=3),
                place="老干部活动中心", capacity=5, seats_taken=0, waitlisted=0,
                eligibility="all", created_at=now,
            )
        )  # fmt: skip
        seat = await uow.activities.sign_up(
            activity.id, console.ids["person"], "self", now, console.ids["account"]
        )
        service = EldercareService(code="clean", name="保洁", active=True)
        uow.session.add(service)
        await uow.session.flush()
        slot = EldercareSlot(
            service_id=service.id, day=datetime.now(TZ).date() + timedelta(days=2), part="morning",
            capacity=3, booked=1,
        )  # fmt: skip
        hospital = Hospital(name="市立医院", aliases=["市医院"], departments=["骨科"])
        uow.session.add_all([slot, hospital])
        await uow.commit()
        console.ids.update(
            activity=activity.id, registration=seat.id, slot=slot.id, hospital=hospital.id
        )


def activity_form(**values: str) -> dict[str, str]:
    """A valid activity form (Beijing time)."""
    when = (datetime.now(UTC) + timedelta(days=5)).astimezone().strftime("%Y-%m-%dT09:00")
    return {
        "title": "健康讲座", "category": "讲座", "starts_at": when, "place": "礼堂",
        "capacity": "10", "eligibility": "all", "description": "", **values,
    }  # fmt: skip


async def _activity(console: Console, activity_id: int) -> Activity:
    async with UnitOfWork(console.sessions) as uow:
        found = await uow.activities.get(activity_id)
        assert found is not None
        return found


async def _registrations(console: Console, activity_id: int) -> list[Registration]:
    async with UnitOfWork(console.sessions) as uow:
        rows = await uow.session.scalars(
            select(Registration)
            .where(Registration.activity_id == activity_id)
            .order_by(Registration.id)
        )
        return list(rows)


async def _post(console: Console, client: object, url: str, form: dict[str, str]) -> object:
    token = await console.csrf(client)  # type: ignore[arg-type]
    return await client.post(url, data={**form, "csrf": token})  # type: ignore[attr-defined]


async def test_create_and_edit_an_activity(console: Console) -> None:
    clerk = await console.signed_in("clerk")
    response = await _post(console, clerk, "/console/activities", activity_form())
    assert response.status_code == 200, response.text
    assert "健康讲座" in response.text
    async with UnitOfWork(console.sessions) as uow:
        made = await uow.session.scalar(select(Activity).where(Activity.title == "健康讲座"))
    assert made is not None
    assert made.capacity == 10
    assert made.starts_at.astimezone(UTC).hour == 1  # 09:00 Beijing
    url = f"/console/activities/{made.id}/edit"
    response = await _post(console, clerk, url, activity_form(title="健康讲座（二）"))
    assert response.status_code == 200
    assert (await _activity(console, made.id)).title == "健康讲座（二）"
    assert [e.action for e in await console.audit()][-2:] == [
        "activity_created",
        "activity_edited",
    ]
    page = await clerk.get(f"/console/activities/{made.id}")
    assert page.status_code == 200
    listing = await clerk.get("/console/activities")
    assert "健康讲座（二）" in listing.text


async def test_capacity_never_below_seats_taken(console: Console) -> None:
    await seed_catalogue(console)
    leader = await console.signed_in("leader")
    activity_id = console.ids["activity"]
    async with UnitOfWork(console.sessions) as uow:
        await uow.activities.sign_up(
            activity_id, console.ids["person"], "spouse", datetime.now(UTC)
        )
        await uow.commit()
    before = await console.snapshot()
    url = f"/console/activities/{activity_id}/edit"
    response = await _post(console, leader, url, activity_form(title="书法班", capacity="1"))
    assert response.status_code == 409
    assert texts.CAT_CAPACITY_BELOW_TAKEN.format(taken=2) in response.text
    after = await console.snapshot()
    assert after == before


async def test_raising_capacity_promotes_the_waitlist(console: Console) -> None:
    await seed_catalogue(console)
    activity_id = console.ids["activity"]
    now = datetime.now(UTC)
    async with UnitOfWork(console.sessions) as uow:
        activity = await uow.activities.get(activity_id)
        assert activity is not None
        activity.capacity = 1
        await uow.commit()
        waiting = await uow.activities.sign_up(activity_id, console.ids["person"], "spouse", now)
        await uow.commit()
    assert waiting.status == "waitlisted"
    clerk = await console.signed_in("clerk")
    url = f"/console/activities/{activity_id}/edit"
    response = await _post(console, clerk, url, activity_form(title="书法班", capacity="2"))
    assert response.status_code == 200, response.text
    assert [r.status for r in await _registrations(console, activity_id)] == [
        "registered",
        "registered",
    ]
    activity = await _activity(console, activity_id)
    assert (activity.seats_taken, activity.waitlisted) == (2, 0)


async def test_cancel_tells_the_registered_and_cancels_their_seats(console: Console) -> None:
    await seed_catalogue(console)
    activity_id = console.ids["activity"]
    async with UnitOfWork(console.sessions) as uow:
        account = await uow.session.get(ChannelAccount, console.ids["account"])
        assert account is not None
        account.channel = "console"
        user = account.external_id
        await uow.commit()
    notifier = console.app.state.jobs.notifier
    notifier.console = []
    clerk = await console.signed_in("clerk")
    url = f"/console/activities/{activity_id}/cancel"
    refused = await _post(console, clerk, url, {"reason": ""})
    assert refused.status_code == 409
    response = await _post(console, clerk, url, {"reason": "天气原因"})
    assert response.status_code == 200, response.text
    told = [r.text for who, replies in notifier.console if who == user for r in replies]
    assert len(told) == 1
    assert "天气原因" in told[0]
    assert "书法班" in told[0]
    assert [r.status for r in await _registrations(console, activity_id)] == ["cancelled"]
    again = await _post(console, clerk, url, {"reason": "再取消"})
    assert again.status_code == 409
    assert [e.action for e in await console.audit("activity_cancelled")] == ["activity_cancelled"]
    # Out of the chat: no longer offered, nor known to the NLU's lookup of titles.
    async with UnitOfWork(console.sessions) as uow:
        soon = datetime.now(UTC) - timedelta(days=1)
        assert activity_id not in [a.id for a in await uow.activities.upcoming(soon, 100)]
        cancelled = await uow.activities.get(activity_id)
        assert cancelled is not None
        assert cancelled.cancelled_at is not None


async def test_check_in(console: Console) -> None:
    await seed_catalogue(console)
    clerk = await console.signed_in("clerk")
    url = f"/console/activities/{console.ids['activity']}/check-in"
    response = await _post(console, clerk, url, {"registration": str(console.ids["registration"])})
    assert response.status_code == 200, response.text
    [registration] = await _registrations(console, console.ids["activity"])
    assert registration.attended_at is not None
    assert "已签到" in response.text


async def test_slot_capacity_and_a_new_day(console: Console) -> None:
    await seed_catalogue(console)
    clerk = await console.signed_in("clerk")
    url = f"/console/slots/{console.ids['slot']}/capacity"
    below = await _post(console, clerk, url, {"capacity": "0"})
    assert below.status_code == 409
    response = await _post(console, clerk, url, {"capacity": "8"})
    assert response.status_code == 200
    async with UnitOfWork(console.sessions) as uow:
        slot = await uow.session.get(EldercareSlot, console.ids["slot"])
        assert slot is not None
        assert slot.capacity == 8
    day = (datetime.now(TZ).date() + timedelta(days=4)).isoformat()
    added = await _post(console, clerk, "/console/slots", {"day": day, "capacity": "4"})
    assert added.status_code == 200, added.text
    again = await _post(console, clerk, "/console/slots", {"day": day, "capacity": "4"})
    assert again.status_code == 409
    page = await clerk.get("/console/slots")
    assert page.status_code == 200
    assert "保洁" in page.text


async def test_hospital_add_and_edit(console: Console) -> None:
    await seed_catalogue(console)
    clerk = await console.signed_in("clerk")
    form = {"name": "第二医院", "aliases": "二院，市二院", "departments": "心内科、骨科",
            "address": "人民路2号", "green_channel": "1"}  # fmt: skip
    response = await _post(console, clerk, "/console/hospitals", form)
    assert response.status_code == 200, response.text
    twice = await _post(console, clerk, "/console/hospitals", form)
    assert twice.status_code == 409
    url = f"/console/hospitals/{console.ids['hospital']}/edit"
    edited = await _post(console, clerk, url, {"name": "市立医院", "departments": "眼科"})
    assert edited.status_code == 200
    async with UnitOfWork(console.sessions) as uow:
        made = await uow.session.scalar(select(Hospital).where(Hospital.name == "第二医院"))
        old = await uow.session.get(Hospital, console.ids["hospital"])
    assert made is not None
    assert made.aliases == ["二院", "市二院"]
    assert made.departments == ["心内科", "骨科"]
    assert old is not None
    assert old.departments == ["眼科"]
    assert old.green_channel is False


async def test_a_refused_role_gets_403_and_nothing_changes(console: Console) -> None:
    await seed_catalogue(console)
    duty = await console.signed_in("duty")
    before = await console.snapshot()
    url = f"/console/activities/{console.ids['activity']}/cancel"
    response = await _post(console, duty, url, {"reason": "不该能取消"})
    assert response.status_code == 403
    assert (await duty.get("/console/activities")).status_code == 403
    assert await console.snapshot() == before
