"""Each person's plan (一人一策) at work: the job that turns due plan items and expiring
family-doctor contracts into tasks in the staff queue, and reports tasks long overdue to
the leader on duty.

``CarePlans`` (in the job registry, bot/jobs.py) looks at most once an hour per worker:

- every active plan item due today or before becomes one ``plan_item`` task (its day is
  the item's due day) and the item's next due day moves on by its cadence (past today:
  a plan left alone for months files one task, not a backlog). The move is a conditional
  update on the day it was, so two workers, or the same one twice, file the task once;
- every contract running out within 30 days (or already run out) becomes one
  ``doctor_renewal`` task per expiry day (the contract remembers the day it was filed for;
  a renewed contract that runs out again gets a new one);
- from 08:30 to 20:00 local, open plan tasks ``plan_overdue_days`` (settings) or more days
  past their day are sent to the leader on duty (level 3 of the duty roster) on their
  staff accounts, once per task and account (a claim in ``reminders``, kind
  ``plan_overdue``), and the task's history says so. Nobody on duty with an account: they
  wait for the next look.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import structlog

from handlers import texts
from handlers.base import TZ, Reply
from handlers.care.tasks import escalation
from services.ports import BLOCKED, FAILED, SENT, Context
from storage.alerts import LEADER
from storage.care import CONTRACT_TASK, PLAN_TASK
from storage.models import ChannelAccount, ServiceRequest
from storage.reminders import Claim
from storage.uow import UnitOfWork

__all__ = [
    "CADENCES",
    "ESCALATION",
    "TELL_CONTACT",
    "CarePlans",
    "escalate",
    "file_due",
    "following",
    "handoff_args",
    "tell_contact",
]

log = structlog.get_logger("yinling.care")

# cadence -> (months, weeks) between two due days
CADENCES = {
    "weekly_care": (0, 1),
    "monthly_call": (1, 0),
    "quarterly_visit": (3, 0),
    "doctor_followup": (3, 0),
}
OWNERS = ("staff", "street", "provider", "family")
EXPIRING_WITHIN = timedelta(days=30)
ESCALATION = "plan_overdue"  # the reminder kind of a leader's report on an overdue task
SEND_FROM, UNTIL = time(8, 30), time(20, 0)
BATCH = 500  # items, contracts per look at most (a full batch: looked at again next time)
ACTOR = "system:plans"
PURPOSE = "plan_overdue"
PURPOSE_CONTACT = "handoff_contact"
ASKED = frozenset({"asked", "unsure"})


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def following(cadence: str, due: date, today: date) -> date:
    """The item's next due day after ``due`` by its cadence, and after today."""
    months, weeks = CADENCES.get(cadence, (1, 0))
    step, n = due, 0
    while step <= today:
        n += 1
        step = _add_months(due, months * n) + timedelta(weeks=weeks * n)
    return step


async def file_due(jobs: Context, today: date, now: datetime) -> Counter[str]:
    """File a task for every plan item due and every contract running out; what was filed."""
    filed: Counter[str] = Counter()
    async with UnitOfWork(jobs.sessions) as uow:
        for item in await uow.care.due_items(today, BATCH):
            due = item.next_due
            if not await uow.care.advance(item.id, due, following(item.cadence, due, today), now):
                continue  # another worker filed it
            await uow.requests.create(
                PLAN_TASK, now=now, actor=ACTOR, person_id=item.person_id, status="pending",
                scheduled_date=due, due_at=datetime.combine(due, time(18), TZ).astimezone(UTC),
                details={"plan_item_id": item.id, "cadence": item.cadence, "owner": item.owner,
                         "note": item.note},
            )  # fmt: skip
            filed[PLAN_TASK] += 1
        for contract in await uow.care.expiring(today + EXPIRING_WITHIN, BATCH):
            until = contract.valid_until
            if until is None or not await uow.care.claim_renewal(contract.id, until, now):
                continue
            await uow.requests.create(
                CONTRACT_TASK, now=now, actor=ACTOR, person_id=contract.person_id,
                status="pending", scheduled_date=until,
                details={"contract_id": contract.id, "doctor": contract.doctor,
                         "clinic": contract.clinic, "valid_until": until.isoformat()},
            )  # fmt: skip
            filed[CONTRACT_TASK] += 1
        await uow.commit()
    return filed


async def escalate(jobs: Context, today: date, now: datetime) -> Counter[str]:
    """Send the leader on duty the plan tasks overdue by the configured days or more;
    how the sends went."""
    days = jobs.config.plan_overdue_days
    results: Counter[str] = Counter()
    async with UnitOfWork(jobs.sessions) as uow:
        leaders = await uow.reminders.on_duty(now, LEADER)
        if not leaders:
            return results
        rows = await uow.care.overdue_tasks(today - timedelta(days=days), BATCH)
    rows = [(r, p) for r, p in rows if r.scheduled_date and not r.details.get("escalated_on")]
    if not rows:
        return results
    claims = [
        Claim(r.scheduled_date, ESCALATION, r.id, a.id, r.person_id)  # type: ignore[arg-type]
        for r, _ in rows
        for a in leaders
    ]
    async with UnitOfWork(jobs.sessions) as uow:
        claimed = await uow.reminders.claim(claims, now)
        await uow.commit()
    told: set[int] = set()
    for account in leaders:
        mine = [
            (r, p) for r, p in rows if (r.scheduled_date, ESCALATION, r.id, account.id) in claimed
        ]
        if not mine:
            continue
        try:
            result = await jobs.notifier.send(account, [escalation(mine, days)], purpose=PURPOSE)
        except Exception:  # one account's trouble must not stop the others'
            log.exception("plan_escalation_failed", account_id=account.id)
            result = FAILED
        ids = [claimed[(r.scheduled_date, ESCALATION, r.id, account.id)] for r, _ in mine]  # type: ignore[index]
        async with UnitOfWork(jobs.sessions) as uow:
            await uow.reminders.record(ids, result, now)
            if result == BLOCKED:
                await uow.accounts.deactivate(account.channel, account.external_id)
            await uow.commit()
        results[result] += 1
        if result == SENT:
            told.update(r.id for r, _ in mine)
    if told:
        await _mark(jobs, told, today, days, now)
    return results


async def _mark(jobs: Context, ids: set[int], today: date, days: int, now: datetime) -> None:
    """The tasks' history: reported to the leader (so they are not reported again)."""
    async with UnitOfWork(jobs.sessions) as uow:
        for request_id in sorted(ids):
            request: ServiceRequest | None = await uow.requests.get(request_id)
            if request is None:
                continue
            request.details = {**request.details, "escalated_on": today.isoformat()}
            uow.requests.note(request, texts.CARE_ESCALATION_NOTE.format(days=days), now=now,
                              actor=ACTOR)  # fmt: skip
        await uow.commit()


# ----------------------------------------------------- hand-off to the contact
TELL_CONTACT = "care.tell_contact"


def handoff_args(event: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """A hand-off the person asked for (only those may go to their contact): its request."""
    request_id = event.get("request_id")
    return (int(request_id),) if request_id and event.get("reason") in ASKED else None


async def tell_contact(jobs: Context, request_id: int) -> int:
    """Tell the person's contact, on their staff accounts, of a hand-off routed to them
    (handlers/handoff.py, in office hours); how many accounts were told."""
    async with UnitOfWork(jobs.sessions) as uow:
        request = await uow.requests.get(request_id)
        if request is None or request.details.get("routed_to") != "contact":
            return 0
        staff_id = request.assigned_staff_id
        person = await uow.people.get(request.person_id) if request.person_id else None
        accounts: list[ChannelAccount] = [
            a for a in await uow.accounts.staff_accounts() if a.staff_id == staff_id
        ]
    reply = Reply(texts.CARE_CONTACT_TOLD.format(name=person.name if person else "", id=request_id))
    told = 0
    for account in accounts:
        try:
            told += await jobs.notifier.send(account, [reply], purpose=PURPOSE_CONTACT) == SENT
        except Exception:  # one account's trouble must not stop the others'
            log.exception("contact_tell_failed", account_id=account.id)
    return told


@dataclass(slots=True)
class CarePlans:
    """The reconciler's hook: files due tasks and reports overdue ones, at most once per
    ``every`` (per process)."""

    every: timedelta = timedelta(hours=1)
    last: datetime | None = None

    async def __call__(self, jobs: Context, now: datetime) -> int:
        """Returns 0: tasks filed are new work, not lost work re-started (logged)."""
        if self.last is not None and timedelta(0) <= now - self.last < self.every:
            return 0
        self.last = now
        local = now.astimezone(TZ)
        filed = await file_due(jobs, local.date(), now)
        sent: Counter[str] = Counter()
        if SEND_FROM <= local.time() < UNTIL:
            sent = await escalate(jobs, local.date(), now)
        if filed or sent:
            log.info("care_plans", **filed, **{f"escalation_{k}": v for k, v in sent.items()})
        return 0
