"""A person's file in the staff console: one timeline, newest first, of their requests and
the changes of their status, their emergencies' steps, registrations, messages in and out and
broadcasts (the newest so many of each kind, then the newest overall).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.db import AsyncSession
from storage.models import (
    Activity,
    Alert,
    AlertStep,
    Broadcast,
    BroadcastRecipient,
    MessageRecord,
    Registration,
    RequestStatusChange,
    ServiceRequest,
)

__all__ = ["TIMELINE_SIZE", "TimelineItem", "alert_steps", "timeline"]

TIMELINE_SIZE = 200  # the newest so many entries of each kind on a person's page


@dataclass(frozen=True, slots=True)
class TimelineItem:
    """One line of a person's file, newest first."""

    at: datetime
    kind: str  # request | status | alert | alert_step | registration | message | broadcast
    title: str
    detail: str = ""
    link: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def alert_steps(session: AsyncSession, alert_ids: list[int]) -> dict[int, list[AlertStep]]:
    """The steps of these emergencies, by alert id, oldest first."""
    if not alert_ids:
        return {}
    rows = await session.scalars(
        select(AlertStep).where(AlertStep.alert_id.in_(alert_ids)).order_by(AlertStep.id)
    )
    found: dict[int, list[AlertStep]] = {}
    for step in rows:
        found.setdefault(step.alert_id, []).append(step)
    return found


async def timeline(
    session: AsyncSession, person_id: int, limit: int = TIMELINE_SIZE
) -> list[TimelineItem]:
    """Everything in a person's file, newest first: requests and their histories,
    emergencies and their steps, registrations, messages in and out, broadcasts."""
    items: list[TimelineItem] = []
    requests = list(
        await session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.person_id == person_id)
            .order_by(ServiceRequest.id.desc())
            .limit(limit)
        )
    )
    by_id = {r.id: r for r in requests}
    for request in requests:
        items.append(
            TimelineItem(
                request.created_at,
                "request",
                request.kind,
                link=str(request.id),
                extra={"request": request},
            )
        )
    if by_id:
        changes = await session.scalars(
            select(RequestStatusChange)
            .where(RequestStatusChange.request_id.in_(by_id))
            .order_by(RequestStatusChange.id)
        )
        for change in changes:
            if change.from_status is None:
                continue  # the request's creation is its own line
            items.append(
                TimelineItem(
                    change.changed_at,
                    "status",
                    by_id[change.request_id].kind,
                    detail=change.note or "",
                    link=str(change.request_id),
                    extra={"change": change},
                )
            )
    alerts = list(
        await session.scalars(
            select(Alert).where(Alert.person_id == person_id).order_by(Alert.id.desc())
        )
    )
    steps = await alert_steps(session, [a.id for a in alerts])
    for alert in alerts:
        for step in steps.get(alert.id, []):
            items.append(
                TimelineItem(
                    step.at,
                    "alert_step",
                    step.kind,
                    detail=step.note or "",
                    link=str(alert.request_id),
                    extra={"step": step},
                )
            )
    registrations = await session.execute(
        select(Registration, Activity)
        .join(Activity, Activity.id == Registration.activity_id)
        .where(Registration.person_id == person_id)
        .order_by(Registration.id.desc())
        .limit(limit)
    )
    for registration, activity in registrations:
        items.append(
            TimelineItem(
                registration.updated_at,
                "registration",
                activity.title,
                detail=registration.status,
                extra={"registration": registration, "activity": activity},
            )
        )
    messages = await session.scalars(
        select(MessageRecord)
        .where(MessageRecord.person_id == person_id)
        .order_by(MessageRecord.id.desc())
        .limit(limit)
    )
    for message in messages:
        items.append(
            TimelineItem(
                message.created_at,
                "message",
                message.direction,
                detail=message.text or "",
                extra={"message": message},
            )
        )
    broadcasts = await session.execute(
        select(BroadcastRecipient, Broadcast)
        .join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
        .where(BroadcastRecipient.person_id == person_id)
        .order_by(BroadcastRecipient.id.desc())
        .limit(limit)
    )
    for recipient, broadcast in broadcasts:
        items.append(
            TimelineItem(
                recipient.sent_at or broadcast.created_at,
                "broadcast",
                recipient.status,
                detail=broadcast.text,
                extra={"broadcast": broadcast, "recipient": recipient},
            )
        )
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]  # the newest, whatever their kind (a request's changes are many)
