"""The must-visit ledger's reads and writes (五必访, storage/models/visits.py).

A visit owed is added with its staff task (a service request) in the caller's transaction;
one per person, occasion and date: ``add`` returns None when the ledger has it already, and
the unique key refuses a second one written at the same moment by another worker.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, extract, or_, select

from storage.db import AsyncSession
from storage.models import MustVisit, Person, ServiceRequest
from storage.repos.requests import RequestRepo

__all__ = ["HOSPITAL", "HOSPITAL_KIND", "KIND", "OCCASIONS", "VisitRepo"]

KIND = "must_visit"  # the staff task of a visit owed (a stay's is HOSPITAL_KIND)
HOSPITAL_KIND = "hospital_visit"
HOSPITAL = "hospital"
# The five occasions (bereavement and hardship are one occasion, told apart for the record).
OCCASIONS = (HOSPITAL, "birthday", "hardship", "bereavement", "festival", "situation")
MAX_NOTE = 500


class VisitRepo:
    """Visits owed, their tasks, and the visits made."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def existing(self, occasion: str, dates: Collection[date]) -> set[tuple[int, date]]:
        """(person, date) of the ledger's rows of an occasion on some dates."""
        if not dates:
            return set()
        rows = await self.session.execute(
            select(MustVisit.person_id, MustVisit.occasion_date).where(
                MustVisit.occasion == occasion, MustVisit.occasion_date.in_(list(dates))
            )
        )
        return {(p, d) for p, d in rows}

    async def add(
        self,
        person: Person | int,
        occasion: str,
        occasion_date: date,
        due: date,
        *,
        now: datetime,
        actor: str,
        detail: str | None = None,
        note: str | None = None,
        recorded_by: int | None = None,
        request: ServiceRequest | None = None,
        looked: bool = False,
    ) -> MustVisit | None:
        """Add a visit owed, with a new "must_visit" task due on ``due`` (or the ``request``
        it already has); None when the ledger has this person's occasion on that date
        (``looked``: the caller has just looked, with ``existing``)."""
        person_id = person if isinstance(person, int) else person.id
        found = (
            None
            if looked
            else await self.session.scalar(
                select(MustVisit.id).where(
                    MustVisit.person_id == person_id,
                    MustVisit.occasion == occasion,
                    MustVisit.occasion_date == occasion_date,
                )
            )
        )
        if found is not None:
            return None
        if request is None:
            details: dict[str, Any] = {"occasion": occasion, "on": occasion_date.isoformat()}
            if detail:
                details["detail"] = detail
            request = await RequestRepo(self.session).create(
                KIND, now=now, actor=actor, person_id=person_id, status="pending",
                details=details, scheduled_date=due, note=(note or "")[:MAX_NOTE] or None,
            )  # fmt: skip
        row = MustVisit(
            person_id=person_id,
            occasion=occasion,
            occasion_date=occasion_date,
            due_date=due,
            request_id=request.id,
            detail=detail,
            note=(note or "")[:MAX_NOTE] or None,
            recorded_by=recorded_by,
            created_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def for_request(self, request_id: int) -> MustVisit | None:
        """The visit owed whose task a request is."""
        return await self.session.scalar(
            select(MustVisit).where(MustVisit.request_id == request_id)
        )

    async def of_person(self, person_id: int, limit: int = 20) -> list[MustVisit]:
        """A person's visits owed, latest first."""
        rows = await self.session.scalars(
            select(MustVisit)
            .where(MustVisit.person_id == person_id)
            .order_by(MustVisit.due_date.desc(), MustVisit.id.desc())
            .limit(limit)
        )
        return list(rows)

    def visited(self, row: MustVisit, staff_id: int, now: datetime, note: str) -> None:
        """Record the visit on the row: who, when, what they noted."""
        row.visited_at = now
        row.visited_by = staff_id
        row.visit_note = note[:MAX_NOTE] or None

    # ----------------------------------------------------------- generation
    async def born_on(self, days: Iterable[tuple[int, int]]) -> list[Person]:
        """People whose birthday (month, day) is one of ``days``."""
        wanted = [
            and_(extract("month", Person.birth_date) == m, extract("day", Person.birth_date) == d)
            for m, d in set(days)
        ]
        if not wanted:
            return []
        rows = await self.session.scalars(
            select(Person).where(Person.birth_date.is_not(None), or_(*wanted)).order_by(Person.id)
        )
        return list(rows)

    async def festival_people(
        self, categories: Sequence[str], born_by: date | None
    ) -> list[Person]:
        """The people a festival's visits are for: of one of ``categories`` (离休 …), or born
        on or before ``born_by`` (aged at least the configured age on the day)."""
        wanted: list[ColumnElement[bool]] = []
        if categories:
            wanted.append(Person.category.in_(list(categories)))
        if born_by is not None:
            wanted.append(and_(Person.birth_date.is_not(None), Person.birth_date <= born_by))
        if not wanted:
            return []
        rows = await self.session.scalars(select(Person).where(or_(*wanted)).order_by(Person.id))
        return list(rows)

    async def stays_not_in_ledger(
        self, since: datetime, limit: int
    ) -> list[tuple[ServiceRequest, Person]]:
        """Hospital-stay visit tasks (a person's, made from ``since`` on) the ledger has no
        row for yet (a second report of the same stay never gets one: hence ``since``)."""
        rows = await self.session.execute(
            select(ServiceRequest, Person)
            .join(Person, Person.id == ServiceRequest.person_id)
            .outerjoin(MustVisit, MustVisit.request_id == ServiceRequest.id)
            .where(
                ServiceRequest.kind == HOSPITAL_KIND,
                ServiceRequest.created_at >= since,
                MustVisit.id.is_(None),
            )
            .order_by(ServiceRequest.id)
            .limit(limit)
        )
        return [(r, p) for r, p in rows]
