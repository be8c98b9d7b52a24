"""What staff see when they write to the bot: their queue (待办), taking an item ("接 12",
"我来处理"), closing one ("完成 12 已探望") and closing an emergency ("办结 12 已送医",
after a confirmation that names the person). Staff see one number everywhere: the
request's, in 待办, in pages and in every reply. Only accounts bound as staff get here;
every action is audited with the staff member, the action, the item and the time."""

from __future__ import annotations

import re

from handlers import alerts, binding, phrases, sos, texts, visits, workbench
from handlers.base import Ctx, Option, Reply, payload
from handlers.events import AlertResolved, BindingDecided, BroadcastCreated
from handlers.wording import format_when, status_name
from storage.broadcasts import MANAGER_ROLES, MAX_TEXT, check_segment
from storage.models import ServiceRequest, Staff
from storage.repos import CLOSED_STATUSES

__all__ = ["QUEUE_KINDS", "is_command", "staff"]

BROADCAST_SLOT = "broadcast_draft"
CLOSING_SLOT = "closing_emergency"  # an emergency 办结 waiting for its confirmation
CLOSE_YES, CLOSE_NO = "alert_resolve_confirm", "alert_resolve_cancel"
QUEUE_KINDS = (
    "sos", "handoff", "identity_check", "forget_me",
    "hospital_visit", "medical_escort", "hospital_admission",
    "must_visit", "volunteer_hours", "plan_item", "doctor_renewal",
    "admission_review",
)  # fmt: skip
# Closing an emergency is the duty officer's or a leader's call; leaders and admins see
# (and may close) everyone's items, the others their own and nobody's.
CLOSE_EMERGENCY_ROLES = frozenset({"duty", "leader"})
SEE_ALL_ROLES = frozenset({"leader", "admin"})
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
            phrases.VISIT_LOG,
            phrases.VISIT_OCCASION,
            phrases.IDENTITY_APPROVE,
            phrases.IDENTITY_REJECT,
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
    intent = ctx.turn.intent
    # What the last reply asked to confirm is good for the very next message only.
    closing = ctx.conv.slots.pop(CLOSING_SLOT, None)
    draft = ctx.conv.slots.pop(BROADCAST_SLOT, None)
    if member is None:
        return [Reply(texts.STAFF_HELLO.format(name=name))]
    if intent in {CLOSE_YES, CLOSE_NO}:
        return await _confirm_close(ctx, member, closing)
    take = phrases.ALERT_TAKE.match(said)
    if intent == "alert_take" or take:
        return await _take(ctx, member, await _number(ctx, take))
    done = phrases.ALERT_RESOLVE.match(said)
    if intent == "alert_resolve" or done:
        note = done[2].strip() if done else ""
        return await _close(ctx, member, await _number(ctx, done), note)
    identity = phrases.IDENTITY_APPROVE.match(said) or phrases.IDENTITY_REJECT.match(said)
    if identity:
        approve = bool(phrases.IDENTITY_APPROVE.match(said))
        return await _identity(ctx, member, int(identity[1]), approve)
    visit = phrases.VISIT_LOG.match(said)
    if visit:
        return await visits.chat_visit(ctx, member, int(visit[1]), visit[2].strip())
    occasion = phrases.VISIT_OCCASION.match(said)
    if occasion:
        return await visits.chat_occasion(ctx, member, occasion[1], occasion[2], occasion[3])
    closing_typed = phrases.REQUEST_DONE.match(said)
    if closing_typed:
        return await _complete(ctx, member, int(closing_typed[1]), closing_typed[2].strip())
    raised = phrases.ALERT_RAISE.match(said)
    if raised:
        return await _raise_for(ctx, raised[1])
    if intent in {"broadcast_send", "broadcast_cancel"}:
        return await _broadcast(ctx, member, draft)
    composed = phrases.BROADCAST_DRAFT.match(said)
    if composed:
        scope = f"{composed[1]}{composed[2]}" if composed[2] else None
        return await _compose(ctx, member, scope, composed[3].strip())
    if said not in phrases.STAFF_QUEUE:
        return [Reply(texts.STAFF_HELLO.format(name=name))]
    return await _queue(ctx, member)


def _actor(member: Staff) -> str:
    return f"staff:{member.id}"


def _mine(member: Staff) -> int | None:
    """Whose items a staff member's queue holds: theirs and nobody's (None: everyone's)."""
    return None if member.role in SEE_ALL_ROLES else member.id


async def _queue(ctx: Ctx, member: Staff) -> list[Reply]:
    """待办: the member's queue, each item with the one number every command takes."""
    queue = await ctx.uow.requests.queue(QUEUE_KINDS, limit=SHOWN, staff_id=_mine(member))
    ctx.uow.audit.record(
        ctx.now, _actor(member), "queue_viewed", "service_request", None, count=len(queue)
    )
    if not queue:
        return [Reply(texts.STAFF_QUEUE_EMPTY)]
    lines = [
        texts.STAFF_QUEUE_LINE.format(
            id=request.id,
            kind=texts.REQUEST_KINDS.get(request.kind, texts.STATUS_OTHER),
            who=person.name if person else texts.STAFF_UNKNOWN_PERSON,
            what=format_when(request.scheduled_date, request.scheduled_time),
            status=status_name(request.status),
        )
        for request, person in queue
    ]
    return [Reply(texts.STAFF_QUEUE_HEAD.format(lines="\n".join(lines)))]


async def _number(ctx: Ctx, typed: re.Match[str] | None) -> int:
    """The request number a command is about: typed, or carried by the button pressed
    (buttons of pages sent before request numbers were used carry the alert's id)."""
    if typed:
        return int(typed[1])
    values = {str(e.get("entity")): e.get("value") for e in ctx.turn.entities}
    try:
        if values.get("request") is not None:
            return int(str(values["request"]))
        if values.get("alert") is not None:
            alert = await ctx.uow.alerts.get(int(str(values["alert"])))
            return alert.request_id if alert is not None else 0
    except ValueError:
        pass
    return 0


async def _take(ctx: Ctx, member: Staff, request_id: int) -> list[Reply]:
    """接 N: the first to take an emergency gets it (everyone after is told who did); any
    other item of the queue becomes the member's."""
    request = await ctx.uow.requests.get(request_id) if request_id else None
    if request is None:
        return [Reply(texts.REQUEST_NOT_FOUND.format(id=request_id))]
    if request.kind != "sos":
        return await _take_request(ctx, member, request)
    account_id = ctx.account.id if ctx.account else None
    done = await workbench.take_alert(
        ctx.uow, member, request.id, ctx.now, account_id=account_id, via="chat"
    )
    for event in done.events:
        ctx.emit(event)
    if not done.ok:
        return [Reply(done.message)]
    alert = await ctx.uow.alerts.for_request(request.id)
    person = await ctx.uow.alerts.person(alert) if alert is not None else None
    text = texts.ALERT_TAKEN_BY_YOU.format(
        id=request.id,
        name=person.name if person else texts.STAFF_UNKNOWN_PERSON,
        phone=(person.phone if person else None) or texts.ALERT_UNKNOWN_VALUE,
    )
    return [Reply(text, (alerts.resolve_option(request.id),))]


async def _take_request(ctx: Ctx, member: Staff, request: ServiceRequest) -> list[Reply]:
    refused = await _not_in_queue(ctx, member, request)
    if refused is not None:
        return refused
    if request.assigned_staff_id != member.id:
        request.assigned_staff_id = member.id
        request.updated_at = ctx.now
    ctx.uow.audit.record(ctx.now, _actor(member), "request_taken", "service_request", request.id)
    person = await ctx.uow.people.get(request.person_id) if request.person_id else None
    return [
        Reply(
            texts.REQUEST_TAKEN.format(
                id=request.id,
                kind=texts.REQUEST_KINDS.get(request.kind, texts.STATUS_OTHER),
                who=person.name if person else texts.STAFF_UNKNOWN_PERSON,
            )
        )
    ]


async def _not_in_queue(ctx: Ctx, member: Staff, request: ServiceRequest) -> list[Reply] | None:
    """Why a request is not the member's to take or close (None when it is)."""
    if request.status in CLOSED_STATUSES:
        status = status_name(request.status)
        return [Reply(texts.REQUEST_ALREADY_CLOSED.format(id=request.id, status=status))]
    if request.kind not in QUEUE_KINDS:
        return [Reply(texts.REQUEST_NOT_QUEUED.format(id=request.id))]
    owner = request.assigned_staff_id
    if owner is not None and owner != member.id and _mine(member) is not None:
        other = await ctx.uow.staff.get(owner)
        return [Reply(texts.REQUEST_NOT_YOURS.format(id=request.id, staff=_name(other)))]
    return None


async def _close(ctx: Ctx, member: Staff, request_id: int, note: str) -> list[Reply]:
    """办结 N: an emergency is closed by duty or leader staff, after they confirm whose it
    is; any other request closes as with 完成."""
    request = await ctx.uow.requests.get(request_id) if request_id else None
    if request is None:
        return [Reply(texts.REQUEST_NOT_FOUND.format(id=request_id))]
    if request.kind != "sos":
        return await _complete(ctx, member, request.id, note)
    alert = await ctx.uow.alerts.for_request(request.id)
    if alert is None or alert.status == "resolved":
        return [Reply(texts.ALERT_ALREADY_CLOSED.format(id=request.id))]
    if member.role not in CLOSE_EMERGENCY_ROLES:
        ctx.uow.audit.record(ctx.now, _actor(member), "alert_close_refused", "alert", alert.id)
        return [Reply(texts.ALERT_CLOSE_NOT_ALLOWED)]
    person = await ctx.uow.alerts.person(alert)
    ctx.conv.slots[CLOSING_SLOT] = {"request": request.id, "note": note[:500]}
    options = (
        Option(texts.ALERT_CLOSE_YES, payload(CLOSE_YES)),
        Option(texts.ALERT_CLOSE_NO, payload(CLOSE_NO)),
    )
    question = texts.ALERT_CLOSE_CONFIRM.format(
        name=person.name if person else texts.STAFF_UNKNOWN_PERSON,
        id=request.id,
        note=note[:100] or texts.ALERT_CLOSE_NO_NOTE,
    )
    return [Reply(question, options)]


async def _confirm_close(ctx: Ctx, member: Staff, closing: object) -> list[Reply]:
    """The answer to "确认办结…吗？": close the emergency with its note, or leave it open."""
    if not isinstance(closing, dict):
        return [Reply(texts.ALERT_CLOSE_NOTHING)]
    request_id, note = int(closing["request"]), str(closing.get("note") or "")
    if ctx.turn.intent == CLOSE_NO:
        return [Reply(texts.ALERT_CLOSE_KEPT.format(id=request_id))]
    if member.role not in CLOSE_EMERGENCY_ROLES:
        return [Reply(texts.ALERT_CLOSE_NOT_ALLOWED)]
    alert = await ctx.uow.alerts.for_request(request_id)
    if alert is None or not await ctx.uow.alerts.resolve(alert.id, member.id, ctx.now, note):
        return [Reply(texts.ALERT_ALREADY_CLOSED.format(id=request_id))]
    request = await ctx.uow.requests.get(request_id)
    if request is not None:
        if request.assigned_staff_id is None:
            request.assigned_staff_id = member.id
        await ctx.uow.requests.set_status(
            request, "resolved", now=ctx.now, actor=_actor(member), note=note or None
        )
    ctx.uow.audit.record(ctx.now, _actor(member), "alert_resolved", "alert", alert.id)
    ctx.emit(AlertResolved(alert_id=alert.id, staff_id=member.id))
    return [Reply(texts.ALERT_RESOLVED.format(id=request_id))]


async def _complete(ctx: Ctx, member: Staff, request_id: int, note: str) -> list[Reply]:
    """完成 N: close an item of the member's queue (a hospital stay visited, an escort
    done) with a note; its history shows who closed it and why. Emergencies close with 办结."""
    request = await ctx.uow.requests.get(request_id)
    if request is None:
        return [Reply(texts.REQUEST_NOT_FOUND.format(id=request_id))]
    alert = await ctx.uow.alerts.for_request(request_id) if request.kind == "sos" else None
    if alert is not None and alert.status != "resolved":
        return [Reply(texts.REQUEST_IS_ALERT.format(id=request_id))]
    if request.kind == "identity_check" and request.status not in CLOSED_STATUSES:
        return [Reply(texts.REQUEST_IS_IDENTITY.format(id=request_id))]
    refused = await _not_in_queue(ctx, member, request)
    if refused is not None:
        return refused
    if request.assigned_staff_id is None:
        request.assigned_staff_id = member.id
    await ctx.uow.requests.set_status(
        request, "done", now=ctx.now, actor=_actor(member), note=note[:500] or None
    )
    if request.kind in visits.VISIT_KINDS:  # a visit made: kept on the must-visit ledger
        await visits.visited(ctx.uow, member, request, note, ctx.now)
    ctx.uow.audit.record(ctx.now, _actor(member), "request_done", "service_request", request_id)
    person = await ctx.uow.people.get(request.person_id) if request.person_id else None
    return [
        Reply(
            texts.REQUEST_CLOSED.format(
                id=request_id,
                kind=texts.REQUEST_KINDS.get(request.kind, texts.STATUS_OTHER),
                who=person.name if person else texts.STAFF_UNKNOWN_PERSON,
            )
        )
    ]


async def _identity(ctx: Ctx, member: Staff, request_id: int, approve: bool) -> list[Reply]:
    """核实 N / 驳回 N: a staff member decides a pending binding from the queue (after
    calling the person on the roster's phone); the user is told either way."""
    request = await ctx.uow.requests.get(request_id)
    check = await ctx.uow.verification.by_request(request_id) if request else None
    if request is None or check is None:
        return [Reply(texts.REQUEST_NOT_FOUND.format(id=request_id))]
    if check.status != "pending":
        return [Reply(texts.IDENTITY_ALREADY.format(id=request_id))]
    person = await ctx.uow.people.get(check.person_id)
    who = person.name if person else texts.STAFF_UNKNOWN_PERSON
    if approve:
        await binding.verify(ctx, check, "staff")
    else:
        await ctx.uow.verification.decide(check, "rejected", "staff", _actor(member), ctx.now)
        await ctx.uow.requests.set_status(request, "cancelled", now=ctx.now, actor=_actor(member))
        ctx.uow.audit.record(
            ctx.now, _actor(member), "binding_rejected", "identity_check", check.id, how="staff"
        )
    ctx.emit(BindingDecided(account_id=check.account_id, approved=approve))
    done = texts.IDENTITY_APPROVED if approve else texts.IDENTITY_REJECTED
    return [Reply(done.format(id=request_id, who=who))]


def _name(member: Staff | None) -> str:
    return member.name if member else texts.ALERT_UNKNOWN_VALUE


async def _raise_for(ctx: Ctx, who: str) -> list[Reply]:
    """A staff member raises an emergency for a retiree (a neighbour rang the office)."""
    if who.isdecimal():
        found = [p] if (p := await ctx.uow.people.get(int(who))) else []
    else:
        found = await ctx.uow.people.named(who)
    if len(found) != 1:
        return [Reply(texts.ALERT_RAISE_WHO.format(who=who))]
    [person] = found
    alert, _ = await sos.raise_alert(ctx, person, person.address, for_account=False)
    return [Reply(texts.ALERT_RAISED_BY_STAFF.format(name=person.name, id=alert.request_id))]


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
