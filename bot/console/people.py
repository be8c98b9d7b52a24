"""人员档案 (一人一档): search the roster; a person's page with their profile, family and
bound accounts, tags, and one timeline of everything; editing the file (audited, with
the fields changed but not their values) and revoking a bound account."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from bot.console.care_view import care_context
from bot.console.web import Signed, guarded, number, param, render, runtime_of
from storage.imports import CellError, read_phone
from storage.models import Person
from storage.uow import UnitOfWork

__all__ = ["account_revoke", "people", "person_edit", "person_page"]

# field -> (label, longest) of what staff may edit from the console
EDITABLE = {
    "phone": ("电话", 20),
    "address": ("地址", 200),
    "district": ("所在区", 40),
    "health_notes": ("健康情况", 1000),
    "emergency_contact": ("紧急联系人", 40),
    "emergency_phone": ("紧急联系人电话", 20),
    "notes": ("备注", 1000),
}


@guarded("people.view")
async def people(request: Request, who: Signed) -> Response:
    """Search by name, phone, file number, district."""
    words = param(request, "q", 40)
    district = param(request, "district", 40)
    offset = number(request.query_params.get("offset"))
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        page = await uow.workbench.search_people(words, district or None, offset)
        districts = await uow.workbench.districts()
        if words or district:
            uow.audit.record(
                datetime.now(UTC),
                f"staff:{who.member.id}",
                "people_searched",
                "person",
                None,
                found=page.total,
            )
            await uow.commit()
    context = {"page": page, "q": words, "district": district, "districts": districts}
    block = "results" if request.headers.get("hx-target") == "people-results" else None
    return render(request, "people.html", context, who=who, block=block)


async def _person_context(request: Request, person_id: int) -> dict[str, object] | None:
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        person = await uow.people.get(person_id)
        if person is None:
            return None
        accounts = await uow.workbench.accounts_of(person_id)
        tags = await uow.workbench.tags_of(person_id)
        family = await uow.workbench.family_of(person_id)
        timeline = await uow.workbench.timeline(person_id)
        staff_ids = [getattr(i.extra.get("request"), "assigned_staff_id", None) for i in timeline]
        names = await uow.workbench.staff_names(staff_ids)
        services = await uow.workbench.service_names()
        care = await care_context(uow, person, datetime.now(UTC))
    return {
        "person": person,
        "accounts": accounts,
        "tags": tags,
        "family": family,
        "timeline": timeline,
        "names": names,
        "editable": EDITABLE,
        "services": services,
        "care": care,
    }


@guarded("people.view")
async def person_page(request: Request, who: Signed) -> Response:
    """A person's file (viewing it is audited: it holds health notes and transcripts)."""
    person_id = number(request.path_params.get("id"))
    context = await _person_context(request, person_id)
    if context is None:
        return render(
            request,
            "error.html",
            {"title": "没有找到", "why": "没有这个档案。"},
            who=who,
            status=404,
        )
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        uow.audit.record(
            datetime.now(UTC), f"staff:{who.member.id}", "person_viewed", "person", person_id
        )
        await uow.commit()
    return render(request, "person.html", context, who=who)


# Fields the 3 a.m. board relies on: an empty box leaves them as they are (a slip of the
# hand must not blank the number a duty officer would call).
KEPT_WHEN_EMPTY = frozenset({"phone", "address", "emergency_phone"})
PHONES = frozenset({"phone", "emergency_phone"})


def _apply(person: Person, who: Signed) -> tuple[list[str], list[str]]:
    """Set what changed; (the fields changed, what was refused and why)."""
    changed, refused = [], []
    for name, (label, longest) in EDITABLE.items():
        if who.form is None or name not in who.form:
            continue
        value = who.field(name, longest).strip() or None
        if value is None and name in KEPT_WHEN_EMPTY:
            continue
        if value is not None and name in PHONES:
            try:
                read_phone(value)
            except CellError as why:
                refused.append(f"{label}{why}")
                continue
        if value != getattr(person, name):
            setattr(person, name, value)
            changed.append(name)
    alone = who.field("lives_alone", 5) == "1"
    if who.form is not None and "lives_alone_shown" in who.form and alone != person.lives_alone:
        person.lives_alone = alone
        changed.append("lives_alone")
    return changed, refused


@guarded("people.edit")
async def person_edit(request: Request, who: Signed) -> Response:
    """Save the edited fields of a file."""
    person_id = number(request.path_params.get("id"))
    now = datetime.now(UTC)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        person = await uow.people.get(person_id)
        if person is None:
            return render(
                request,
                "error.html",
                {"title": "没有找到", "why": "没有这个档案。"},
                who=who,
                status=404,
            )
        changed, refused = _apply(person, who)
        if refused:
            await uow.rollback()
            context = await _person_context(request, person_id)
            assert context is not None  # noqa: S101 - it was just there
            flash = "没有保存：" + "；".join(refused)
            return render(request, "person.html", {**context, "flash": flash, "ok": False},
                          who=who, status=409)  # fmt: skip
        if changed:
            person.updated_at = now
            uow.audit.record(
                now, f"staff:{who.member.id}", "person_edited", "person", person_id, fields=changed
            )
        await uow.commit()
    context = await _person_context(request, person_id)
    assert context is not None  # noqa: S101 - it was just there
    flash = "已保存。" if changed else "没有改动。"
    return render(request, "person.html", {**context, "flash": flash, "ok": True}, who=who)


@guarded("people.edit")
async def account_revoke(request: Request, who: Signed) -> Response:
    """Unbind an account from the person it speaks for (a lost phone, a family member who
    should no longer see the file); its next message starts binding again."""
    account_id = number(request.path_params.get("id"))
    now = datetime.now(UTC)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        account = await uow.accounts.get(account_id)
        person_id = (account.person_id or account.pending_person_id) if account else None
        if account is None or person_id is None or account.role == "staff":
            return render(
                request,
                "error.html",
                {"title": "没有找到", "why": "没有这个已绑定的账号。"},
                who=who,
                status=404,
            )
        await uow.accounts.revoke(account, now)
        uow.audit.record(
            now,
            f"staff:{who.member.id}",
            "binding_revoked",
            "channel_account",
            account_id,
            person=person_id,
        )
        await uow.commit()
    context = await _person_context(request, person_id)
    assert context is not None  # noqa: S101
    return render(request, "person.html", {**context, "flash": "已解除绑定。", "ok": True}, who=who)
