"""What staff do to the catalogue from the console (活动与服务): create, edit and cancel an
activity, check attendees in, change home-service slot capacity, add a day's slots, and keep
the partner hospitals. Same shape as handlers/workbench.py: each action runs in the
caller's unit of work, is audited, and returns a ``Done`` (events and notices go out after
the commit). A refusal writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update

from handlers import texts
from handlers.base import TZ, Reply
from handlers.events import WaitlistPromoted
from handlers.wording import format_date
from handlers.workbench import Done, Notice
from storage.models import (
    Activity,
    EldercareService,
    EldercareSlot,
    Hospital,
    Registration,
    Staff,
)
from storage.uow import UnitOfWork

__all__ = [
    "ActivityForm",
    "HospitalForm",
    "add_day",
    "cancel_activity",
    "cancelled_ids",
    "check_in",
    "save_activity",
    "save_hospital",
    "slot_capacity",
]

ELIGIBILITY = ("all", "lixiu")
PARTS = ("morning", "afternoon")
MAX_CAPACITY = 100_000
LIVE = ("registered", "waitlisted")


def _actor(member: Staff) -> str:
    return f"staff:{member.id}"


@dataclass(frozen=True, slots=True)
class ActivityForm:
    """An activity as staff typed it (starts_at: None when it was not a valid time)."""

    title: str
    category: str
    starts_at: datetime | None
    place: str
    capacity: int | None
    eligibility: str
    description: str


def _check(form: ActivityForm) -> str | None:
    if not form.title:
        return texts.CAT_TITLE_NEEDED
    if not form.category:
        return texts.CAT_CATEGORY_NEEDED
    if form.starts_at is None:
        return texts.CAT_WHEN_NEEDED
    if not form.place:
        return texts.CAT_PLACE_NEEDED
    if form.capacity is None or not 0 < form.capacity <= MAX_CAPACITY:
        return texts.CAT_CAPACITY_NEEDED
    if form.eligibility not in ELIGIBILITY:
        return texts.CAT_ELIGIBILITY_NEEDED
    return None


async def cancelled_ids(uow: UnitOfWork, ids: list[int] | None = None) -> set[int]:
    """The activities staff have cancelled."""
    query = select(Activity.id).where(Activity.cancelled_at.is_not(None))
    if ids is not None:
        query = query.where(Activity.id.in_(ids))
    return set(await uow.session.scalars(query))


async def _promote(uow: UnitOfWork, activity: Activity, now: datetime) -> list[WaitlistPromoted]:
    """Fill free seats from the waitlist in order (the activity's row is locked)."""
    free = activity.capacity - activity.seats_taken
    if free <= 0 or activity.waitlisted <= 0:
        return []
    first = list(
        await uow.session.scalars(
            select(Registration)
            .where(Registration.activity_id == activity.id, Registration.status == "waitlisted")
            .order_by(Registration.id)
            .limit(free)
        )
    )
    events = []
    for registration in first:
        registration.status = "registered"
        registration.updated_at = now
        events.append(
            WaitlistPromoted(
                registration_id=registration.id,
                person_id=registration.person_id,
                activity_id=activity.id,
                activity=activity.title,
            )
        )
    activity.seats_taken += len(first)
    activity.waitlisted -= len(first)
    return events


async def _locked(uow: UnitOfWork, activity_id: int) -> Activity | None:
    activity = await uow.session.scalar(
        select(Activity).where(Activity.id == activity_id).with_for_update()
    )
    if activity is not None:
        await uow.session.refresh(activity)  # the newest counters, under the lock
    return activity


async def save_activity(
    uow: UnitOfWork, member: Staff, activity_id: int | None, form: ActivityForm, now: datetime
) -> Done:
    """Create an activity (``activity_id`` None) or change one; capacity never below the
    seats taken, and a raised capacity promotes the waitlist (the promoted are told)."""
    activity = None
    if activity_id is not None:
        activity = await _locked(uow, activity_id)
        if activity is None:
            return Done(False, texts.CAT_NOT_FOUND)
        if await cancelled_ids(uow, [activity.id]):
            return Done(False, texts.CAT_ACTIVITY_LOCKED)
    refused = _check(form)
    if refused is not None:
        return Done(False, refused)
    if form.starts_at is None or form.capacity is None:  # checked above; for the type checker
        return Done(False, texts.CAT_WHEN_NEEDED)
    if activity is None:
        activity = await uow.activities.add(
            Activity(
                title=form.title, category=form.category, starts_at=form.starts_at,
                place=form.place, capacity=form.capacity, seats_taken=0, waitlisted=0,
                eligibility=form.eligibility, description=form.description or None,
                created_at=now,
            )
        )  # fmt: skip
        uow.audit.record(now, _actor(member), "activity_created", "activity", activity.id)
        return Done(True, texts.CAT_ACTIVITY_CREATED.format(title=activity.title))
    if form.capacity < activity.seats_taken:
        return Done(False, texts.CAT_CAPACITY_BELOW_TAKEN.format(taken=activity.seats_taken))
    values = {
        "title": form.title,
        "category": form.category,
        "starts_at": form.starts_at,
        "place": form.place,
        "capacity": form.capacity,
        "eligibility": form.eligibility,
        "description": form.description or None,
    }
    changed = sorted(k for k, v in values.items() if getattr(activity, k) != v)
    if not changed:
        return Done(True, texts.CAT_UNCHANGED)
    for name in changed:
        setattr(activity, name, values[name])
    events = await _promote(uow, activity, now)
    await uow.session.flush()
    uow.audit.record(
        now, _actor(member), "activity_edited", "activity", activity.id,
        fields=changed, promoted=len(events),
    )  # fmt: skip
    message = texts.CAT_ACTIVITY_SAVED.format(title=activity.title)
    if events:
        message += texts.CAT_ACTIVITY_PROMOTED.format(count=len(events))
    return Done(True, message, list(events))


async def cancel_activity(
    uow: UnitOfWork, member: Staff, activity_id: int, reason: str, now: datetime
) -> Done:
    """Cancel an activity: every live registration is cancelled, and whoever asked for one
    is told why, through their channel (if their account still speaks for the person)."""
    activity = await _locked(uow, activity_id)
    if activity is None:
        return Done(False, texts.CAT_NOT_FOUND)
    if await cancelled_ids(uow, [activity.id]):
        return Done(False, texts.CAT_ACTIVITY_ALREADY_CANCELLED)
    said = reason.strip()[:200]
    if not said:
        return Done(False, texts.CAT_ACTIVITY_CANCEL_REASON)
    live = list(
        await uow.session.scalars(
            select(Registration)
            .where(Registration.activity_id == activity.id, Registration.status.in_(LIVE))
            .order_by(Registration.id)
        )
    )
    attendees: dict[tuple[int, int], set[str]] = {}
    for registration in live:
        registration.status = "cancelled"
        registration.updated_at = now
        if registration.requested_by_account_id is not None:
            key = (registration.requested_by_account_id, registration.person_id)
            attendees.setdefault(key, set()).add(registration.attendee)
    activity.seats_taken = 0
    activity.waitlisted = 0
    activity.cancelled_at = now  # no longer offered in the chat, nor open to sign-ups
    notices = []
    local = activity.starts_at.astimezone(TZ)
    when = f"{format_date(local.date())}{local:%H:%M}"
    for (account_id, person_id), who in attendees.items():
        account = await uow.accounts.get(account_id)
        if account is None or not account.active or account.person_id != person_id:
            continue
        whom = "both" if len(who) > 1 else next(iter(who))
        text = texts.CAT_ACTIVITY_CANCELLED_NOTICE.format(
            when=when, title=activity.title, reason=said, who=texts.BENEFICIARY[whom]
        )
        notices.append(Notice(account.id, Reply(text)))
    await uow.session.flush()
    uow.audit.record(
        now, _actor(member), "activity_cancelled", "activity", activity.id,
        reason=said, registrations=len(live),
    )  # fmt: skip
    message = texts.CAT_ACTIVITY_CANCEL_DONE.format(title=activity.title, count=len(live))
    return Done(True, message, notices=notices)


async def check_in(
    uow: UnitOfWork, member: Staff, activity_id: int, registration_id: int, now: datetime
) -> Done:
    """Mark a registered attendee present."""
    registration = await uow.activities.registration(registration_id)
    if registration is None or registration.activity_id != activity_id:
        return Done(False, texts.CAT_NOT_FOUND)
    if registration.status != "registered":
        return Done(False, texts.CAT_CHECK_IN_NOT_REGISTERED)
    if registration.attended_at is not None:
        return Done(True, texts.CAT_ALREADY_CHECKED_IN)
    registration.attended_at = now
    registration.updated_at = now
    person = await uow.people.get(registration.person_id)
    name = person.name if person else ""
    who = texts.BENEFICIARY_OF[registration.attendee].format(name=name)
    uow.audit.record(
        now, _actor(member), "activity_checked_in", "registration", registration.id,
        activity=activity_id,
    )  # fmt: skip
    return Done(True, texts.CAT_CHECKED_IN.format(who=who))


# ------------------------------------------------------------------ home-service slots
async def slot_capacity(
    uow: UnitOfWork, member: Staff, slot_id: int, capacity: int | None, now: datetime
) -> Done:
    """Change a slot's capacity (never below what is booked)."""
    slot = await uow.session.scalar(
        select(EldercareSlot).where(EldercareSlot.id == slot_id).with_for_update()
    )
    if slot is None:
        return Done(False, texts.CAT_NOT_FOUND)
    await uow.session.refresh(slot)
    if capacity is None or not 0 <= capacity <= MAX_CAPACITY:
        return Done(False, texts.CAT_CAPACITY_NEEDED)
    if capacity < slot.booked:
        return Done(False, texts.CAT_SLOT_BELOW_BOOKED.format(booked=slot.booked))
    service = await uow.session.get(EldercareService, slot.service_id)
    name = service.name if service else ""
    message = texts.CAT_SLOT_SAVED.format(
        day=format_date(slot.day), part=texts.PARTS_OF_DAY.get(slot.part, slot.part),
        service=name, capacity=capacity,
    )  # fmt: skip
    if capacity == slot.capacity:
        return Done(True, message)
    before = slot.capacity
    # Conditional, so that a booking taken meanwhile is never overbooked.
    await uow.session.execute(
        update(EldercareSlot)
        .where(EldercareSlot.id == slot.id, EldercareSlot.booked <= capacity)
        .values(capacity=capacity)
    )
    uow.audit.record(
        now, _actor(member), "slot_capacity_changed", "eldercare_slot", slot.id,
        before=before, after=capacity,
    )  # fmt: skip
    return Done(True, message)


async def add_day(
    uow: UnitOfWork, member: Staff, day: date | None, capacity: int | None, now: datetime
) -> Done:
    """Add a morning and an afternoon slot of every active service on a day (those that
    are there already are left as they are)."""
    today = now.astimezone(TZ).date()
    if day is None or day < today:
        return Done(False, texts.CAT_SLOTS_DAY_NEEDED)
    if capacity is None or not 0 < capacity <= MAX_CAPACITY:
        return Done(False, texts.CAT_CAPACITY_NEEDED)
    services = [s for s in await uow.catalog.eldercare_services() if s.active]
    if not services:
        return Done(False, texts.CAT_NO_SERVICES)
    there = {
        (s, p)
        for s, p in await uow.session.execute(
            select(EldercareSlot.service_id, EldercareSlot.part).where(EldercareSlot.day == day)
        )
    }
    added = 0
    for service in services:
        for part in PARTS:
            if (service.id, part) not in there:
                uow.session.add(
                    EldercareSlot(
                        service_id=service.id, day=day, part=part, capacity=capacity, booked=0
                    )
                )
                added += 1
    if not added:
        return Done(False, texts.CAT_SLOTS_EXIST.format(day=format_date(day)))
    await uow.session.flush()
    uow.audit.record(
        now, _actor(member), "slots_added", "eldercare_slot", None,
        day=day.isoformat(), count=added, capacity=capacity,
    )  # fmt: skip
    return Done(True, texts.CAT_SLOTS_ADDED.format(day=format_date(day), count=added))


# ------------------------------------------------------------------ hospitals
@dataclass(frozen=True, slots=True)
class HospitalForm:
    """A hospital as staff typed it."""

    name: str
    aliases: list[str]
    departments: list[str]
    address: str
    green_channel: bool


async def save_hospital(
    uow: UnitOfWork, member: Staff, hospital_id: int | None, form: HospitalForm, now: datetime
) -> Done:
    """Add a partner hospital (``hospital_id`` None) or change one."""
    hospital = None
    if hospital_id is not None:
        hospital = await uow.session.get(Hospital, hospital_id)
        if hospital is None:
            return Done(False, texts.CAT_NOT_FOUND)
    if not form.name:
        return Done(False, texts.CAT_HOSPITAL_NAME_NEEDED)
    other = await uow.session.scalar(select(Hospital).where(Hospital.name == form.name))
    if other is not None and other is not hospital:
        return Done(False, texts.CAT_HOSPITAL_EXISTS.format(name=form.name))
    values = {
        "name": form.name,
        "aliases": form.aliases,
        "departments": form.departments,
        "address": form.address or None,
        "green_channel": form.green_channel,
    }
    if hospital is None:
        hospital = Hospital(**values)
        uow.session.add(hospital)
        await uow.session.flush()
        uow.audit.record(now, _actor(member), "hospital_added", "hospital", hospital.id)
        return Done(True, texts.CAT_HOSPITAL_ADDED.format(name=hospital.name))
    changed = sorted(k for k, v in values.items() if getattr(hospital, k) != v)
    if not changed:
        return Done(True, texts.CAT_UNCHANGED)
    for name in changed:
        setattr(hospital, name, values[name])
    await uow.session.flush()
    uow.audit.record(
        now, _actor(member), "hospital_edited", "hospital", hospital.id, fields=changed
    )
    return Done(True, texts.CAT_HOSPITAL_SAVED.format(name=hospital.name))
