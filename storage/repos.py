"""Repositories for people, accounts, staff, requests and the logs; handlers never write SQL."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import asyncpg
from sqlalchemy import Table, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from storage.crypto import blind, phone_digits
from storage.db import (
    AsyncSession,
    UnitRepo,
    asyncpg_connection,
    detached,
    lone_asyncpg,
    sql_columns,
)
from storage.models import (
    AuditEntry,
    BindingCode,
    ChannelAccount,
    Delivery,
    MessageRecord,
    Person,
    PersonTag,
    RequestStatusChange,
    ServiceRequest,
    Staff,
)

__all__ = [
    "STAFF_CODE_MAX",
    "AccountRepo",
    "AuditRepo",
    "CodeRepo",
    "DeliveryRepo",
    "DuplicateMessage",
    "MessageRepo",
    "PeopleRepo",
    "RequestRepo",
    "StaffRepo",
    "is_duplicate_message",
]

_MESSAGE_LOG = cast(Table, MessageRecord.__table__)
# The message log is written on every message: on PostgreSQL it goes straight to asyncpg's
# prepared executemany (a tenth of SQLAlchemy's per-statement CPU), in the same transaction.
_LOG_COLUMNS = tuple(c.name for c in _MESSAGE_LOG.columns if c.name != "id")
_LOG_INSERT_PG = (
    f"INSERT INTO {_MESSAGE_LOG.name} ({', '.join(_LOG_COLUMNS)}) "  # noqa: S608 - our own names
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_LOG_COLUMNS) + 1))})"
)
# A message whose handler wrote nothing else (a greeting, an answer, a menu) is logged with
# an asynchronous commit (PostgreSQL's synchronous_commit off, for this transaction only):
# no wait for the WAL to reach the disk, which on a busy disk was most of the latency tail.
# Should the database server itself crash, the transcript lines of its last moments
# (at most 3 x wal_writer_delay, 0.6 s by default) can be lost; nothing else can, and
# every service record (a booking, a sign-up, an alert) still commits synchronously.
# One statement, so it stays one round trip: set_config(..., true) is transaction-local.
_PG: Dialect = postgresql.asyncpg.dialect()  # type: ignore[no-untyped-call]
_LOG_TYPES = {
    c.name: re.sub(r"\(\d+\)", "", c.type.compile(dialect=_PG)) for c in _MESSAGE_LOG.columns
}
_LOG_INSERT_PG_ASYNC_COMMIT = (
    f"INSERT INTO {_MESSAGE_LOG.name} ({', '.join(_LOG_COLUMNS)}) SELECT "
    + ", ".join(f"${i}::{_LOG_TYPES[c]}" for i, c in enumerate(_LOG_COLUMNS, 1))
    + " WHERE set_config('synchronous_commit', 'off', true) IS NOT NULL"
)

_ACCOUNT_WIDTH = len(ChannelAccount.__table__.columns)
_IDENTIFY_PG = (
    f"SELECT {sql_columns(ChannelAccount, 'a')}, {sql_columns(Person, 'p')}"  # noqa: S608
    " FROM channel_accounts a LEFT OUTER JOIN people p ON p.id = a.person_id"
    " WHERE a.channel = $1 AND a.external_id = $2"
)
_OPEN_REQUESTS_PG = (
    f"SELECT {sql_columns(ServiceRequest, 'r')} FROM service_requests r"  # noqa: S608
    " WHERE r.person_id = $1 AND r.kind = ANY($2::varchar[]) AND r.status <> ALL($3::varchar[])"
    " ORDER BY r.id DESC"
)


def _log_args(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(row.get(c) for c in _LOG_COLUMNS) for row in rows]


class DuplicateMessage(Exception):  # noqa: N818 - named for what happened
    """This platform message is already in the log: it was handled before (the unit that
    tried to log it again must roll back)."""


INBOUND_INDEX = "uq_message_log_inbound"


def is_duplicate_message(error: BaseException) -> bool:
    """Whether a database error is the message log's "this message is in already"."""
    if isinstance(error, DuplicateMessage):
        return True
    if isinstance(error, IntegrityError):
        error = error.orig if error.orig is not None else error
        # asyncpg (through SQLAlchemy's adapter) names the index; SQLite names the columns.
        cause = getattr(error, "__cause__", None)
        if getattr(cause, "constraint_name", None) == INBOUND_INDEX:
            return True
        said = str(error)
        return INBOUND_INDEX in said or "message_log.message_id" in said
    if isinstance(error, asyncpg.UniqueViolationError):
        return getattr(error, "constraint_name", None) == INBOUND_INDEX
    return False


# Statuses after which a request needs nothing more.
CLOSED_STATUSES = frozenset({"done", "cancelled", "resolved", "closed", "rejected", "paid"})


def digits(phone: str) -> str:
    """Only the digits of a phone number (without +86)."""
    return phone_digits(phone)


def _phone_is(phone: str) -> Any:
    """A condition on a person's phone (encrypted): through its blind index."""
    return Person.phone_index == blind("phone", phone_digits(phone))


class PeopleRepo:
    """The roster."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, person_id: int) -> Person | None:
        """One person by id."""
        return await self.session.get(Person, person_id)

    async def add(self, person: Person) -> Person:
        """Put a new person on the roster."""
        self.session.add(person)
        await self.session.flush()
        return person

    async def find_by_name_and_phone(self, name: str, phone: str) -> Person | None:
        """The person with exactly this name and phone number, if one."""
        rows = await self.session.scalars(
            select(Person).where(Person.name == name.strip(), _phone_is(phone))
        )
        found = rows.all()
        return found[0] if len(found) == 1 else None

    async def named(self, name: str, limit: int = 2) -> list[Person]:
        """People with exactly this name (a few: more than one means ask for the number)."""
        rows = await self.session.scalars(
            select(Person).where(Person.name == name).order_by(Person.id).limit(limit)
        )
        return list(rows)

    async def tag(self, person_id: int, tag: str, now: datetime) -> bool:
        """Give a person a tag; False if they had it already."""
        if tag in await self.tags(person_id):
            return False
        self.session.add(PersonTag(person_id=person_id, tag=tag, created_at=now))
        await self.session.flush()
        return True

    async def untag(self, person_id: int, tag: str) -> bool:
        """Take a tag away; False if they did not have it."""
        result = await self.session.execute(
            delete(PersonTag).where(PersonTag.person_id == person_id, PersonTag.tag == tag)
        )
        return bool(getattr(result, "rowcount", 0))

    async def tags(self, person_id: int) -> list[str]:
        """A person's tags, alphabetically."""
        rows = await self.session.scalars(
            select(PersonTag.tag).where(PersonTag.person_id == person_id).order_by(PersonTag.tag)
        )
        return list(rows)

    async def find_by_phone(self, phone: str) -> Person | None:
        """The one person with this phone number, if exactly one."""
        rows = (await self.session.scalars(select(Person).where(_phone_is(phone)))).all()
        return rows[0] if len(rows) == 1 else None

    async def count(self) -> int:
        """How many people are on the roster."""
        return int(await self.session.scalar(select(func.count(Person.id))) or 0)

    async def all_ids(self) -> list[int]:
        """Every person's id, in order."""
        return list(await self.session.scalars(select(Person.id).order_by(Person.id)))


class StaffRepo:
    """Bureau staff."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, staff: Staff) -> Staff:
        """Add a staff member."""
        self.session.add(staff)
        await self.session.flush()
        return staff

    async def get(self, staff_id: int) -> Staff | None:
        """One staff member by id."""
        return await self.session.get(Staff, staff_id)


class AccountRepo(UnitRepo):
    """Channel accounts (WeChat, Telegram, console) and who they belong to."""

    async def identify(
        self, channel: str, external_id: str
    ) -> tuple[ChannelAccount | None, Person | None]:
        """The account of a channel user and the person it is bound to, in one query.

        Every message that misses the identity cache asks this first; a unit that has not
        opened its session asks through asyncpg directly and gets detached objects (as the
        identity cache holds them): to change one, load it in the session.
        """
        async with lone_asyncpg(self.unit) as lone:
            if lone is not None:
                found = await lone.fetchrow(_IDENTIFY_PG, channel, external_id)
                if found is None:
                    return None, None
                values, dialect = tuple(found), self.unit.engine.dialect
                account = detached(ChannelAccount, values[:_ACCOUNT_WIDTH], dialect)
                person = (
                    detached(Person, values[_ACCOUNT_WIDTH:], dialect)
                    if values[_ACCOUNT_WIDTH] is not None
                    else None
                )
                return account, person if account.active else None
        row = (
            await self.session.execute(
                select(ChannelAccount, Person)
                .outerjoin(Person, Person.id == ChannelAccount.person_id)
                .where(ChannelAccount.channel == channel, ChannelAccount.external_id == external_id)
            )
        ).first()
        if row is None:
            return None, None
        account, person = row
        return account, person if account.active else None

    async def get(self, account_id: int) -> ChannelAccount | None:
        """One account by id."""
        return await self.session.get(ChannelAccount, account_id)

    async def find(self, channel: str, external_id: str) -> ChannelAccount | None:
        """The account of a channel user, if known."""
        return await self.session.scalar(
            select(ChannelAccount).where(
                ChannelAccount.channel == channel, ChannelAccount.external_id == external_id
            )
        )

    async def create_unbound(self, channel: str, external_id: str, now: datetime) -> ChannelAccount:
        """An account for a channel user not yet on the roster (to redeem a code with)."""
        account = await self.find(channel, external_id)
        if account is None:
            account = ChannelAccount(
                channel=channel, external_id=external_id, created_at=now, role="retiree"
            )
            self.session.add(account)
            await self.session.flush()
        return account

    async def forget(self, channel: str, external_id: str) -> ChannelAccount | None:
        """Remove a user's personal data (WeChat unsubscribe); their service records stay."""
        account = await self.find(channel, external_id)
        tombstone = "forgotten:" + secrets.token_hex(8)
        await self.session.execute(
            update(MessageRecord)
            .where(MessageRecord.channel == channel, MessageRecord.external_user_id == external_id)
            .values(external_user_id=tombstone, text=None, media_id=None)
        )
        if account is None:
            return None
        account.external_id = tombstone
        account.display_name = None
        account.active = False
        await self.session.flush()
        return account

    async def revoke(self, account: ChannelAccount, now: datetime) -> None:
        """Unbind an account from its person (staff revoked it): it is a stranger again and
        its next message starts binding afresh; what it did stays in the records."""
        account.person_id = None
        account.pending_person_id = None
        account.relation = None
        account.role = "retiree"
        account.bound_at = None
        await self.session.flush()

    async def deactivate(self, channel: str, external_id: str) -> bool:
        """Mark an account inactive (the user blocked the bot); True if it was active."""
        done = await self.session.execute(
            update(ChannelAccount)
            .where(
                ChannelAccount.channel == channel,
                ChannelAccount.external_id == external_id,
                ChannelAccount.active,
            )
            .values(active=False)
        )
        return bool(getattr(done, "rowcount", 0))

    async def staff_accounts(self) -> list[ChannelAccount]:
        """Active accounts of staff members."""
        rows = await self.session.scalars(
            select(ChannelAccount).where(ChannelAccount.role == "staff", ChannelAccount.active)
        )
        return list(rows)

    async def bind(
        self,
        channel: str,
        external_id: str,
        person_id: int,
        now: datetime,
        *,
        role: str = "retiree",
        relation: str | None = None,
        staff_id: int | None = None,
    ) -> ChannelAccount:
        """Create (or re-point) the account of a channel user to a person (or staff member)."""
        account = await self.find(channel, external_id)
        if account is None:
            account = ChannelAccount(
                channel=channel, external_id=external_id, created_at=now, role=role
            )
            self.session.add(account)
        account.person_id = person_id if role != "staff" else None
        account.role = role
        account.relation = relation
        account.staff_id = staff_id
        account.active = True
        account.bound_at = now
        account.pending_person_id = None
        await self.session.flush()
        return account


STAFF_CODE_MAX = timedelta(hours=24)


class CodeRepo:
    """One-time binding codes issued by staff."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue(
        self,
        now: datetime,
        issued_by: str,
        *,
        role: str,
        person_id: int | None = None,
        staff_id: int | None = None,
        relation: str | None = None,
        valid_for: timedelta = timedelta(days=7),
    ) -> BindingCode:
        """A fresh code (digits only, so it fits a WeChat QR scene id as well). A staff
        code is valid for at most ``STAFF_CODE_MAX`` (it gives the staff role)."""
        if role == "staff":
            valid_for = min(valid_for, STAFF_CODE_MAX)
        code = BindingCode(
            code=f"{secrets.randbelow(10**8):08d}",
            person_id=person_id,
            staff_id=staff_id,
            role=role,
            relation=relation,
            issued_by=issued_by,
            created_at=now,
            expires_at=now + valid_for,
        )
        self.session.add(code)
        await self.session.flush()
        return code

    async def redeem(self, code: str, account_id: int, now: datetime) -> BindingCode | None:
        """Use a code once; None if it is unknown, used or expired (atomic under concurrency)."""
        claimed = await self.session.execute(
            update(BindingCode)
            .where(
                BindingCode.code == code,
                BindingCode.used_at.is_(None),
                BindingCode.expires_at > now,
            )
            .values(used_at=now, used_by_account_id=account_id)
        )
        if not getattr(claimed, "rowcount", 0):
            return None
        return await self.session.scalar(select(BindingCode).where(BindingCode.code == code))

    async def state(self, code: str, now: datetime) -> tuple[str, str | None]:
        """(``usable`` | ``spent`` (used or expired) | ``unknown`` (never issued: wrong),
        the role the code gives)."""
        found = await self.session.scalar(select(BindingCode).where(BindingCode.code == code))
        if found is None:
            return "unknown", None
        usable = found.used_at is None and found.expires_at > now
        return ("usable" if usable else "spent"), found.role


class DeliveryRepo:
    """Messages sent outside a reply, and what became of them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, delivery: Delivery) -> Delivery:
        """Record a delivery."""
        self.session.add(delivery)
        await self.session.flush()
        return delivery

    async def count_sent(self, account_id: int, method: str, since: datetime) -> int:
        """How many messages went to an account by ``method`` since a moment."""
        count = await self.session.scalar(
            select(func.count(Delivery.id)).where(
                Delivery.account_id == account_id,
                Delivery.method == method,
                Delivery.status == "sent",
                Delivery.created_at >= since,
            )
        )
        return int(count or 0)

    async def report(self, channel: str, external_id: str, status: str, now: datetime) -> bool:
        """A platform's delivery report (WeChat TEMPLATESENDJOBFINISH); True if it was ours."""
        done = await self.session.execute(
            update(Delivery)
            .where(Delivery.channel == channel, Delivery.external_id == external_id)
            .values(
                status="sent" if status == "success" else "failed",
                error=None if status == "success" else status[:200],
                sent_at=now,
            )
        )
        return bool(getattr(done, "rowcount", 0))


class RequestRepo(UnitRepo):
    """Service requests and their status history."""

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
        *,
        snapshot: bool = False,
    ) -> list[ServiceRequest]:
        """A person's requests, newest first.

        ``snapshot``: only to read ("my records" is asked often): a unit that has not
        opened its session reads open requests of given kinds (what its callers ask)
        directly; changes to them are not saved. Other reads go through the session.
        """
        if snapshot and kinds and open_only:
            async with lone_asyncpg(self.unit) as lone:
                if lone is not None:
                    rows = await lone.fetch(
                        _OPEN_REQUESTS_PG, person_id, list(kinds), sorted(CLOSED_STATUSES)
                    )
                    dialect = self.unit.engine.dialect
                    return [detached(ServiceRequest, tuple(r), dialect) for r in rows]
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


class MessageRepo(UnitRepo):
    """The message log."""

    async def expire_text(self, before: datetime, batch: int = 1000) -> int:
        """Blank what people wrote (and media ids) in log lines older than ``before``; the
        lines themselves (kind, intent, times) and every service record stay. At most
        ``batch`` rows a call (the retention job calls again while a batch comes back full)."""
        found = list(
            await self.session.scalars(
                select(MessageRecord.id)
                .where(
                    MessageRecord.created_at < before,
                    or_(MessageRecord.text.is_not(None), MessageRecord.media_id.is_not(None)),
                )
                .order_by(MessageRecord.id)
                .limit(batch)
            )
        )
        if found:
            await self.session.execute(
                update(MessageRecord)
                .where(MessageRecord.id.in_(found))
                .values(text=None, media_id=None)
            )
        return len(found)

    def add(self, record: MessageRecord) -> None:
        """Log one message (written with the message's transaction)."""
        self.session.add(record)

    async def add_many(self, rows: list[dict[str, Any]]) -> None:
        """Log several messages at once (a message and its replies): a unit's last write.

        In the unit's transaction when it has one; a unit that touched nothing else writes
        the rows as one lone statement (atomic by itself) without opening a session.
        """
        for row in rows:
            if row["created_at"].tzinfo is None:  # as UTCDateTime insists
                raise ValueError("naive datetime given to the message log")
        try:
            async with lone_asyncpg(self.unit) as lone:
                if lone is not None:
                    await lone.executemany(_LOG_INSERT_PG_ASYNC_COMMIT, _log_args(rows))
                    return
            # The log is written last; alone, it is its own atomic transaction.
            conn = await asyncpg_connection(self.session, begin=False)
            if conn is None:
                await self.session.execute(insert(_MESSAGE_LOG), rows)  # a Core executemany
                return
            await conn.executemany(_LOG_INSERT_PG, _log_args(rows))
        except (IntegrityError, asyncpg.UniqueViolationError) as e:
            if is_duplicate_message(e):
                raise DuplicateMessage(str(rows[0].get("message_id"))) from e
            raise

    async def replies_to(
        self, channel: str, external_user_id: str, message_id: str
    ) -> list[MessageRecord]:
        """The replies logged for a message (to answer a retry of it the same way)."""
        rows = await self.session.scalars(
            select(MessageRecord)
            .where(
                MessageRecord.channel == channel,
                MessageRecord.external_user_id == external_user_id,
                MessageRecord.message_id == message_id,
                MessageRecord.direction == "out",
            )
            .order_by(MessageRecord.id)
        )
        return list(rows)

    async def recent(
        self, channel: str, external_user_id: str, limit: int = 10
    ) -> list[MessageRecord]:
        """The last messages of a conversation, oldest first."""
        rows = await self.session.scalars(
            select(MessageRecord)
            .where(
                MessageRecord.channel == channel,
                MessageRecord.external_user_id == external_user_id,
            )
            .order_by(MessageRecord.id.desc())
            .limit(limit)
        )
        return list(reversed(list(rows)))

    async def last_inbound(self, channel: str, external_user_id: str) -> datetime | None:
        """When the user last wrote (WeChat lets us answer freely for 48 hours after)."""
        value = await self.session.scalar(
            select(func.max(MessageRecord.created_at)).where(
                MessageRecord.channel == channel,
                MessageRecord.external_user_id == external_user_id,
                MessageRecord.direction == "in",
            )
        )
        if value is None:
            return None
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class AuditRepo:
    """The audit log."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def record(
        self,
        now: datetime,
        actor: str,
        action: str,
        target_type: str,
        target_id: object = None,
        **details: Any,
    ) -> None:
        """Write one audit entry in the current transaction."""
        self.session.add(
            AuditEntry(
                at=now,
                actor=actor,
                action=action,
                target_type=target_type,
                target_id=None if target_id is None else str(target_id),
                details=details,
            )
        )
