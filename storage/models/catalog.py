"""What can be booked: hospitals, activities and their registrations, home services and
their slots, policy articles."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UTCDateTime

__all__ = [
    "Activity",
    "EldercareService",
    "EldercareSlot",
    "Hospital",
    "PolicyArticle",
    "Registration",
]


class Hospital(Base):
    """A hospital the bureau's green channel works with."""

    __tablename__ = "hospitals"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    departments: Mapped[list[str]] = mapped_column(JSON, default=list)
    address: Mapped[str | None] = mapped_column(String(200))
    green_channel: Mapped[bool] = mapped_column(Boolean, default=True)


class Activity(Base):
    """A class, party day, trip, lecture or volunteer event with limited seats."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(60), index=True)
    category: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    place: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    # How many are on the waitlist now (kept with seats_taken, under the same row lock).
    waitlisted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    eligibility: Mapped[str] = mapped_column(String(10), default="all")  # all | lixiu
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # by staff


class Registration(Base):
    """A seat (or a waitlist place) for one attendee of an activity."""

    __tablename__ = "registrations"
    __table_args__ = (
        # One live registration per attendee; cancelled ones may repeat.
        Index(
            "uq_registrations_live",
            "activity_id",
            "person_id",
            "attendee",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    attendee: Mapped[str] = mapped_column(String(10))  # self | spouse
    status: Mapped[str] = mapped_column(String(12))  # registered | waitlisted | cancelled
    requested_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # checked in on the day


class EldercareService(Base):
    """A home eldercare service the bureau offers."""

    __tablename__ = "eldercare_services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    description: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class EldercareSlot(Base):
    """Capacity of one service on one day and part of day."""

    __tablename__ = "eldercare_slots"
    __table_args__ = (UniqueConstraint("service_id", "day", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("eldercare_services.id"))
    day: Mapped[date] = mapped_column(Date)
    part: Mapped[str] = mapped_column(String(10))  # morning | afternoon
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class PolicyArticle(Base):
    """A short policy article, with the document it comes from."""

    __tablename__ = "policy_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(100))
    source_title: Mapped[str] = mapped_column(String(200))
    # Where it applies (a city, a province, or national); an import without one is refused,
    # and answers use only the bureau's region, its parents and national articles.
    region: Mapped[str | None] = mapped_column(String(40))
    issuer: Mapped[str | None] = mapped_column(String(100))  # 发文机关
    effective: Mapped[date | None] = mapped_column(Date)  # 生效日期 (unknown: None)
    caveat: Mapped[str | None] = mapped_column(String(200))  # 提示, shown with every answer
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
