"""导出 Excel (issue 18 item 3): an activity's roster, a segment of the roster of people, a
person's file and a month's requests, as .xlsx with Chinese headings.

Contact and health details (phone, address, ID number, health notes, emergency contact —
``PII``) go into a download only when the role may open files (``people.view``) *and* the
staff member ticked "含联系方式" (``?pii=1``): a sheet travels further than a screen. Every
download is written to the audit log with what was exported, its filters, how many rows
and whether contact details were in it — never the values.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from starlette.requests import Request
from starlette.responses import Response

from bot.console.access import allowed
from bot.console.reports import XLSX, chosen_month
from bot.console.web import PAGE_HEADERS, Signed, guarded, number, param, render, runtime_of
from handlers import texts
from handlers.base import TZ
from handlers.wording import format_when, status_name
from storage.exports import ExportRepo
from storage.models import Person
from storage.uow import UnitOfWork

__all__ = ["people_export", "person_export", "requests_export", "roster_export", "wants_pii"]

CATEGORIES = {"lixiu": "离休", "tuixiu": "退休"}
ATTENDEES = {"self": "本人", "spouse": "配偶"}
REGISTRATION = {"registered": "已报名", "waitlisted": "候补"}
# The contact and health columns, and how each is read from a person.
PII: list[tuple[str, str]] = [
    ("电话", "phone"),
    ("地址", "address"),
    ("身份证号", "id_number"),
    ("健康情况", "health_notes"),
    ("紧急联系人", "emergency_contact"),
    ("紧急联系人电话", "emergency_phone"),
]
Sheet = tuple[str, list[str], list[list[Any]]]  # name, headings, rows


def wants_pii(request: Request, who: Signed) -> bool:
    """Whether this download carries contact details: asked for, and the role may see them."""
    return param(request, "pii", 1) == "1" and allowed(who.role, "people.view")


def _pii_headers(pii: bool) -> list[str]:
    return [h for h, _ in PII] if pii else []


def _pii_cells(person: Person | None, pii: bool) -> list[Any]:
    if not pii:
        return []
    return [(getattr(person, f) or "") if person else "" for _, f in PII]


def _local(value: datetime | None) -> str:
    return value.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def workbook(title: str, sheets: Sequence[Sheet]) -> bytes:
    """Sheets with a bold title line and a bold heading row each."""
    book = Workbook()
    first = book.active or book.create_sheet()
    for i, (name, headers, rows) in enumerate(sheets):
        sheet = first if i == 0 else book.create_sheet()
        sheet.title = name
        sheet.append([title])
        sheet["A1"].font = Font(bold=True)
        sheet.append(headers)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(row)
        for column, header in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", headers, strict=False):
            sheet.column_dimensions[column].width = max(10, len(str(header)) * 2 + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _download(body: bytes, filename: str) -> Response:
    headers = {**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=XLSX, headers=headers)


async def _audit(
    uow: UnitOfWork,
    who: Signed,
    what: str,
    target_type: str,
    target_id: object,
    *,
    rows: int,
    pii: bool,
    **filters: object,
) -> None:
    """One audit row: what, which filters, how many rows, with or without contact details."""
    uow.audit.record(
        datetime.now(UTC), f"staff:{who.member.id}", "exported", target_type, target_id,
        what=what, rows=rows, pii=pii, **{k: v for k, v in filters.items() if v},
    )  # fmt: skip
    await uow.commit()


def _not_found(request: Request, who: Signed, why: str) -> Response:
    return render(request, "error.html", {"title": "没有找到", "why": why}, who=who, status=404)


# ------------------------------------------------------------------- the roster
@guarded("export.run")
async def roster_export(request: Request, who: Signed) -> Response:
    """An activity's roster: registered, then waitlisted, in the order they signed up."""
    activity_id = number(request.path_params.get("id"))
    pii = wants_pii(request, who)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        repo = ExportRepo(uow.session)
        activity = await repo.activity(activity_id)
        if activity is None:
            return _not_found(request, who, "没有这个活动。")
        found = await repo.roster(activity_id)
        await _audit(uow, who, "roster", "activity", activity_id, rows=len(found), pii=pii)
    headers = ["序号", "状态", "候补第几位", "档案号", "姓名", "参加人", "配偶姓名", "类别",
               "所在区", "报名时间", *_pii_headers(pii)]  # fmt: skip
    rows, waiting = [], 0
    for i, (registration, person) in enumerate(found, 1):
        waiting += registration.status == "waitlisted"
        rows.append([
            i, REGISTRATION.get(registration.status, registration.status),
            waiting if registration.status == "waitlisted" else "", person.id, person.name,
            ATTENDEES.get(registration.attendee, registration.attendee), person.spouse_name or "",
            CATEGORIES.get(person.category, person.category), person.district or "",
            _local(registration.created_at), *_pii_cells(person, pii),
        ])  # fmt: skip
    title = (
        f"{activity.title}（{_local(activity.starts_at)}，{activity.place}）报名名单：名额 "
        f"{activity.capacity}，已报名 {activity.seats_taken}，候补 {activity.waitlisted}"
    )
    body = workbook(title, [("报名名单", headers, rows)])
    return _download(body, f"yinling-activity-{activity_id}-roster.xlsx")


# ------------------------------------------------------------------- people
@guarded("export.run")
async def people_export(request: Request, who: Signed) -> Response:
    """The people the search finds (``q``, ``district``; also ``category``, ``tag``)."""
    words = param(request, "q", 40)
    district = param(request, "district", 40)
    category = param(request, "category", 10)
    category = category if category in CATEGORIES else ""
    tag = param(request, "tag", 40)
    pii = wants_pii(request, who)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        repo = ExportRepo(uow.session)
        found = await repo.people(words, district or None, category or None, tag or None)
        await _audit(uow, who, "people", "person", None, rows=len(found), pii=pii, q=words,
                     district=district, category=category, tag=tag)  # fmt: skip
    headers = ["档案号", "姓名", "性别", "出生日期", "类别", "原单位", "所在区", "党支部",
               "配偶", "独居", *_pii_headers(pii)]  # fmt: skip
    rows = [
        [p.id, p.name, {"M": "男", "F": "女"}.get(p.gender or "", p.gender or ""),
         p.birth_date.isoformat() if p.birth_date else "",
         CATEGORIES.get(p.category, p.category), p.former_unit or "", p.district or "",
         p.party_branch or "", p.spouse_name or "", "是" if p.lives_alone else "",
         *_pii_cells(p, pii)]
        for p in found
    ]  # fmt: skip
    said = "，".join(
        f"{label}：{value}"
        for label, value in (("查找", words), ("所在区", district),
                             ("类别", CATEGORIES.get(category, "")), ("标签", tag))
        if value
    )  # fmt: skip
    title = f"人员名单（{said or '全部'}），共 {len(rows)} 人，导出于 {_local(datetime.now(UTC))}"
    return _download(workbook(title, [("人员名单", headers, rows)]), "yinling-people.xlsx")


# ------------------------------------------------------------------- a person's file
def _timeline_row(item: Any, services: dict[str, str], pii: bool) -> list[Any] | None:
    kind, extra = item.kind, item.extra
    if kind == "request":
        r = extra["request"]
        details = r.details or {}
        what = texts.REQUEST_KINDS.get(r.kind, r.kind)
        more = [status_name(r.status)]
        if r.scheduled_date:
            more.append(format_when(r.scheduled_date, r.scheduled_time))
        if details.get("hospital"):
            more.append(str(details["hospital"]))
        if details.get("service"):
            more.append(services.get(str(details["service"]), str(details["service"])))
        return ["事项", f"{what} 编号 {r.id}", " · ".join(more)]
    if kind == "status":
        change = extra["change"]
        moved = "备注" if change.from_status == change.to_status else status_name(change.to_status)
        return ["事项进展", f"{texts.REQUEST_KINDS.get(item.title, item.title)} 编号 {item.link}",
                f"{moved}{' · ' + item.detail if item.detail else ''}"]  # fmt: skip
    if kind == "alert_step":
        if item.title not in ("raised", "acknowledged", "resolved", "dismissed", "note"):
            return None
        words = {"raised": "发起", "acknowledged": "有人接手", "resolved": "办结",
                 "dismissed": "本人说不是紧急情况", "note": "备注"}[item.title]  # fmt: skip
        note = f" · {item.detail}" if item.detail and item.title in ("resolved", "note") else ""
        return ["紧急求助", f"编号 {item.link}", words + note]
    if kind == "registration":
        spouse = "（配偶）" if extra["registration"].attendee == "spouse" else ""
        return ["活动报名", item.title, status_name(item.detail) + spouse]
    if kind == "message":
        said = (item.detail or "（已过保存期限）") if pii else "（未导出聊天内容）"
        return ["聊天", "收到" if item.title == "in" else "回复", said]
    if kind == "broadcast":
        return ["群发通知", item.title, item.detail[:60]]
    return None


@guarded("export.run")
async def person_export(request: Request, who: Signed) -> Response:
    """A person's file: the profile, then the timeline (newest first)."""
    person_id = number(request.path_params.get("id"))
    pii = wants_pii(request, who)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        person = await uow.people.get(person_id)
        if person is None:
            return _not_found(request, who, "没有这个档案。")
        tags = await uow.workbench.tags_of(person_id)
        timeline = await uow.workbench.timeline(person_id)
        services = await uow.workbench.service_names()
        lines = [
            [_local(i.at), *row]
            for i in timeline
            if (row := _timeline_row(i, services, pii)) is not None
        ]
        await _audit(uow, who, "person", "person", person_id, rows=len(lines), pii=pii)
    p = person
    profile: list[list[Any]] = [
        ["档案号", p.id], ["姓名", p.name], ["类别", CATEGORIES.get(p.category, p.category)],
        ["性别", {"M": "男", "F": "女"}.get(p.gender or "", p.gender or "")],
        ["出生日期", p.birth_date.isoformat() if p.birth_date else ""],
        ["原单位", p.former_unit or ""], ["所在区", p.district or ""],
        ["党支部", p.party_branch or ""], ["配偶", p.spouse_name or ""],
        ["独居", "是" if p.lives_alone else "否"], ["标签", "、".join(tags)],
        ["备注", p.notes or ""],
    ]  # fmt: skip
    if pii:
        profile += [[label, getattr(p, f) or ""] for label, f in PII]
    title = f"{p.name}（档案号 {p.id}）的档案，导出于 {_local(datetime.now(UTC))}"
    sheets: list[Sheet] = [
        ("基本情况", ["项目", "内容"], profile),
        ("经历", ["时间", "类型", "事由", "情况"], lines),
    ]
    return _download(workbook(title, sheets), f"yinling-person-{p.id}.xlsx")


# ------------------------------------------------------------------- the month's requests
@guarded("export.run")
async def requests_export(request: Request, who: Signed) -> Response:
    """Every request made in a month (``?month=YYYY-MM``, else this month), as it stands."""
    month = chosen_month(request)
    pii = wants_pii(request, who)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        found = await ExportRepo(uow.session).requests(month)
        names = await uow.workbench.staff_names([r.assigned_staff_id for r, _ in found])
        services = await uow.workbench.service_names()
        await _audit(uow, who, "requests", "service_request", None, rows=len(found), pii=pii,
                     month=month.key)  # fmt: skip
    headers = ["编号", "类型", "状态", "提交时间", "预约日期", "预约时段", "最后更新", "档案号",
               "姓名", "为谁办", "所在区", "经办人", "医院", "科室", "服务",
               *_pii_headers(pii)]  # fmt: skip
    rows = []
    for r, p in found:
        details = r.details or {}
        scheduled: date | None = r.scheduled_date
        service = str(details.get("service") or "")
        rows.append([
            r.id, texts.REQUEST_KINDS.get(r.kind, r.kind), status_name(r.status),
            _local(r.created_at), scheduled.isoformat() if scheduled else "",
            r.scheduled_time or "", _local(r.updated_at), p.id if p else "",
            p.name if p else "", "配偶" if r.beneficiary == "spouse" else "本人",
            (p.district or "") if p else "",
            names.get(r.assigned_staff_id, "") if r.assigned_staff_id else "",
            str(details.get("hospital") or ""), str(details.get("department") or ""),
            services.get(service, service), *_pii_cells(p, pii),
        ])  # fmt: skip
    title = f"{month.year}年{month.month}月 事项明细，共 {len(rows)} 件"
    body = workbook(title, [("事项明细", headers, rows)])
    return _download(body, f"yinling-requests-{month.key}.xlsx")
