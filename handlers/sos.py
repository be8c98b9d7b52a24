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
from storage.alerts import DETAIL, MESSAGE, OPEN_STATUSES, UNCONFIRMED
from storage.models import Alert, Person

__all__ = ["add_detail", "ask", "confirm", "deny", "open_alert", "raise_alert", "sos", "where"]

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
        if joined.status == UNCONFIRMED and await ctx.uow.alerts.confirm(
            joined.id, ctx.now, "confirmed"
        ):  # asked "is it an emergency?", and now it plainly is: page at once
            ctx.emit(_raised(joined, place, for_account))
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
            # Whom a user whose binding is not yet proven says they are (for the staff).
            "claimed_person_id": (
                ctx.account.pending_person_id if ctx.account and person is None else None
            ),
        },
        due_at=ctx.now,
    )
    alert = await ctx.uow.alerts.raise_alert(request, place, ctx.now, ctx.actor)
    ctx.uow.audit.record(ctx.now, ctx.actor, "sos_raised", "service_request", request.id)
    ctx.emit(_raised(alert, place, for_account))
    return alert, 1


def _raised(alert: Alert, place: str | None, for_sender: bool) -> SosRaised:
    return SosRaised(
        request_id=alert.request_id,
        person_id=alert.person_id,
        location=place,
        alert_id=alert.id,
        for_sender=for_sender,
    )


async def ask(ctx: Ctx, then: dict[str, object]) -> list[Reply]:
    """Only the classifier thinks this may be an emergency: ask first. The alert is written
    now, unconfirmed, and pages by itself (the reconciler) if the question is not
    answered in time; ``then`` is what to do after a "no" (the message's other reading)."""
    if await open_alert(ctx) is not None:
        return await sos(ctx)  # their emergency is open: this joins it
    if ctx.account is None:
        ctx.account = await ctx.uow.accounts.create_unbound(ctx.channel, ctx.external_id, ctx.now)
    place, _ = where(ctx)
    request = await ctx.uow.requests.create(
        "sos",
        now=ctx.now,
        actor=ctx.actor,
        person_id=ctx.person.id if ctx.person else None,
        status=UNCONFIRMED,
        account_id=ctx.account.id,
        details={"text": ctx.turn.text, "channel": ctx.channel, "external_id": ctx.external_id},
        due_at=ctx.now,
    )
    within = timedelta(seconds=ctx.config.sos_confirm_seconds)
    await ctx.uow.alerts.raise_alert(request, place, ctx.now, ctx.actor, unconfirmed_for=within)
    ctx.uow.audit.record(ctx.now, ctx.actor, "sos_asked", "service_request", request.id)
    ctx.conv.pending_sos = {"request": request.id, **then}
    options = (
        Option(texts.SOS_CONFIRM_YES, payload("sos_confirm", request=request.id)),
        Option(texts.SOS_CONFIRM_NO, payload("sos_deny", request=request.id)),
        Option(texts.INTENT_LABELS["human_agent"], payload("human_agent")),
    )
    return [Reply(texts.SOS_CONFIRM.format(hotline=ctx.config.hotline), options)]


async def _asked(ctx: Ctx, request_id: int | None) -> Alert | None:
    pending = ctx.conv.pending_sos or {}
    ctx.conv.pending_sos = None
    number = request_id or pending.get("request")
    if not number:
        return None
    alert = await ctx.uow.alerts.for_request(int(str(number)))
    if alert is None:
        return None
    if ctx.person is not None:  # theirs, or a family member's for the same person
        return alert if alert.person_id == ctx.person.id else None
    request = await ctx.uow.requests.get(alert.request_id)
    asker = request.requested_by_account_id if request else None
    return alert if ctx.account is not None and asker == ctx.account.id else None


async def confirm(ctx: Ctx, request_id: int | None = None) -> list[Reply]:
    """Yes, an emergency: the unconfirmed alert pages now (or a new one, if it is gone)."""
    alert = await _asked(ctx, request_id)
    if alert is None or alert.status not in OPEN_STATUSES:
        return await sos(ctx)
    if await ctx.uow.alerts.confirm(alert.id, ctx.now, "confirmed"):
        request = await ctx.uow.requests.get(alert.request_id)
        if request is not None:
            await ctx.uow.requests.set_status(request, "open", now=ctx.now, actor=ctx.actor)
        ctx.uow.audit.record(ctx.now, ctx.actor, "sos_confirmed", "alert", alert.id)
        ctx.emit(_raised(alert, alert.location, True))
    _, place_line = where(ctx)
    lines = [texts.SOS_ACK.format(hotline=ctx.config.hotline)]
    if place_line:
        lines.append(place_line)
    return [Reply("\n".join(lines))]


async def deny(ctx: Ctx, request_id: int | None = None) -> list[Reply]:
    """Not an emergency: the unconfirmed alert is dismissed (if it has not been paged for
    want of an answer — then the staff are told the person said no)."""
    alert = await _asked(ctx, request_id)
    if alert is None:
        return [Reply(texts.SOS_DENIED)]
    if await ctx.uow.alerts.dismiss(alert.id, ctx.now):
        request = await ctx.uow.requests.get(alert.request_id)
        if request is not None:
            await ctx.uow.requests.set_status(request, "cancelled", now=ctx.now, actor=ctx.actor)
        ctx.uow.audit.record(ctx.now, ctx.actor, "sos_dismissed", "alert", alert.id)
        return [Reply(texts.SOS_DENIED)]
    if alert.status in OPEN_STATUSES:  # paged already: the staff hear it was a "no"
        step = await ctx.uow.alerts.add_words(
            alert, DETAIL, texts.SOS_CONFIRM_NO, ctx.now, ctx.account.id if ctx.account else None
        )
        ctx.emit(AlertUpdated(alert_id=alert.id, step_id=step.id))
        return [Reply(texts.SOS_DENIED_LATE)]
    return [Reply(texts.SOS_DENIED)]


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


async def still_waiting(ctx: Ctx, alert: Alert) -> list[Reply]:
    """Someone whose emergency is open asks after help ("还没有人来吗"): it is another cry
    on that emergency (the staff on it are told, and the board shows it), answered with
    who is on it and the numbers to call — never read as a new request."""
    step = await ctx.uow.alerts.add_words(
        alert, MESSAGE, ctx.turn.text, ctx.now, ctx.account.id if ctx.account else None
    )
    ctx.uow.audit.record(ctx.now, ctx.actor, "sos_joined", "alert", alert.id, step=step.id)
    ctx.emit(AlertUpdated(alert_id=alert.id, step_id=step.id))
    taker = await ctx.uow.staff.get(alert.acknowledged_by) if alert.acknowledged_by else None
    if taker is not None:
        text = texts.SOS_STILL_WAITING_TAKEN.format(staff=taker.name, hotline=ctx.config.hotline)
    else:
        text = texts.SOS_STILL_WAITING.format(hotline=ctx.config.hotline)
    return [Reply(text)]


async def add_detail(ctx: Ctx, alert: Alert) -> list[Reply]:
    """Someone not on the roster writes after their emergency (their name, phone, where they
    are): it goes into the alert and to the staff on it."""
    step = await ctx.uow.alerts.add_words(
        alert, DETAIL, ctx.turn.text, ctx.now, ctx.account.id if ctx.account else None
    )
    ctx.uow.audit.record(ctx.now, ctx.actor, "sos_detail", "alert", alert.id, step=step.id)
    ctx.emit(AlertUpdated(alert_id=alert.id, step_id=step.id))
    return [Reply(texts.SOS_DETAIL_NOTED.format(hotline=ctx.config.hotline))]
