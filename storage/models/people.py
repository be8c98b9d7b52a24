"""People, their accounts on the channels, staff, tags and family (一人一档)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, validates

from storage.crypto import Encrypted, blind, phone_digits
from storage.db import Base, UTCDateTime

__all__ = ["ChannelAccount", "FamilyMember", "Person", "PersonTag", "Staff"]


class Person(Base):
    """A retired cadre on the bureau's roster."""

    __tablename__ = "people"
    # A district's people without a scan of the roster: the console's queue filter and its
    # list of districts (migration 0018).
    __table_args__ = (Index("ix_people_district", "district", "id"),)

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


class PersonTag(Base):
    """A label staff give people on the roster (书画组, 党员志愿者, 重点关注…), e.g. to
    address a broadcast to them."""

    __tablename__ = "person_tags"
    __table_args__ = (UniqueConstraint("person_id", "tag"), Index("ix_person_tags_tag", "tag"))

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    tag: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


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
