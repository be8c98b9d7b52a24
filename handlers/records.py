"""My records (一人一档 as the retiree sees it): upcoming bookings, sign-ups and open requests."""

from __future__ import annotations

from datetime import datetime, time

from handlers import texts
from handlers.activities import activity_time
from handlers.base import TZ, Ctx, Reply
from handlers.slots import who_phrase
from handlers.wording import format_when, menu_reply, status_name

__all__ = ["my_records"]

SHOWN = 8
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
    entries: list[tuple[float, str]] = []
    for registration, activity in await ctx.uow.activities.for_person(
        ctx.person.id, ctx.now, snapshot=True
    ):
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
        entries.append((activity.starts_at.timestamp(), line))
    for request in await ctx.uow.requests.for_person(
        ctx.person.id, kinds=_KINDS, open_only=True, snapshot=True
    ):
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
        entries.append((at, line))
    if not entries:
        return [menu_reply(texts.RECORDS_NONE, ctx.config)]
    entries.sort(key=lambda e: e[0])
    lines = [f"{n}. {line}" for n, (_, line) in enumerate(entries[:SHOWN], 1)]
    if len(entries) > SHOWN:
        lines.append(texts.RECORDS_MORE.format(n=len(entries) - SHOWN))
    return [
        Reply(texts.RECORDS_HEAD.format(lines="\n".join(lines)) + "\n" + texts.RECORDS_CANCEL_HINT)
    ]
