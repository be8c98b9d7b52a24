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
from typing import Any

from sqlalchemy import Insert, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from storage.db import (
    UnitRepo,
    asyncpg_connection,
    detached,
    lone_asyncpg,
    sql_columns,
)
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


# The sign-up is the one hot spot of the database (a class opening at 8:00 sharp): on
# PostgreSQL it runs as asyncpg prepared statements, a tenth of the ORM's CPU per statement,
# so that the activity's row lock is held for as short a time as possible. The steps are
# those of the portable path in ActivityRepo.sign_up.
_PG_FOR_PERSON = (
    f"SELECT {sql_columns(Registration, 'r')}, {sql_columns(Activity, 'a')}"  # noqa: S608
    " FROM registrations r JOIN activities a ON a.id = r.activity_id"
    " WHERE r.person_id = $1 AND r.status = ANY($2::varchar[]) AND a.starts_at >= $3"
    " ORDER BY r.id DESC"
)
_PG_LIVE = """SELECT id FROM registrations WHERE activity_id = $1 AND person_id = $2
 AND attendee = $3 AND status IN ('registered', 'waitlisted')"""
# One statement takes a seat if one is left, else a waitlist place, and writes the
# registration: the activity's row lock is then held only for it and the commit. The FOR
# UPDATE waits for the lock and then reads the newest committed counters, so the choice
# and the waitlist place are exact; the registration id is drawn under the lock, so ids
# follow arrival order.
_PG_SIGN_UP = """WITH now_ AS (
  SELECT seats_taken < capacity AS seat FROM activities WHERE id = $1 FOR UPDATE),
act AS (
  UPDATE activities SET seats_taken = seats_taken + now_.seat::int,
    waitlisted = waitlisted + (NOT now_.seat)::int
  FROM now_ WHERE id = $1 RETURNING now_.seat, seats_taken, waitlisted),
reg AS (
  INSERT INTO registrations
    (activity_id, person_id, attendee, status, requested_by_account_id, created_at, updated_at)
  SELECT $1, $2, $3, CASE WHEN act.seat THEN 'registered' ELSE 'waitlisted' END, $4, $5, $5
  FROM act
  ON CONFLICT (activity_id, person_id, attendee) WHERE status != 'cancelled' DO NOTHING
  RETURNING id)
SELECT act.seat, act.seats_taken, act.waitlisted, (SELECT id FROM reg) AS id FROM act"""
_PG_GIVE_BACK = """UPDATE activities SET seats_taken = seats_taken - $2,
 waitlisted = waitlisted - $3 WHERE id = $1 RETURNING seats_taken, waitlisted"""


@dataclass(frozen=True, slots=True)
class _Request:
    activity_id: int
    person_id: int
    attendee: str
    now: datetime
    account_id: int | None


async def _sign_up_pg(conn: Any, r: _Request) -> tuple[SignUp | int, Any]:
    """A sign-up on PostgreSQL: the outcome (or the id of the live registration already
    there), and the activity's counters afterwards (None if they were not touched)."""
    if r.now.tzinfo is None:
        raise ValueError("naive datetime given to a sign-up")
    existing = await conn.fetchval(_PG_LIVE, r.activity_id, r.person_id, r.attendee)
    if existing is not None:
        return int(existing), None
    counters = await conn.fetchrow(
        _PG_SIGN_UP, r.activity_id, r.person_id, r.attendee, r.account_id, r.now
    )
    if counters is None:
        raise LookupError(f"no activity {r.activity_id}")
    registered = bool(counters["seat"])
    new_id = counters["id"]
    if new_id is None:  # a concurrent duplicate won the unique index: give the place back
        args = (r.activity_id, int(registered), int(not registered))
        counters = await conn.fetchrow(_PG_GIVE_BACK, *args)
        theirs = await conn.fetchval(_PG_LIVE, r.activity_id, r.person_id, r.attendee)
        if theirs is None:
            raise RuntimeError("duplicate sign-up vanished")
        return int(theirs), counters
    status = "registered" if registered else "waitlisted"
    position = None if registered else int(counters["waitlisted"])
    return SignUp(int(new_id), status, position), counters


class ActivityRepo(UnitRepo):
    """Activities, seats and waitlists."""

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
    ) -> SignUp:
        """Take a seat if one is left, else a waitlist place; refuse a second sign-up."""
        conn = await asyncpg_connection(self.session)
        if conn is not None:
            request = _Request(activity_id, person_id, attendee, now, account_id)
            outcome, counters = await _sign_up_pg(conn, request)
            if counters is not None:
                self._refresh_counters(activity_id, counters)
            if isinstance(outcome, SignUp):
                return outcome
            theirs = await self.registration(outcome)
            if theirs is None:
                raise RuntimeError("duplicate sign-up vanished")
            raise AlreadyRegistered(theirs)
        existing = await self.live_registration(activity_id, person_id, attendee)
        if existing is not None:
            raise AlreadyRegistered(existing)
        seat = await self.session.execute(
            update(Activity)
            .where(Activity.id == activity_id, Activity.seats_taken < Activity.capacity)
            .values(seats_taken=Activity.seats_taken + 1)
        )
        registered = bool(getattr(seat, "rowcount", 0))
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

    def _refresh_counters(self, activity_id: int, counters: Any) -> None:
        """Show counters changed behind the ORM's back on an Activity this unit has loaded."""
        cached = self.session.identity_map.get(identity_key(Activity, activity_id))
        if isinstance(cached, Activity):
            set_committed_value(cached, "seats_taken", counters["seats_taken"])
            set_committed_value(cached, "waitlisted", counters["waitlisted"])

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
        self, person_id: int, now: datetime, *, snapshot: bool = False
    ) -> list[tuple[Registration, Activity]]:
        """A person's live registrations for activities still to come, newest first.

        ``snapshot``: only to read ("my records" is asked often): a unit that has not
        opened its session reads them directly; changes to them are not saved.
        """
        if snapshot:
            async with lone_asyncpg(self.unit) as lone:
                if lone is not None:
                    rows = await lone.fetch(_PG_FOR_PERSON, person_id, list(LIVE), now)
                    dialect = self.unit.engine.dialect
                    width = len(Registration.__table__.columns)
                    return [
                        (
                            detached(Registration, tuple(r)[:width], dialect),
                            detached(Activity, tuple(r)[width:], dialect),
                        )
                        for r in rows
                    ]
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
