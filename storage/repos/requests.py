"""Service requests and their status history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select

from storage.db import AsyncSession
from storage.models import Person, RequestStatusChange, ServiceRequest

__all__ = ["CLOSED_STATUSES", "RequestRepo"]

# Statuses after which a request needs nothing more.
CLOSED_STATUSES = frozenset({"done", "cancelled", "resolved", "closed", "rejected", "paid"})


class RequestRepo:
    """Service requests and their status history."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(
        self,
        kind: str,
        *,
        now: datetime,
        actor: str,
        person_id: int | None,
        status: str = "pending",
        details: dict[str, Any] | None = None,
        beneficiary: str = "self",
        account_id: int | None = None,
        scheduled_date: date | None = None,
        scheduled_time: str | None = None,
        due_at: datetime | None = None,
        note: str | None = None,
    ) -> ServiceRequest:
        """File a new request and write the first line of its history."""
        request = ServiceRequest(
            kind=kind,
            status=status,
            details=details or {},
            person_id=person_id,
            beneficiary=beneficiary,
            requested_by_account_id=account_id,
            scheduled_date=scheduled_date,
            scheduled_time=scheduled_time,
            due_at=due_at,
            created_at=now,
            updated_at=now,
        )
        self.session.add(request)
        await self.session.flush()
        self.session.add(
            RequestStatusChange(
                request_id=request.id,
                from_status=None,
                to_status=status,
                actor=actor,
                note=note,
                changed_at=now,
            )
        )
        return request

    async def set_status(
        self,
        request: ServiceRequest,
        status: str,
        *,
        now: datetime,
        actor: str,
        note: str | None = None,
    ) -> None:
        """Change a request's status, recording the change."""
        self.session.add(
            RequestStatusChange(
                request_id=request.id,
                from_status=request.status,
                to_status=status,
                actor=actor,
                note=note,
                changed_at=now,
            )
        )
        request.status = status
        request.updated_at = now
        await self.session.flush()

    def note(self, request: ServiceRequest, note: str, *, now: datetime, actor: str) -> None:
        """Add a note to a request's history (a line whose status does not change)."""
        self.session.add(
            RequestStatusChange(
                request_id=request.id,
                from_status=request.status,
                to_status=request.status,
                actor=actor,
                note=note,
                changed_at=now,
            )
        )
        request.updated_at = now

    async def get(self, request_id: int) -> ServiceRequest | None:
        """One request by id."""
        return await self.session.get(ServiceRequest, request_id)

    async def for_person(
        self,
        person_id: int,
        kinds: Sequence[str] | None = None,
        open_only: bool = False,
    ) -> list[ServiceRequest]:
        """A person's requests, newest first."""
        query = select(ServiceRequest).where(ServiceRequest.person_id == person_id)
        if kinds:
            query = query.where(ServiceRequest.kind.in_(kinds))
        if open_only:
            query = query.where(ServiceRequest.status.not_in(CLOSED_STATUSES))
        rows = await self.session.scalars(query.order_by(ServiceRequest.id.desc()))
        return list(rows)

    async def queue(
        self, kinds: Sequence[str], limit: int = 10, *, staff_id: int | None = None
    ) -> list[tuple[ServiceRequest, Person | None]]:
        """Open requests of some kinds with their people, oldest first (the staff queue);
        with ``staff_id``, only those nobody has yet and that staff member's own."""
        query = (
            select(ServiceRequest, Person)
            .outerjoin(Person, Person.id == ServiceRequest.person_id)
            .where(ServiceRequest.kind.in_(kinds), ServiceRequest.status.not_in(CLOSED_STATUSES))
        )
        if staff_id is not None:
            query = query.where(
                or_(
                    ServiceRequest.assigned_staff_id.is_(None),
                    ServiceRequest.assigned_staff_id == staff_id,
                )
            )
        rows = await self.session.execute(query.order_by(ServiceRequest.id).limit(limit))
        return [(request, person) for request, person in rows]

    async def history(self, request_id: int) -> list[RequestStatusChange]:
        """A request's status changes, oldest first."""
        rows = await self.session.scalars(
            select(RequestStatusChange)
            .where(RequestStatusChange.request_id == request_id)
            .order_by(RequestStatusChange.id)
        )
        return list(rows)

    async def count(self, kind: str | None = None, status: str | None = None) -> int:
        """How many requests there are (of a kind, in a status)."""
        query = select(func.count(ServiceRequest.id))
        if kind:
            query = query.where(ServiceRequest.kind == kind)
        if status:
            query = query.where(ServiceRequest.status == status)
        return int(await self.session.scalar(query) or 0)
