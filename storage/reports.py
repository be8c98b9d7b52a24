"""What a leader's monthly report (the console's 统计报表) reads: every figure is aggregated
in SQL (GROUP BY, window functions), so a month costs a few small queries whatever the size
of the tables; only the rows a chart shows come back (weeks × kinds, hospitals, activities,
channels) and at most ``LIST_SIZE`` people of the "not contacted" list.

Local time is Asia/Shanghai (UTC+8, no daylight saving): a month and its weeks (Monday
first) are cut in local time. The one place SQL differs between PostgreSQL and SQLite is
``_week`` and ``_seconds``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select
from sqlalchemy.sql.elements import KeyedColumnElement

from storage.db import TZ, AsyncSession
from storage.models import (
    Activity,
    Alert,
    Broadcast,
    BroadcastRecipient,
    MessageRecord,
    MustVisit,
    Person,
    Registration,
    ServiceRequest,
)

__all__ = ["LIST_SIZE", "Month", "ReportRepo", "SosFigures"]

LIST_SIZE = 100  # people of the "not contacted" list shown on the page (the export has all)
EXPORT_SIZE = 20_000
FAST = 60  # seconds: the telecare standard's "answered within 60 s"
SLOW = 180  # seconds: taken within 3 minutes


@dataclass(frozen=True, slots=True)
class Month:
    """A calendar month in local time."""

    year: int
    month: int

    @classmethod
    def of(cls, day: date) -> Month:
        """The month a day is in."""
        return cls(day.year, day.month)

    @property
    def key(self) -> str:
        """``YYYY-MM``."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        """Its first day."""
        return date(self.year, self.month, 1)

    @property
    def next(self) -> Month:
        """The month after."""
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    @property
    def previous(self) -> Month:
        """The month before."""
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def start(self) -> datetime:
        """Its first instant (aware, UTC)."""
        return datetime.combine(self.first, time(), TZ).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """The first instant of the next month (aware, UTC)."""
        return self.next.start


@dataclass(frozen=True, slots=True)
class SosFigures:
    """A month's emergencies: how fast they were taken and closed, and how many were false.
    Times in seconds; medians and P90s by nearest rank (None: no emergency taken/closed)."""

    total: int = 0
    taken: int = 0
    closed: int = 0
    false_alarms: int = 0
    take_median: float | None = None
    take_p90: float | None = None
    close_median: float | None = None
    close_p90: float | None = None
    within_fast: int = 0  # taken within FAST seconds
    within_slow: int = 0  # taken within SLOW seconds
    outcomes: dict[str, int] = field(default_factory=dict)

    def share(self, part: int, whole: int | None = None) -> float | None:
        """``part`` as a fraction of ``whole`` (default: every emergency of the month)."""
        whole = self.total if whole is None else whole
        return part / whole if whole else None


def _week(column: Any, dialect: str) -> ColumnElement[Any]:
    """The local Monday (``YYYY-MM-DD``) of the week a UTC timestamp falls in."""
    if dialect == "postgresql":
        local = func.timezone(TZ.key, column)
        return func.to_char(func.date_trunc("week", local), "YYYY-MM-DD")
    # SQLite stores UTC text; Shanghai is UTC+8 all year. 'weekday 1' moves on to a Monday.
    return func.date(column, "+8 hours", "-6 days", "weekday 1")


def _seconds(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """Seconds from ``earlier`` to ``later``."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _within(column: KeyedColumnElement[Any] | Any, month: Month) -> ColumnElement[bool]:
    return and_(column >= month.start, column < month.end)


class ReportRepo:
    """The monthly report's reads."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def dialect(self) -> str:
        """postgresql | sqlite."""
        return self.session.bind.dialect.name if self.session.bind else "postgresql"

    async def requests_by_week(self, month: Month) -> list[tuple[str, str, int]]:
        """(local Monday, kind, requests created) of the month's weeks."""
        week = _week(ServiceRequest.created_at, self.dialect).label("week")
        query = (
            select(week, ServiceRequest.kind, func.count())
            .where(_within(ServiceRequest.created_at, month))
            .group_by(week, ServiceRequest.kind)
            .order_by(week, ServiceRequest.kind)
        )
        return [(str(w), k, int(n)) for w, k, n in await self.session.execute(query)]

    async def requests_by_kind(self, month: Month) -> dict[str, int]:
        """Requests created in the month, by kind."""
        query = (
            select(ServiceRequest.kind, func.count())
            .where(_within(ServiceRequest.created_at, month))
            .group_by(ServiceRequest.kind)
        )
        return {k: int(n) for k, n in await self.session.execute(query)}

    async def _durations(self, month: Month, until: Any) -> tuple[float | None, float | None]:
        """Median and P90 (nearest rank) of seconds from an alert to ``until``."""
        took = _seconds(until, Alert.created_at, self.dialect)
        ranked = (
            select(
                took.label("d"),
                func.row_number().over(order_by=took).label("rn"),
                func.count().over().label("n"),
            )
            .where(_within(Alert.created_at, month), until.is_not(None))
            .subquery()
        )
        d, rn, n = ranked.c.d, ranked.c.rn, ranked.c.n
        query = select(
            func.min(case((rn * 100 >= n * 50, d))), func.min(case((rn * 100 >= n * 90, d)))
        )
        median, p90 = (await self.session.execute(query)).one()
        return (
            None if median is None else float(median),
            None if p90 is None else float(p90),
        )

    async def sos(self, month: Month) -> SosFigures:
        """The month's emergencies (by when they were raised)."""
        took = _seconds(Alert.acknowledged_at, Alert.created_at, self.dialect)
        outcome = ServiceRequest.details["outcome"].as_string()
        counts = (
            select(
                func.count(),
                func.count(Alert.acknowledged_at),
                func.count(Alert.resolved_at),
                func.coalesce(func.sum(case((took <= FAST, 1), else_=0)), 0),
                func.coalesce(func.sum(case((took <= SLOW, 1), else_=0)), 0),
            )
            .select_from(Alert)
            .where(_within(Alert.created_at, month))
        )
        total, taken, closed, fast, slow = (await self.session.execute(counts)).one()
        by_outcome = (
            select(outcome, func.count())
            .select_from(Alert)
            .join(ServiceRequest, ServiceRequest.id == Alert.request_id)
            .where(_within(Alert.created_at, month), Alert.resolved_at.is_not(None))
            .group_by(outcome)
        )
        outcomes = {str(o or "unknown"): int(c) for o, c in await self.session.execute(by_outcome)}
        take = await self._durations(month, Alert.acknowledged_at)
        close = await self._durations(month, Alert.resolved_at)
        return SosFigures(
            total=int(total),
            taken=int(taken),
            closed=int(closed),
            false_alarms=outcomes.get("false_alarm", 0),
            take_median=take[0],
            take_p90=take[1],
            close_median=close[0],
            close_p90=close[1],
            within_fast=int(fast),
            within_slow=int(slow),
            outcomes=outcomes,
        )

    async def escorts_by_hospital(self, month: Month) -> list[tuple[str, int, int]]:
        """(hospital, escorts asked for, of them cancelled) in the month, most first."""
        hospital = ServiceRequest.details["hospital"].as_string().label("hospital")
        query = (
            select(
                hospital,
                func.count(),
                func.coalesce(
                    func.sum(case((ServiceRequest.status == "cancelled", 1), else_=0)), 0
                ),
            )
            .where(
                ServiceRequest.kind == "medical_escort", _within(ServiceRequest.created_at, month)
            )
            .group_by(hospital)
            .order_by(func.count().desc(), hospital)
        )
        return [(h or "", int(n), int(c)) for h, n, c in await self.session.execute(query)]

    async def activities(self, month: Month) -> list[tuple[str, datetime, int, int, int]]:
        """(title, start, capacity, seats taken, attended) of the activities held in the
        month; attended counts the registrations checked in (``attended_at``)."""
        attended = (
            select(func.count(Registration.id))
            .where(Registration.activity_id == Activity.id, Registration.attended_at.is_not(None))
            .correlate(Activity)
            .scalar_subquery()
        )
        query = (
            select(
                Activity.title,
                Activity.starts_at,
                Activity.capacity,
                Activity.seats_taken,
                attended,
            )
            .where(_within(Activity.starts_at, month))
            .order_by(Activity.starts_at, Activity.id)
        )
        return [
            (t, s, int(c), int(n), int(a or 0))
            for t, s, c, n, a in await self.session.execute(query)
        ]

    async def broadcast_reach(self, month: Month) -> list[tuple[str, str, int]]:
        """(channel, recipient status, count) of the broadcasts created in the month."""
        query = (
            select(BroadcastRecipient.channel, BroadcastRecipient.status, func.count())
            .join(Broadcast, Broadcast.id == BroadcastRecipient.broadcast_id)
            .where(_within(Broadcast.created_at, month))
            .group_by(BroadcastRecipient.channel, BroadcastRecipient.status)
            .order_by(BroadcastRecipient.channel, BroadcastRecipient.status)
        )
        return [(c, s, int(n)) for c, s, n in await self.session.execute(query)]

    def _not_contacted(self, month: Month) -> ColumnElement[bool]:
        """A person on the roster by the month's end with no request (visits included) and
        no message in or out in the month."""
        request = exists().where(
            ServiceRequest.person_id == Person.id,
            _within(ServiceRequest.created_at, month),
            # A must-visit task the daily job made is no contact until the visit is made.
            or_(ServiceRequest.kind != "must_visit", ServiceRequest.status == "done"),
        )
        message = exists().where(
            MessageRecord.person_id == Person.id, _within(MessageRecord.created_at, month)
        )
        return and_(Person.created_at < month.end, ~request, ~message)

    async def visit_coverage(self, month: Month) -> list[tuple[str | None, int, int]]:
        """(district, visits due in the month, of them made) of the must-visit ledger (五必访),
        by district; a visit counts as made when logged or its task was closed as done."""
        made = or_(MustVisit.visited_at.is_not(None), ServiceRequest.status == "done")
        query = (
            select(
                Person.district,
                func.count(MustVisit.id),
                func.coalesce(func.sum(case((made, 1), else_=0)), 0),
            )
            .select_from(MustVisit)
            .join(Person, Person.id == MustVisit.person_id)
            .join(ServiceRequest, ServiceRequest.id == MustVisit.request_id)
            .where(
                MustVisit.due_date >= month.first,
                MustVisit.due_date < month.next.first,
                ServiceRequest.status != "cancelled",  # dropped by staff: no longer owed
            )
            .group_by(Person.district)
            .order_by(Person.district)
        )
        return [(d, int(n), int(m)) for d, n, m in await self.session.execute(query)]

    async def roster_size(self, month: Month) -> int:
        """People on the roster by the month's end."""
        query = select(func.count()).select_from(Person).where(Person.created_at < month.end)
        return int(await self.session.scalar(query) or 0)

    async def not_contacted_count(self, month: Month) -> int:
        """How many people nobody was in touch with in the month."""
        query = select(func.count()).select_from(Person).where(self._not_contacted(month))
        return int(await self.session.scalar(query) or 0)

    async def not_contacted(
        self, month: Month, limit: int = LIST_SIZE
    ) -> list[tuple[int, str, str | None, bool]]:
        """(id, name, district, lives alone) of people not contacted, by id."""
        query = (
            select(Person.id, Person.name, Person.district, Person.lives_alone)
            .where(self._not_contacted(month))
            .order_by(Person.id)
            .limit(limit)
        )
        return [(i, n, d, bool(a)) for i, n, d, a in await self.session.execute(query)]
