"""Messages in and out: the message log, deliveries, broadcasts and their recipients, reminders."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

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

JsonDict = dict[str, Any]

__all__ = ["Broadcast", "BroadcastRecipient", "Delivery", "MessageRecord", "Reminder"]


class MessageRecord(Base):
    """Every message in and out, for the person's file and for hand-offs."""

    __tablename__ = "message_log"
    __table_args__ = (
        Index("ix_message_log_conversation", "channel", "external_user_id", "id"),
        Index("ix_message_log_account", "account_id", "id"),  # a hand-off's last messages
        # A platform message is written once, whatever the state store says: a second
        # handling of the same message (a retry after a crash, Redis away) fails here and
        # rolls back everything it wrote. Replies carry the id of the message they answer.
        Index(
            "uq_message_log_inbound",
            "channel",
            "external_user_id",
            "message_id",
            unique=True,
            sqlite_where=text("direction = 'in' AND message_id IS NOT NULL"),
            postgresql_where=text("direction = 'in' AND message_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_user_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str | None] = mapped_column(String(128))  # in: its id; out: the one answered
    account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str | None] = mapped_column(Text)
    media_id: Mapped[str | None] = mapped_column(String(200))
    intent: Mapped[str | None] = mapped_column(String(40))
    confidence: Mapped[float | None]
    error: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)  # retention


class Delivery(Base):
    """One message sent to someone outside a reply: how, and whether it arrived."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_account_status", "account_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id"))
    purpose: Mapped[str] = mapped_column(String(20))  # late_reply | notice | broadcast
    method: Mapped[str | None] = mapped_column(String(20))  # customer_service | template | message
    status: Mapped[str] = mapped_column(String(12))  # pending | sent | failed | skipped
    error_code: Mapped[str | None] = mapped_column(String(20))
    error: Mapped[str | None] = mapped_column(Text)
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)  # the platform's id
    text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Broadcast(Base):
    """A message from staff to a segment of retirees (and, if asked, their families).

    The recipients are fixed when it is created (one row each); ``status`` goes
    scheduled → sending → done. A job sends it slice by slice while it holds the lease
    (``lease_owner`` until ``lease_until``), so one process at a time sends a broadcast;
    ``updated_at`` moves on with every batch, which is how the reconciler tells a
    broadcast whose job was lost. The counts are refreshed every batch and at the end.
    """

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_updated_at", "status", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500))
    segment: Mapped[JsonDict] = mapped_column(JSON, default=dict)
    created_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    # draft (the console's, until a leader confirms) | scheduled | sending | done | cancelled
    status: Mapped[str] = mapped_column(String(12))
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BroadcastRecipient(Base):
    """One channel account a broadcast goes to, and how it went.

    ``status``: pending → sending (claimed by one job just before its send) → sent |
    failed | blocked | skipped. A row is claimed with a conditional update, so two jobs
    never send it twice; a row left "sending" by a job that died mid-send is closed as
    failed ("interrupted"), never sent again.
    """

    __tablename__ = "broadcast_recipients"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "account_id"),
        Index("ix_broadcast_recipients_broadcast_status", "broadcast_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))  # pending|sending|sent|failed|blocked|skipped
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(String(100))


class Reminder(Base):
    """One reminder: what about (``kind``, ``target``), for which day, to which account, and
    how its send went.

    The row is the claim: it is inserted (ON CONFLICT DO NOTHING on the unique key) before
    the message goes out, so two workers running the same check send it once. ``result``
    is ``sending`` until the send returns, then sent | failed | unreachable | blocked.
    Kinds: activity (target: the activity), eldercare / medical_escort / reimbursement (the
    booked request), hospital_visit (the staff's visit task), birthday and alone_call (the
    person).
    """

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("day", "kind", "target", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)  # the day it is for (local)
    kind: Mapped[str] = mapped_column(String(20))
    target: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    result: Mapped[str] = mapped_column(String(12))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
