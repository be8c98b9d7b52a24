"""Events pushed by hospitals and health information platforms (住院提醒 feed).

One row per event an organisation sent: matched to a person on the roster by the ID
number's blind index (the number itself sealed), or waiting for a clerk to match it.
``(organisation, event_id)`` is unique: an event sent twice is stored, and acted on, once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from storage.crypto import Encrypted, blind
from storage.db import Base, UTCDateTime

__all__ = ["AdmissionEvent"]


class AdmissionEvent(Base):
    """An admission or a discharge of someone, as a hospital's system reported it.

    ``state``: ``matched`` (acted on: a stay recorded, or closed), ``unmatched`` (nobody on
    the roster has that ID number: a clerk matches or dismisses it), ``invalid`` (signed,
    but not an event we can read: kept for a clerk, sealed), ``dismissed``."""

    __tablename__ = "admission_events"
    __table_args__ = (
        UniqueConstraint("organisation", "event_id"),
        # The clerk's list: the events still waiting, oldest first.
        Index("ix_admission_events_state", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation: Mapped[str] = mapped_column(String(40))
    # The sender's own id of the event (None for an invalid one: a corrected resend counts).
    event_id: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str | None] = mapped_column(String(12))  # admission | discharge
    state: Mapped[str] = mapped_column(String(12))
    # The person's ID number (身份证号), sealed, and found again by its blind index.
    id_number: Mapped[str | None] = mapped_column(Encrypted("admission_events.id_number"))
    id_index: Mapped[str | None] = mapped_column(String(32), index=True)
    name: Mapped[str | None] = mapped_column(String(40))  # as the hospital wrote it
    hospital: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(60))
    ward: Mapped[str | None] = mapped_column(String(40))
    bed: Mapped[str | None] = mapped_column(String(20))
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why an event is invalid, or what could not be done (never personal data).
    problem: Mapped[str | None] = mapped_column(String(200))
    # The body of an invalid event, sealed (it may hold an ID number).
    raw: Mapped[str | None] = mapped_column(Encrypted("admission_events.raw"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    stay_request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))
    # The clerk's task in the staff queue (kind "admission_review") while it waits.
    task_request_id: Mapped[int | None] = mapped_column(ForeignKey("service_requests.id"))
    handled_by: Mapped[str | None] = mapped_column(String(40))  # the actor who matched it
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @validates("id_number")
    def _index_id(self, _key: str, number: str | None) -> str | None:
        self.id_index = blind("id", number.upper()) if number else None
        return number
