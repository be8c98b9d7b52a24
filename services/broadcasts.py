"""Broadcasts from staff to segments of retirees: composed, sent by a job, never twice.

Staff (leaders and admins) create a broadcast for a segment (``yinling broadcast``); its
recipients are fixed in the same transaction (storage/broadcasts.py) and a
``send_broadcast`` job is kicked. The job takes the broadcast's lease, sends to pending
recipients batch by batch, each one claimed just before its send and marked right after,
and after a slice of time hands on to a fresh job (so workers can stop and restart between
slices, and a long broadcast never holds one job for minutes). When no recipient is left
open the broadcast is done, with its counts.

Telegram sends take turns of the flood limit every process shares (the ``Sender``'s
``turn``, on bot/limits.py): the bulk lane, evenly spaced at ``telegram_rate`` over all
workers together, never more than 28 in any second as Telegram counts them, so that pages
and replies (the urgent lane) always find a place within Telegram's 30 and never wait
behind a broadcast.

If a job is lost (the broker lost its data, a worker was killed), the reconciler in every
worker re-kicks any broadcast that nobody holds and that made no progress for a while;
the claims make the job safe to run twice, so nobody is sent the same message twice and
nobody is skipped (a recipient whose send was in flight when its worker was killed is
closed as failed "interrupted": whether it arrived is unknown).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from handlers import texts
from handlers.base import Reply, ServiceConfig
from services.ports import BLOCKED, FAILED, HELD, SENT, Context, Lane
from storage.broadcasts import MANAGER_ROLES, MAX_TEXT, check_segment, describe_segment
from storage.db import TZ, AsyncSession
from storage.models import Broadcast, ChannelAccount
from storage.uow import UnitOfWork

__all__ = [
    "MANAGER_ROLES",
    "SEND",
    "TUNING",
    "BroadcastSender",
    "NotAllowedError",
    "Tuning",
    "audience_size",
    "create_broadcast",
    "created_args",
    "message",
    "progress",
    "reconcile_broadcasts",
    "send_broadcast",
]

log = structlog.get_logger("yinling.broadcasts")

MAX_LINK = 500
SEND = "yinling.send_broadcast"  # the job's name (as the broker knows it)


@dataclass(slots=True)
class Tuning:
    """How broadcasts are sent (one set per process; tests shorten the times)."""

    batch: int = 100  # recipients read per query
    concurrency: int = 8  # sends in flight at once (enough for ~30/s at 250 ms a request)
    # Broadcast messages a second over all workers (0: not spaced, still within the limit);
    # Telegram allows 30 a second, of which pages and replies may always have two.
    telegram_rate: float = 27.5
    slice_seconds: float = 20.0  # a job hands the broadcast on to a fresh job after this
    lease: timedelta = timedelta(seconds=60)  # held by the sending job, renewed every batch
    stall: timedelta = timedelta(seconds=60)  # unheld and no progress this long: re-kick
    stale_after: timedelta = timedelta(seconds=120)  # claimed this long ago: interrupted


TUNING = Tuning()


class NotAllowedError(Exception):
    """The staff member may not send broadcasts."""


# ------------------------------------------------------------------ composing
def message(broadcast: Broadcast, config: ServiceConfig) -> Reply:
    """What a recipient reads."""
    lines = [texts.BROADCAST_MESSAGE.format(bureau=config.bureau, text=broadcast.text.strip())]
    if broadcast.link:
        lines.append(texts.BROADCAST_LINK.format(link=broadcast.link))
    lines.append(texts.BROADCAST_FOOTER)
    return Reply("\n".join(lines))


def _today(now: datetime) -> date:
    return now.astimezone(TZ).date()


async def audience_size(
    sessions: async_sessionmaker[AsyncSession], segment: Mapping[str, Any], now: datetime
) -> int:
    """How many accounts a broadcast to this segment would reach now."""
    clean = check_segment(segment)
    async with UnitOfWork(sessions) as uow:
        return await uow.broadcasts.audience_size(clean, _today(now))


async def create_broadcast(
    sessions: async_sessionmaker[AsyncSession],
    *,
    staff_id: int,
    text: str,
    segment: Mapping[str, Any],
    now: datetime,
    link: str | None = None,
    send_at: datetime | None = None,
) -> Broadcast:
    """Check the sender and the message, then write the broadcast, every recipient row and
    the audit entry in one transaction. ``NotAllowedError`` / ``ValueError`` say what is wrong."""
    text = text.strip()
    if not text:
        raise ValueError("the broadcast has no text")
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text is {len(text)} characters; at most {MAX_TEXT}")
    if link is not None and (len(link) > MAX_LINK or not link.startswith(("https://", "http://"))):
        raise ValueError("the link must be an http(s) address of at most 500 characters")
    clean = check_segment(segment)
    async with UnitOfWork(sessions) as uow:
        staff = await uow.staff.get(staff_id)
        if staff is None or not staff.active:
            raise NotAllowedError(f"no active staff member {staff_id}")
        if staff.role not in MANAGER_ROLES:
            raise NotAllowedError(
                f"{staff.name} is {staff.role}; only a leader or an admin may send broadcasts"
            )
        broadcast = await uow.broadcasts.create(
            text, clean, staff_id, now, _today(now), link=link, send_at=send_at
        )
        uow.audit.record(
            now,
            f"staff:{staff_id}",
            "broadcast_created",
            "broadcast",
            broadcast.id,
            segment=clean,
            recipients=broadcast.total,
            send_at=send_at.isoformat() if send_at else None,
        )
        await uow.commit()
    log.info(
        "broadcast_created",
        broadcast_id=broadcast.id,
        segment=describe_segment(clean),
        recipients=broadcast.total,
    )
    return broadcast


async def progress(
    sessions: async_sessionmaker[AsyncSession], broadcast_id: int
) -> tuple[Broadcast, dict[str, int]] | None:
    """A broadcast and how many of its recipients are in each state now."""
    async with UnitOfWork(sessions) as uow:
        broadcast = await uow.broadcasts.get(broadcast_id)
        if broadcast is None:
            return None
        return broadcast, await uow.broadcasts.counts(broadcast_id)


# ------------------------------------------------------------------- sending
_RESULTS = {SENT: "sent", BLOCKED: "blocked", FAILED: "failed"}


@dataclass(slots=True)
class BroadcastSender:
    """Sends one slice of a broadcast (see the module's docstring)."""

    jobs: Context
    tuning: Tuning = field(default_factory=lambda: TUNING)
    owner: str = field(default_factory=lambda: uuid.uuid4().hex)

    async def send(self, broadcast_id: int) -> bool:
        """Send for up to a slice of time; True if recipients are left for the next job
        (the lease is given up), False if the broadcast is done or someone else holds it."""
        t, sessions = self.tuning, self.jobs.sessions
        async with UnitOfWork(sessions) as uow:
            now = self.jobs.clock()
            broadcast = await uow.broadcasts.acquire(broadcast_id, self.owner, now, t.lease)
            if broadcast is None:
                return False
            closed = await uow.broadcasts.close_interrupted(broadcast_id, now - t.stale_after)
            await uow.commit()
        if closed:
            log.warning("broadcast_interrupted_closed", broadcast_id=broadcast_id, count=closed)
        reply = message(broadcast, self.jobs.config)
        started = time.monotonic()
        try:
            while True:
                async with UnitOfWork(sessions) as uow:
                    batch = await uow.broadcasts.pending(broadcast_id, t.batch)
                if not batch:
                    break
                gate = asyncio.Semaphore(t.concurrency)
                async with asyncio.TaskGroup() as group:
                    for recipient_id, account in batch:
                        group.create_task(self._deliver(recipient_id, account, reply, gate))
                async with UnitOfWork(sessions) as uow:
                    ours = await uow.broadcasts.renew(
                        broadcast_id, self.owner, self.jobs.clock(), t.lease
                    )
                    await uow.commit()
                if not ours:
                    log.warning("broadcast_lease_lost", broadcast_id=broadcast_id)
                    return False
                if time.monotonic() - started >= t.slice_seconds:
                    return True
            async with UnitOfWork(sessions) as uow:
                finished = await uow.broadcasts.finish(broadcast_id, self.owner, self.jobs.clock())
                await uow.commit()
            if finished:
                log.info("broadcast_done", broadcast_id=broadcast_id)
            return False
        finally:
            async with UnitOfWork(sessions) as uow:
                await uow.broadcasts.release(broadcast_id, self.owner)
                await uow.commit()

    async def _deliver(
        self,
        recipient_id: int,
        account: ChannelAccount,
        reply: Reply,
        gate: asyncio.Semaphore,
    ) -> None:
        async with gate:
            async with UnitOfWork(self.jobs.sessions) as uow:
                if not await uow.broadcasts.claim(recipient_id, self.owner, self.jobs.clock()):
                    return  # another job has it
                await uow.commit()
            notifier = self.jobs.notifier
            # Taken here, so that a send still waiting for its turn when the worker stops
            # is known not to have gone out; the sender takes no second one (HELD).
            turn = notifier.turn(account, [reply], Lane(bulk=True, rate=self.tuning.telegram_rate))
            sending = False
            try:
                async with turn:
                    sending = True
                    result = await notifier.send(account, [reply], purpose="broadcast", lane=HELD)
            except asyncio.CancelledError:
                if not sending:  # the worker is stopping while this waits: nothing went out
                    await self._give_back(recipient_id)
                raise  # (cancelled mid-send: left claimed, closed later as interrupted)
            # Recorded even if the worker is stopping now: the message has gone out.
            await asyncio.shield(self._record(recipient_id, account, result))

    async def _record(self, recipient_id: int, account: ChannelAccount, result: str) -> None:
        status = _RESULTS.get(result, "skipped")
        error = None  # why a send failed is in the log (notify_failed)
        if status == "skipped":
            error = "inactive" if not account.active else f"{account.channel} unreachable"
        async with UnitOfWork(self.jobs.sessions) as uow:
            await uow.broadcasts.mark(recipient_id, self.owner, status, self.jobs.clock(), error)
            if result == BLOCKED:
                await uow.accounts.deactivate(account.channel, account.external_id)
            await uow.commit()

    async def _give_back(self, recipient_id: int) -> None:
        async with UnitOfWork(self.jobs.sessions) as uow:
            await uow.broadcasts.unclaim(recipient_id, self.owner)
            await uow.commit()


async def send_broadcast(ctx: Context, broadcast_id: int) -> None:
    """The job: send a slice of a broadcast, then hand the rest on to a fresh job."""
    if not await BroadcastSender(ctx).send(broadcast_id):
        return
    try:
        await ctx.kick(SEND, broadcast_id)
    except Exception:  # the broker is away: the reconciler resumes the broadcast
        log.exception("broadcast_handoff_failed", broadcast_id=broadcast_id)


def created_args(event: Mapping[str, Any]) -> tuple[Any, ...]:
    """The arguments of ``SEND`` for a broadcast confirmed (in the staff chat, the console)."""
    return (int(event["broadcast_id"]),)


async def reconcile_broadcasts(ctx: Context, now: datetime) -> int:
    """Start scheduled broadcasts that are due, and re-kick stalled ones."""
    t = TUNING
    async with UnitOfWork(ctx.sessions) as uow:
        started = await uow.broadcasts.start_due(now)
        stalled = await uow.broadcasts.stalled(now, now - t.stall)
        await uow.commit()
    for broadcast_id in [*started, *stalled]:
        await ctx.kick(SEND, broadcast_id)  # if this fails, a later pass kicks it again
        if broadcast_id in stalled:
            async with UnitOfWork(ctx.sessions) as uow:
                await uow.broadcasts.kicked(broadcast_id, now)
                await uow.commit()
            log.warning("broadcast_rekicked", broadcast_id=broadcast_id)
    return len(started) + len(stalled)
