"""Background work on taskiq: the job registry, the courier, and the reconciler.

The services (services/: paging, broadcasts, reminders, bindings, retention) do the work;
this module composes them. ``build_registry`` is the one table of what runs in the
background: each job's name and function, which committed event kicks which job, and the
periodic checks of the reconciler. ``start_jobs`` builds it at start (or takes the one the
caller built) and registers its jobs with the broker it picked; nothing registers itself
by being imported.

The database is the source of truth and the queue only a courier: after a message's
transaction commits, ``Jobs.dispatch`` kicks the jobs its events call for, and the
reconciler (``Jobs.reconcile``, every few seconds in every worker) re-does whatever a lost
job left undone — pages due (services/paging.py), then the registry's checks.

Brokers: taskiq-redis's stream broker (acknowledged delivery, shared by every process;
bot/stream_broker.py keeps workers receiving after a Redis restart) when
``YINLING_REDIS_URL`` is set; taskiq's in-memory broker otherwise, so ``yinling chat``
works with nothing installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from taskiq import AsyncBroker, InMemoryBroker
from taskiq.decor import AsyncTaskiqDecoratedTask

from bot.settings import Settings
from bot.sms import SmsSender, make_sms
from bot.stream_broker import RecoveringStreamBroker
from handlers.base import ServiceConfig
from services import bindings, broadcasts, care, paging, reminders, retention, visits
from services import volunteers as volunteer_jobs
from services.ports import Check, Job, Sender
from storage.db import AsyncSession

__all__ = [
    "EventArgs",
    "Jobs",
    "Registry",
    "build_registry",
    "current",
    "make_broker",
    "start_jobs",
    "stop_jobs",
]

log = structlog.get_logger("yinling.jobs")

# A job's arguments from a committed event's fields (None: the event calls for no job).
EventArgs = Callable[[Mapping[str, Any]], tuple[Any, ...] | None]


@dataclass(frozen=True, slots=True)
class Registry:
    """What runs in the background: jobs by name, the job each event type kicks (and its
    arguments), and the reconciler's periodic checks (each returns how many lost things it
    re-started)."""

    jobs: Mapping[str, Job] = field(default_factory=dict)
    events: Mapping[str, tuple[str, EventArgs]] = field(default_factory=dict)
    checks: tuple[Check, ...] = ()

    def without_checks(self) -> Registry:
        """The same jobs, and no periodic check but the alerts' own (for tests)."""
        return replace(self, checks=())


def build_registry() -> Registry:
    """The table of every background job, event and periodic check (a fresh one: the
    checks keep when they last looked)."""
    return Registry(
        jobs={
            paging.PAGE: paging.page,
            paging.TAKEN: paging.tell_taken,
            paging.UPDATED: paging.tell_update,
            paging.LOCATED: paging.tell_location,
            broadcasts.SEND: broadcasts.send_broadcast,
            bindings.REQUESTED: bindings.binding_requested,
            bindings.BOUND: bindings.account_bound,
            bindings.DECIDED: bindings.binding_decided,
            care.TELL_CONTACT: care.tell_contact,
            volunteer_jobs.OFFERED: volunteer_jobs.send_offers,
            volunteer_jobs.ACCEPTED: volunteer_jobs.tell_accepted,
            volunteer_jobs.CREDITED: volunteer_jobs.tell_credited,
        },
        events={
            "sos_raised": (paging.PAGE, paging.alert_args),
            "alert_acknowledged": (paging.TAKEN, paging.alert_args),
            "alert_located": (paging.LOCATED, paging.alert_args),
            "alert_updated": (paging.UPDATED, paging.update_args),
            "broadcast_created": (broadcasts.SEND, broadcasts.created_args),
            "binding_requested": (bindings.REQUESTED, bindings.requested_args),
            "account_bound": (bindings.BOUND, bindings.bound_args),
            "binding_decided": (bindings.DECIDED, bindings.decided_args),
            "handoff_requested": (care.TELL_CONTACT, care.handoff_args),
            "volunteer_offered": (volunteer_jobs.OFFERED, volunteer_jobs.offered_args),
            "volunteer_accepted": (volunteer_jobs.ACCEPTED, volunteer_jobs.accepted_args),
            "volunteer_hours_credited": (volunteer_jobs.CREDITED, volunteer_jobs.credited_args),
        },
        checks=(
            bindings.resend_lost,  # SMS codes whose kick was lost
            broadcasts.reconcile_broadcasts,  # scheduled broadcasts due, stalled ones
            reminders.ReminderCheck(),  # at most once a minute
            retention.Retention(),  # at most once an hour
            volunteer_jobs.AskHours(),  # volunteers' hours to confirm: once a minute
            visits.VisitLedger(),  # the must-visit ledger, once a day
            care.CarePlans(),  # plan tasks due, contracts expiring, overdue ones: hourly
        ),
    )


@dataclass(slots=True)
class Jobs:
    """What jobs need (database, senders, settings), the broker they are sent through, and
    the registry of what runs; the services' ``Context`` (services/ports.py)."""

    broker: AsyncBroker
    sessions: async_sessionmaker[AsyncSession]
    notifier: Sender
    config: ServiceConfig
    alert_interval: timedelta = timedelta(minutes=3)
    reconcile_every: float = 10.0
    sms: SmsSender | None = None  # one-time codes at binding (services/bindings.py)
    retention_days: int = 180  # the message log's text is kept this long
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    registry: Registry = field(default_factory=Registry)

    # -------------------------------------------------------------- courier
    async def dispatch(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Kick the jobs a committed message's events call for."""
        for event in events:
            route = self.registry.events.get(str(event.get("type")))
            if route is None:
                continue
            job, arguments = route
            args = arguments(event)
            if args is not None:
                await self.kick(job, *args)

    async def kick(self, job: str, *args: Any) -> None:
        """Send a registered job through the broker."""
        task = self.broker.find_task(job) or self._register(job)
        await task.kiq(*args)

    def _register(self, job: str) -> AsyncTaskiqDecoratedTask[Any, Any]:
        """Register a job of the registry with the broker, bound to these jobs."""
        function = self.registry.jobs[job]
        jobs = self

        async def run(*args: Any, **kwargs: Any) -> Any:
            return await function(jobs, *args, **kwargs)

        # taskiq reads the signature (less the context) to parse the arguments it receives.
        signature = inspect.signature(function)
        run.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=list(signature.parameters.values())[1:]
        )
        run.__name__ = run.__qualname__ = job
        return self.broker.register_task(run, task_name=job)

    def register_all(self) -> None:
        """Register every job of the registry with the broker (a worker receives them)."""
        for job in self.registry.jobs:
            self._register(job)

    # -------------------------------------------------------------- paging
    async def page(self, alert_id: int, now: datetime | None = None) -> list[int]:
        """Page the alert's next level if due (services/paging.py); the levels paged."""
        return await paging.page(self, alert_id, now)

    async def tell_taken(self, alert_id: int, now: datetime | None = None) -> int:
        """Tell everyone else paged, and the person, who took the alert."""
        return await paging.tell_taken(self, alert_id, now)

    async def tell_location(self, alert_id: int) -> int:
        """Send a location shared after the SOS to the staff on it."""
        return await paging.tell_location(self, alert_id)

    async def tell_update(self, alert_id: int, step_id: int) -> int:
        """Send what the person wrote again to the staff on the emergency."""
        return await paging.tell_update(self, alert_id, step_id)

    # ---------------------------------------------------------- reconciler
    async def reconcile(self, now: datetime | None = None) -> int:
        """Page every open alert whose next step is due (and every "is this an emergency?"
        left unanswered too long), then run the registry's checks; the number re-started."""
        now = now or self.clock()
        count = await paging.reconcile(self, now)
        for check in self.registry.checks:
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
    """The jobs of this process (the last ``start_jobs``)."""
    if _jobs is None:
        raise RuntimeError("start_jobs() first")
    return _jobs


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
    notifier: Sender,
    broker: AsyncBroker | None = None,
    registry: Registry | None = None,
) -> Jobs:
    """Pick the broker, start it (as a client), and register the registry's jobs with it
    (``build_registry()`` unless the caller built one)."""
    global _jobs  # noqa: PLW0603 - the jobs of this process, for ``current``
    broker = broker or make_broker(settings)
    await broker.startup()
    _jobs = Jobs(
        broker,
        sessions,
        notifier,
        settings.service_config(),
        alert_interval=timedelta(minutes=settings.alert_minutes),
        reconcile_every=settings.reconcile_seconds,
        sms=make_sms(settings.sms),
        retention_days=settings.retention_days,
        registry=registry or build_registry(),
    )
    _jobs.register_all()
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
