"""One-key help (一键通): an emergency goes into the staff queue at once, and the person
is told what to do meanwhile. It works before binding, and it interrupts any flow.

One emergency, one alert: while a person's alert is open, their further emergency
messages (or their family's) join it — one paging chain, each message in its history and
sent on to the staff on it — and each is acknowledged. Someone not on the roster who
writes again after their emergency (their name, where they are) has that added too.
"""

from __future__ import annotations

from datetime import timedelta

from handlers import texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.events import AlertUpdated, SosRaised
from storage.alerts import DETAIL, MESSAGE
from storage.models import Alert, Person

__all__ = ["add_detail", "open_alert", "raise_alert", "sos", "where"]

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


async def open_alert(ctx: Ctx) -> Alert | None:
    """The sender's open emergency: their person's, or (not on the roster) their own."""
    if ctx.person is not None:
        return await ctx.uow.alerts.open_for(ctx.person.id, None)
    if ctx.account is not None:
        return await ctx.uow.alerts.open_for(None, ctx.account.id)
    return None


async def raise_alert(
    ctx: Ctx, person: Person | None, place: str | None, *, for_account: bool = True
) -> tuple[Alert, int]:
    """Write the SOS request and its alert, in the message's transaction: paging starts from
    the alert, and the reconciler finds it even if the job that should page it is lost.
    If the person already has an open alert, the message joins it instead. Returns the
    alert and which emergency message of it this is (1 for the first)."""
    if for_account and ctx.account is None:
        # Someone not on the roster: an account of their own, so that what they write next
        # joins this alert and they hear when someone has taken it.
        ctx.account = await ctx.uow.accounts.create_unbound(ctx.channel, ctx.external_id, ctx.now)
    account_id = ctx.account.id if ctx.account and for_account else None
    joined = await ctx.uow.alerts.open_for(
        person.id if person else None, None if person else account_id
    )
    if joined is not None:
        if place and not joined.location:
            joined.location = place[:200]
        step = await ctx.uow.alerts.add_words(joined, MESSAGE, ctx.turn.text, ctx.now, account_id)
        ctx.uow.audit.record(ctx.now, ctx.actor, "sos_joined", "alert", joined.id, step=step.id)
        ctx.emit(AlertUpdated(alert_id=joined.id, step_id=step.id))
        said = await ctx.uow.alerts.words(joined.id)
        return joined, 1 + sum(s.kind == MESSAGE for s in said)
    request = await ctx.uow.requests.create(
        "sos",
        now=ctx.now,
        actor=ctx.actor,
        person_id=person.id if person else None,
        status="open",
        account_id=account_id,
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
    return alert, 1


async def sos(ctx: Ctx) -> list[Reply]:
    """Open an SOS request for staff (or add to the open one) and answer with the duty phone
    and first steps."""
    place, place_line = where(ctx)
    alert, nth = await raise_alert(ctx, ctx.person, place)
    if nth == 1:
        lines = [texts.SOS_ACK.format(hotline=ctx.config.hotline)]
    elif alert.acknowledged_by is not None:
        taker = await ctx.uow.staff.get(alert.acknowledged_by)
        name = taker.name if taker else ""
        lines = [texts.SOS_AGAIN_TAKEN.format(n=nth, staff=name, hotline=ctx.config.hotline)]
    else:
        lines = [texts.SOS_AGAIN.format(n=nth, hotline=ctx.config.hotline)]
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


async def add_detail(ctx: Ctx, alert: Alert) -> list[Reply]:
    """Someone not on the roster writes after their emergency (their name, phone, where they
    are): it goes into the alert and to the staff on it."""
    step = await ctx.uow.alerts.add_words(
        alert, DETAIL, ctx.turn.text, ctx.now, ctx.account.id if ctx.account else None
    )
    ctx.uow.audit.record(ctx.now, ctx.actor, "sos_detail", "alert", alert.id, step=step.id)
    ctx.emit(AlertUpdated(alert_id=alert.id, step_id=step.id))
    return [Reply(texts.SOS_DETAIL_NOTED.format(hotline=ctx.config.hotline))]
