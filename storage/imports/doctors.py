"""Matching and writing the rows of the family-doctor sheet (家庭医生签约): a contract by
its person (ID number, else name and phone, as on the family list) and the doctor's name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.imports.kinds import DOCTORS
from storage.imports.retirees import retiree_of
from storage.imports.rows import RowPlan, compare, twice
from storage.models import DoctorContract
from storage.uow import UnitOfWork

__all__ = ["match_doctor", "write_doctor"]

_FIELDS = ["clinic", "phone", "valid_until"]


async def match_doctor(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    person = await retiree_of(uow, row)
    if person is None:
        return
    row.label = f"{person.name} 的家庭医生 {v['doctor']}"
    if twice(row, seen, (person.id, v["doctor"]), "家庭医生"):
        return
    for name in ("id_number", "person_name", "person_phone"):
        v.pop(name, None)
    v["person_id"] = person.id
    found = await uow.care.contract(person.id, v["doctor"])
    if found is not None:
        compare(row, found, DOCTORS, _FIELDS)


async def write_doctor(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    contract: DoctorContract = row.target or DoctorContract(created_at=now)
    for name, value in row.values.items():
        if value is not None:
            setattr(contract, name, value)
    contract.updated_at = now
    if row.target is None:
        uow.session.add(contract)
