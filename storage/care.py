"""Plans (一人一策), contacts (一对一) and family-doctor contracts: reads and the conditional
writes the daily job claims its work with (a task is filed once, however often it runs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, or_, select, update

from storage.db import AsyncSession
from storage.models import (
    CareContact,
    CarePlanItem,
    DoctorContract,
    Person,
    ServiceRequest,
    Staff,
)
from storage.repos import CLOSED_STATUSES

__all__ = ["CONTRACT_TASK", "PLAN_TASK", "CareRepo"]

# An emergency said to be none ("不是"), or still being asked about, is not counted.
NOT_COUNTED = ("cancelled", "unconfirmed")
PLAN_TASK = "plan_item"  # a due plan item, as a task in the staff queue
CONTRACT_TASK = "doctor_renewal"  # a family-doctor contract about to run out


class CareRepo:
    """A person's plan, contact and doctor; what the daily job finds due."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # ---------------------------------------------------------------- plan
    async def items(self, person_id: int) -> list[CarePlanItem]:
        """The person's active plan items, the soonest due first."""
        rows = await self.session.scalars(
            select(CarePlanItem)
            .where(CarePlanItem.person_id == person_id, CarePlanItem.active.is_(True))
            .order_by(CarePlanItem.next_due, CarePlanItem.id)
        )
        return list(rows)

    async def add_item(
        self, person_id: int, cadence: str, owner: str, next_due: date, *, note: str | None,
        now: datetime,
    ) -> CarePlanItem:  # fmt: skip
        """A new item of the person's plan."""
        item = CarePlanItem(
            person_id=person_id, cadence=cadence, owner=owner, next_due=next_due, note=note,
            active=True, created_at=now, updated_at=now,
        )  # fmt: skip
        self.session.add(item)
        await self.session.flush()
        return item

    async def item(self, person_id: int, item_id: int) -> CarePlanItem | None:
        """One active item of this person's plan."""
        item = await self.session.get(CarePlanItem, item_id)
        if item is None or item.person_id != person_id or not item.active:
            return None
        return item

    async def due_items(self, today: date, limit: int) -> list[CarePlanItem]:
        """Active items due today or before."""
        rows = await self.session.scalars(
            select(CarePlanItem)
            .where(CarePlanItem.active.is_(True), CarePlanItem.next_due <= today)
            .order_by(CarePlanItem.next_due, CarePlanItem.id)
            .limit(limit)
        )
        return list(rows)

    async def advance(self, item_id: int, was: date, to: date, now: datetime) -> bool:
        """Move an item's next due day on, only if it still is ``was``: True for the one
        caller that moved it (and is to file its task)."""
        result = await self.session.execute(
            update(CarePlanItem)
            .where(CarePlanItem.id == item_id, CarePlanItem.next_due == was)
            .values(next_due=to, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def overdue_tasks(
        self, on_or_before: date, limit: int
    ) -> list[tuple[ServiceRequest, Person | None]]:
        """Open plan tasks due on or before a day, with their people, the oldest first."""
        rows = await self.session.execute(
            select(ServiceRequest, Person)
            .outerjoin(Person, Person.id == ServiceRequest.person_id)
            .where(
                ServiceRequest.kind == PLAN_TASK,
                ServiceRequest.status.not_in(CLOSED_STATUSES),
                ServiceRequest.scheduled_date <= on_or_before,
            )
            .order_by(ServiceRequest.scheduled_date, ServiceRequest.id)
            .limit(limit)
        )
        return [(request, person) for request, person in rows]

    # ------------------------------------------------------------- contact
    async def contact(self, person_id: int) -> Staff | None:
        """The person's own contact on staff (an inactive member counts as none)."""
        return await self.session.scalar(
            select(Staff)
            .join(CareContact, CareContact.staff_id == Staff.id)
            .where(CareContact.person_id == person_id, Staff.active.is_(True))
        )

    async def set_contact(self, person_id: int, staff_id: int | None, now: datetime) -> bool:
        """Make a member of staff the person's contact (None: nobody); True if it changed."""
        row = await self.session.get(CareContact, person_id)
        if staff_id is None:
            if row is None:
                return False
            await self.session.delete(row)
            await self.session.flush()
            return True
        if row is not None and row.staff_id == staff_id:
            return False
        if row is None:
            self.session.add(CareContact(person_id=person_id, staff_id=staff_id, updated_at=now))
        else:
            row.staff_id, row.updated_at = staff_id, now
        await self.session.flush()
        return True

    # ------------------------------------------------------------- doctors
    async def contracts(self, person_id: int) -> list[DoctorContract]:
        """The person's family-doctor contracts, the longest valid first."""
        rows = await self.session.scalars(
            select(DoctorContract)
            .where(DoctorContract.person_id == person_id)
            .order_by(DoctorContract.valid_until.desc(), DoctorContract.id.desc())
        )
        return list(rows)

    async def contract(self, person_id: int, doctor: str) -> DoctorContract | None:
        """The person's contract with this doctor, if any."""
        return await self.session.scalar(
            select(DoctorContract)
            .where(DoctorContract.person_id == person_id, DoctorContract.doctor == doctor)
            .order_by(DoctorContract.id.desc())
            .limit(1)
        )

    async def expiring(self, until: date, limit: int) -> list[DoctorContract]:
        """Contracts running out on or before ``until`` with no task filed for that day."""
        rows = await self.session.scalars(
            select(DoctorContract)
            .where(
                DoctorContract.valid_until <= until,
                or_(
                    DoctorContract.task_for.is_(None),
                    DoctorContract.task_for != DoctorContract.valid_until,
                ),
            )
            .order_by(DoctorContract.valid_until, DoctorContract.id)
            .limit(limit)
        )
        return list(rows)

    async def claim_renewal(self, contract_id: int, valid_until: date, now: datetime) -> bool:
        """Mark the renewal task of this expiry filed; True for the one caller that did."""
        result = await self.session.execute(
            update(DoctorContract)
            .where(
                DoctorContract.id == contract_id,
                DoctorContract.valid_until == valid_until,
                or_(DoctorContract.task_for.is_(None), DoctorContract.task_for != valid_until),
            )
            .values(task_for=valid_until, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    # ---------------------------------------------------------------- risk
    async def recent(self, person_id: int, kinds: Sequence[str], since: datetime) -> int:
        """How many requests of these kinds the person has had since a moment."""
        count = await self.session.scalar(
            select(func.count(ServiceRequest.id)).where(
                ServiceRequest.person_id == person_id,
                ServiceRequest.kind.in_(kinds),
                ServiceRequest.created_at >= since,
                ServiceRequest.status.not_in(NOT_COUNTED),
            )
        )
        return int(count or 0)
