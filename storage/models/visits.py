"""The must-visit ledger (五必访): one row per visit owed to a person on an occasion."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.db import Base, UTCDateTime

__all__ = ["MustVisit"]


class MustVisit(Base):
    """A visit owed to a person: a hospital stay, a landmark birthday (80, 85, 90, 95, every
    year from 100), a hardship or bereavement, a festival, a change of situation.

    Its staff task is a service request (``request_id``: a "hospital_visit" for a stay, a
    "must_visit" otherwise); one row per person, occasion and date (the occasion's day: the
    birthday, the festival, the stay's first day, the day staff recorded it), so generating
    twice adds nothing. The visit itself (who, when, what was noted) is kept on the row."""

    __tablename__ = "must_visits"
    __table_args__ = (
        UniqueConstraint("person_id", "occasion", "occasion_date"),
        Index("ix_must_visits_due_date", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    # hospital | birthday | hardship | bereavement | festival | situation
    occasion: Mapped[str] = mapped_column(String(20))
    occasion_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)  # the day the visit is due
    request_id: Mapped[int] = mapped_column(ForeignKey("service_requests.id"), unique=True)
    detail: Mapped[str | None] = mapped_column(String(40))  # the age, the festival's key …
    note: Mapped[str | None] = mapped_column(Text)  # what staff wrote of the occasion
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visited_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    visit_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
