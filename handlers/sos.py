"""One-key help (一键通): an emergency goes into the staff queue at once, and the person
is told what to do meanwhile. It works before binding, and it interrupts any flow."""

from __future__ import annotations

from datetime import timedelta

from handlers import texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.events import SosRaised
from storage.models import Person

__all__ = ["raise_alert", "sos", "where"]

# How long an interrupted flow may be resumed after an emergency.
RESUME_MINUTES = 60


def where(ctx: Ctx) -> tuple[str | None, str | None]:
    """(where the person is, the line telling them): a shared location, else their address."""
    loc = ctx.conv.location
    if loc:
        where = str(loc.get("label") or f"{loc.get('latitude')},{loc.get('longitude')}")
        return where, texts.SOS_LOCATION.format(place=where)
    if ctx.person and ctx.person.address:
        return ctx.person.address, texts.SOS_ADDRESS.format(place=ctx.person.address)
    return None, None


async def raise_alert(
    ctx: Ctx, person: Person | None, place: str | None, *, for_account: bool = True
) -> int:
    """Write the SOS request and its alert, in the message's transaction: paging starts from
    the alert, and the reconciler finds it even if the job that should page it is lost."""
    request = await ctx.uow.requests.create(
        "sos",
        now=ctx.now,
        actor=ctx.actor,
        person_id=person.id if person else None,
        status="open",
        account_id=ctx.account.id if ctx.account and for_account else None,
        details={
            "text": ctx.turn.text,
            "channel": ctx.channel,
            "external_id": ctx.external_id,
            "location": ctx.conv.location if for_account else None,
        },
        due_at=ctx.now,
    )
    alert = await ctx.uow.alerts.raise_alert(request, place, ctx.now, ctx.actor)
    ctx.uow.audit.record(ctx.now, ctx.actor, "sos_raised", "service_request", request.id)
    ctx.emit(
        SosRaised(
            request_id=request.id,
            person_id=request.person_id,
            location=place,
            alert_id=alert.id,
            for_sender=for_account,
        )
    )
    return alert.id


async def sos(ctx: Ctx) -> list[Reply]:
    """Open an SOS request for staff and answer with the duty phone and first steps."""
    place, place_line = where(ctx)
    await raise_alert(ctx, ctx.person, place)
    lines = [texts.SOS_ACK.format(hotline=ctx.config.hotline)]
    if place_line:
        lines.append(place_line)
    elif ctx.person is None:
        lines.append(texts.SOS_ASK_ADDRESS)
    replies = [Reply("\n".join(lines))]
    suspended = ctx.conv.suspended
    if suspended:
        # The router parked the interrupted flow; offer to pick it up again.
        suspended["until"] = (ctx.now + timedelta(minutes=RESUME_MINUTES)).isoformat()
        title = str(suspended.get("title") or suspended["flow"])
        option = Option(texts.RESUME_LABEL.format(flow=title), payload("resume"))
        replies.append(Reply(texts.RESUME_OFFER.format(flow=title), (option,)))
    return replies
