"""What the staff console (工作台) reads: the board of emergencies, the queue of open
requests, people and their one timeline (storage/timeline.py), and the audit log. Writes go
through the other repositories (alerts, requests, audit) so the chat and the console share
one set of rules.

Every list is paged and ordered on an indexed column, so a page costs the same with ten
thousand people and a hundred thousand requests as with the demo's few
(benchmarks/console.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Select, func, or_, select

from storage.alerts import OPEN_STATUSES
from storage.crypto import blind, phone_digits
from storage.db import AsyncSession
from storage.models import (
    Alert,
    AlertStep,
    AuditEntry,
    ChannelAccount,
    EldercareService,
    FamilyMember,
    MessageRecord,
    Person,
    PersonTag,
    ServiceRequest,
    Staff,
)
from storage.queue_lists import Lists, cached_lists
from storage.queue_query import queue_statements
from storage.timeline import TIMELINE_SIZE, TimelineItem, alert_steps, timeline

__all__ = [
    "BoardAlert",
    "Page",
    "QueueFilter",
    "QueuePage",
    "Someone",
    "TimelineItem",
    "WorkbenchRepo",
    "people_matching",
]

PAGE_SIZE = 50
Names = dict[int, str]
# The queue counts its open requests up to this many and then says "more than": counting
# every one of a province's 30,000 open requests cost more than the rest of the page.
COUNT_CAP = 1000


@dataclass(frozen=True, slots=True)
class BoardAlert:
    """One emergency on the board with what staff need at a glance."""

    alert: Alert
    request: ServiceRequest
    person: Person | None
    steps: list[AlertStep]
    words: str


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """The queue's filters; None means any."""

    kinds: tuple[str, ...] = ()
    status: str | None = None
    district: str | None = None
    due_before: date | None = None
    due_on: date | None = None
    staff_id: int | None = None
    unassigned: bool = False
    by_date: bool = False  # soonest appointment first (else: longest waiting first)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list, and how many there are in all."""

    rows: list[Any]
    total: int
    offset: int
    size: int = PAGE_SIZE
    capped: bool = False  # there are more than ``total``

    @property
    def has_next(self) -> bool:
        """Whether a later page exists."""
        if self.capped:
            return len(self.rows) == self.size
        return self.offset + len(self.rows) < self.total


@dataclass(frozen=True, slots=True)
class QueuePage:
    """The 待办 page: a page of the queue, its owners' names by staff id, the districts and
    the home services' names by code (its filters and labels)."""

    page: Page
    names: dict[int, str]
    districts: list[str]
    services: dict[str, str]


@dataclass(frozen=True, slots=True)
class Someone:
    """What the queue shows of the person a request is for (no sealed field is opened)."""

    name: str
    district: str | None


def people_matching(words: str, district: str | None = None) -> Select[Any]:
    """The console's people search: (part of) a name, a full phone number (its blind index)
    or a file number; optionally a district. Shared by the search page and the export."""
    query: Select[Any] = select(Person)
    said = words.strip()
    if said:
        number = phone_digits(said)
        if said.isdecimal() and len(said) <= 9:  # noqa: PLR2004 - an id, not a phone
            query = query.where(Person.id == int(said))
        elif number and len(number) >= 7:  # noqa: PLR2004 - phones have 7 digits and more
            query = query.where(Person.phone_index == blind("phone", number))
        else:
            escaped = said.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(Person.name.like(f"%{escaped}%", escape="\\"))
    if district:
        query = query.where(Person.district == district)
    return query


class WorkbenchRepo:
    """The console's reads."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ------------------------------------------------------------------ staff
    async def staff_by_username(self, username: str) -> Staff | None:
        """The staff member who signs in with this name (active or not)."""
        return await self.session.scalar(select(Staff).where(Staff.username == username))

    async def all_staff(self) -> list[Staff]:
        """Every staff member, by id."""
        return list(await self.session.scalars(select(Staff).order_by(Staff.id)))

    async def active_staff(self) -> list[Staff]:
        """Everyone who may be assigned work, by name."""
        rows = await self.session.scalars(
            select(Staff).where(Staff.active.is_(True)).order_by(Staff.name, Staff.id)
        )
        return list(rows)

    async def staff_names(self, ids: Sequence[int | None]) -> dict[int, str]:
        """Staff names by id."""
        wanted = {i for i in ids if i is not None}
        if not wanted:
            return {}
        rows = await self.session.execute(select(Staff.id, Staff.name).where(Staff.id.in_(wanted)))
        return {int(i): str(n) for i, n in rows}

    async def service_names(self) -> dict[str, str]:
        """Home-service names by code (requests keep the code)."""
        rows = await self.session.execute(select(EldercareService.code, EldercareService.name))
        return {str(code): str(name) for code, name in rows}

    # ------------------------------------------------------------------ board
    async def board(self) -> list[BoardAlert]:
        """Every emergency not yet closed, oldest first, with its steps."""
        rows = (
            await self.session.execute(
                select(Alert, ServiceRequest, Person)
                .join(ServiceRequest, ServiceRequest.id == Alert.request_id)
                .outerjoin(Person, Person.id == Alert.person_id)
                .where(Alert.status.in_(OPEN_STATUSES))
                .order_by(Alert.created_at, Alert.id)
                .limit(200)
            )
        ).all()
        steps = await alert_steps(self.session, [a.id for a, _, _ in rows])
        return [
            BoardAlert(a, r, p, steps.get(a.id, []), str((r.details or {}).get("text") or ""))
            for a, r, p in rows
        ]

    async def waiting_alerts(self) -> int:
        """How many emergencies nobody has taken yet."""
        count = await self.session.scalar(
            select(func.count()).select_from(Alert).where(Alert.status.in_(("open", "unconfirmed")))
        )
        return int(count or 0)

    async def alert(self, request_id: int) -> BoardAlert | None:
        """One emergency (open or closed) by its request number."""
        row = (
            await self.session.execute(
                select(Alert, ServiceRequest, Person)
                .join(ServiceRequest, ServiceRequest.id == Alert.request_id)
                .outerjoin(Person, Person.id == Alert.person_id)
                .where(Alert.request_id == request_id)
            )
        ).first()
        if row is None:
            return None
        alert, request, person = row
        steps = await alert_steps(self.session, [alert.id])
        words = str((request.details or {}).get("text") or "")
        return BoardAlert(alert, request, person, steps.get(alert.id, []), words)

    # ------------------------------------------------------------------ queue
    async def queue(self, where: QueueFilter, offset: int = 0, size: int = PAGE_SIZE) -> Page:
        """Open requests (or those of one status), longest waiting first."""
        page, _names = await self._queue(where, offset, size)
        return page

    async def queue_page(self, where: QueueFilter, offset: int = 0) -> QueuePage:
        """What the 待办 page shows: the list, the names of the staff it shows, and the
        districts and services (kept a while: storage/queue_lists.py). One statement, or
        none more when the lists are kept."""
        page, names = await self._queue(where, offset, PAGE_SIZE)
        database = str(self.session.get_bind().engine.url)
        lists = await cached_lists(database, self._lists)
        return QueuePage(page, names, lists.districts, lists.services)

    async def _lists(self) -> Lists:
        return Lists(await self.districts(), await self.service_names())

    async def _queue(self, where: QueueFilter, offset: int, size: int) -> tuple[Page, Names]:
        """A page of the queue and its owners' names, in one statement kept for the shape of
        the filter (storage/queue_query.py); the count stops at the cap."""
        page_of, count_of = queue_statements(
            status=bool(where.status),
            kinds=bool(where.kinds),
            district=bool(where.district),
            due_before=where.due_before is not None,
            due_on=where.due_on is not None,
            owner="nobody" if where.unassigned else "" if where.staff_id is None else "mine",
            by_date=where.by_date,
        )
        cap = max(COUNT_CAP, offset + size)
        values = {
            "status": where.status,
            "kinds": list(where.kinds),
            "district": where.district,
            "due_before": where.due_before,
            "due_on": where.due_on,
            "staff_id": where.staff_id,
            "upto": cap + 1,
            "offset": offset,
            "size": size,
        }
        rows = (await self.session.execute(page_of, values)).all()
        if rows:
            counted = int(rows[0].total)
        elif offset:  # past the last page: the count alone
            counted = int(await self.session.scalar(count_of, values) or 0)
        else:
            counted = 0
        shown = [
            (r, None if r.person_name is None else Someone(r.person_name, r.person_district))
            for r in rows
        ]
        names = {int(r.assigned_staff_id): str(r.owner_name) for r in rows if r.owner_name}
        return Page(shown, min(counted, cap), offset, size, capped=counted > cap), names

    async def districts(self) -> list[str]:
        """The districts people on the roster live in: one index lookup per district (a
        recursive "next larger" walk of ix_people_district), not a scan of the roster."""
        found = select(func.min(Person.district).label("v")).cte("d", recursive=True)
        after = select(func.min(Person.district)).where(Person.district > found.c.v)
        found = found.union_all(select(after.scalar_subquery()).where(found.c.v.is_not(None)))
        rows = await self.session.scalars(select(found.c.v).where(found.c.v.is_not(None)))
        return [str(d) for d in rows]

    # ----------------------------------------------------------------- people
    async def search_people(
        self, words: str, district: str | None = None, offset: int = 0, size: int = PAGE_SIZE
    ) -> Page:
        """People by (part of) a name, a full phone number, or an id; optionally a district."""
        query = people_matching(words, district)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(Person.name, Person.id).offset(offset).limit(size)
        )
        return Page(list(rows), int(total or 0), offset, size)

    async def accounts_of(self, person_id: int) -> list[ChannelAccount]:
        """Every channel account bound (or waiting to be) to a person."""
        rows = await self.session.scalars(
            select(ChannelAccount)
            .where(
                or_(
                    ChannelAccount.person_id == person_id,
                    ChannelAccount.pending_person_id == person_id,
                )
            )
            .order_by(ChannelAccount.id)
        )
        return list(rows)

    async def tags_of(self, person_id: int) -> list[str]:
        """A person's tags."""
        rows = await self.session.scalars(
            select(PersonTag.tag).where(PersonTag.person_id == person_id).order_by(PersonTag.tag)
        )
        return list(rows)

    async def family_of(self, person_id: int) -> list[FamilyMember]:
        """A person's family members from the bureau's family list (导入 家属名单)."""
        rows = await self.session.scalars(
            select(FamilyMember)
            .where(FamilyMember.person_id == person_id)
            .order_by(FamilyMember.id)
        )
        return list(rows)

    async def timeline(self, person_id: int, limit: int = TIMELINE_SIZE) -> list[TimelineItem]:
        """Everything in a person's file, newest first (storage/timeline.py)."""
        return await timeline(self.session, person_id, limit)

    # ------------------------------------------------------------- messages
    async def last_messages(self, account_id: int, limit: int = 20) -> list[MessageRecord]:
        """An account's last messages in and out, oldest first (a hand-off's context)."""
        rows = await self.session.scalars(
            select(MessageRecord)
            .where(MessageRecord.account_id == account_id)
            .order_by(MessageRecord.id.desc())
            .limit(limit)
        )
        return list(reversed(list(rows)))

    async def last_inbound_at(self, account_id: int) -> datetime | None:
        """When the account last wrote to us (WeChat's 48-hour window starts there)."""
        value = await self.session.scalar(
            select(func.max(MessageRecord.created_at)).where(
                MessageRecord.account_id == account_id, MessageRecord.direction == "in"
            )
        )
        if isinstance(value, str):  # SQLite's MAX() returns the stored text
            value = datetime.fromisoformat(value)
        return value if value is None or value.tzinfo else value.replace(tzinfo=UTC)

    # ------------------------------------------------------------------ audit
    async def audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target_type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        offset: int = 0,
        size: int = PAGE_SIZE,
    ) -> Page:
        """Audit entries, newest first, filtered by actor, action, kind of target and time."""
        query: Select[Any] = select(AuditEntry)
        if since is not None:
            query = query.where(AuditEntry.at >= since)
        if until is not None:
            query = query.where(AuditEntry.at < until)
        if actor:
            query = query.where(AuditEntry.actor == actor)
        if action:
            query = query.where(AuditEntry.action == action)
        if target_type:
            query = query.where(AuditEntry.target_type == target_type)
        total = await self.session.scalar(select(func.count()).select_from(query.subquery()))
        rows = await self.session.scalars(
            query.order_by(AuditEntry.id.desc()).offset(offset).limit(size)
        )
        return Page(list(rows), int(total or 0), offset, size)
