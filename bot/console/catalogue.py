"""活动与服务: the catalogue staff keep — activities (create, edit, cancel with a reason,
roster, check-in on the day), home-service slots (the next 14 days, capacity per service
and part of day) and partner hospitals. The actions are handlers/catalogue.py's."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from bot.console.actions import perform
from bot.console.web import Signed, guarded, number, render, runtime_of
from handlers import catalogue
from handlers.base import TZ
from handlers.catalogue import ActivityForm, HospitalForm
from handlers.workbench import Done
from storage.models import (
    Activity,
    EldercareService,
    EldercareSlot,
    Hospital,
    Person,
    Registration,
)
from storage.uow import UnitOfWork

__all__ = [
    "activities",
    "activity_cancel",
    "activity_check_in",
    "activity_create",
    "activity_edit",
    "activity_page",
    "hospital_add",
    "hospital_edit",
    "hospitals",
    "slot_capacity",
    "slots",
    "slots_add",
]

RECENT = timedelta(days=30)
DAYS = 14
_SPLIT = re.compile(r"[,，、;；\s]+")


def _when(text: str) -> datetime | None:
    """A start time typed in Beijing time (2026-12-20T09:00 or 2026-12-20 09:00)."""
    try:
        local = datetime.fromisoformat(text.strip().replace(" ", "T"))
    except ValueError:
        return None
    if local.tzinfo is not None or not 2000 <= local.year <= 2100:  # noqa: PLR2004
        return None
    return local.replace(tzinfo=TZ).astimezone(UTC)


def _capacity(text: str) -> int | None:
    value = number(text, -1)
    return None if value < 0 else value


def _activity_form(who: Signed) -> ActivityForm:
    return ActivityForm(
        title=who.field("title", 60).strip(),
        category=who.field("category", 20).strip(),
        starts_at=_when(who.field("starts_at", 20)),
        place=who.field("place", 100).strip(),
        capacity=_capacity(who.field("capacity", 12)),
        eligibility=who.field("eligibility", 10).strip(),
        description=who.field("description", 1000).strip(),
    )


async def _list_context(request: Request) -> dict[str, object]:
    now = datetime.now(UTC)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        rows = list(
            await uow.session.scalars(
                select(Activity)
                .where(Activity.starts_at >= now - RECENT)
                .order_by(Activity.starts_at)
                .limit(200)
            )
        )
        cancelled = await catalogue.cancelled_ids(uow, [a.id for a in rows])
    return {"rows": rows, "now": now, "cancelled": cancelled, "nav": "catalogue"}


@guarded("catalogue.edit")
async def activities(request: Request, who: Signed) -> Response:
    """Upcoming activities and those of the last 30 days, with seats and waitlists."""
    return render(request, "activities.html", await _list_context(request), who=who)


@guarded("catalogue.edit")
async def activity_create(request: Request, who: Signed) -> Response:
    """A new activity."""
    form = _activity_form(who)

    async def create(uow: UnitOfWork, now: datetime) -> Done:
        return await catalogue.save_activity(uow, who.member, None, form, now)

    async def shown(request: Request, _: int) -> dict[str, object]:
        return await _list_context(request)

    return await perform(request, who, create, "activities.html", shown)


async def _activity_context(request: Request, activity_id: int) -> dict[str, object] | None:
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        activity = await uow.activities.get(activity_id)
        if activity is None:
            return None
        rows = list(
            await uow.session.execute(
                select(Registration, Person.name)
                .join(Person, Person.id == Registration.person_id)
                .where(Registration.activity_id == activity_id)
                .order_by(Registration.id)
            )
        )
        cancelled = bool(await catalogue.cancelled_ids(uow, [activity_id]))
    registered = [(r, name) for r, name in rows if r.status == "registered"]
    waitlist = [(r, name) for r, name in rows if r.status == "waitlisted"]
    dropped = [(r, name) for r, name in rows if r.status == "cancelled"]
    return {
        "activity": activity,
        "registered": registered,
        "waitlist": waitlist,
        "dropped": dropped,
        "cancelled": cancelled,
        "starts_local": activity.starts_at.astimezone(TZ).strftime("%Y-%m-%dT%H:%M"),
        "today": datetime.now(TZ).date() == activity.starts_at.astimezone(TZ).date(),
        "nav": "catalogue",
    }


@guarded("catalogue.edit")
async def activity_page(request: Request, who: Signed) -> Response:
    """One activity: its form, its roster (registered, then the waitlist), check-in."""
    context = await _activity_context(request, number(request.path_params.get("id")))
    if context is None:
        return render(request, "error.html", {"title": "没有找到", "why": ""}, who=who, status=404)
    return render(request, "activity.html", context, who=who)


@guarded("catalogue.edit")
async def activity_edit(request: Request, who: Signed) -> Response:
    """Change an activity (a raised capacity promotes the waitlist)."""
    item, form = number(request.path_params.get("id")), _activity_form(who)

    async def edit(uow: UnitOfWork, now: datetime) -> Done:
        return await catalogue.save_activity(uow, who.member, item, form, now)

    return await perform(request, who, edit, "activity.html", _activity_context)


@guarded("catalogue.edit")
async def activity_cancel(request: Request, who: Signed) -> Response:
    """Cancel an activity with a reason; everyone on it is told."""
    item, reason = number(request.path_params.get("id")), who.field("reason", 200)

    async def cancel(uow: UnitOfWork, now: datetime) -> Done:
        return await catalogue.cancel_activity(uow, who.member, item, reason, now)

    return await perform(request, who, cancel, "activity.html", _activity_context)


@guarded("catalogue.edit")
async def activity_check_in(request: Request, who: Signed) -> Response:
    """Mark one registered attendee present."""
    item, registration = number(request.path_params.get("id")), number(who.field("registration"))

    async def check(uow: UnitOfWork, now: datetime) -> Done:
        return await catalogue.check_in(uow, who.member, item, registration, now)

    return await perform(request, who, check, "activity.html", _activity_context)


# ------------------------------------------------------------------ home-service slots
async def _slots_context(request: Request, _: int = 0) -> dict[str, object]:
    today = datetime.now(TZ).date()
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        services = list(
            await uow.session.scalars(select(EldercareService).order_by(EldercareService.id))
        )
        found = list(
            await uow.session.scalars(
                select(EldercareSlot).where(
                    EldercareSlot.day >= today, EldercareSlot.day < today + timedelta(days=DAYS)
                )
            )
        )
    by_key = {(s.day, s.service_id, s.part): s for s in found}
    days = [today + timedelta(days=n) for n in range(DAYS)]
    return {
        "services": services,
        "days": days,
        "slot": by_key,
        "parts": catalogue.PARTS,
        "today": today,
        "nav": "catalogue",
    }


@guarded("catalogue.edit")
async def slots(request: Request, who: Signed) -> Response:
    """The next 14 days × service × morning/afternoon: capacity and booked."""
    return render(request, "slots.html", await _slots_context(request), who=who)


@guarded("catalogue.edit")
async def slot_capacity(request: Request, who: Signed) -> Response:
    """Change one slot's capacity."""
    item, capacity = number(request.path_params.get("id")), _capacity(who.field("capacity", 12))

    async def change(uow: UnitOfWork, now: datetime) -> Done:
        return await catalogue.slot_capacity(uow, who.member, item, capacity, now)

    async def shown(request: Request, slot_id: int) -> dict[str, object] | None:
        async with UnitOfWork(runtime_of(request).sessions) as uow:
            if await uow.session.get(EldercareSlot, slot_id) is None:
                return None
        return await _slots_context(request)

    return await perform(request, who, change, "slots.html", shown)


@guarded("catalogue.edit")
async def slots_add(request: Request, who: Signed) -> Response:
    """Add a day's slots (every active service, morning and afternoon)."""
    try:
        day: date | None = date.fromisoformat(who.field("day", 10))
    except ValueError:
        day = None
    capacity = _capacity(who.field("capacity", 12))

    async def add(uow: UnitOfWork, now: datetime) -> Done:
        return await catalogue.add_day(uow, who.member, day, capacity, now)

    return await perform(request, who, add, "slots.html", _slots_context)


# ------------------------------------------------------------------ hospitals
def _names(text: str) -> list[str]:
    return [part[:40] for part in _SPLIT.split(text) if part][:30]


def _hospital_form(who: Signed) -> HospitalForm:
    return HospitalForm(
        name=who.field("name", 60).strip(),
        aliases=_names(who.field("aliases", 600)),
        departments=_names(who.field("departments", 1000)),
        address=who.field("address", 200).strip(),
        green_channel=who.field("green_channel", 2) == "1",
    )


async def _hospitals_context(request: Request, _: int = 0) -> dict[str, object]:
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        rows = list(await uow.session.scalars(select(Hospital).order_by(Hospital.id)))
    return {"rows": rows, "nav": "catalogue"}


@guarded("catalogue.edit")
async def hospitals(request: Request, who: Signed) -> Response:
    """The partner hospitals."""
    return render(request, "hospitals.html", await _hospitals_context(request), who=who)


@guarded("catalogue.edit")
async def hospital_add(request: Request, who: Signed) -> Response:
    """Add a hospital."""
    form = _hospital_form(who)

    async def add(uow: UnitOfWork, now: datetime) -> Done:
        return await catalogue.save_hospital(uow, who.member, None, form, now)

    return await perform(request, who, add, "hospitals.html", _hospitals_context)


@guarded("catalogue.edit")
async def hospital_edit(request: Request, who: Signed) -> Response:
    """Change a hospital."""
    item, form = number(request.path_params.get("id")), _hospital_form(who)

    async def edit(uow: UnitOfWork, now: datetime) -> Done:
        return await catalogue.save_hospital(uow, who.member, item, form, now)

    async def shown(request: Request, hospital_id: int) -> dict[str, object] | None:
        async with UnitOfWork(runtime_of(request).sessions) as uow:
            if await uow.session.get(Hospital, hospital_id) is None:
                return None
        return await _hospitals_context(request)

    return await perform(request, who, edit, "hospitals.html", shown)
