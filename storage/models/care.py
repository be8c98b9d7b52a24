"""Each person's plan (一人一策): its items and their cadence, the staff contact (一对一), and
the family-doctor contract (家庭医生签约)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UTCDateTime

__all__ = ["CareContact", "CarePlanItem", "DoctorContract"]


class CarePlanItem(Base):
    """One recurring item of a person's plan: what, how often, whose, and when next due.

    The daily job turns a due item into a task (a ``plan_item`` service request) and moves
    ``next_due`` on by the cadence in the same conditional update, so a job run twice (or
    by two workers) files the task once.
    """

    __tablename__ = "care_plan_items"
    __table_args__ = (Index("ix_care_plan_items_active_next_due", "active", "next_due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # weekly_care | monthly_call | quarterly_visit | doctor_followup
    cadence: Mapped[str] = mapped_column(String(20))
    owner: Mapped[str] = mapped_column(String(10))  # staff | street | provider | family
    note: Mapped[str | None] = mapped_column(Text)
    next_due: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CareContact(Base):
    """The member of staff who is a person's own contact (一对一联系人)."""

    __tablename__ = "care_contacts"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DoctorContract(Base):
    """A person's contract with a family doctor: who, where, the clinic's phone, until when.
    ``task_for`` is the ``valid_until`` a renewal task was filed for (one task per expiry)."""

    __tablename__ = "doctor_contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    doctor: Mapped[str] = mapped_column(String(40))
    clinic: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))  # the clinic's work phone
    valid_until: Mapped[date | None] = mapped_column(Date, index=True)
    task_for: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
