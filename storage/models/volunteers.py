"""Volunteers and the time bank (时间银行): who volunteers, for what and where; the requests
offered to them and who took each; and the ledger of hours earned and redeemed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UTCDateTime

__all__ = ["TimeBankEntry", "Volunteer", "VolunteerOffer", "VolunteerTask"]


class Volunteer(Base):
    """A person on the roster who volunteers: their skills (escort, companionship, reading,
    repair) and the districts they will go to ("*": anywhere), comma-separated codes."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), unique=True)
    skills: Mapped[str] = mapped_column(String(100))
    districts: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # active | paused
    registered_by: Mapped[str] = mapped_column(String(40))  # account:12 | staff:3
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class VolunteerTask(Base):
    """A request staff offered to volunteers; ``volunteer_id`` is who took it (the first to
    accept: claimed by a conditional update). ``minutes`` is the time it took, as asked of
    the retiree and then confirmed by them or by staff."""

    __tablename__ = "volunteer_tasks"
    __table_args__ = (Index("ix_volunteer_tasks_status", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), unique=True)
    skill: Mapped[str] = mapped_column(String(20))
    # offered | accepted | asked (the retiree asked to confirm) | confirmed | disputed
    status: Mapped[str] = mapped_column(String(12))
    volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id"))
    minutes: Mapped[int] = mapped_column(Integer)
    offered_by: Mapped[str] = mapped_column(String(40))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(40))


class VolunteerOffer(Base):
    """One volunteer offered one task: sent (and how the send went), then accepted,
    declined, or told it was taken."""

    __tablename__ = "volunteer_offers"
    __table_args__ = (UniqueConstraint("task_id", "volunteer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("volunteer_tasks.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))  # to_send | sent | accepted | declined | taken
    result: Mapped[str | None] = mapped_column(String(20))  # sent | failed | unreachable
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class TimeBankEntry(Base):
    """One line of a person's time bank: hours earned for a task (once per task) or
    redeemed for a booked request (once per request); the balance is their sum."""

    __tablename__ = "time_bank_entries"
    __table_args__ = (
        UniqueConstraint("task_id"),
        UniqueConstraint("redeemed_request_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # earn | redeem
    minutes: Mapped[int] = mapped_column(Integer)  # positive for earn, negative for redeem
    task_id: Mapped[int | None] = mapped_column(ForeignKey("volunteer_tasks.id"))
    redeemed_request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
