"""Matching and writing the rows about retirees: the roster (a person by ID number, else by
name and birth date, else by name and phone), the finance office's claim states (by claim
number, on the person found so) and family members (by their person and their own phone).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import select

from storage.crypto import blind, phone_digits
from storage.db import TZ
from storage.imports.kinds import FAMILY, PEOPLE
from storage.imports.rows import RowPlan, compare, twice
from storage.models import FamilyMember, Person, ServiceRequest
from storage.uow import UnitOfWork

__all__ = [
    "find_person",
    "match_claim",
    "match_family",
    "match_person",
    "retiree_of",
    "write_claim",
    "write_family",
    "write_person",
]

# ------------------------------------------------------------------ people

_PERSON_FIELDS = [c.name for c in PEOPLE.columns if c.name != "id_number"]


async def find_person(uow: UnitOfWork, values: Mapping[str, Any]) -> Person | None:
    if values.get("id_number"):
        found = await uow.session.scalar(
            select(Person).where(Person.id_index == blind("id", values["id_number"]))
        )
        if found is not None:
            return found
    name = values.get("name")
    if name and values.get("birth_date"):
        found = await uow.session.scalar(
            select(Person).where(Person.name == name, Person.birth_date == values["birth_date"])
        )
        if found is not None:
            return found
    if name and values.get("phone"):
        return await uow.session.scalar(
            select(Person).where(
                Person.name == name,
                Person.phone_index == blind("phone", phone_digits(values["phone"])),
            )
        )
    return None


async def match_person(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    row.label = str(v.get("name") or "")
    number, born = v.get("id_number"), v.get("birth_date")
    if number and born and number[6:14] != born.strftime("%Y%m%d"):
        row.errors.append(("出生日期", "和身份证号里的出生日期不一致"))
        return
    if number and v.get("gender") and int(number[16]) % 2 != (v["gender"] == "M"):
        row.errors.append(("性别", "和身份证号不一致"))
        return
    key = number or (v.get("name"), born or v.get("phone"))
    if twice(row, seen, key, "身份证号" if number else "姓名"):
        return
    person = await find_person(uow, v)
    if person is None:
        return
    compare(row, person, PEOPLE, _PERSON_FIELDS)
    if number and person.id_number != number:
        row.changes.append("身份证号")
        row.action = "update"


async def write_person(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    person: Person = row.target or Person(created_at=now, lives_alone=False)
    for name, value in row.values.items():
        if value is not None:
            setattr(person, name, value)
    person.updated_at = now
    if row.target is None:
        uow.session.add(person)


# ------------------------------------------------------------------ claims


async def match_claim(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    row.label = f"{v['claim_no']} {v.get('name') or ''}"
    if twice(row, seen, v["claim_no"], "单据编号"):
        return
    person = await find_person(uow, v)
    if person is None:
        row.errors.append(("姓名", "名册里找不到这个人（请加身份证号或电话）"))
        return
    v["person_id"] = person.id
    found = None
    rows = await uow.session.scalars(
        select(ServiceRequest).where(
            ServiceRequest.kind == "reimbursement_claim", ServiceRequest.person_id == person.id
        )
    )
    for claim in rows:
        if (claim.details or {}).get("claim_no") == v["claim_no"]:
            found = claim
    if found is None:
        return
    row.target = found
    if v["status"] != found.status:
        row.changes.append("状态")
    if v.get("amount") is not None and (found.details or {}).get("amount") != v["amount"]:
        row.changes.append("金额")
    row.action = "update" if row.changes else "same"


async def write_claim(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    v = row.values
    claim: ServiceRequest | None = row.target
    if claim is None:
        filed = v.get("filed")
        at = datetime.combine(filed, time(9), TZ).astimezone(UTC) if filed else now
        details = {"claim_no": v["claim_no"], "amount": v.get("amount")}
        await uow.requests.create(
            "reimbursement_claim",
            now=at,
            actor=actor,
            person_id=v["person_id"],
            status=v["status"],
            details={k: x for k, x in details.items() if x is not None},
        )
        return
    if v.get("amount") is not None:
        claim.details = {**(claim.details or {}), "amount": v["amount"]}
    if v["status"] != claim.status:
        await uow.requests.set_status(claim, v["status"], now=now, actor=actor, note="财务表导入")


# ------------------------------------------------------------------ family members


async def retiree_of(uow: UnitOfWork, row: RowPlan) -> Person | None:
    """The retiree a row of a family, doctor or contact sheet is about (by ID number, or
    name and phone); None, with the row's error said, when the sheet does not name one on
    the roster."""
    v = row.values
    if not v.get("id_number") and not (v.get("person_name") and v.get("person_phone")):
        row.errors.append(("老干部身份证号", "请填老干部身份证号，或老干部姓名和电话"))
        return None
    person = await find_person(
        uow,
        {"id_number": v.get("id_number"), "name": v.get("person_name"),
         "phone": v.get("person_phone")},
    )  # fmt: skip
    if person is None:
        heading = "老干部身份证号" if v.get("id_number") else "老干部姓名"
        row.errors.append((heading, "名册里找不到这位老干部（请先导入人员名册）"))
    return person


async def match_family(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    person = await retiree_of(uow, row)
    if person is None:
        return
    row.label = f"{person.name} 的{v['relation']} {v['name']}"
    phone_key = blind("phone", phone_digits(v["phone"]))
    if twice(row, seen, (person.id, phone_key), "家属电话"):
        return
    for name in ("id_number", "person_name", "person_phone"):
        v.pop(name, None)
    v["person_id"] = person.id
    found = await uow.session.scalar(
        select(FamilyMember).where(
            FamilyMember.person_id == person.id, FamilyMember.phone_index == phone_key
        )
    )
    if found is not None:
        compare(row, found, FAMILY, ["name", "relation", "notes"])


async def write_family(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    member: FamilyMember = row.target or FamilyMember(created_at=now)
    for name, value in row.values.items():
        if value is not None:
            setattr(member, name, value)
    member.updated_at = now
    if row.target is None:
        uow.session.add(member)
