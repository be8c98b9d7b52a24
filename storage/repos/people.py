"""The roster and the bureau's staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select

from storage.crypto import blind, phone_digits
from storage.db import AsyncSession
from storage.models import Person, PersonTag, Staff

__all__ = ["PeopleRepo", "StaffRepo", "digits"]


def digits(phone: str) -> str:
    """Only the digits of a phone number (without +86)."""
    return phone_digits(phone)


def _phone_is(phone: str) -> Any:
    """A condition on a person's phone (encrypted): through its blind index."""
    return Person.phone_index == blind("phone", phone_digits(phone))


class PeopleRepo:
    """The roster."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, person_id: int) -> Person | None:
        """One person by id."""
        return await self.session.get(Person, person_id)

    async def add(self, person: Person) -> Person:
        """Put a new person on the roster."""
        self.session.add(person)
        await self.session.flush()
        return person

    async def find_by_name_and_phone(self, name: str, phone: str) -> Person | None:
        """The person with exactly this name and phone number, if one."""
        rows = await self.session.scalars(
            select(Person).where(Person.name == name.strip(), _phone_is(phone))
        )
        found = rows.all()
        return found[0] if len(found) == 1 else None

    async def named(self, name: str, limit: int = 2) -> list[Person]:
        """People with exactly this name (a few: more than one means ask for the number)."""
        rows = await self.session.scalars(
            select(Person).where(Person.name == name).order_by(Person.id).limit(limit)
        )
        return list(rows)

    async def tag(self, person_id: int, tag: str, now: datetime) -> bool:
        """Give a person a tag; False if they had it already."""
        if tag in await self.tags(person_id):
            return False
        self.session.add(PersonTag(person_id=person_id, tag=tag, created_at=now))
        await self.session.flush()
        return True

    async def untag(self, person_id: int, tag: str) -> bool:
        """Take a tag away; False if they did not have it."""
        result = await self.session.execute(
            delete(PersonTag).where(PersonTag.person_id == person_id, PersonTag.tag == tag)
        )
        return bool(getattr(result, "rowcount", 0))

    async def tags(self, person_id: int) -> list[str]:
        """A person's tags, alphabetically."""
        rows = await self.session.scalars(
            select(PersonTag.tag).where(PersonTag.person_id == person_id).order_by(PersonTag.tag)
        )
        return list(rows)

    async def find_by_phone(self, phone: str) -> Person | None:
        """The one person with this phone number, if exactly one."""
        rows = (await self.session.scalars(select(Person).where(_phone_is(phone)))).all()
        return rows[0] if len(rows) == 1 else None

    async def count(self) -> int:
        """How many people are on the roster."""
        return int(await self.session.scalar(select(func.count(Person.id))) or 0)

    async def all_ids(self) -> list[int]:
        """Every person's id, in order."""
        return list(await self.session.scalars(select(Person.id).order_by(Person.id)))


class StaffRepo:
    """Bureau staff."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, staff: Staff) -> Staff:
        """Add a staff member."""
        self.session.add(staff)
        await self.session.flush()
        return staff

    async def get(self, staff_id: int) -> Staff | None:
        """One staff member by id."""
        return await self.session.get(Staff, staff_id)
