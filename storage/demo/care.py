"""Demo data of the plan (一人一策): the first demo retiree's contact on staff, plan items
due in the days after the demo is seeded, and a family-doctor contract. Invented."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from storage.db import TZ
from storage.models import DoctorContract, Staff
from storage.uow import UnitOfWork

__all__ = ["CONTACT", "seed_care"]

CONTACT = "李娟"  # the demo staff member who is the first retiree's contact
# (cadence, owner, days from today, note): all due after today, so nothing is due at once.
_ITEMS = [
    ("weekly_care", "provider", 5, "助浴"),
    ("monthly_call", "staff", 10, None),
    ("doctor_followup", "street", 20, "量血压"),
]
_DOCTOR = ("刘文华", "姑苏区示范社区卫生服务中心", "0512-65001001", 200)


async def seed_care(uow: UnitOfWork, person_id: int, now: datetime) -> None:
    """Give the demo person a contact, a plan and a family doctor."""
    today = now.astimezone(TZ).date()
    contact = await uow.session.scalar(select(Staff).where(Staff.name == CONTACT))
    if contact is not None:
        await uow.care.set_contact(person_id, contact.id, now)
    for cadence, owner, days, note in _ITEMS:
        await uow.care.add_item(
            person_id, cadence, owner, today + timedelta(days=days), note=note, now=now
        )
    doctor, clinic, phone, days = _DOCTOR
    uow.session.add(
        DoctorContract(
            person_id=person_id, doctor=doctor, clinic=clinic, phone=phone,
            valid_until=today + timedelta(days=days), created_at=now, updated_at=now,
        )
    )  # fmt: skip
