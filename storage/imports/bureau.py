"""Matching and writing the rows about the bureau's own things: staff (by user name, else by
name and phone), partner hospitals (by name), activities (by title and start) and home-service
slots (by service, day and part of day).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from storage.catalog import STANDARD_SERVICES
from storage.crypto import phone_digits
from storage.imports.kinds import ACTIVITIES, HOSPITALS, SLOTS, STAFF
from storage.imports.rows import RowPlan, compare, twice
from storage.models import Activity, EldercareService, EldercareSlot, Hospital, Staff
from storage.uow import UnitOfWork

__all__ = [
    "match_activity",
    "match_hospital",
    "match_slot",
    "match_staff",
    "write_activity",
    "write_hospital",
    "write_slot",
    "write_staff",
]

# ------------------------------------------------------------------ staff


async def match_staff(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    row.label = str(v.get("name") or "")
    if v.get("username") and twice(row, seen, ("u", v["username"]), "用户名"):
        return
    member = None
    if v.get("username"):
        member = await uow.workbench.staff_by_username(v["username"])
    if member is None and v.get("phone"):
        for one in await uow.workbench.all_staff():
            if (
                one.name == v["name"]
                and one.phone
                and phone_digits(one.phone) == phone_digits(v["phone"])
            ):
                member = one
    if member is not None:
        compare(row, member, STAFF, ["name", "role", "phone", "username"])


async def write_staff(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    member: Staff = row.target or Staff(created_at=now, active=True)
    for name, value in row.values.items():
        if value is not None:
            setattr(member, name, value)
    if row.target is None:
        uow.session.add(member)


# ------------------------------------------------------------------ hospitals


def _list(value: str | None) -> list[str]:
    return [p.strip() for p in re.split(r"[、,，;；/\s]+", value or "") if p.strip()]


async def match_hospital(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    row.label = str(v.get("name") or "")
    if twice(row, seen, v["name"], "医院名称"):
        return
    v["aliases"] = _list(v.get("aliases")) if v.get("aliases") is not None else None
    v["departments"] = _list(v.get("departments")) if v.get("departments") is not None else None
    found = await uow.session.scalar(select(Hospital).where(Hospital.name == v["name"]))
    if found is not None:
        compare(row, found, HOSPITALS, ["aliases", "departments", "address", "green_channel"])


async def write_hospital(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    hospital: Hospital = row.target or Hospital(aliases=[], departments=[], green_channel=True)
    for name, value in row.values.items():
        if value is not None:
            setattr(hospital, name, value)
    if row.target is None:
        uow.session.add(hospital)


# ------------------------------------------------------------------ activities


async def match_activity(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    row.label = f"{v.get('title')} {v['starts_at']:%m-%d %H:%M}" if v.get("starts_at") else ""
    if twice(row, seen, (v["title"], v["starts_at"]), "活动名称"):
        return
    starts = v["starts_at"].astimezone(UTC)
    found = await uow.session.scalar(
        select(Activity).where(
            Activity.title == v["title"],
            Activity.starts_at >= starts - timedelta(seconds=1),
            Activity.starts_at <= starts + timedelta(seconds=1),
        )
    )
    if found is None:
        return
    if v.get("capacity") is not None and v["capacity"] < found.seats_taken:
        row.errors.append(("名额", f"已有 {found.seats_taken} 人报名，名额不能少于这个数"))
        return
    v["starts_at"] = found.starts_at  # the same moment; keep the stored value
    compare(row, found, ACTIVITIES, ["category", "place", "capacity", "eligibility", "description"])


async def write_activity(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    activity: Activity = row.target or Activity(
        created_at=now, seats_taken=0, waitlisted=0, category="其他", eligibility="all"
    )
    for name, value in row.values.items():
        if value is not None:
            setattr(activity, name, value)
    if row.target is None:
        uow.session.add(activity)


# ------------------------------------------------------------------ home-service slots


async def match_slot(uow: UnitOfWork, row: RowPlan, seen: dict[Any, int]) -> None:
    v = row.values
    service = await uow.session.scalar(
        select(EldercareService).where(
            (EldercareService.name == v["service"]) | (EldercareService.code == v["service"])
        )
    )
    standard = next((s for s in STANDARD_SERVICES if v["service"] in s[:2]), None)
    if service is None and standard is None:
        names = [name for _, name, _ in STANDARD_SERVICES]
        row.errors.append(("服务", "没有这项服务，应填：" + "、".join(names)))
        return
    name = service.name if service is not None else standard[1] if standard else ""
    row.label = f"{name} {v['day']:%m-%d} {'上午' if v['part'] == 'morning' else '下午'}"
    key = service.id if service is not None else name
    if twice(row, seen, (key, v["day"], v["part"]), "日期"):
        return
    del v["service"]
    if service is None:
        v["new_service"] = standard  # added with the first slot written
        return
    v["service_id"] = service.id
    found = await uow.session.scalar(
        select(EldercareSlot).where(
            EldercareSlot.service_id == service.id,
            EldercareSlot.day == v["day"],
            EldercareSlot.part == v["part"],
        )
    )
    if found is None:
        return
    if v["capacity"] < found.booked:
        row.errors.append(("名额", f"已约了 {found.booked} 人，名额不能少于这个数"))
        return
    compare(row, found, SLOTS, ["capacity"])


async def write_slot(uow: UnitOfWork, row: RowPlan, now: datetime, actor: str) -> None:
    values = dict(row.values)
    standard = values.pop("new_service", None)
    if standard is not None:
        code, name, description = standard
        service = await uow.session.scalar(
            select(EldercareService).where(EldercareService.code == code)
        )
        if service is None:
            service = EldercareService(code=code, name=name, description=description, active=True)
            uow.session.add(service)
            await uow.session.flush()
        values["service_id"] = service.id
    slot: EldercareSlot = row.target or EldercareSlot(booked=0)
    for name_, value in values.items():
        if value is not None:
            setattr(slot, name_, value)
    if row.target is None:
        uow.session.add(slot)
