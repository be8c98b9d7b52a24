"""What the console's Excel downloads read (bot/console/exports.py): an activity's roster,
a segment of the roster of people, and a month's requests. Each list is capped at
``EXPORT_SIZE`` rows (storage/reports.py) and ordered on indexed columns."""

from __future__ import annotations

from sqlalchemy import case, select

from storage.db import AsyncSession
from storage.models import Activity, Person, PersonTag, Registration, ServiceRequest
from storage.reports import EXPORT_SIZE, Month
from storage.workbench import people_matching

__all__ = ["ExportRepo"]


class ExportRepo:
    """The reads behind the console's downloads."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def activity(self, activity_id: int) -> Activity | None:
        """One activity by id."""
        return await self.session.get(Activity, activity_id)

    async def roster(self, activity_id: int) -> list[tuple[Registration, Person]]:
        """Who is registered, then who is waitlisted, each in arrival order."""
        rows = await self.session.execute(
            select(Registration, Person)
            .join(Person, Person.id == Registration.person_id)
            .where(
                Registration.activity_id == activity_id,
                Registration.status.in_(("registered", "waitlisted")),
            )
            .order_by(case((Registration.status == "registered", 0), else_=1), Registration.id)
            .limit(EXPORT_SIZE)
        )
        return [(r, p) for r, p in rows]

    async def people(
        self,
        words: str,
        district: str | None = None,
        category: str | None = None,
        tag: str | None = None,
    ) -> list[Person]:
        """People as the console's search finds them (a name, a full phone number or an
        id; a district), optionally of one category and with one tag; by name."""
        query = people_matching(words, district)
        if category:
            query = query.where(Person.category == category)
        if tag:
            tagged = select(PersonTag.person_id).where(PersonTag.tag == tag)
            query = query.where(Person.id.in_(tagged))
        rows = await self.session.scalars(query.order_by(Person.name, Person.id).limit(EXPORT_SIZE))
        return list(rows)

    async def tags(self) -> list[str]:
        """Every tag given to someone."""
        rows = await self.session.scalars(select(PersonTag.tag).distinct())
        return sorted(str(t) for t in rows)

    async def requests(self, month: Month) -> list[tuple[ServiceRequest, Person | None]]:
        """The requests made in a month (local time), in the order they came."""
        rows = await self.session.execute(
            select(ServiceRequest, Person)
            .outerjoin(Person, Person.id == ServiceRequest.person_id)
            .where(ServiceRequest.created_at >= month.start, ServiceRequest.created_at < month.end)
            .order_by(ServiceRequest.created_at, ServiceRequest.id)
            .limit(EXPORT_SIZE)
        )
        return [(r, p) for r, p in rows]
