"""My records (一人一档 as the retiree sees it): upcoming bookings, sign-ups and open requests."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from handlers import texts
from handlers.activities import activity_time
from handlers.base import TZ, Ctx, Reply
from handlers.slots import who_phrase
from handlers.wording import format_when, menu_reply, status_name

__all__ = ["my_records", "who_and_when"]

SHOWN = 8
LISTED_MINUTES = 30  # how long "第二个" may still mean the second of the list shown
# Requests worth showing while open, and closed ones from the last while.
_KINDS = (
    "medical_escort", "hospital_admission", "reimbursement", "reimbursement_claim",
    "eldercare", "handoff", "forget_me",
)  # fmt: skip
UNDATED = float("inf")  # hand-offs and claims have no day: after everything that has one


async def my_records(ctx: Ctx) -> list[Reply]:
    """Upcoming bookings, sign-ups and every open request (claims and hand-offs too) with
    their states, by the day they happen, the nearest first."""
    if ctx.person is None:
        return [menu_reply(texts.RECORDS_NONE, ctx.config)]
    entries: list[tuple[float, str, str]] = []
    for registration, activity in await ctx.uow.activities.for_person(ctx.person.id, ctx.now):
        status = status_name(registration.status)
        if registration.status == "waitlisted":
            position = await ctx.uow.activities.waitlist_position(registration)
            status = texts.RECORDS_WAITLIST.format(position=position)
        line = texts.RECORDS_ACTIVITY.format(
            title=activity.title,
            when=activity_time(ctx, activity),
            who=who_phrase(ctx, registration.attendee),
            status=status,
        )
        entries.append((activity.starts_at.timestamp(), line, f"reg:{registration.id}"))
    for request in await ctx.uow.requests.for_person(ctx.person.id, kinds=_KINDS, open_only=True):
        if request.status == "rescheduled":
            continue
        name = texts.REQUEST_KINDS.get(request.kind, request.kind)
        detail = request.details.get("service_name") or request.details.get("hospital") or ""
        when = format_when(request.scheduled_date, request.scheduled_time)
        status = status_name(request.status)
        what = " ".join(part for part in (name, detail, when) if part)
        line = texts.RECORDS_REQUEST.format(what=what, status=status)
        day = request.scheduled_date
        at = datetime.combine(day, time(12), tzinfo=TZ).timestamp() if day is not None else UNDATED
        entries.append((at, line, f"req:{request.id}"))
    if not entries:
        return [menu_reply(texts.RECORDS_NONE, ctx.config)]
    entries.sort(key=lambda e: e[0])
    lines = [f"{n}. {line}" for n, (_, line, _) in enumerate(entries[:SHOWN], 1)]
    # "第二个不要了" next: the second of this list (rule 1: our own lists by ordinal).
    until = ctx.now + timedelta(minutes=LISTED_MINUTES)
    keys = [key for _, _, key in entries[:SHOWN]]
    ctx.conv.listed = {"keys": keys, "until": until.isoformat()}
    if len(entries) > SHOWN:
        lines.append(texts.RECORDS_MORE.format(n=len(entries) - SHOWN))
    return [
        Reply(texts.RECORDS_HEAD.format(lines="\n".join(lines)) + "\n" + texts.RECORDS_CANCEL_HINT)
    ]


_BOOKED = ("medical_escort", "eldercare", "reimbursement")


async def who_and_when(ctx: Ctx) -> list[Reply] | None:
    """ "谁陪我去 / 几点来 / 人定了没": the nearest matching booking, with the staff member
    assigned (or that nobody is yet, and when they will be); None without an open booking."""
    if ctx.person is None:
        return None
    turn = ctx.turn
    booked = [
        r
        for r in await ctx.uow.requests.for_person(ctx.person.id, kinds=_BOOKED, open_only=True)
        if r.scheduled_date is not None and r.scheduled_date >= ctx.today
    ]
    days = set(turn.values("date"))
    services = set(turn.values("service_type"))
    named = [
        r for r in booked
        if (not days or r.scheduled_date.isoformat() in days)  # type: ignore[union-attr]
        and (not services or r.details.get("service") in services)
    ]  # fmt: skip
    if not named:
        return None
    request = min(named, key=lambda r: (r.scheduled_date, r.id))
    name = texts.REQUEST_KINDS.get(request.kind, request.kind)
    detail = request.details.get("service_name") or request.details.get("hospital") or ""
    what = " ".join(p for p in (name, detail) if p)
    when = format_when(request.scheduled_date, request.scheduled_time)
    staff = (
        await ctx.uow.staff.get(request.assigned_staff_id) if request.assigned_staff_id else None
    )
    if staff is not None:
        text = texts.WHO_ASSIGNED.format(what=what, when=when, staff=staff.name)
    else:
        text = texts.WHO_NOT_YET.format(what=what, when=when)
    return [Reply(text)]
