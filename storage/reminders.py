"""Reminders: who is due one, and a claim on each so that it is sent once.

A reminder is one message about one thing (an activity, a booking, a staff visit task)
for one day, to one channel account. Its row is the claim: inserted with ``INSERT … ON
CONFLICT DO NOTHING`` on the unique key (day, kind, target, account) *before* the message
goes out, so when two workers run the same check at the same moment only one of them gets
the row back and sends. The result is written after the send; a row left ``sending`` by a
worker that died mid-send is never sent again (whether it arrived is unknown).

The queries below return only what has no row yet (an anti-join on that same key), so a
check that runs every minute costs a few indexed look-ups when nothing is due.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, extract, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import AsyncSession
from storage.models import (
    Activity,
    ChannelAccount,
    DutyShift,
    Person,
    Registration,
    Reminder,
    ServiceRequest,
    Staff,
)
from storage.repos import CLOSED_STATUSES

__all__ = [
    "ACTIVITY",
    "ALONE_CALL",
    "BIRTHDAY",
    "CLAIMED",
    "ENDED",
    "HOSPITAL_VISIT",
    "Claim",
    "ReminderRepo",
]

# Kinds of reminder (a booking's reminder has the kind of its request: eldercare, …).
ACTIVITY = "activity"  # target: the activity (one message per account, all its attendees)
HOSPITAL_VISIT = "hospital_visit"  # target: the staff's visit task (a service request)
BIRTHDAY = "birthday"  # target: the person
ALONE_CALL = "alone_call"  # target: the person; a sent one counts as this month's contact
CLAIMED = "sending"  # the result until the send returns
# A request in one of these states needs no reminder (a moved booking is "rescheduled").
ENDED = CLOSED_STATUSES | {"rescheduled"}
_KEY = ("day", "kind", "target", "account_id")
_CHUNK = 500  # rows per INSERT (SQLite's limit on bound parameters)

Key = tuple[date, str, int, int]


@dataclass(frozen=True, slots=True, order=True)
class Claim:
    """One reminder to claim: what about, for which day, to which account."""

    day: date
    kind: str
    target: int
    account_id: int
    person_id: int | None = None

    @property
    def key(self) -> Key:
        """The unique key of its row."""
        return (self.day, self.kind, self.target, self.account_id)


def _not_reminded(day: date, kind: Any, target: Any) -> ColumnElement[bool]:
    """No reminder row yet for this day, kind, target and the joined account."""
    return ~exists().where(
        Reminder.day == day,
        Reminder.kind == kind,
        Reminder.target == target,
        Reminder.account_id == ChannelAccount.id,
    )


def _reached_for(person_id: Any, booked_by: Any) -> ColumnElement[bool]:
    """The accounts a retiree's reminder goes to: the retiree's own active accounts, and
    the active family account (bound to the same retiree) that made the booking."""
    return and_(
        ChannelAccount.active.is_(True),
        ChannelAccount.person_id == person_id,
        or_(
            ChannelAccount.role == "retiree",
            and_(ChannelAccount.role == "family", ChannelAccount.id == booked_by),
        ),
    )


class ReminderRepo:
    """Who is due a reminder, the claims, and their results."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------ retirees
    async def activities_due(
        self, start: datetime, end: datetime, day: date, limit: int
    ) -> list[tuple[Activity, Registration, Person, ChannelAccount]]:
        """Seats (not waitlist places, not cancelled) in activities starting in
        [start, end), with each account to remind that has no reminder for ``day`` yet;
        grouped by activity and account."""
        rows = await self.session.execute(
            select(Activity, Registration, Person, ChannelAccount)
            .join(Registration, Registration.activity_id == Activity.id)
            .join(Person, Person.id == Registration.person_id)
            .join(
                ChannelAccount,
                _reached_for(Registration.person_id, Registration.requested_by_account_id),
            )
            .where(
                Activity.starts_at >= start,
                Activity.starts_at < end,
                Registration.status == "registered",
                _not_reminded(day, ACTIVITY, Activity.id),
            )
            .order_by(Activity.id, ChannelAccount.id, Registration.id)
            .limit(limit)
        )
        return [(a, r, p, c) for a, r, p, c in rows]

    async def bookings_due(
        self, kinds: Sequence[str], day: date, limit: int
    ) -> list[tuple[ServiceRequest, Person, ChannelAccount]]:
        """Open requests of these kinds booked for ``day``, with each account to remind
        that has no reminder for it yet."""
        rows = await self.session.execute(
            select(ServiceRequest, Person, ChannelAccount)
            .join(Person, Person.id == ServiceRequest.person_id)
            .join(
                ChannelAccount,
                _reached_for(ServiceRequest.person_id, ServiceRequest.requested_by_account_id),
            )
            .where(
                ServiceRequest.kind.in_(kinds),
                ServiceRequest.status.not_in(ENDED),
                ServiceRequest.scheduled_date == day,
                _not_reminded(day, ServiceRequest.kind, ServiceRequest.id),
            )
            .order_by(ServiceRequest.id, ChannelAccount.id)
            .limit(limit)
        )
        return [(r, p, c) for r, p, c in rows]

    # --------------------------------------------------------------- staff
    async def on_duty(self, now: datetime, level: int = 1) -> list[ChannelAccount]:
        """The active staff accounts of everyone on call at ``level`` now."""
        rows = await self.session.scalars(
            select(ChannelAccount)
            .join(Staff, Staff.id == ChannelAccount.staff_id)
            .join(DutyShift, DutyShift.staff_id == Staff.id)
            .where(
                DutyShift.level == level,
                DutyShift.starts_at <= now,
                DutyShift.ends_at > now,
                Staff.active.is_(True),
                ChannelAccount.role == "staff",
                ChannelAccount.active.is_(True),
            )
            .order_by(ChannelAccount.id)
            .distinct()
        )
        return list(rows)

    async def visits_due(
        self, until: datetime, limit: int
    ) -> list[tuple[ServiceRequest, Person | None]]:
        """Hospital-stay visit tasks still open and due by ``until`` (overdue ones too)."""
        rows = await self.session.execute(
            select(ServiceRequest, Person)
            .outerjoin(Person, Person.id == ServiceRequest.person_id)
            .where(
                ServiceRequest.kind == HOSPITAL_VISIT,
                ServiceRequest.status.not_in(ENDED),
                ServiceRequest.due_at <= until,
            )
            .order_by(ServiceRequest.due_at, ServiceRequest.id)
            .limit(limit)
        )
        return [(r, p) for r, p in rows]

    async def born_on(self, days: Iterable[tuple[int, int]], limit: int) -> list[Person]:
        """People whose birthday is one of these (month, day)s."""
        matches = [
            and_(extract("month", Person.birth_date) == m, extract("day", Person.birth_date) == d)
            for m, d in days
        ]
        rows = await self.session.scalars(
            select(Person)
            .where(Person.birth_date.is_not(None), or_(*matches))
            .order_by(Person.birth_date, Person.id)
            .limit(limit)
        )
        return list(rows)

    async def alone_not_called(self, since: date, until: date, limit: int) -> list[Person]:
        """People living alone with no alone-call reminder sent between the two days."""
        called = exists().where(
            Reminder.kind == ALONE_CALL,
            Reminder.target == Person.id,
            Reminder.day >= since,
            Reminder.day <= until,
            Reminder.result == "sent",
        )
        rows = await self.session.scalars(
            select(Person).where(Person.lives_alone.is_(True), ~called).order_by(Person.id)
            .limit(limit)
        )  # fmt: skip
        return list(rows)

    async def already(
        self, day: date, kinds: Sequence[str], account_ids: Sequence[int]
    ) -> set[tuple[str, int, int]]:
        """(kind, target, account) of the reminders of ``day`` these accounts have."""
        if not account_ids:
            return set()
        rows = await self.session.execute(
            select(Reminder.kind, Reminder.target, Reminder.account_id).where(
                Reminder.day == day, Reminder.kind.in_(kinds), Reminder.account_id.in_(account_ids)
            )
        )
        return {(k, t, a) for k, t, a in rows}

    # -------------------------------------------------------------- claims
    async def claim(self, claims: Iterable[Claim], now: datetime) -> dict[Key, int]:
        """Insert a row for each claim unless one exists; the keys (with row ids) of
        those inserted here, which this caller, and no one else, is to send.

        Rows go in key order, so two callers claiming overlapping sets wait for each other
        (PostgreSQL: until the first commits) rather than deadlock. Commit before sending,
        so the other caller sees the rows and moves on."""
        dialect = self.session.bind.dialect.name if self.session.bind else "postgresql"
        insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
        rows = [
            {
                "day": c.day,
                "kind": c.kind,
                "target": c.target,
                "account_id": c.account_id,
                "person_id": c.person_id,
                "result": CLAIMED,
                "claimed_at": now,
            }
            for c in sorted(set(claims))
        ]
        claimed: dict[Key, int] = {}
        for start in range(0, len(rows), _CHUNK):
            statement = (
                insert(Reminder)
                .values(rows[start : start + _CHUNK])
                .on_conflict_do_nothing(index_elements=list(_KEY))
                .returning(
                    Reminder.id, Reminder.day, Reminder.kind, Reminder.target, Reminder.account_id
                )
            )
            for row_id, day, kind, target, account_id in await self.session.execute(statement):
                claimed[(day, kind, target, account_id)] = row_id
        return claimed

    async def record(self, ids: Sequence[int], result: str, now: datetime) -> None:
        """How the send of these claimed reminders went (sent_at only when sent)."""
        await self.session.execute(
            update(Reminder)
            .where(Reminder.id.in_(ids))
            .values(result=result, sent_at=now if result == "sent" else None)
            .execution_options(synchronize_session=False)
        )
