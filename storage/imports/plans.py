"""Planning an import (every row read, checked and matched; nothing written) and applying a
plan without errors in the caller's one transaction. Each kind has its matcher and its
writer (storage/imports/py, py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from storage.imports.bureau import (
    match_activity,
    match_hospital,
    match_slot,
    match_staff,
    write_activity,
    write_hospital,
    write_slot,
    write_staff,
)
from storage.imports.cells import CellError
from storage.imports.contacts import match_contact, write_contact
from storage.imports.doctors import match_doctor, write_doctor
from storage.imports.kinds import Column, Kind
from storage.imports.retirees import (
    match_claim,
    match_family,
    match_person,
    write_claim,
    write_family,
    write_person,
)
from storage.imports.rows import Plan, RowPlan
from storage.uow import UnitOfWork

__all__ = ["MAX_ROWS", "apply", "plan"]

MAX_ROWS = 20000


def _match_headings(kind: Kind, headings: Sequence[str]) -> tuple[dict[int, Column], list[str]]:
    """Which column of the sheet is which field; the problems with the headings."""
    by_heading = {h: c for c in kind.columns for h in c.headings}
    found: dict[int, Column] = {}
    problems = []
    for index, raw in enumerate(headings):
        heading = re.sub(r"[\s*＊]", "", raw or "").replace("（", "(").replace("）", ")")
        heading = re.sub(r"\(.*?\)", "", heading)
        if not heading:
            continue
        column = by_heading.get(heading)
        if column is None:
            problems.append(f"不认识的列“{raw}”（已忽略）")
            continue
        if column in found.values():
            problems.append(f"“{raw}”列重复了")
            continue
        found[index] = column
    missing = [c.headings[0] for c in kind.columns if c.required and c not in found.values()]
    if missing:
        problems.append("缺少必填的列：" + "、".join(missing))
    return found, problems


async def plan(
    uow: UnitOfWork, kind: Kind, headings: Sequence[str], rows: Sequence[tuple[int, Sequence[Any]]]
) -> Plan:
    """Read, check and match every row; nothing is written."""
    columns, notes = _match_headings(kind, headings)
    fatal = [n for n in notes if not n.endswith("（已忽略）")]
    result = Plan(kind, [], fatal)
    if fatal:
        return result
    if len(rows) > MAX_ROWS:
        result.problems.append(f"一次最多导入 {MAX_ROWS} 行，请分成几个文件")
        return result
    matcher = MATCHERS[kind.name]
    seen: dict[Any, int] = {}
    for number, cells in rows:
        row = RowPlan(number, "add")
        for index, column in columns.items():
            value = cells[index] if index < len(cells) else None
            try:
                read = column.read(value)
            except CellError as why:
                row.errors.append((column.headings[0], str(why)))
                continue
            if read is None and column.required:
                row.errors.append((column.headings[0], "必填，不能空着"))
            row.values[column.name] = read
        if not row.errors:
            await matcher(uow, row, seen)
        if row.errors:
            row.action = "error"
        result.rows.append(row)
    return result


async def apply(uow: UnitOfWork, done: Plan, now: datetime, actor: str) -> dict[str, int]:
    """Write a plan without errors in the caller's transaction; what was done."""
    if not done.ok:
        raise ValueError("a plan with errors is not applied")
    writer = WRITERS[done.kind.name]
    for row in done.rows:
        if row.action in {"add", "update"}:
            await writer(uow, row, now, actor)
    await uow.session.flush()
    counts = {a: done.count(a) for a in ("add", "update", "same")}
    uow.audit.record(now, actor, "import", done.kind.name, None, **counts)
    return counts


MATCHERS: dict[str, Callable[[UnitOfWork, RowPlan, dict[Any, int]], Any]] = {
    "people": match_person,
    "staff": match_staff,
    "hospitals": match_hospital,
    "activities": match_activity,
    "slots": match_slot,
    "claims": match_claim,
    "family": match_family,
    "doctors": match_doctor,
    "contacts": match_contact,
}
WRITERS: dict[str, Callable[[UnitOfWork, RowPlan, datetime, str], Any]] = {
    "people": write_person,
    "staff": write_staff,
    "hospitals": write_hospital,
    "activities": write_activity,
    "slots": write_slot,
    "claims": write_claim,
    "family": write_family,
    "doctors": write_doctor,
    "contacts": write_contact,
}
