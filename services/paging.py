"""Paging emergencies level by level, and telling staff who took one.

The database is the source of truth and the queue only a courier. A handler writes the
alert in the message's transaction; after the commit, a ``PAGE`` job is kicked. A worker
claims the alert's next level (storage/alerts.py), pages everyone on call at that level
and records each page, all in one transaction: if the worker dies half-way, the claim is
rolled back. ``reconcile`` (every few seconds in every worker) pages any open alert whose
next step is due — the first page whose job was lost, and each escalation after N minutes
without an acknowledgement.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog

from handlers import alerts as wording
from handlers.base import Reply
from services.ports import BLOCKED, SENT, UNREACHABLE, Context
from storage.alerts import FAMILY, MORE_WORDS, TAKE_REFUSED, UNANSWERED
from storage.models import Alert
from storage.uow import UnitOfWork

__all__ = [
    "LOCATED",
    "PAGE",
    "TAKEN",
    "UPDATED",
    "alert_args",
    "page",
    "reconcile",
    "tell_location",
    "tell_taken",
    "tell_update",
    "update_args",
]

log = structlog.get_logger("yinling.jobs")

# The jobs' names (as the broker knows them).
PAGE = "yinling.page_alert"
TAKEN = "yinling.alert_taken"
UPDATED = "yinling.alert_updated"
LOCATED = "yinling.alert_located"


def alert_args(event: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """A job's arguments from an alert's event: its alert (none: no job)."""
    alert_id = event.get("alert_id")
    return (int(alert_id),) if alert_id else None


def update_args(event: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The arguments of ``UPDATED``: the alert and the step with the new words."""
    alert_id = event.get("alert_id")
    return (int(alert_id), int(event["step_id"])) if alert_id else None


async def page(ctx: Context, alert_id: int, now: datetime | None = None) -> list[int]:
    """Page the alert's next level if it is due; straight on to the next level while
    nobody at one could be reached. Returns the levels paged (none if not due)."""
    paged: list[int] = []
    while True:
        level, reached = await _page_level(ctx, alert_id, now or ctx.clock())
        if level is None:
            return paged
        paged.append(level)
        if reached or level >= FAMILY:
            return paged


async def _page_level(ctx: Context, alert_id: int, now: datetime) -> tuple[int | None, bool]:
    async with UnitOfWork(ctx.sessions) as uow:
        alert = await uow.alerts.claim_step(alert_id, now, ctx.alert_interval)
        if alert is None:
            return None, False
        level = alert.level
        request = await uow.requests.get(alert.request_id)
        person = await uow.alerts.person(alert)
        steps = await uow.alerts.steps(alert_id)
        more = [str(s.note or "") for s in steps if s.kind in MORE_WORDS]
        unanswered = any(s.kind == UNANSWERED for s in steps)
        recipients = await uow.alerts.recipients(alert, level, now)
        reached = 0
        for recipient in recipients:
            staff_id = recipient.staff.id if recipient.staff else None
            account = recipient.account
            if account is None:
                uow.alerts.step(alert, "paged", now, staff_id=staff_id, result=UNREACHABLE)
                continue
            if level == FAMILY:
                reply = wording.family_page(person, ctx.config)
            else:
                assert request is not None  # noqa: S101 - an alert always has its request
                reply = wording.page(
                    alert, request, person, level, now, more=more, unanswered=unanswered
                )
            result = await ctx.notifier.send(account, [reply], purpose="alert")
            if result == BLOCKED:
                await uow.accounts.deactivate(account.channel, account.external_id)
            uow.alerts.step(
                alert, "paged", now, staff_id=staff_id, account_id=account.id, result=result
            )
            reached += result == SENT
        if not recipients:
            uow.alerts.step(alert, "no_one_on_call", now)
        if not reached and level < FAMILY:
            uow.alerts.escalate_now(alert, now)
        await uow.commit()
    log.info("alert_paged", alert_id=alert_id, level=level, reached=reached)
    return level, reached > 0


async def tell_taken(ctx: Context, alert_id: int, now: datetime | None = None) -> int:
    """Tell everyone else paged who took the alert, and the person that help is coming."""
    now = now or ctx.clock()
    told = 0
    async with UnitOfWork(ctx.sessions) as uow:
        alert = await uow.alerts.get(alert_id)
        if alert is None or alert.acknowledged_by is None:
            return 0
        steps = await uow.alerts.steps(alert_id)
        if any(s.kind == "told_taken" for s in steps):
            return 0  # a job delivered twice tells once
        # Whoever pressed "我来处理" too late was told in the answer to that press.
        already = {s.staff_id for s in steps if s.kind == TAKE_REFUSED}
        taker = await uow.staff.get(alert.acknowledged_by)
        name = taker.name if taker else ""
        for account in await uow.alerts.paged_accounts(alert_id):
            if account.staff_id == alert.acknowledged_by or account.staff_id in already:
                continue
            reply = wording.told_taken(alert.request_id, name)
            result = await ctx.notifier.send(account, [reply], purpose="alert")
            told += result == SENT
        request = await uow.requests.get(alert.request_id)
        asker_id = request.requested_by_account_id if request else None
        asker = await uow.accounts.get(asker_id) if asker_id else None
        if asker is not None:
            result = await ctx.notifier.send(asker, [wording.told_person(name)], "notice")
            told += result == SENT
        uow.alerts.step(alert, "told_taken", now, staff_id=alert.acknowledged_by, note=str(told))
        await uow.commit()
    return told


async def tell_location(ctx: Context, alert_id: int) -> int:
    """Send a location shared after the SOS to whoever took it, else to everyone paged."""
    async with UnitOfWork(ctx.sessions) as uow:
        alert = await uow.alerts.get(alert_id)
        if alert is None or alert.status == "resolved" or not alert.location:
            return 0
        reply = wording.located(alert, await uow.alerts.person(alert))
        return await _tell_staff_on(ctx, uow, alert, reply)


async def tell_update(ctx: Context, alert_id: int, step_id: int) -> int:
    """Send what the person wrote again (another cry, who and where they are) to whoever
    took the emergency, else to everyone paged so far."""
    async with UnitOfWork(ctx.sessions) as uow:
        alert = await uow.alerts.get(alert_id)
        step = await uow.alerts.get_step(step_id)
        if alert is None or alert.status == "resolved" or step is None:
            return 0
        person = await uow.alerts.person(alert)
        reply = wording.more_words(alert, person, str(step.note or ""))
        return await _tell_staff_on(ctx, uow, alert, reply)


async def _tell_staff_on(ctx: Context, uow: UnitOfWork, alert: Alert, reply: Reply) -> int:
    """Send to the staff member who took an alert, else to every staff member paged."""
    told = 0
    for account in await uow.alerts.paged_accounts(alert.id):
        taker = alert.acknowledged_by
        if account.role != "staff" or (taker and account.staff_id != taker):
            continue
        told += await ctx.notifier.send(account, [reply], purpose="alert") == SENT
    return told


async def reconcile(ctx: Context, now: datetime) -> int:
    """Page every open alert whose next step is due — and every "is this an emergency?"
    left unanswered too long; the number paged."""
    async with UnitOfWork(ctx.sessions) as uow:
        for alert_id in await uow.alerts.unanswered(now):
            alert = await uow.alerts.get(alert_id)
            if alert is not None and await uow.alerts.confirm(alert_id, now, UNANSWERED):
                request = await uow.requests.get(alert.request_id)
                if request is not None:
                    await uow.requests.set_status(request, "open", now=now, actor="system")
                log.warning("alert_unanswered_paged", alert_id=alert_id)
        await uow.commit()
        due = await uow.alerts.due(now)
    count = 0
    for alert_id in due:
        try:
            count += bool(await page(ctx, alert_id, now))
        except Exception:
            log.exception("alert_page_failed", alert_id=alert_id)
    if due:
        log.info("alerts_reconciled", due=len(due), paged=count)
    return count
