"""Matching and writing the rows of the contacts sheet (一对一联系人): a person (ID number,
else name and phone) and the member of staff who is their contact (by name among those
at work; by phone too when two share the name)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from storage.crypto import phone_digits
from storage.imports.retirees import retiree_of
from storage.imports.rows import RowPlan, twice
from storage.models import CareContact, Staff
from storage.uow import UnitOfWork

__all__ = ["match_contact", "write_contact"]


async def _staff(uow: UnitOfWork, row: RowPlan) -> Staff | None:
    v = row.values
    named = list(
        await uow.session.scalars(
            select(Staff).where(Staff.name == v["contact"], Staff.active.is_(True))
        )
    )
    if v.get("contact_phone"):
        wanted = phone_digits(v["contact_phone"])
        named = [s for s in named if s.phone and phone_digits(s.phone) == wanted]
    if not named:
        row.errors.append(("联系人", "工作人员里没有这位（请先导入工作人员）"))
        return None
    if len(named) > 1:
        row.errors.append(("联系人电话", "有几位同名的工作人员，请填联系人电话"))
        return None
    return named[0]


async def match_contact(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    person = await retiree_of(uow, row)
    if person is None:
        return
    row.label = f"{person.name} 的联系人 {v['contact']}"
    if twice(row, seen, person.id, "老干部姓名"):
        return
    staff = await _staff(uow, row)
    if staff is None:
        return
    row.values = {"person_id": person.id, "staff_id": staff.id}
    found = await uow.session.get(CareContact, person.id)
    if found is not None:
        row.target = found
        row.action = "same" if found.staff_id == staff.id else "update"
        if row.action == "update":
            row.changes.append("联系人")


async def write_contact(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    await uow.care.set_contact(row.values["person_id"], row.values["staff_id"], now)
