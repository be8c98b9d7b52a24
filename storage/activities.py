"""Activities and registrations, with seat accounting that holds under concurrency.

A seat is taken by one conditional ``UPDATE … SET seats_taken = seats_taken + 1 WHERE
seats_taken < capacity``: PostgreSQL lets exactly ``capacity`` of any number of
concurrent sign-ups succeed (the row lock orders them), and SQLite has one writer at a
time anyway. Everyone else is waitlisted in arrival order (registration id order), told
their place from the activity's waitlist count (kept under the same lock), and a unique
index on live registrations turns a concurrent duplicate into "already signed up".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Insert, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import AsyncSession
from storage.models import Activity, Registration

__all__ = ["ActivityRepo", "AlreadyRegistered", "SignUp"]

LIVE = ("registered", "waitlisted")


class AlreadyRegistered(Exception):  # noqa: N818 - reads as an outcome
    """The attendee already holds a seat or a waitlist place."""

    def __init__(self, registration: Registration) -> None:
        super().__init__(f"already {registration.status}")
        self.registration = registration


@dataclass(frozen=True, slots=True)
class SignUp:
    """The outcome of a sign-up: the registration's id and status and, if waitlisted, its place."""

    id: int
    status: str  # registered | waitlisted
    position: int | None


class ActivityRepo:
    """Activities, seats and waitlists."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, activity: Activity) -> Activity:
        """Create an activity."""
        self.session.add(activity)
        await self.session.flush()
        return activity

    async def get(self, activity_id: int) -> Activity | None:
        """One activity by id."""
        return await self.session.get(Activity, activity_id)

    async def upcoming(self, now: datetime, limit: int = 8) -> list[Activity]:
        """Activities that have not started yet, soonest first."""
        rows = await self.session.scalars(
            select(Activity)
            .where(Activity.starts_at >= now, Activity.cancelled_at.is_(None))
            .order_by(Activity.starts_at)
            .limit(limit)
        )
        return list(rows)

    async def titles(self, now: datetime) -> list[str]:
        """Titles of upcoming activities (fed to the NLU's lookup)."""
        rows = await self.session.scalars(
            select(Activity.title)
            .where(Activity.starts_at >= now, Activity.cancelled_at.is_(None))
            .distinct()
        )
        return list(rows)

    async def registration(self, registration_id: int) -> Registration | None:
        """One registration by id."""
        return await self.session.get(Registration, registration_id)

    async def live_registration(
        self, activity_id: int, person_id: int, attendee: str
    ) -> Registration | None:
        """The attendee's seat or waitlist place in an activity, if any."""
        return await self.session.scalar(
            select(Registration).where(
                Registration.activity_id == activity_id,
                Registration.person_id == person_id,
                Registration.attendee == attendee,
                Registration.status.in_(LIVE),
            )
        )

    async def sign_up(
        self,
        activity_id: int,
        person_id: int,
        attendee: str,
        now: datetime,
        account_id: int | None = None,
        *,
        seat: bool = True,
    ) -> SignUp:
        """Take a seat if one is left, else a waitlist place; refuse a second sign-up.
        ``seat=False``: the waitlist even with a seat left (a couple who would rather wait
        together than go one without the other).

        The one sign-up path, on SQLite and PostgreSQL alike. A second one (one asyncpg
        statement holding the activity's row lock for a single round trip) was dropped in
        issue 19: benchmarks/signup_rush.py finds this one exact too (2,000 sign-ups for 100
        seats in 4.5-8.3 s on this shared machine, against 1.7-3.8 s), and a sign-up is a
        rare message, nowhere near 10 % of the cost of messages at 300 a second.
        """
        existing = await self.live_registration(activity_id, person_id, attendee)
        if existing is not None:
            raise AlreadyRegistered(existing)
        registered = False
        if seat:
            taken = await self.session.execute(
                update(Activity)
                .where(Activity.id == activity_id, Activity.seats_taken < Activity.capacity)
                .values(seats_taken=Activity.seats_taken + 1)
            )
            registered = bool(getattr(taken, "rowcount", 0))
        position = None
        if not registered:
            # The waitlist count is kept under the activity's row lock, so each sign-up
            # learns its exact place: everyone counted ahead of it has committed.
            position = await self.session.scalar(
                update(Activity)
                .where(Activity.id == activity_id)
                .values(waitlisted=Activity.waitlisted + 1)
                .returning(Activity.waitlisted)
            )
            if position is None:
                raise LookupError(f"no activity {activity_id}")
        status = "registered" if registered else "waitlisted"
        row = {
            "activity_id": activity_id,
            "person_id": person_id,
            "attendee": attendee,
            "status": status,
            "requested_by_account_id": account_id,
            "created_at": now,
            "updated_at": now,
        }
        new_id = await self.session.scalar(self._insert_unless_live(row).returning(Registration.id))
        if new_id is None:
            # A concurrent duplicate won the unique index: give the place back, report theirs.
            await self.session.execute(
                update(Activity)
                .where(Activity.id == activity_id)
                .values(
                    seats_taken=Activity.seats_taken - int(registered),
                    waitlisted=Activity.waitlisted - int(not registered),
                )
            )
            theirs = await self.live_registration(activity_id, person_id, attendee)
            if theirs is None:
                raise RuntimeError("duplicate sign-up vanished")
            raise AlreadyRegistered(theirs)
        return SignUp(int(new_id), status, position)

    def _insert_unless_live(self, row: dict[str, object]) -> Insert:
        """INSERT … ON CONFLICT DO NOTHING against the live-registration index."""
        dialect = self.session.bind.dialect.name if self.session.bind else "postgresql"
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        return (
            insert(Registration)
            .values(row)
            .on_conflict_do_nothing(
                index_elements=["activity_id", "person_id", "attendee"],
                index_where=text("status != 'cancelled'"),
            )
        )

    async def _position(self, activity_id: int, registration_id: int) -> int:
        ahead = await self.session.scalar(
            select(func.count(Registration.id)).where(
                Registration.activity_id == activity_id,
                Registration.status == "waitlisted",
                Registration.id < registration_id,
            )
        )
        return int(ahead or 0) + 1

    async def waitlist_position(self, registration: Registration) -> int:
        """1 for the first on the waitlist."""
        return await self._position(registration.activity_id, registration.id)

    async def for_person(
        self, person_id: int, now: datetime
    ) -> list[tuple[Registration, Activity]]:
        """A person's live registrations for activities still to come, newest first."""
        rows = await self.session.execute(
            select(Registration, Activity)
            .join(Activity, Activity.id == Registration.activity_id)
            .where(
                Registration.person_id == person_id,
                Registration.status.in_(LIVE),
                Activity.starts_at >= now,
            )
            .order_by(Registration.id.desc())
        )
        return [(r, a) for r, a in rows]

    async def cancel(self, registration: Registration, now: datetime) -> Registration | None:
        """Cancel a registration; a freed seat goes to the first on the waitlist (returned)."""
        if registration.status not in LIVE:
            return None
        # Lock the activity so that two cancellations promote two different people.
        await self.session.execute(
            select(Activity.id).where(Activity.id == registration.activity_id).with_for_update()
        )
        freed_seat = registration.status == "registered"
        registration.status = "cancelled"
        registration.updated_at = now
        await self.session.flush()
        first = None
        if freed_seat:
            first = await self.session.scalar(
                select(Registration)
                .where(
                    Registration.activity_id == registration.activity_id,
                    Registration.status == "waitlisted",
                )
                .order_by(Registration.id)
                .limit(1)
            )
        if first is not None:
            first.status = "registered"
            first.updated_at = now
        # Someone leaves the waitlist (the one cancelling, or the one promoted), or a seat frees.
        await self.session.execute(
            update(Activity)
            .where(Activity.id == registration.activity_id)
            .values(
                seats_taken=Activity.seats_taken - int(freed_seat and first is None),
                waitlisted=Activity.waitlisted - int(not freed_seat or first is not None),
            )
        )
        await self.session.flush()
        return first

    async def counts(self, activity_id: int) -> dict[str, int]:
        """Registrations of an activity by status."""
        rows = await self.session.execute(
            select(Registration.status, func.count(Registration.id))
            .where(Registration.activity_id == activity_id)
            .group_by(Registration.status)
        )
        return {status: int(n) for status, n in rows}
