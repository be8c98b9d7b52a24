"""Hand-off to a person: a request in the staff queue with the conversation's last messages."""

from __future__ import annotations

from datetime import datetime, timedelta

from handlers import texts
from handlers.base import Ctx, Reply, ServiceConfig
from handlers.care.contact import office_contact
from handlers.events import HandoffRequested
from handlers.wording import format_date
from storage.models import Staff

__all__ = ["handoff", "when_answered"]

RECENT_MESSAGES = 10


def when_answered(local_now: datetime, config: ServiceConfig) -> str:
    """When someone will answer, from the bureau's office hours."""
    open_now = (
        local_now.isoweekday() in config.office_days
        and config.office_open <= local_now.time() < config.office_close
    )
    if open_now:
        return texts.HANDOFF_SOON
    opens = config.office_open.strftime("%H:%M")
    if local_now.isoweekday() in config.office_days and local_now.time() < config.office_open:
        return texts.HANDOFF_TODAY.format(time=opens)
    day = local_now.date() + timedelta(days=1)
    while day.isoweekday() not in config.office_days:
        day += timedelta(days=1)
    return texts.HANDOFF_NEXT_DAY.format(day=format_date(day), time=opens)


async def create_handoff(ctx: Ctx, reason: str, contact: Staff | None = None) -> int:
    """File the hand-off request with the recent conversation; returns its id. With the
    person's own contact (一对一, in office hours), it is theirs from the start."""
    recent = await ctx.uow.messages.recent(ctx.channel, ctx.external_id, RECENT_MESSAGES)
    transcript = [
        {"at": m.created_at.isoformat(), "direction": m.direction, "text": m.text} for m in recent
    ]
    transcript.append({"at": ctx.now.isoformat(), "direction": "in", "text": ctx.turn.text})
    request = await ctx.uow.requests.create(
        "handoff",
        now=ctx.now,
        actor=ctx.actor,
        person_id=ctx.person.id if ctx.person else None,
        status="open",
        account_id=ctx.account.id if ctx.account else None,
        details={
            "reason": reason,
            "channel": ctx.channel,
            "external_id": ctx.external_id,
            "flow": ctx.conv.flow,
            "transcript": transcript,
        },
    )
    if contact is not None:
        request.assigned_staff_id = contact.id
        request.details = {**request.details, "routed_to": "contact"}
    ctx.emit(HandoffRequested(request_id=request.id, reason=reason))
    return request.id


async def handoff(ctx: Ctx, reason: str = "asked") -> list[Reply]:
    """Put a person on staff onto this conversation and say when they will answer; asked
    again while one is open, the same one (with what was said since added) is meant."""
    when = when_answered(ctx.local_now, ctx.config)
    if ctx.person is not None:
        [*open_ones] = await ctx.uow.requests.for_person(ctx.person.id, ["handoff"], open_only=True)
        if open_ones:
            request = open_ones[0]
            said = list(request.details.get("asked_again") or [])
            said.append({"at": ctx.now.isoformat(), "text": ctx.turn.text})
            request.details = {**request.details, "asked_again": said[-20:]}
            ctx.conv.end_flow()
            reply = texts.HANDOFF_ALREADY.format(
                id=request.id, when=when, hotline=ctx.config.hotline
            )
            return [Reply(reply)]
    contact = await office_contact(ctx)
    if contact is not None:
        when = texts.CARE_CONTACT_HANDOFF.format(name=contact.name, soon=texts.HANDOFF_SOON)
    await create_handoff(ctx, reason, contact)
    ctx.conv.end_flow()
    template = texts.HANDOFF_UNSURE if reason == "unsure" else texts.HANDOFF_OPEN
    return [Reply(template.format(when=when, hotline=ctx.config.hotline))]
