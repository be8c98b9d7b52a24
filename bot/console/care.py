"""一人一策 on the person's page: add or end an item of the plan, choose the staff contact
(一对一), record a family-doctor contract. Each needs ``people.edit`` and is audited (what
was done and the item's id, not the values); a form that does not read is refused (409)
and writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from starlette.requests import Request
from starlette.responses import Response

from bot.console import people
from bot.console.web import Signed, guarded, number, render, runtime_of
from services.care import CADENCES, OWNERS
from storage.imports import CellError, read_phone
from storage.imports.cells import read_date
from storage.models import DoctorContract
from storage.uow import UnitOfWork

__all__ = ["contact_set", "doctor_save", "plan_edit"]

NOTE_LONGEST = 200
MISSING = "没有找到"
PLAN_REFUSED = "没有保存：请选好项目、负责方，日期写成 2026-12-01。"
DOCTOR_REFUSED = "没有保存：请填医生姓名、有效期（2027-06-30）和正确的电话。"


async def _page(request: Request, who: Signed, person_id: int, flash: str, ok: bool) -> Response:
    context = await people._person_context(request, person_id)
    if context is None:
        return render(request, "error.html", {"title": MISSING, "why": "没有这个档案。"},
                      who=who, status=404)  # fmt: skip
    return render(request, "person.html", {**context, "flash": flash, "ok": ok}, who=who,
                  status=200 if ok else 409)  # fmt: skip


def _day(text: str) -> date | None:
    try:
        return read_date(text)
    except CellError:
        return None


@guarded("people.edit")
async def plan_edit(request: Request, who: Signed) -> Response:
    """Add an item (cadence, owner, first due day, a note) or end one (``remove``)."""
    person_id = number(request.path_params.get("id"))
    now = datetime.now(UTC)
    actor = f"staff:{who.member.id}"
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        person = await uow.people.get(person_id)
        if person is None:
            return await _page(request, who, person_id, MISSING, False)
        removed = who.field("remove", 12).strip()
        if removed:
            item = await uow.care.item(person_id, number(removed))
            if item is None:
                return await _page(request, who, person_id, "没有这一项计划。", False)
            item.active, item.updated_at = False, now
            uow.audit.record(now, actor, "plan_item_ended", "person", person_id, item=item.id)
            await uow.commit()
            return await _page(request, who, person_id, "已停止这一项。", True)
        cadence, owner = who.field("cadence", 20), who.field("owner", 10)
        first = _day(who.field("next_due", 20).strip())
        if cadence not in CADENCES or owner not in OWNERS or first is None:
            return await _page(request, who, person_id, PLAN_REFUSED, False)
        note = who.field("note", NOTE_LONGEST).strip() or None
        item = await uow.care.add_item(person_id, cadence, owner, first, note=note, now=now)
        uow.audit.record(now, actor, "plan_item_added", "person", person_id, item=item.id,
                         cadence=cadence, owner=owner)  # fmt: skip
        await uow.commit()
    return await _page(request, who, person_id, "已加入计划。", True)


@guarded("people.edit")
async def contact_set(request: Request, who: Signed) -> Response:
    """Make a member of staff the person's contact (an empty choice: nobody)."""
    person_id = number(request.path_params.get("id"))
    now = datetime.now(UTC)
    chosen = who.field("staff", 12).strip()
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        if await uow.people.get(person_id) is None:
            return await _page(request, who, person_id, MISSING, False)
        staff_id = None
        if chosen:
            member = await uow.staff.get(number(chosen))
            if member is None or not member.active:
                return await _page(request, who, person_id, "没有这位在岗的工作人员。", False)
            staff_id = member.id
        changed = await uow.care.set_contact(person_id, staff_id, now)
        if changed:
            uow.audit.record(now, f"staff:{who.member.id}", "contact_set", "person", person_id,
                             staff=staff_id)  # fmt: skip
        await uow.commit()
    return await _page(request, who, person_id, "已保存。" if changed else "没有改动。", True)


@guarded("people.edit")
async def doctor_save(request: Request, who: Signed) -> Response:
    """Record (or update, by the doctor's name) a family-doctor contract."""
    person_id = number(request.path_params.get("id"))
    now = datetime.now(UTC)
    doctor = who.field("doctor", 40).strip()
    clinic = who.field("clinic", 100).strip() or None
    until = _day(who.field("valid_until", 20).strip())
    try:
        phone = read_phone(who.field("phone", 30).strip())
    except CellError:
        phone = "?"
    if not doctor or until is None or phone == "?":
        return await _page(request, who, person_id, DOCTOR_REFUSED, False)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        if await uow.people.get(person_id) is None:
            return await _page(request, who, person_id, MISSING, False)
        contract = await uow.care.contract(person_id, doctor)
        if contract is None:
            contract = DoctorContract(person_id=person_id, doctor=doctor, created_at=now)
            uow.session.add(contract)
        before = (contract.clinic, contract.phone, contract.valid_until)
        contract.clinic, contract.phone, contract.valid_until = clinic, phone, until
        changed = contract.id is None or before != (clinic, phone, until)
        if changed:
            contract.updated_at = now
            await uow.session.flush()
            uow.audit.record(now, f"staff:{who.member.id}", "doctor_contract_saved", "person",
                             person_id, contract=contract.id)  # fmt: skip
        await uow.commit()
    return await _page(request, who, person_id, "已保存。" if changed else "没有改动。", True)
