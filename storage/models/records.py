"""The paper trail: the audit log, binding codes, identity checks, code attempts, import
batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import Encrypted
from storage.db import Base, UTCDateTime

JsonDict = dict[str, Any]

__all__ = ["AuditEntry", "BindingCode", "CodeAttempt", "IdentityCheck", "ImportBatch"]


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
