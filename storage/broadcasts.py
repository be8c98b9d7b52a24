"""Broadcasts: one delivery row per account in the segment (storage/segments.py), and claims
on them.

The database is the source of truth; a job queue only carries "send broadcast 7 now".
A broadcast is sent by one job at a time, the holder of its lease (a conditional update,
renewed every batch). Each recipient row is claimed on its own, with a conditional update
from ``pending`` to ``sending``, just before its message goes out, and marked with the
result right after. So a row is sent at most once even when two jobs run at once, and a
job that dies leaves only the few rows it had in hand undecided; those are closed as
failed ("interrupted") later, never sent again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, literal, or_, select, update

from storage.db import AsyncSession
from storage.models import Broadcast, BroadcastRecipient, ChannelAccount
from storage.segments import CHANNELS, SEGMENT_KEYS, audience, check_segment, describe_segment

__all__ = [
    "CHANNELS",
    "MANAGER_ROLES",
    "MAX_TEXT",
    "OPEN",
    "RESULTS",
    "SEGMENT_KEYS",
    "BroadcastRepo",
    "check_segment",
    "describe_segment",
]

# Who may send broadcasts, and how long one may be (a notice for elderly readers, and one
# Telegram message).
MANAGER_ROLES = frozenset({"leader", "admin"})
MAX_TEXT = 1000

# A recipient row is open until it is claimed and sent, and then has one of the results.
RESULTS = ("sent", "failed", "blocked", "skipped")
OPEN = ("pending", "sending")


class BroadcastRepo:
    """Broadcasts, their recipients, and the claims jobs make on them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------ composing
    async def audience_size(self, segment: Mapping[str, Any], today: date) -> int:
        """How many accounts a broadcast to this segment would go to."""
        query = select(func.count()).select_from(audience(segment, today).subquery())
        return int(await self.session.scalar(query) or 0)

    async def create(
        self,
        text: str,
        segment: Mapping[str, Any],
        staff_id: int,
        now: datetime,
        today: date,
        *,
        link: str | None = None,
        send_at: datetime | None = None,
    ) -> Broadcast:
        """A broadcast and a pending row for each account in the segment (one statement)."""
        later = send_at is not None and send_at > now
        broadcast = Broadcast(
            text=text,
            link=link,
            segment=dict(segment),
            created_by=staff_id,
            status="scheduled" if later else "sending",
            send_at=send_at,
            total=0,
            sent=0,
            failed=0,
            blocked=0,
            skipped=0,
            created_at=now,
            updated_at=now,
        )
        self.session.add(broadcast)
        await self.session.flush()
        source = audience(segment, today).subquery()
        await self.session.execute(
            insert(BroadcastRecipient).from_select(
                ["broadcast_id", "account_id", "person_id", "channel", "status"],
                select(
                    literal(broadcast.id),
                    source.c.id,
                    source.c.person_id,
                    source.c.channel,
                    literal("pending"),
                ).order_by(source.c.id),
            )
        )
        broadcast.total = await self._count(broadcast.id)
        await self.session.flush()
        return broadcast

    async def get(self, broadcast_id: int) -> Broadcast | None:
        """One broadcast by id (read afresh)."""
        return await self.session.get(Broadcast, broadcast_id, populate_existing=True)

    async def recipients(self, broadcast_id: int) -> list[BroadcastRecipient]:
        """Every recipient row of a broadcast, in order."""
        rows = await self.session.scalars(
            select(BroadcastRecipient)
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
            .order_by(BroadcastRecipient.id)
        )
        return list(rows)

    async def counts(self, broadcast_id: int) -> dict[str, int]:
        """How many recipients are in each state now (pending, sending, sent, …)."""
        rows = await self.session.execute(
            select(BroadcastRecipient.status, func.count())
            .where(BroadcastRecipient.broadcast_id == broadcast_id)
            .group_by(BroadcastRecipient.status)
        )
        found = {str(status): int(n) for status, n in rows}
        return {status: found.get(status, 0) for status in (*OPEN, *RESULTS)} | found

    async def _count(self, broadcast_id: int) -> int:
        query = select(func.count()).where(BroadcastRecipient.broadcast_id == broadcast_id)
        return int(await self.session.scalar(query) or 0)

    # -------------------------------------------------------------- the lease
    async def acquire(
        self, broadcast_id: int, owner: str, now: datetime, lease: timedelta
    ) -> Broadcast | None:
        """Take the broadcast's lease if it is being sent and nobody else holds it."""
        taken = await self.session.scalar(
            update(Broadcast)
            .where(
                Broadcast.id == broadcast_id,
                Broadcast.status == "sending",
                or_(
                    Broadcast.lease_until.is_(None),
                    Broadcast.lease_until <= now,
                    Broadcast.lease_owner == owner,
                ),
            )
            .values(lease_owner=owner, lease_until=now + lease, updated_at=now)
            .returning(Broadcast.id)
            .execution_options(synchronize_session=False)
        )
        return None if taken is None else await self.get(broadcast_id)

    async def renew(self, broadcast_id: int, owner: str, now: datetime, lease: timedelta) -> bool:
        """Extend the lease and record progress (the counts so far); False if it was lost."""
        counts = await self.counts(broadcast_id)
        done = await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.lease_owner == owner)
            .values(lease_until=now + lease, updated_at=now, **{k: counts[k] for k in RESULTS})
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(done, "rowcount", 0))

    async def release(self, broadcast_id: int, owner: str) -> None:
        """Give the lease up (if still ours), so the next job can start at once."""
        await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )

    async def finish(self, broadcast_id: int, owner: str, now: datetime) -> bool:
        """Mark the broadcast done with its final counts, if no recipient is left open."""
        counts = await self.counts(broadcast_id)
        if any(counts[s] for s in OPEN):
            return False
        done = await self.session.execute(
            update(Broadcast)
            .where(
                Broadcast.id == broadcast_id,
                Broadcast.status == "sending",
                Broadcast.lease_owner == owner,
            )
            .values(
                status="done",
                finished_at=now,
                updated_at=now,
                lease_owner=None,
                lease_until=None,
                **{k: counts[k] for k in RESULTS},
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(done, "rowcount", 0))

    # ---------------------------------------------------------- the recipients
    async def pending(self, broadcast_id: int, limit: int) -> list[tuple[int, ChannelAccount]]:
        """The next pending recipients (row id and account), oldest first."""
        rows = await self.session.execute(
            select(BroadcastRecipient.id, ChannelAccount)
            .join(ChannelAccount, ChannelAccount.id == BroadcastRecipient.account_id)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.status == "pending",
            )
            .order_by(BroadcastRecipient.id)
            .limit(limit)
        )
        return [(int(row_id), account) for row_id, account in rows]

    async def claim(self, recipient_id: int, owner: str, now: datetime) -> bool:
        """Claim a pending recipient just before sending to it; False if it is not pending."""
        done = await self.session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.id == recipient_id, BroadcastRecipient.status == "pending")
            .values(status="sending", claimed_by=owner, attempted_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(done, "rowcount", 0))

    async def unclaim(self, recipient_id: int, owner: str) -> bool:
        """Give a claimed recipient back (nothing was sent to it: its job is stopping)."""
        done = await self.session.execute(
            update(BroadcastRecipient)
            .where(
                BroadcastRecipient.id == recipient_id,
                BroadcastRecipient.claimed_by == owner,
                BroadcastRecipient.status == "sending",
            )
            .values(status="pending", claimed_by=None, attempted_at=None)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(done, "rowcount", 0))

    async def mark(
        self, recipient_id: int, owner: str, status: str, now: datetime, error: str | None = None
    ) -> bool:
        """Record how the send of a claimed recipient went."""
        if status not in RESULTS:
            raise ValueError(f"not a result: {status}")
        done = await self.session.execute(
            update(BroadcastRecipient)
            .where(BroadcastRecipient.id == recipient_id, BroadcastRecipient.claimed_by == owner)
            .values(
                status=status,
                sent_at=now if status == "sent" else None,
                error=(error or "")[:100] or None,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(done, "rowcount", 0))

    async def close_interrupted(self, broadcast_id: int, before: datetime) -> int:
        """Recipients claimed before ``before`` and never marked: a job died mid-send, so
        whether the message arrived is unknown. They are closed as failed, not sent again."""
        done = await self.session.execute(
            update(BroadcastRecipient)
            .where(
                BroadcastRecipient.broadcast_id == broadcast_id,
                BroadcastRecipient.status == "sending",
                BroadcastRecipient.attempted_at < before,
            )
            .values(status="failed", error="interrupted: outcome unknown")
            .execution_options(synchronize_session=False)
        )
        return int(getattr(done, "rowcount", 0))

    # ------------------------------------------------------------ reconciler
    async def start_due(self, now: datetime) -> list[int]:
        """Scheduled broadcasts whose time has come, moved on to sending."""
        due = list(
            await self.session.scalars(
                select(Broadcast.id).where(
                    Broadcast.status == "scheduled", Broadcast.send_at <= now
                )
            )
        )
        started = []
        for broadcast_id in due:
            done = await self.session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id, Broadcast.status == "scheduled")
                .values(status="sending", updated_at=now)
                .execution_options(synchronize_session=False)
            )
            if getattr(done, "rowcount", 0):
                started.append(broadcast_id)
        return started

    async def stalled(self, now: datetime, quiet_since: datetime, limit: int = 100) -> list[int]:
        """Broadcasts being sent that nobody holds and that made no progress since
        ``quiet_since``: their job was lost (a worker died, the broker lost its data)."""
        rows = await self.session.scalars(
            select(Broadcast.id)
            .where(
                Broadcast.status == "sending",
                Broadcast.updated_at < quiet_since,
                or_(Broadcast.lease_until.is_(None), Broadcast.lease_until <= now),
            )
            .order_by(Broadcast.updated_at)
            .limit(limit)
        )
        return list(rows)

    async def kicked(self, broadcast_id: int, now: datetime) -> None:
        """Note that a job was sent for a stalled broadcast (so it is not re-sent each pass)."""
        await self.session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status == "sending")
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )
