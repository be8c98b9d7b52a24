"""The audit log and the record of messages sent outside a reply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from storage.db import AsyncSession
from storage.models import AuditEntry, Delivery

__all__ = ["AuditRepo", "DeliveryRepo"]


class DeliveryRepo:
    """Messages sent outside a reply, and what became of them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, delivery: Delivery) -> Delivery:
        """Record a delivery."""
        self.session.add(delivery)
        await self.session.flush()
        return delivery

    async def count_sent(self, account_id: int, method: str, since: datetime) -> int:
        """How many messages went to an account by ``method`` since a moment."""
        count = await self.session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.account_id == account_id,
                Delivery.method == method,
                Delivery.status == "sent",
                Delivery.created_at >= since,
            )
        )
        return int(count or 0)

    async def report(self, channel: str, external_id: str, status: str, now: datetime) -> bool:
        """A platform's delivery report (WeChat TEMPLATESENDJOBFINISH); True if it was ours."""
        done = await self.session.execute(
            update(Delivery)
            .where(Delivery.channel == channel, Delivery.external_id == external_id)
            .values(
                status="sent" if status == "success" else "failed",
                error=None if status == "success" else status[:200],
                sent_at=now,
            )
        )
        return bool(getattr(done, "rowcount", 0))


class AuditRepo:
    """The audit log."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        now: datetime,
        actor: str,
        action: str,
        target_type: str,
        target_id: object = None,
        **details: Any,
    ) -> None:
        """Write one audit entry in the current transaction."""
        self.session.add(
            AuditEntry(
                at=now,
                actor=actor,
                action=action,
                target_type=target_type,
                target_id=None if target_id is None else str(target_id),
                details=details,
            )
        )
