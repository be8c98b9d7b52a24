"""Requests and their history, emergencies (alerts) and their steps, the duty roster."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UTCDateTime

JsonDict = dict[str, Any]

__all__ = ["Alert", "AlertStep", "DutyShift", "RequestStatusChange", "ServiceRequest"]


class ServiceRequest(Base):
    """Any request in the person's file: escort, hospital stay, claim, eldercare, SOS, hand-off…"""

    __tablename__ = "service_requests"
    __table_args__ = (
        Index("ix_service_requests_kind_status", "kind", "status"),
        # The console's queue: open requests (status not in repos.CLOSED_STATUSES), longest
        # waiting first; and one status's requests in the same order (migration 0013).
        Index(
            "ix_service_requests_open_created_at",
            "created_at",
            "id",
            sqlite_where=text(
                "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"
            ),
            postgresql_where=text(
                "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"
            ),
        ),
        Index("ix_service_requests_status_created_at", "status", "created_at", "id"),
        # The open requests again, with the columns the queue counts, joins and filters on:
        # its count and filters read this index alone at a province's size (migration 0018).
        Index(
            "ix_service_requests_open_queue",
            "created_at",
            "id",
            "person_id",
            "kind",
            "status",
            "assigned_staff_id",
            "scheduled_date",
            sqlite_where=text(
                "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"
            ),
            postgresql_where=text(
                "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"
            ),
        ),
        # The open requests by appointment day (the queue sorted "日期最近的在前").
        Index(
            "ix_service_requests_open_by_date",
            "scheduled_date",
            "created_at",
            "id",
            sqlite_where=text(
                "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"
            ),
            postgresql_where=text(
                "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"
            ),
        ),
        # The open requests of one district, longest waiting first (migration 0023).
        Index(
            "ix_service_requests_open_district",
            "district",
            "created_at",
            "id",
            sqlite_where=text(
                "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"
            ),
            postgresql_where=text(
                "status NOT IN ('cancelled', 'closed', 'done', 'paid', 'rejected', 'resolved')"
            ),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20))
    details: Mapped[JsonDict] = mapped_column(JSON, default=dict)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    beneficiary: Mapped[str] = mapped_column(String(20), default="self")
    requested_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id"))
    assigned_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    scheduled_date: Mapped[date | None] = mapped_column(Date)
    scheduled_time: Mapped[str | None] = mapped_column(String(10))  # HH:MM or morning/afternoon
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The person's district while the request is open (the queue's district filter): set
    # by the database (migration 0023's triggers), never by the code; a loaded object may
    # hold an older value.
    district: Mapped[str | None] = mapped_column(String(40))


class RequestStatusChange(Base):
    """One line of a request's history, written on every status change."""

    __tablename__ = "request_status_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(40))  # account:12 | staff:3 | system
    note: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Alert(Base):
    """An emergency (one-key help) being paged: the database, not the queue, holds its state.

    ``level`` is the last escalation level paged (0: nobody yet); ``next_page_at`` is when
    the next level is due unless someone acknowledges first. A step is claimed by moving
    ``level`` on with a conditional update, so a job run twice pages once.
    """

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_status_next_page_at", "status", "next_page_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # open | acknowledged | resolved; unconfirmed (asked "is it an emergency?") | dismissed
    status: Mapped[str] = mapped_column(String(12))
    level: Mapped[int] = mapped_column(Integer, default=0)
    next_page_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(String(200))
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AlertStep(Base):
    """One line of an alert's history: raised, paged (whom, how, with what result),
    escalated, acknowledged, take refused (pressed too late), told-taken, resolved."""

    __tablename__ = "alert_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    level: Mapped[int] = mapped_column(Integer, default=0)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id"))
    result: Mapped[str | None] = mapped_column(String(20))  # sent | failed | unreachable
    note: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class DutyShift(Base):
    """Who is on call when, and at which level of an emergency's escalation."""

    __tablename__ = "duty_shifts"
    __table_args__ = (Index("ix_duty_shifts_level_ends_at", "level", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 1 on duty | 2 backup | 3 leader on duty
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
