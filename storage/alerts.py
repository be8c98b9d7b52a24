"""Emergency alerts: raised in the message's transaction, paged level by level, taken once.

The database is the source of truth; a job queue only carries "page alert 12 now". Every
paging step is claimed with one conditional update (``level`` moves on only if the alert
is still open and due), so a job delivered twice, or a reconciler that re-sends a job a
killed worker lost, pages a level once. The first acknowledgement wins the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, select, update

from storage.db import AsyncSession
from storage.models import (
    Alert,
    AlertStep,
    ChannelAccount,
    DutyShift,
    Person,
    ServiceRequest,
    Staff,
)

__all__ = [
    "BACKUP",
    "FAMILY",
    "LEADER",
    "LEVEL_NAMES",
    "MORE_WORDS",
    "ON_DUTY",
    "OPEN_STATUSES",
    "TAKE_REFUSED",
    "UNANSWERED",
    "UNCONFIRMED",
    "AlertRepo",
    "Recipient",
]

ON_DUTY, BACKUP, LEADER, FAMILY = 1, 2, 3, 4
LEVEL_NAMES = {ON_DUTY: "on_duty", BACKUP: "backup", LEADER: "leader", FAMILY: "family"}
TAKE_REFUSED = "take_refused"  # a step: staff pressed "我来处理" after someone else had
# Steps with more words from the person: another emergency message that joined the alert,
# or (from someone not on the roster) what they typed after it, e.g. their name and phone.
MESSAGE, DETAIL = "message", "detail"
MORE_WORDS = (MESSAGE, DETAIL)
# An alert in these states is still someone's emergency: new messages join it.
# "unconfirmed": the person was asked whether it is an emergency and has not answered; it
# is paged when they say yes, or when they have not answered in time (the reconciler).
UNCONFIRMED = "unconfirmed"
UNANSWERED = "unanswered"  # a step: the question went unanswered, so it was paged
OPEN_STATUSES = ("open", "acknowledged", UNCONFIRMED)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone to page: a staff member (with their account, if bound) or a family member."""

    staff: Staff | None
    account: ChannelAccount | None


class AlertRepo:
    """Alerts, their steps, and who is on call."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def raise_alert(
        self,
        request: ServiceRequest,
        location: str | None,
        now: datetime,
        actor: str,
        *,
        unconfirmed_for: timedelta | None = None,
    ) -> Alert:
        """Open an alert for an SOS request, due for paging at once — or, with
        ``unconfirmed_for``, once that long has passed without the person saying it is
        not an emergency."""
        alert = Alert(
            request_id=request.id,
            person_id=request.person_id,
            status="open" if unconfirmed_for is None else UNCONFIRMED,
            level=0,
            next_page_at=now if unconfirmed_for is None else now + unconfirmed_for,
            location=(location or "")[:200] or None,
            created_at=now,
            updated_at=now,
        )
        self.session.add(alert)
        await self.session.flush()
        self.step(alert, "raised" if unconfirmed_for is None else "asked", now, note=actor)
        return alert

    async def confirm(self, alert_id: int, now: datetime, why: str) -> bool:
        """An unconfirmed alert becomes an emergency to page now (the person said yes, wrote
        of danger again, or did not answer in time); False if it was not unconfirmed."""
        done = await self.session.scalar(
            update(Alert)
            .where(Alert.id == alert_id, Alert.status == UNCONFIRMED)
            .values(status="open", next_page_at=now, updated_at=now)
            .returning(Alert.id)
            .execution_options(synchronize_session=False)
        )
        if done is None:
            return False
        alert = await self.session.get(Alert, alert_id, populate_existing=True)
        if alert is not None:
            self.step(alert, why, now)
        return True

    async def dismiss(self, alert_id: int, now: datetime) -> bool:
        """The person said it is not an emergency before it was paged; False otherwise."""
        done = await self.session.scalar(
            update(Alert)
            .where(Alert.id == alert_id, Alert.status == UNCONFIRMED)
            .values(status="dismissed", next_page_at=None, resolved_at=now, updated_at=now)
            .returning(Alert.id)
            .execution_options(synchronize_session=False)
        )
        if done is None:
            return False
        alert = await self.session.get(Alert, alert_id, populate_existing=True)
        if alert is not None:
            self.step(alert, "dismissed", now)
        return True

    async def unanswered(self, now: datetime, limit: int = 100) -> list[int]:
        """Unconfirmed alerts whose question has gone unanswered too long."""
        rows = await self.session.scalars(
            select(Alert.id)
            .where(Alert.status == UNCONFIRMED, Alert.next_page_at <= now)
            .order_by(Alert.next_page_at)
            .limit(limit)
        )
        return list(rows)

    async def get(self, alert_id: int) -> Alert | None:
        """One alert by id."""
        return await self.session.get(Alert, alert_id)

    async def open_for(self, person_id: int | None, account_id: int | None) -> Alert | None:
        """The person's open emergency (for someone not on the roster: the one their account
        raised), locking the person's (or account's) row until the transaction ends, so that
        two emergency messages at once, from the person and a daughter, open one alert."""
        if person_id is not None:
            await self.session.execute(
                select(Person.id).where(Person.id == person_id).with_for_update()
            )
            mine = Alert.person_id == person_id
        elif account_id is not None:
            await self.session.execute(
                select(ChannelAccount.id).where(ChannelAccount.id == account_id).with_for_update()
            )
            raised_by = select(ServiceRequest.id).where(
                ServiceRequest.requested_by_account_id == account_id
            )
            mine = and_(Alert.person_id.is_(None), Alert.request_id.in_(raised_by))
        else:
            return None
        return await self.session.scalar(
            select(Alert)
            .where(mine, Alert.status.in_(OPEN_STATUSES))
            .order_by(Alert.id.desc())
            .limit(1)
        )

    async def add_words(
        self, alert: Alert, kind: str, text: str, now: datetime, account_id: int | None
    ) -> AlertStep:
        """More words from the person on an open alert (a step of its history)."""
        step = AlertStep(
            alert_id=alert.id,
            kind=kind,
            level=alert.level,
            account_id=account_id,
            note=text[:1000],
            at=now,
        )
        self.session.add(step)
        alert.updated_at = now
        await self.session.flush()
        return step

    async def words(self, alert_id: int) -> list[AlertStep]:
        """The person's further messages on an alert, oldest first."""
        rows = await self.session.scalars(
            select(AlertStep)
            .where(AlertStep.alert_id == alert_id, AlertStep.kind.in_(MORE_WORDS))
            .order_by(AlertStep.id)
        )
        return list(rows)

    async def get_step(self, step_id: int) -> AlertStep | None:
        """One step of an alert's history."""
        return await self.session.get(AlertStep, step_id)

    async def for_request(self, request_id: int) -> Alert | None:
        """The alert of an SOS request."""
        return await self.session.scalar(select(Alert).where(Alert.request_id == request_id))

    def step(
        self,
        alert: Alert,
        kind: str,
        now: datetime,
        *,
        level: int | None = None,
        staff_id: int | None = None,
        account_id: int | None = None,
        result: str | None = None,
        note: str | None = None,
    ) -> None:
        """Write one line of the alert's history (with the caller's transaction)."""
        self.session.add(
            AlertStep(
                alert_id=alert.id,
                kind=kind,
                level=alert.level if level is None else level,
                staff_id=staff_id,
                account_id=account_id,
                result=result,
                note=note,
                at=now,
            )
        )

    async def steps(self, alert_id: int) -> list[AlertStep]:
        """The alert's history, oldest first."""
        rows = await self.session.scalars(
            select(AlertStep).where(AlertStep.alert_id == alert_id).order_by(AlertStep.id)
        )
        return list(rows)

    async def due(self, now: datetime, limit: int = 100) -> list[int]:
        """Open alerts whose next paging step is due (the reconciler's work list)."""
        rows = await self.session.scalars(
            select(Alert.id)
            .where(Alert.status == "open", Alert.next_page_at <= now)
            .order_by(Alert.next_page_at)
            .limit(limit)
        )
        return list(rows)

    async def claim_step(self, alert_id: int, now: datetime, interval: timedelta) -> Alert | None:
        """Move a due, open alert to its next level; None if it is not due (or not open).

        The row stays locked until the caller's transaction ends, so the pages of this
        level are sent and recorded before anyone else can claim the alert again; if the
        caller dies first, the claim is rolled back and the reconciler tries again.
        """
        claimed = await self.session.scalar(
            update(Alert)
            .where(Alert.id == alert_id, Alert.status == "open", Alert.next_page_at <= now)
            .values(level=Alert.level + 1, next_page_at=now + interval, updated_at=now)
            .returning(Alert.id)
            .execution_options(synchronize_session=False)
        )
        if claimed is None:
            return None
        return await self.session.get(Alert, alert_id, populate_existing=True)

    def escalate_now(self, alert: Alert, now: datetime) -> None:
        """Nobody could be reached at this level: make the next one due at once."""
        alert.next_page_at = now
        alert.updated_at = now

    async def recipients(self, alert: Alert, level: int, now: datetime) -> list[Recipient]:
        """Whom to page at a level: the staff on call at that level now (each with an
        active bound account, or none), or the person's family; from the round after the
        family on, everyone on call again."""
        if level == FAMILY:
            if alert.person_id is None:
                return []
            accounts = await self.session.scalars(
                select(ChannelAccount)
                .where(
                    ChannelAccount.person_id == alert.person_id,
                    ChannelAccount.role == "family",
                    ChannelAccount.active.is_(True),
                )
                .order_by(ChannelAccount.id)
            )
            return [Recipient(None, account) for account in accounts]
        levels = [level] if level < FAMILY else [ON_DUTY, BACKUP, LEADER]
        rows = await self.session.execute(
            select(Staff, ChannelAccount)
            .join(DutyShift, DutyShift.staff_id == Staff.id)
            .outerjoin(
                ChannelAccount,
                and_(
                    ChannelAccount.staff_id == Staff.id,
                    ChannelAccount.role == "staff",
                    ChannelAccount.active.is_(True),
                ),
            )
            .where(
                DutyShift.level.in_(levels),
                DutyShift.starts_at <= now,
                DutyShift.ends_at > now,
                Staff.active.is_(True),
            )
            .order_by(DutyShift.level, Staff.id, ChannelAccount.id)
        )
        seen: set[tuple[int, int | None]] = set()
        found = []
        for staff, account in rows:
            key = (staff.id, account.id if account else None)
            if key not in seen:
                seen.add(key)
                found.append(Recipient(staff, account))
        return found

    async def acknowledge(self, alert_id: int, staff_id: int, now: datetime) -> bool:
        """Take an open alert; True for the one who took it first, False for everyone else."""
        taken = await self.session.scalar(
            update(Alert)
            .where(Alert.id == alert_id, Alert.status.in_(("open", UNCONFIRMED)))
            .values(
                status="acknowledged",
                acknowledged_by=staff_id,
                acknowledged_at=now,
                next_page_at=None,
                updated_at=now,
            )
            .returning(Alert.id)
            .execution_options(synchronize_session=False)
        )
        if taken is None:
            return False
        alert = await self.session.get(Alert, alert_id, populate_existing=True)
        if alert is not None:
            self.step(alert, "acknowledged", now, staff_id=staff_id)
        return True

    async def resolve(self, alert_id: int, staff_id: int, now: datetime, note: str) -> bool:
        """Close an alert that is open or taken; False if it was already closed."""
        done = await self.session.scalar(
            update(Alert)
            .where(Alert.id == alert_id, Alert.status.in_(OPEN_STATUSES))
            .values(status="resolved", resolved_at=now, next_page_at=None, updated_at=now)
            .returning(Alert.id)
            .execution_options(synchronize_session=False)
        )
        if done is None:
            return False
        alert = await self.session.get(Alert, alert_id, populate_existing=True)
        if alert is not None:
            self.step(alert, "resolved", now, staff_id=staff_id, note=note or None)
        return True

    async def paged_accounts(self, alert_id: int) -> list[ChannelAccount]:
        """The accounts a page of this alert was sent to (to tell them it was taken)."""
        rows = await self.session.scalars(
            select(ChannelAccount)
            .join(AlertStep, AlertStep.account_id == ChannelAccount.id)
            .where(
                AlertStep.alert_id == alert_id,
                AlertStep.kind == "paged",
                AlertStep.result == "sent",
            )
            .distinct()
        )
        return list(rows)

    async def add_shift(
        self, staff_id: int, level: int, starts_at: datetime, ends_at: datetime
    ) -> DutyShift:
        """Put a staff member on the roster."""
        shift = DutyShift(staff_id=staff_id, level=level, starts_at=starts_at, ends_at=ends_at)
        self.session.add(shift)
        await self.session.flush()
        return shift

    async def roster(self, at: datetime) -> list[tuple[DutyShift, Staff]]:
        """Who is on call at a time, by level."""
        rows = await self.session.execute(
            select(DutyShift, Staff)
            .join(Staff, Staff.id == DutyShift.staff_id)
            .where(DutyShift.starts_at <= at, DutyShift.ends_at > at)
            .order_by(DutyShift.level, Staff.id)
        )
        return [(shift, member) for shift, member in rows]

    async def shifts_between(self, start: datetime, end: datetime) -> list[tuple[DutyShift, Staff]]:
        """The shifts of active staff that overlap [start, end), by level and start."""
        rows = await self.session.execute(
            select(DutyShift, Staff)
            .join(Staff, Staff.id == DutyShift.staff_id)
            .where(DutyShift.starts_at < end, DutyShift.ends_at > start, Staff.active.is_(True))
            .order_by(DutyShift.level, DutyShift.starts_at)
        )
        return [(shift, member) for shift, member in rows]

    async def person(self, alert: Alert) -> Person | None:
        """The person the alert is about."""
        return await self.session.get(Person, alert.person_id) if alert.person_id else None
