"""Background work on taskiq: paging emergencies level by level, telling staff who took one.

The database is the source of truth and the queue only a courier. A handler writes the
alert in the message's transaction; after the commit, ``Jobs.dispatch`` kicks a
``page_alert`` job. A worker claims the alert's next level (storage/alerts.py), pages
everyone on call at that level and records each page, all in one transaction: if the
worker dies half-way, the claim is rolled back. The reconciler (``Jobs.reconcile``, every
few seconds in every worker) pages any open alert whose next step is due — the first page
whose job was lost, and each escalation after N minutes without an acknowledgement.

Brokers: taskiq-redis's stream broker (acknowledged delivery, shared by every process;
bot/stream_broker.py keeps workers receiving after a Redis restart)
when ``YINLING_REDIS_URL`` is set; taskiq's in-memory broker otherwise, so ``yinling chat``
works with nothing installed. Jobs are declared on a shared broker and sent to whichever
``start_jobs`` picked.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from taskiq import AsyncBroker, InMemoryBroker
from taskiq.brokers.shared_broker import AsyncSharedBroker

from bot.notify import BLOCKED, SENT, UNREACHABLE, Notifier
from bot.settings import Settings
from bot.sms import SmsSender, make_sms
from bot.stream_broker import RecoveringStreamBroker
from handlers import alerts as wording
from handlers.base import Reply, ServiceConfig
from storage.alerts import FAMILY, MORE_WORDS, TAKE_REFUSED, UNANSWERED
from storage.db import AsyncSession
from storage.models import Alert
from storage.uow import UnitOfWork

__all__ = [
    "EVENT_JOBS",
    "RECONCILERS",
    "Jobs",
    "current",
    "make_broker",
    "shared",
    "start_jobs",
    "stop_jobs",
]

log = structlog.get_logger("yinling.jobs")

shared = AsyncSharedBroker()

# More periodic checks run by the reconciler (each returns how many things it re-started);
# modules with durable jobs of their own append theirs here.
RECONCILERS: list[Callable[[Jobs, datetime], Awaitable[int]]] = []
# Jobs that other modules kick for an event type (the event's fields as keyword arguments).
EVENT_JOBS: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {}


@dataclass(slots=True)
class Jobs:
    """What jobs need (database, senders, settings), and the broker they are sent through."""

    broker: AsyncBroker
    sessions: async_sessionmaker[AsyncSession]
    notifier: Notifier
    config: ServiceConfig
    alert_interval: timedelta = timedelta(minutes=3)
    reconcile_every: float = 10.0
    sms: SmsSender | None = None  # one-time codes at binding (bot/bindings.py)
    retention_days: int = 180  # the message log's text is kept this long (bot/retention.py)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    # -------------------------------------------------------------- courier
    async def dispatch(self, events: Sequence[dict[str, Any]]) -> None:
        """Kick the jobs a committed message's events call for."""
        for event in events:
            kind, alert_id = event.get("type"), event.get("alert_id")
            if kind == "sos_raised" and alert_id:
                await page_alert.kiq(int(alert_id))
            elif kind == "alert_acknowledged" and alert_id:
                await alert_taken.kiq(int(alert_id))
            elif kind == "alert_located" and alert_id:
                await alert_located.kiq(int(alert_id))
            elif kind == "alert_updated" and alert_id:
                await alert_updated.kiq(int(alert_id), int(event["step_id"]))
            elif kind in EVENT_JOBS:
                await EVENT_JOBS[str(kind)](event)

    # -------------------------------------------------------------- paging
    async def page(self, alert_id: int, now: datetime | None = None) -> list[int]:
        """Page the alert's next level if it is due; straight on to the next level while
        nobody at one could be reached. Returns the levels paged (none if not due)."""
        paged: list[int] = []
        while True:
            level, reached = await self._page_level(alert_id, now or self.clock())
            if level is None:
                return paged
            paged.append(level)
            if reached or level >= FAMILY:
                return paged

    async def _page_level(self, alert_id: int, now: datetime) -> tuple[int | None, bool]:
        async with UnitOfWork(self.sessions) as uow:
            alert = await uow.alerts.claim_step(alert_id, now, self.alert_interval)
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
                    reply = wording.family_page(person, self.config)
                else:
                    assert request is not None  # noqa: S101 - an alert always has its request
                    reply = wording.page(
                        alert, request, person, level, now, more=more, unanswered=unanswered
                    )
                result = await self.notifier.send(account, [reply], purpose="alert")
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

    async def tell_taken(self, alert_id: int, now: datetime | None = None) -> int:
        """Tell everyone else paged who took the alert, and the person that help is coming."""
        now = now or self.clock()
        told = 0
        async with UnitOfWork(self.sessions) as uow:
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
                result = await self.notifier.send(account, [reply], purpose="alert")
                told += result == SENT
            request = await uow.requests.get(alert.request_id)
            asker_id = request.requested_by_account_id if request else None
            asker = await uow.accounts.get(asker_id) if asker_id else None
            if asker is not None:
                result = await self.notifier.send(asker, [wording.told_person(name)], "notice")
                told += result == SENT
            uow.alerts.step(
                alert, "told_taken", now, staff_id=alert.acknowledged_by, note=str(told)
            )
            await uow.commit()
        return told

    async def tell_location(self, alert_id: int) -> int:
        """Send a location shared after the SOS to whoever took it, else to everyone paged."""
        async with UnitOfWork(self.sessions) as uow:
            alert = await uow.alerts.get(alert_id)
            if alert is None or alert.status == "resolved" or not alert.location:
                return 0
            reply = wording.located(alert, await uow.alerts.person(alert))
            return await self._tell_staff_on(uow, alert, reply)

    async def tell_update(self, alert_id: int, step_id: int) -> int:
        """Send what the person wrote again (another cry, who and where they are) to whoever
        took the emergency, else to everyone paged so far."""
        async with UnitOfWork(self.sessions) as uow:
            alert = await uow.alerts.get(alert_id)
            step = await uow.alerts.get_step(step_id)
            if alert is None or alert.status == "resolved" or step is None:
                return 0
            person = await uow.alerts.person(alert)
            reply = wording.more_words(alert, person, str(step.note or ""))
            return await self._tell_staff_on(uow, alert, reply)

    async def _tell_staff_on(self, uow: UnitOfWork, alert: Alert, reply: Reply) -> int:
        """Send to the staff member who took an alert, else to every staff member paged."""
        told = 0
        for account in await uow.alerts.paged_accounts(alert.id):
            taker = alert.acknowledged_by
            if account.role != "staff" or (taker and account.staff_id != taker):
                continue
            told += await self.notifier.send(account, [reply], purpose="alert") == SENT
        return told

    # ---------------------------------------------------------- reconciler
    async def reconcile(self, now: datetime | None = None) -> int:
        """Page every open alert whose next step is due — and every "is this an emergency?"
        left unanswered too long; the number paged."""
        now = now or self.clock()
        async with UnitOfWork(self.sessions) as uow:
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
                count += bool(await self.page(alert_id, now))
            except Exception:
                log.exception("alert_page_failed", alert_id=alert_id)
        if due:
            log.info("alerts_reconciled", due=len(due), paged=count)
        for check in RECONCILERS:
            try:
                count += await check(self, now)
            except Exception:
                log.exception("reconciler_failed", check=getattr(check, "__name__", str(check)))
        return count

    async def reconcile_forever(self, stop: asyncio.Event) -> None:
        """The reconciler's loop, until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.reconcile()
            except Exception:
                log.exception("reconcile_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.reconcile_every)


_jobs: Jobs | None = None


def current() -> Jobs:
    """The jobs of this process (for the tasks)."""
    if _jobs is None:
        raise RuntimeError("start_jobs() first")
    return _jobs


@shared.task(task_name="yinling.page_alert")
async def page_alert(alert_id: int) -> None:
    """Page an emergency's next level (a no-op if it is not due: run twice, paged once)."""
    await current().page(alert_id)


@shared.task(task_name="yinling.alert_taken")
async def alert_taken(alert_id: int) -> None:
    """Tell the others paged, and the person, who took an emergency."""
    await current().tell_taken(alert_id)


@shared.task(task_name="yinling.alert_updated")
async def alert_updated(alert_id: int, step_id: int) -> None:
    """Send the staff on an emergency what the person wrote again."""
    await current().tell_update(alert_id, step_id)


@shared.task(task_name="yinling.alert_located")
async def alert_located(alert_id: int) -> None:
    """Send the staff on an emergency the location the person shared afterwards."""
    await current().tell_location(alert_id)


def make_broker(settings: Settings) -> AsyncBroker:
    """taskiq-redis's stream broker with Redis, else the in-process one."""
    if settings.redis_url:
        return RecoveringStreamBroker(
            settings.redis_url,
            queue_name=f"{settings.redis_prefix}jobs",
            consumer_group_name=f"{settings.redis_prefix}workers",
            idle_timeout=60_000,  # a job a dead worker held is handed on after a minute
            # A Redis that hangs fails a kick instead of holding it (the reconciler then
            # does the job); longer than the receiver's blocking read (2 s).
            socket_connect_timeout=2,
            socket_timeout=10,
            timeout=2,  # waiting for a pooled connection
        )
    return InMemoryBroker()


async def start_jobs(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    notifier: Notifier,
    broker: AsyncBroker | None = None,
) -> Jobs:
    """Pick the broker, start it (as a client), and make it the one jobs are sent through."""
    global _jobs  # noqa: PLW0603 - one set of jobs per process, as taskiq's tasks are global
    broker = broker or make_broker(settings)
    await broker.startup()
    shared.default_broker(broker)
    _jobs = Jobs(
        broker,
        sessions,
        notifier,
        settings.service_config(),
        alert_interval=timedelta(minutes=settings.alert_minutes),
        reconcile_every=settings.reconcile_seconds,
        sms=make_sms(settings.sms),
        retention_days=settings.retention_days,
    )
    return _jobs


async def stop_jobs(jobs: Jobs) -> None:
    """Shut the broker down."""
    global _jobs  # noqa: PLW0603
    if isinstance(jobs.broker, InMemoryBroker):
        await jobs.broker.wait_all()  # pages under way in this process are finished first
    await jobs.broker.shutdown()
    if jobs.sms is not None:
        await jobs.sms.aclose()
    if _jobs is jobs:
        _jobs = None
