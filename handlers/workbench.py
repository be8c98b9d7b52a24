"""What staff do from the console (工作台): take, annotate and close an emergency; assign,
move on and annotate a request; answer a hand-off. The same rules as the chat commands of
handlers/staff.py: the first to take an emergency gets it, only duty and leader staff close
one, and every action is audited with the staff member, the action, the item and the time.

Each action runs in the caller's unit of work and returns a ``Done``: what to tell the
staff member, the domain events to publish after the commit (the same events as the chat's,
so the jobs tell the person and the other staff), and notices for the retiree (an escort
assigned, a staff answer) that the caller sends through the person's channel after the
commit. Who may call which action is the console's role table (bot/console/access.py);
the emergency rules are checked here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from handlers import texts
from handlers.base import Reply
from handlers.events import AlertAcknowledged, AlertResolved, Event
from handlers.wording import format_when, status_name
from storage.alerts import OPEN_STATUSES, TAKE_REFUSED
from storage.models import ChannelAccount, MessageRecord, ServiceRequest, Staff
from storage.repos import CLOSED_STATUSES
from storage.uow import UnitOfWork

__all__ = [
    "ALERT_OUTCOMES",
    "CLOSE_EMERGENCY_ROLES",
    "MAX_NOTE",
    "STATES",
    "WORKER_ROLES",
    "Done",
    "Notice",
    "assign",
    "close_alert",
    "move",
    "note",
    "reply",
    "take_alert",
]

CLOSE_EMERGENCY_ROLES = frozenset({"duty", "leader"})
WORKER_ROLES = frozenset({"clerk", "duty", "leader"})  # who can be given a request
ALERT_OUTCOMES = ("helped", "false_alarm", "cancelled")  # 已处置 | 误报 | 本人取消
# The states staff may put a request in from the console (an emergency closes on its own).
STATES = ("pending", "assigned", "booked", "done", "cancelled")
MAX_NOTE = 500
MAX_REPLY = 600


@dataclass(frozen=True, slots=True)
class Notice:
    """A message for a channel account, to send once the action is committed."""

    account_id: int
    reply: Reply
    purpose: str = "notice"


@dataclass(slots=True)
class Done:
    """How an action went."""

    ok: bool
    message: str
    events: list[Event] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)


def _actor(member: Staff) -> str:
    return f"staff:{member.id}"


def _speaks_for(account: ChannelAccount, request: ServiceRequest) -> bool:
    """Whether the account still speaks for the request's person (staff may have revoked
    its binding since; a stranger's request has no person to check)."""
    return request.person_id is None or account.person_id == request.person_id


async def _notice(uow: UnitOfWork, request: ServiceRequest, text: str) -> list[Notice]:
    """A notice to whoever asked, if their account still speaks for the person."""
    if request.requested_by_account_id is None:
        return []
    account = await uow.accounts.get(request.requested_by_account_id)
    if account is None or not account.active or not _speaks_for(account, request):
        return []
    return [Notice(account.id, Reply(text))]


def _kind(request: ServiceRequest) -> str:
    return texts.REQUEST_KINDS.get(request.kind, texts.STATUS_OTHER)


# ------------------------------------------------------------------ emergencies
async def take_alert(
    uow: UnitOfWork,
    member: Staff,
    request_id: int,
    now: datetime,
    *,
    account_id: int | None = None,
    via: str = "console",
) -> Done:
    """Take an emergency: the first to take it gets it; the rest are told who did (in the
    answer; ``account_id``, the chat account they pressed on, is then not told again)."""
    alert = await uow.alerts.for_request(request_id)
    if alert is None:
        return Done(False, texts.CONSOLE_NOT_FOUND.format(id=request_id))
    if not await uow.alerts.acknowledge(alert.id, member.id, now):
        if alert.acknowledged_by == member.id and alert.status == "acknowledged":
            return Done(True, texts.CONSOLE_ALERT_TAKEN.format(id=request_id))  # already theirs
        if alert.status == "resolved":
            return Done(False, texts.ALERT_ALREADY_CLOSED.format(id=request_id))
        uow.alerts.step(alert, TAKE_REFUSED, now, staff_id=member.id, account_id=account_id)
        uow.audit.record(now, _actor(member), "alert_take_refused", "alert", alert.id, via=via)
        taker = await uow.staff.get(alert.acknowledged_by) if alert.acknowledged_by else None
        name = taker.name if taker else texts.ALERT_UNKNOWN_VALUE
        return Done(False, texts.ALERT_TAKEN_BY_OTHER.format(id=request_id, staff=name))
    request = await uow.requests.get(request_id)
    if request is not None:
        request.assigned_staff_id = member.id
        await uow.requests.set_status(
            request, "assigned", now=now, actor=_actor(member), note=texts.ALERT_TAKE_NOTE
        )
    uow.audit.record(now, _actor(member), "alert_taken", "alert", alert.id, via=via)
    event = AlertAcknowledged(alert_id=alert.id, staff_id=member.id)
    return Done(True, texts.CONSOLE_ALERT_TAKEN.format(id=request_id), [event])


async def close_alert(
    uow: UnitOfWork, member: Staff, request_id: int, *, outcome: str, words: str, now: datetime
) -> Done:
    """Close an emergency with its outcome (duty and leader staff only)."""
    alert = await uow.alerts.for_request(request_id)
    if alert is None:
        return Done(False, texts.CONSOLE_NOT_FOUND.format(id=request_id))
    if member.role not in CLOSE_EMERGENCY_ROLES:
        uow.audit.record(now, _actor(member), "alert_close_refused", "alert", alert.id)
        return Done(False, texts.ALERT_CLOSE_NOT_ALLOWED)
    if outcome not in ALERT_OUTCOMES:
        return Done(False, texts.CONSOLE_OUTCOME_NEEDED)
    said = words.strip()[:MAX_NOTE]
    if not said:
        return Done(False, texts.CONSOLE_CLOSE_NOTE_NEEDED)
    label = texts.CONSOLE_OUTCOMES[outcome]
    full = texts.CONSOLE_OUTCOME_NOTE.format(outcome=label, note=said)
    if not await uow.alerts.resolve(alert.id, member.id, now, full):
        return Done(False, texts.ALERT_ALREADY_CLOSED.format(id=request_id))
    request = await uow.requests.get(request_id)
    if request is not None:
        request.details = {**(request.details or {}), "outcome": outcome}
        if request.assigned_staff_id is None:
            request.assigned_staff_id = member.id
        await uow.requests.set_status(request, "resolved", now=now, actor=_actor(member), note=full)
    uow.audit.record(
        now, _actor(member), "alert_resolved", "alert", alert.id, outcome=outcome, via="console"
    )
    event = AlertResolved(alert_id=alert.id, staff_id=member.id)
    return Done(True, texts.ALERT_RESOLVED.format(id=request_id), [event])


# ------------------------------------------------------------------ requests
async def note(uow: UnitOfWork, member: Staff, request_id: int, words: str, now: datetime) -> Done:
    """Add a note to a request's (or an emergency's) history."""
    said = words.strip()[:MAX_NOTE]
    request = await uow.requests.get(request_id)
    if request is None:
        return Done(False, texts.CONSOLE_NOT_FOUND.format(id=request_id))
    if not said:
        return Done(False, texts.CONSOLE_NOTE_EMPTY)
    alert = await uow.alerts.for_request(request_id) if request.kind == "sos" else None
    if alert is not None:
        uow.alerts.step(alert, "note", now, staff_id=member.id, note=said)
    else:
        uow.requests.note(request, said, now=now, actor=_actor(member))
    uow.audit.record(now, _actor(member), "request_noted", "service_request", request_id)
    return Done(True, texts.CONSOLE_NOTED.format(id=request_id))


async def assign(
    uow: UnitOfWork,
    member: Staff,
    request_id: int,
    staff_id: int,
    now: datetime,
) -> Done:
    """Give a request to a staff member; an escort's retiree is told who will go, and when."""
    request = await uow.requests.get(request_id)
    if request is None:
        return Done(False, texts.CONSOLE_NOT_FOUND.format(id=request_id))
    if request.status in CLOSED_STATUSES:
        status = status_name(request.status)
        return Done(False, texts.REQUEST_ALREADY_CLOSED.format(id=request_id, status=status))
    if request.kind == "sos":
        return Done(False, texts.CONSOLE_ALERT_ON_BOARD.format(id=request_id))
    helper = await uow.staff.get(staff_id)
    if helper is None or not helper.active or helper.role not in WORKER_ROLES:
        return Done(False, texts.CONSOLE_NO_SUCH_STAFF)
    if request.assigned_staff_id == helper.id:
        return Done(True, texts.CONSOLE_ASSIGNED.format(id=request_id, staff=helper.name))
    request.assigned_staff_id = helper.id
    request.updated_at = now
    target = "assigned" if request.status in {"pending", "open", "reported"} else request.status
    await uow.requests.set_status(
        request,
        target,
        now=now,
        actor=_actor(member),
        note=texts.CONSOLE_ASSIGNED_NOTE.format(staff=helper.name),
    )
    uow.audit.record(
        now, _actor(member), "request_assigned", "service_request", request_id, staff=helper.id
    )
    done = Done(True, texts.CONSOLE_ASSIGNED.format(id=request_id, staff=helper.name))
    if request.kind == "medical_escort":
        when = format_when(request.scheduled_date, request.scheduled_time)
        hospital = str((request.details or {}).get("hospital") or "")
        text = texts.ESCORT_ASSIGNED_NOTICE.format(
            when=when, hospital=hospital, staff=helper.name,
            phone=helper.phone or texts.ALERT_UNKNOWN_VALUE,
        )  # fmt: skip
        done.notices += await _notice(uow, request, text)
    return done


async def move(
    uow: UnitOfWork, member: Staff, request_id: int, *, status: str, words: str, now: datetime
) -> Done:
    """Put a request in another state (done, cancelled, …) with a note."""
    request = await uow.requests.get(request_id)
    if request is None:
        return Done(False, texts.CONSOLE_NOT_FOUND.format(id=request_id))
    if request.kind == "sos":
        return Done(False, texts.CONSOLE_ALERT_ON_BOARD.format(id=request_id))
    if request.kind == "identity_check":
        return Done(False, texts.REQUEST_IS_IDENTITY.format(id=request_id))
    if request.status == status:
        return Done(True, texts.CONSOLE_UNCHANGED)
    if status not in STATES:
        return Done(False, texts.CONSOLE_BAD_STATE)
    if request.status in CLOSED_STATUSES:
        now_status = status_name(request.status)
        return Done(False, texts.REQUEST_ALREADY_CLOSED.format(id=request_id, status=now_status))
    if status == "cancelled" and not words.strip():
        return Done(False, texts.CONSOLE_CANCEL_REASON_NEEDED)
    if status in {"done", "assigned"} and request.assigned_staff_id is None:
        request.assigned_staff_id = member.id
    said = words.strip()[:MAX_NOTE] or None
    await uow.requests.set_status(request, status, now=now, actor=_actor(member), note=said)
    uow.audit.record(
        now, _actor(member), "request_moved", "service_request", request_id, status=status
    )
    done = Done(True, texts.CONSOLE_MOVED.format(id=request_id, status=status_name(status)))
    if status == "cancelled":
        # A booking staff cancel concerns the person: they are told, with the reason.
        when = format_when(request.scheduled_date, request.scheduled_time)
        text = texts.CANCELLED_BY_STAFF_NOTICE.format(
            kind=_kind(request), id=request_id, when=when, why=said or texts.ALERT_CLOSE_NO_NOTE
        )
        done.notices += await _notice(uow, request, text)
    return done


# ------------------------------------------------------------------ hand-offs
async def reply(uow: UnitOfWork, member: Staff, request_id: int, words: str, now: datetime) -> Done:
    """Answer a hand-off: the answer goes to whoever asked, on the channel they wrote on,
    and into the conversation's transcript; the hand-off is then being handled."""
    said = words.strip()
    request = await uow.requests.get(request_id)
    if request is None:
        return Done(False, texts.CONSOLE_NOT_FOUND.format(id=request_id))
    if request.kind == "sos":
        return Done(False, texts.CONSOLE_ALERT_ON_BOARD.format(id=request_id))
    if not said:
        return Done(False, texts.CONSOLE_REPLY_EMPTY)
    if len(said) > MAX_REPLY:
        return Done(False, texts.CONSOLE_REPLY_TOO_LONG.format(limit=MAX_REPLY))
    account = (
        await uow.accounts.get(request.requested_by_account_id)
        if request.requested_by_account_id
        else None
    )
    if account is None or not account.active or not _speaks_for(account, request):
        return Done(False, texts.CONSOLE_NO_CHANNEL)
    text = texts.STAFF_ANSWER.format(staff=member.name, text=said)
    uow.messages.add(
        MessageRecord(
            channel=account.channel,
            external_user_id=account.external_id,
            account_id=account.id,
            person_id=request.person_id,
            direction="out",
            kind="staff",
            text=text,
            created_at=now,
        )
    )
    if request.assigned_staff_id is None:
        request.assigned_staff_id = member.id
    if request.status not in CLOSED_STATUSES and request.status != "assigned":
        await uow.requests.set_status(
            request, "assigned", now=now, actor=_actor(member), note=said[:MAX_NOTE]
        )
    else:
        uow.requests.note(request, said[:MAX_NOTE], now=now, actor=_actor(member))
    uow.audit.record(now, _actor(member), "handoff_answered", "service_request", request_id)
    done = Done(True, texts.CONSOLE_REPLIED.format(id=request_id))
    done.notices.append(Notice(account.id, Reply(text), purpose="late_reply"))
    return done


def still_open(status: str) -> bool:
    """Whether an emergency is still someone's to take or close."""
    return status in OPEN_STATUSES
