"""The shared service-record database (一人一档): one file per person, every request in it.

Times are stored in UTC (``UTCDateTime``) and shown in Asia/Shanghai by the handlers.
"""

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
from sqlalchemy.orm import Mapped, mapped_column, validates

from storage.crypto import Encrypted, blind, phone_digits
from storage.db import Base, UTCDateTime

__all__ = [
    "Activity",
    "Alert",
    "AlertStep",
    "AuditEntry",
    "BindingCode",
    "Broadcast",
    "BroadcastRecipient",
    "ChannelAccount",
    "CodeAttempt",
    "Delivery",
    "DutyShift",
    "EldercareService",
    "EldercareSlot",
    "FamilyMember",
    "Hospital",
    "IdentityCheck",
    "ImportBatch",
    "MessageRecord",
    "Person",
    "PersonTag",
    "PolicyArticle",
    "Registration",
    "Reminder",
    "RequestStatusChange",
    "ServiceRequest",
    "Staff",
]

JsonDict = dict[str, Any]


class Person(Base):
    """A retired cadre on the bureau's roster."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    category: Mapped[str] = mapped_column(String(10))  # lixiu (离休) | tuixiu (退休)
    former_unit: Mapped[str | None] = mapped_column(String(100))
    district: Mapped[str | None] = mapped_column(String(40))
    # Encrypted at rest (storage/crypto.py); found by its blind index, kept in step.
    phone: Mapped[str | None] = mapped_column(Encrypted("people.phone"))
    phone_index: Mapped[str | None] = mapped_column(String(32), index=True)
    address: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    gender: Mapped[str | None] = mapped_column(String(1))  # M | F, as on the roster
    spouse_name: Mapped[str | None] = mapped_column(String(40))
    lives_alone: Mapped[bool] = mapped_column(Boolean, default=False)
    party_branch: Mapped[str | None] = mapped_column(String(100))
    health_notes: Mapped[str | None] = mapped_column(Text)
    emergency_contact: Mapped[str | None] = mapped_column(String(40))
    emergency_phone: Mapped[str | None] = mapped_column(Encrypted("people.emergency_phone"))
    # The ID number (身份证号) from the bureau's roster: sealed like the phone, found by its
    # blind index (an import matches people on it).
    id_number: Mapped[str | None] = mapped_column(Encrypted("people.id_number"))
    id_index: Mapped[str | None] = mapped_column(String(32), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @validates("phone")
    def _index_phone(self, _key: str, phone: str | None) -> str | None:
        self.phone_index = blind("phone", phone_digits(phone)) if phone else None
        return phone

    @validates("id_number")
    def _index_id(self, _key: str, number: str | None) -> str | None:
        self.id_index = blind("id", number.upper()) if number else None
        return number


class Staff(Base):
    """A member of the bureau's staff."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(Encrypted("staff.phone"))
    role: Mapped[str] = mapped_column(String(20))  # clerk | duty | leader | admin
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The console (工作台): sign-in name and argon2id hash; sessions signed before
    # ``sessions_valid_from`` are void (set when the password changes and at signing out).
    username: Mapped[str | None] = mapped_column(String(40), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    sessions_valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChannelAccount(Base):
    """A WeChat/Telegram/console user, bound to the retiree they are or act for."""

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(10))  # retiree | family | staff
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    relation: Mapped[str | None] = mapped_column(String(20))  # for family: 女儿, 儿子 …
    display_name: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    bound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who the user says they are, until proven (an SMS code, staff, or the person's own
    # account approves): a pending account may raise an emergency and ask public questions.
    pending_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    # The privacy notice the user agreed to at binding (PIPL), and when.
    consent_version: Mapped[str | None] = mapped_column(String(20))
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


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


class AuditEntry(Base):
    """Who did what to which record (staff actions, bindings, data deletion)."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_action", "action", "id"),  # the console's filters, newest first
        Index("ix_audit_log_actor", "actor", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[str | None] = mapped_column(String(40))
    details: Mapped[JsonDict] = mapped_column(JSON, default=dict)


class BindingCode(Base):
    """A one-time code staff issue to bind an account at once (QR scene, deep link)."""

    __tablename__ = "binding_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    role: Mapped[str] = mapped_column(String(10))  # retiree | family | staff
    relation: Mapped[str | None] = mapped_column(String(20))  # for family: 女儿, 儿子 …
    issued_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id"))


class IdentityCheck(Base):
    """A pending binding being proven: who claims to be whom, the SMS code sent to the
    roster's phone (encrypted), and how it ended.

    status: pending | verified | rejected | cancelled; ``how``: sms | staff | account (the
    person's own bound account approved) once decided. ``sms``: to_send | sent | failed |
    off (no SMS provider configured). ``request_id``: the item in the staff's queue.
    """

    __tablename__ = "identity_checks"
    __table_args__ = (Index("ix_identity_checks_status_sms", "status", "sms"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("channel_accounts.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    how: Mapped[str | None] = mapped_column(String(12))
    code: Mapped[str | None] = mapped_column(Encrypted("identity_checks.code"))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sms: Mapped[str] = mapped_column(String(12))
    sends: Mapped[int] = mapped_column(Integer, default=0)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(40))


class CodeAttempt(Base):
    """One wrong code (binding, SMS) or unmatched name and phone: the attempt limits count
    these per channel user and over everyone within the last hour."""

    __tablename__ = "code_attempts"
    __table_args__ = (Index("ix_code_attempts_user_at", "channel", "external_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(12))  # code | sms | roster
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


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


class DutyShift(Base):
    """Who is on call when, and at which level of an emergency's escalation."""

    __tablename__ = "duty_shifts"
    __table_args__ = (Index("ix_duty_shifts_level_ends_at", "level", "ends_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 1 on duty | 2 backup | 3 leader on duty
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)


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


class PersonTag(Base):
    """A label staff give people on the roster (书画组, 党员志愿者, 重点关注…), e.g. to
    address a broadcast to them."""

    __tablename__ = "person_tags"
    __table_args__ = (UniqueConstraint("person_id", "tag"), Index("ix_person_tags_tag", "tag"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    tag: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ImportBatch(Base):
    """A sheet a clerk uploaded in the console, between checking it and confirming it: the
    rows are sealed (they hold ID numbers and phones) and the batch is removed a day later."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(200))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    payload: Mapped[str] = mapped_column(Encrypted("import_batches.payload"))  # JSON rows
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FamilyMember(Base):
    """A son, daughter, spouse … of a person, as on the bureau's own family list (导入):
    who they are to the person and their phone (sealed, found by its blind index). Not an
    account: a family member still binds their own account (handlers/binding.py), and the
    list only tells staff checking that binding that the phone is a known one."""

    __tablename__ = "family_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    relation: Mapped[str] = mapped_column(String(20))  # 女儿, 儿子, 配偶 …
    phone: Mapped[str | None] = mapped_column(Encrypted("family_members.phone"))
    phone_index: Mapped[str | None] = mapped_column(String(32), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @validates("phone")
    def _index_phone(self, _key: str, phone: str | None) -> str | None:
        self.phone_index = blind("phone", phone_digits(phone)) if phone else None
        return phone
