"""Volunteers, the tasks offered to them, and the time bank's ledger (时间银行).

The balance is never stored: it is the sum of the ledger's lines. A task is taken by a
conditional update (the first volunteer to accept gets it); hours are earned once per task
and redeemed once per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select, update

from storage.db import AsyncSession
from storage.models import (
    ChannelAccount,
    Person,
    ServiceRequest,
    TimeBankEntry,
    Volunteer,
    VolunteerOffer,
    VolunteerTask,
)

__all__ = ["ANYWHERE", "Offered", "Overdrawn", "VolunteerRepo", "codes"]

ANYWHERE = "*"  # a volunteer who will go to any district


class Overdrawn(Exception):  # noqa: N818 - named for what happened
    """A redemption larger than the balance (the time bank never goes below zero)."""


def codes(joined: str | None) -> list[str]:
    """The codes of a comma-separated column."""
    return [c for c in (joined or "").split(",") if c]


@dataclass(frozen=True, slots=True)
class Offered:
    """An offer sent to a volunteer, with its task and request."""

    offer: VolunteerOffer
    task: VolunteerTask
    request: ServiceRequest


class VolunteerRepo:
    """Volunteers, tasks and offers, and the time bank."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---------------------------------------------------------------- volunteers
    async def of_person(self, person_id: int) -> Volunteer | None:
        """The person's volunteer record, if they registered."""
        return await self.session.scalar(select(Volunteer).where(Volunteer.person_id == person_id))

    async def get(self, volunteer_id: int) -> Volunteer | None:
        """One volunteer by id."""
        return await self.session.get(Volunteer, volunteer_id)

    async def register(
        self,
        person_id: int,
        skills: Sequence[str],
        districts: Sequence[str],
        *,
        actor: str,
        now: datetime,
    ) -> Volunteer:
        """Register (or update) a person as a volunteer, active."""
        volunteer = await self.of_person(person_id)
        if volunteer is None:
            volunteer = Volunteer(person_id=person_id, registered_by=actor, created_at=now)
            self.session.add(volunteer)
        volunteer.skills = ",".join(dict.fromkeys(skills))[:100]
        volunteer.districts = ",".join(dict.fromkeys(districts))[:200]
        volunteer.status = "active"
        volunteer.updated_at = now
        await self.session.flush()
        return volunteer

    async def listing(self) -> list[tuple[Volunteer, Person, int]]:
        """Every volunteer with their person and time-bank balance (minutes), by name."""
        balance = (
            select(func.coalesce(func.sum(TimeBankEntry.minutes), 0))
            .where(TimeBankEntry.person_id == Volunteer.person_id)
            .scalar_subquery()
        )
        rows = await self.session.execute(
            select(Volunteer, Person, balance)
            .join(Person, Person.id == Volunteer.person_id)
            .order_by(Person.name, Volunteer.id)
        )
        return [(v, p, int(b or 0)) for v, p, b in rows]

    async def matching(self, skills: Sequence[str], district: str | None) -> list[Volunteer]:
        """Active volunteers with one of the skills who go to the district (or anywhere)."""
        rows = await self.session.scalars(
            select(Volunteer).where(Volunteer.status == "active").order_by(Volunteer.id)
        )
        found = []
        for volunteer in rows:
            areas = codes(volunteer.districts)
            if not set(codes(volunteer.skills)) & set(skills):
                continue
            if ANYWHERE in areas or (district is not None and district in areas):
                found.append(volunteer)
        return found

    async def districts(self) -> list[str]:
        """The districts people on the roster live in."""
        rows = await self.session.scalars(
            select(Person.district).where(Person.district.is_not(None)).distinct()
        )
        return sorted(str(d) for d in rows if d)

    async def accounts_of(self, person_id: int) -> list[ChannelAccount]:
        """The person's own active accounts (else their family's): where to write to them."""
        rows = list(
            await self.session.scalars(
                select(ChannelAccount)
                .where(ChannelAccount.person_id == person_id, ChannelAccount.active)
                .order_by(ChannelAccount.id)
            )
        )
        own = [a for a in rows if a.role == "retiree"]
        return own or [a for a in rows if a.role == "family"]

    # ---------------------------------------------------------------- tasks and offers
    async def task_of(self, request_id: int) -> VolunteerTask | None:
        """The task a request was offered as, if it was."""
        return await self.session.scalar(
            select(VolunteerTask).where(VolunteerTask.request_id == request_id)
        )

    async def task(self, task_id: int) -> VolunteerTask | None:
        """One task by id."""
        return await self.session.get(VolunteerTask, task_id)

    async def open_task(
        self, request: ServiceRequest, skill: str, minutes: int, *, actor: str, now: datetime
    ) -> VolunteerTask:
        """The request's task, opened for offers (or the one already open)."""
        task = await self.task_of(request.id)
        if task is None:
            task = VolunteerTask(
                request_id=request.id,
                skill=skill,
                status="offered",
                minutes=minutes,
                offered_by=actor,
                offered_at=now,
            )
            self.session.add(task)
            await self.session.flush()
        return task

    async def offer(self, task: VolunteerTask, volunteer: Volunteer, now: datetime) -> bool:
        """Offer a task to a volunteer (once); True when the offer is new."""
        known = await self.session.scalar(
            select(VolunteerOffer).where(
                VolunteerOffer.task_id == task.id, VolunteerOffer.volunteer_id == volunteer.id
            )
        )
        if known is not None:
            return False
        self.session.add(
            VolunteerOffer(
                task_id=task.id, volunteer_id=volunteer.id, status="to_send", created_at=now
            )
        )
        await self.session.flush()
        return True

    async def offers(self, task_id: int, statuses: Sequence[str] = ()) -> list[VolunteerOffer]:
        """A task's offers (of some statuses), oldest first."""
        query = select(VolunteerOffer).where(VolunteerOffer.task_id == task_id)
        if statuses:
            query = query.where(VolunteerOffer.status.in_(statuses))
        return list(await self.session.scalars(query.order_by(VolunteerOffer.id)))

    async def claim(self, task: VolunteerTask, volunteer_id: int, now: datetime) -> bool:
        """Take a task for a volunteer if nobody has: True for the first to accept."""
        result = await self.session.execute(
            update(VolunteerTask)
            .where(VolunteerTask.id == task.id, VolunteerTask.volunteer_id.is_(None))
            .values(volunteer_id=volunteer_id, status="accepted", accepted_at=now)
            .execution_options(synchronize_session=False)
        )
        await self.session.refresh(task)
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def open_offer(self, person_id: int, offer_id: int | None = None) -> Offered | None:
        """The latest offer (or this one) sent to this person (as a volunteer) and not
        answered yet (another volunteer may have taken it since)."""
        query = (
            select(VolunteerOffer, VolunteerTask, ServiceRequest)
            .join(Volunteer, Volunteer.id == VolunteerOffer.volunteer_id)
            .join(VolunteerTask, VolunteerTask.id == VolunteerOffer.task_id)
            .join(ServiceRequest, ServiceRequest.id == VolunteerTask.request_id)
            .where(
                Volunteer.person_id == person_id,
                VolunteerOffer.status.in_(("sent", "taken")),
                VolunteerOffer.answered_at.is_(None),
            )
        )
        if offer_id is not None:
            query = query.where(VolunteerOffer.id == offer_id)
        row = (
            await self.session.execute(query.order_by(VolunteerOffer.id.desc()).limit(1))
        ).first()
        return Offered(*row) if row is not None else None

    async def asked_of(
        self, person_id: int, task_id: int | None = None
    ) -> tuple[VolunteerTask, ServiceRequest] | None:
        """The latest task (or this one) whose hours this retiree was asked to confirm, not
        yet answered."""
        query = (
            select(VolunteerTask, ServiceRequest)
            .join(ServiceRequest, ServiceRequest.id == VolunteerTask.request_id)
            .where(ServiceRequest.person_id == person_id, VolunteerTask.status == "asked")
        )
        if task_id is not None:
            query = query.where(VolunteerTask.id == task_id)
        row = (
            await self.session.execute(
                query.order_by(VolunteerTask.asked_at.desc(), VolunteerTask.id.desc()).limit(1)
            )
        ).first()
        return (row[0], row[1]) if row is not None else None

    async def due_to_ask(self, before: date, limit: int = 100) -> list[VolunteerTask]:
        """Accepted tasks whose service day is before ``before``: the retiree is to be asked."""
        rows = await self.session.scalars(
            select(VolunteerTask)
            .join(ServiceRequest, ServiceRequest.id == VolunteerTask.request_id)
            .where(
                VolunteerTask.status == "accepted",
                ServiceRequest.scheduled_date < before,
                ServiceRequest.status.not_in(("cancelled", "rescheduled")),
            )
            .order_by(VolunteerTask.id)
            .limit(limit)
        )
        return list(rows)

    async def mark_asked(self, task_id: int, now: datetime) -> bool:
        """Claim the asking of a task's retiree (once): True for the one who asks."""
        result = await self.session.execute(
            update(VolunteerTask)
            .where(VolunteerTask.id == task_id, VolunteerTask.status == "accepted")
            .values(status="asked", asked_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def open_tasks(self, limit: int = 50) -> list[VolunteerTask]:
        """Tasks not yet settled (offered, accepted, asked, disputed), newest first."""
        rows = await self.session.scalars(
            select(VolunteerTask)
            .where(VolunteerTask.status.in_(("offered", "accepted", "asked", "disputed")))
            .order_by(VolunteerTask.id.desc())
            .limit(limit)
        )
        return list(rows)

    # ---------------------------------------------------------------- the time bank
    async def credit(
        self, task: VolunteerTask, minutes: int, *, actor: str, now: datetime
    ) -> TimeBankEntry | None:
        """Confirm a task's hours and put them in its volunteer's time bank (once)."""
        if task.volunteer_id is None or task.status == "confirmed":
            return None
        volunteer = await self.get(task.volunteer_id)
        if volunteer is None:
            return None
        task.status, task.minutes = "confirmed", minutes
        task.confirmed_at, task.confirmed_by = now, actor
        entry = TimeBankEntry(
            person_id=volunteer.person_id,
            kind="earn",
            minutes=minutes,
            task_id=task.id,
            actor=actor,
            created_at=now,
        )
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def balance(self, person_id: int) -> int:
        """The person's time-bank balance in minutes (the sum of the ledger)."""
        total = await self.session.scalar(
            select(func.coalesce(func.sum(TimeBankEntry.minutes), 0)).where(
                TimeBankEntry.person_id == person_id
            )
        )
        return int(total or 0)

    async def history(self, person_id: int, limit: int = 5) -> list[TimeBankEntry]:
        """The person's latest ledger lines, newest first."""
        rows = await self.session.scalars(
            select(TimeBankEntry)
            .where(TimeBankEntry.person_id == person_id)
            .order_by(TimeBankEntry.created_at.desc(), TimeBankEntry.id.desc())
            .limit(limit)
        )
        return list(rows)

    async def redeem(
        self,
        person_id: int,
        request: ServiceRequest,
        minutes: int,
        *,
        actor: str,
        now: datetime,
        note: str | None = None,
    ) -> TimeBankEntry:
        """Take hours out of the time bank for a booked request (never below zero)."""
        # Serialise redemptions of one person on PostgreSQL (SQLite writes one at a time).
        await self.session.execute(
            select(Volunteer.id).where(Volunteer.person_id == person_id).with_for_update()
        )
        if minutes <= 0 or minutes > await self.balance(person_id):
            raise Overdrawn
        entry = TimeBankEntry(
            person_id=person_id,
            kind="redeem",
            minutes=-minutes,
            redeemed_request_id=request.id,
            note=note,
            actor=actor,
            created_at=now,
        )
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def redeemed(self, request_id: int) -> TimeBankEntry | None:
        """The redemption tied to a request, if any."""
        return await self.session.scalar(
            select(TimeBankEntry).where(TimeBankEntry.redeemed_request_id == request_id)
        )
