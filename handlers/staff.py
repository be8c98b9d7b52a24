"""What staff see when they write to the bot: the queue of open requests and closing one
of them ("完成 12 已探望"), and taking ("我来处理") and closing ("办结") an emergency they
were paged for. Only accounts bound as staff get here; every action is audited."""

from __future__ import annotations

import re

from handlers import alerts, phrases, sos, texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.events import AlertAcknowledged, AlertResolved, BroadcastCreated
from handlers.wording import format_when
from storage.alerts import TAKE_REFUSED
from storage.broadcasts import MANAGER_ROLES, MAX_TEXT, check_segment
from storage.models import Staff
from storage.repos import CLOSED_STATUSES

__all__ = ["QUEUE_KINDS", "is_command", "staff"]

BROADCAST_SLOT = "broadcast_draft"
QUEUE_KINDS = ("sos", "handoff", "hospital_visit", "medical_escort", "hospital_admission")
SHOWN = 10


def is_command(text: str) -> bool:
    """Staff's typed commands, which go to staff even when they read like an emergency
    ("代报求助 张建国 摔倒了", "群发 雨天路滑 谨防摔倒")."""
    said = text.strip()
    if phrases.BROADCAST_DRAFT.match(said):
        return True
    return any(
        p.match(said)
        for p in (
            phrases.ALERT_RAISE,
            phrases.ALERT_TAKE,
            phrases.ALERT_RESOLVE,
            phrases.REQUEST_DONE,
        )
    )


async def staff(ctx: Ctx) -> list[Reply]:
    """The open requests, oldest first; anything else gets the staff help line."""
    member = (
        await ctx.uow.staff.get(ctx.account.staff_id)
        if ctx.account and ctx.account.staff_id
        else None
    )
    name = member.name if member else ""
    said = ctx.turn.text.strip()
    take = phrases.ALERT_TAKE.match(said)
    done = phrases.ALERT_RESOLVE.match(said)
    if member is not None and (ctx.turn.intent == "alert_take" or take):
        return await _take(ctx, member, _alert_id(ctx, take))
    if member is not None and (ctx.turn.intent == "alert_resolve" or done):
        return await _resolve(ctx, member, _alert_id(ctx, done), done[2].strip() if done else "")
    closing = phrases.REQUEST_DONE.match(said)
    if member is not None and closing:
        return await _complete(ctx, member, int(closing[1]), closing[2].strip())
    raised = phrases.ALERT_RAISE.match(said)
    if member is not None and raised:
        return await _raise_for(ctx, raised[1])
    draft = ctx.conv.slots.pop(BROADCAST_SLOT, None)  # good for the very next message only
    if member is not None and ctx.turn.intent in {"broadcast_send", "broadcast_cancel"}:
        return await _broadcast(ctx, member, draft)
    composed = phrases.BROADCAST_DRAFT.match(said)
    if member is not None and composed:
        scope = f"{composed[1]}{composed[2]}" if composed[2] else None
        return await _compose(ctx, member, scope, composed[3].strip())
    if said not in phrases.STAFF_QUEUE:
        return [Reply(texts.STAFF_HELLO.format(name=name))]
    queue = await ctx.uow.requests.queue(QUEUE_KINDS, limit=SHOWN)
    if not queue:
        return [Reply(texts.STAFF_QUEUE_EMPTY)]
    ctx.uow.audit.record(
        ctx.now, ctx.actor, "queue_viewed", "service_request", None, count=len(queue)
    )
    lines = []
    for n, (request, person) in enumerate(queue, 1):
        lines.append(
            texts.STAFF_QUEUE_LINE.format(
                n=n,
                kind=texts.REQUEST_KINDS.get(request.kind, request.kind),
                who=person.name if person else texts.STAFF_UNKNOWN_PERSON,
                what=format_when(request.scheduled_date, request.scheduled_time),
                status=texts.REQUEST_STATUSES.get(request.status, request.status),
                id=request.id,
            )
        )
    return [Reply(texts.STAFF_QUEUE_HEAD.format(lines="\n".join(lines)))]


def _alert_id(ctx: Ctx, typed: re.Match[str] | None) -> int:
    if typed:
        return int(typed[1])
    value = next((e.get("value") for e in ctx.turn.entities if e.get("entity") == "alert"), 0)
    try:
        return int(str(value))
    except ValueError:
        return 0


async def _take(ctx: Ctx, member: Staff, alert_id: int) -> list[Reply]:
    """The first to take an alert gets it; everyone after is told who did."""
    alert = await ctx.uow.alerts.get(alert_id)
    if alert is None:
        return [Reply(texts.ALERT_NOT_FOUND.format(alert=alert_id))]
    if not await ctx.uow.alerts.acknowledge(alert_id, member.id, ctx.now):
        if alert.status == "resolved":
            return [Reply(texts.ALERT_ALREADY_CLOSED.format(alert=alert_id))]
        # Told here who has it, so the worker's "someone has taken it" skips this member.
        account_id = ctx.account.id if ctx.account else None
        ctx.uow.alerts.step(alert, TAKE_REFUSED, ctx.now, staff_id=member.id, account_id=account_id)
        taker = await ctx.uow.staff.get(alert.acknowledged_by) if alert.acknowledged_by else None
        return [Reply(texts.ALERT_TAKEN_BY_OTHER.format(alert=alert_id, staff=_name(taker)))]
    request = await ctx.uow.requests.get(alert.request_id)
    if request is not None:
        request.assigned_staff_id = member.id
        await ctx.uow.requests.set_status(
            request, "assigned", now=ctx.now, actor=f"staff:{member.id}", note=texts.ALERT_TAKE_NOTE
        )
    ctx.uow.audit.record(ctx.now, ctx.actor, "alert_taken", "alert", alert_id)
    ctx.emit(AlertAcknowledged(alert_id=alert_id, staff_id=member.id))
    person = await ctx.uow.alerts.person(alert)
    text = texts.ALERT_TAKEN_BY_YOU.format(
        alert=alert_id,
        name=person.name if person else texts.STAFF_UNKNOWN_PERSON,
        phone=(person.phone if person else None) or texts.ALERT_UNKNOWN_VALUE,
    )
    return [Reply(text, (alerts.resolve_option(alert_id),))]


async def _resolve(ctx: Ctx, member: Staff, alert_id: int, note: str) -> list[Reply]:
    """Close an alert with a note; the request's history and the alert's show it."""
    alert = await ctx.uow.alerts.get(alert_id)
    if alert is None:
        return [Reply(texts.ALERT_NOT_FOUND.format(alert=alert_id))]
    if not await ctx.uow.alerts.resolve(alert_id, member.id, ctx.now, note[:500]):
        return [Reply(texts.ALERT_ALREADY_CLOSED.format(alert=alert_id))]
    request = await ctx.uow.requests.get(alert.request_id)
    if request is not None:
        if request.assigned_staff_id is None:
            request.assigned_staff_id = member.id
        await ctx.uow.requests.set_status(
            request, "resolved", now=ctx.now, actor=f"staff:{member.id}", note=note[:500] or None
        )
    ctx.uow.audit.record(ctx.now, ctx.actor, "alert_resolved", "alert", alert_id)
    ctx.emit(AlertResolved(alert_id=alert_id, staff_id=member.id))
    return [Reply(texts.ALERT_RESOLVED.format(alert=alert_id))]


async def _complete(ctx: Ctx, member: Staff, request_id: int, note: str) -> list[Reply]:
    """Close a request from the queue (a hospital stay visited, an escort done) with a
    note; its history shows who closed it and why. Emergencies close through their alert."""
    request = await ctx.uow.requests.get(request_id)
    if request is None:
        return [Reply(texts.REQUEST_NOT_FOUND.format(id=request_id))]
    alert = await ctx.uow.alerts.for_request(request_id) if request.kind == "sos" else None
    if alert is not None and alert.status != "resolved":
        return [Reply(texts.REQUEST_IS_ALERT.format(id=request_id, alert=alert.id))]
    if request.status in CLOSED_STATUSES:
        status = texts.REQUEST_STATUSES.get(request.status, request.status)
        return [Reply(texts.REQUEST_ALREADY_CLOSED.format(id=request_id, status=status))]
    if request.assigned_staff_id is None:
        request.assigned_staff_id = member.id
    await ctx.uow.requests.set_status(
        request, "done", now=ctx.now, actor=f"staff:{member.id}", note=note[:500] or None
    )
    ctx.uow.audit.record(ctx.now, ctx.actor, "request_done", "service_request", request_id)
    person = await ctx.uow.people.get(request.person_id) if request.person_id else None
    return [
        Reply(
            texts.REQUEST_CLOSED.format(
                id=request_id,
                kind=texts.REQUEST_KINDS.get(request.kind, request.kind),
                who=person.name if person else texts.STAFF_UNKNOWN_PERSON,
            )
        )
    ]


def _name(member: Staff | None) -> str:
    return member.name if member else texts.ALERT_UNKNOWN_VALUE


async def _raise_for(ctx: Ctx, who: str) -> list[Reply]:
    """A staff member raises an emergency for a retiree (a neighbour rang the office)."""
    if who.isdigit():
        found = [p] if (p := await ctx.uow.people.get(int(who))) else []
    else:
        found = await ctx.uow.people.named(who)
    if len(found) != 1:
        return [Reply(texts.ALERT_RAISE_WHO.format(who=who))]
    [person] = found
    alert_id = await sos.raise_alert(ctx, person, person.address, for_account=False)
    return [Reply(texts.ALERT_RAISED_BY_STAFF.format(name=person.name, alert=alert_id))]


def _segment(scope: str | None) -> dict[str, object]:
    """ "@姑苏区" a district, "@离休" a category, "#书画组" a tag; None everyone."""
    if not scope:
        return {}
    mark, name = scope[0], scope[1:]
    if mark in phrases.TAG_MARKS:
        return {"tag": name}
    key, value = phrases.BROADCAST_SCOPES.get(name, ("district", name))
    return {key: value}


async def _compose(ctx: Ctx, member: Staff, scope: str | None, text: str) -> list[Reply]:
    """A broadcast drafted in the chat: who it would reach, and a confirmation."""
    if member.role not in MANAGER_ROLES:
        return [Reply(texts.STAFF_BROADCAST_NOT_ALLOWED)]
    if len(text) > MAX_TEXT:
        return [Reply(texts.STAFF_BROADCAST_TOO_LONG.format(length=len(text), limit=MAX_TEXT))]
    segment = _segment(scope)
    count = await ctx.uow.broadcasts.audience_size(segment, ctx.today)
    if not count:
        return [Reply(texts.STAFF_BROADCAST_EMPTY)]
    ctx.conv.slots[BROADCAST_SLOT] = {"text": text, "segment": segment}
    who = scope[1:] if scope else texts.STAFF_BROADCAST_EVERYONE
    options = (
        Option(texts.STAFF_BROADCAST_SEND, payload("broadcast_send")),
        Option(texts.STAFF_BROADCAST_CANCEL, payload("broadcast_cancel")),
    )
    preview = texts.STAFF_BROADCAST_PREVIEW.format(count=count, who=who, text=text)
    return [Reply(preview, options)]


async def _broadcast(ctx: Ctx, member: Staff, draft: object) -> list[Reply]:
    """Send the broadcast just previewed (or drop it)."""
    if not isinstance(draft, dict):
        return [Reply(texts.STAFF_BROADCAST_NOTHING)]
    if ctx.turn.intent == "broadcast_cancel":
        return [Reply(texts.STAFF_BROADCAST_CANCELLED)]
    if member.role not in MANAGER_ROLES:
        return [Reply(texts.STAFF_BROADCAST_NOT_ALLOWED)]
    segment = check_segment(dict(draft.get("segment") or {}))
    broadcast = await ctx.uow.broadcasts.create(
        str(draft["text"]), segment, member.id, ctx.now, ctx.today
    )
    ctx.uow.audit.record(
        ctx.now, ctx.actor, "broadcast_created", "broadcast", broadcast.id,
        segment=segment, recipients=broadcast.total,
    )  # fmt: skip
    ctx.emit(BroadcastCreated(broadcast_id=broadcast.id, recipients=broadcast.total))
    return [
        Reply(texts.STAFF_BROADCAST_QUEUED.format(broadcast=broadcast.id, count=broadcast.total))
    ]
