"""The 住院提醒 feed's events: found by sender and event id, by the ID number's blind index,
listed for the clerk, and their personal data forgotten after the retention."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, or_, select, update

from storage.crypto import blind
from storage.db import AsyncSession
from storage.models import AdmissionEvent, Person, ServiceRequest
from storage.repos import CLOSED_STATUSES

__all__ = ["WAITING", "AdmissionRepo"]

WAITING = ("unmatched", "invalid")  # what a clerk still has to look at
SHOWN = 100  # events on the clerk's page


class AdmissionRepo:
    """The feed's events."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def find(self, organisation: str, event_id: str) -> AdmissionEvent | None:
        """The event an organisation sent under this id, if it came before."""
        return await self.session.scalar(
            select(AdmissionEvent).where(
                AdmissionEvent.organisation == organisation, AdmissionEvent.event_id == event_id
            )
        )

    async def get(self, event_id: int, *, lock: bool = False) -> AdmissionEvent | None:
        """One event by our id (``lock``: for update, so two clerks cannot both match it)."""
        query = select(AdmissionEvent).where(AdmissionEvent.id == event_id)
        if lock:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def add(self, event: AdmissionEvent) -> AdmissionEvent:
        """Store a new event (flushed: it has its id)."""
        self.session.add(event)
        await self.session.flush()
        return event

    async def person_by_id_number(self, number: str) -> Person | None:
        """The roster person with this ID number (through its blind index), if exactly one."""
        rows = await self.session.scalars(
            select(Person).where(Person.id_index == blind("id", number.upper())).limit(2)
        )
        found = list(rows)
        return found[0] if len(found) == 1 else None

    async def waiting(self, limit: int = SHOWN) -> list[AdmissionEvent]:
        """The events a clerk has to match or dismiss, oldest first."""
        rows = await self.session.scalars(
            select(AdmissionEvent)
            .where(AdmissionEvent.state.in_(WAITING))
            .order_by(AdmissionEvent.state, AdmissionEvent.id)
            .limit(limit)
        )
        return sorted(rows, key=lambda e: e.id)

    async def count_waiting(self) -> int:
        """How many events wait for a clerk."""
        query = select(func.count(AdmissionEvent.id)).where(AdmissionEvent.state.in_(WAITING))
        return int(await self.session.scalar(query) or 0)

    async def candidates(
        self, names: Sequence[str], births: Sequence[date], limit: int = 200
    ) -> list[Person]:
        """People on the roster with one of these names or birth dates (a clerk's hints)."""
        if not names and not births:
            return []
        rows = await self.session.scalars(
            select(Person)
            .where(or_(Person.name.in_(names), Person.birth_date.in_(births)))
            .order_by(Person.id)
            .limit(limit)
        )
        return list(rows)

    async def open_stays(self, person_id: int, kind: str) -> list[ServiceRequest]:
        """A person's open requests of a kind, newest first."""
        rows = await self.session.scalars(
            select(ServiceRequest)
            .where(
                ServiceRequest.person_id == person_id,
                ServiceRequest.kind == kind,
                ServiceRequest.status.not_in(CLOSED_STATUSES),
            )
            .order_by(ServiceRequest.id.desc())
        )
        return list(rows)

    async def forget_before(self, before: datetime) -> int:
        """Blank the personal data of events received before ``before`` (PIPL: the stay
        they made stays in the person's file); how many were blanked."""
        result = await self.session.execute(
            update(AdmissionEvent)
            .where(
                AdmissionEvent.received_at < before,
                or_(
                    AdmissionEvent.id_index.is_not(None),
                    AdmissionEvent.raw.is_not(None),
                    AdmissionEvent.name.is_not(None),
                ),
            )
            .values(id_number=None, id_index=None, name=None, raw=None, bed=None)
        )
        return int(getattr(result, "rowcount", 0) or 0)
