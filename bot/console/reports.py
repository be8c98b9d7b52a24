"""统计报表: a leader's monthly report — requests per week by kind, emergencies' time to
take and to close, escorts per hospital, activities' fill, broadcasts' reach by channel and
the people nobody was in touch with — each as a chart (ECharts, drawn by
static/reports.js from the page's JSON block), a table beneath it (what prints) and an
Excel download. Figures only: the one list of people shows to roles that may see files
(``people.view``)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from starlette.requests import Request
from starlette.responses import Response

from bot.console.access import allowed
from bot.console.web import PAGE_HEADERS, Signed, forbidden, guarded, param, render, runtime_of
from handlers import texts
from handlers.base import TZ
from storage.reports import EXPORT_SIZE, FAST, SLOW, Month
from storage.uow import UnitOfWork

__all__ = ["CHARTS", "report_export", "reports"]

CHARTS = ("weekly", "kinds", "sos", "escorts", "activities", "broadcasts", "visits", "contact")
LISTS = ("uncontacted",)  # tables of people: people.view only
CHANNELS = {"wechat": "微信", "telegram": "Telegram", "wecom": "企业微信"}
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(slots=True)
class Chart:
    """One chart of the report: its table (page, print, Excel) and what to draw."""

    name: str
    title: str
    headers: list[str]
    rows: list[list[Any]]
    draw: dict[str, Any] | None = None  # for static/reports.js; None: a table only
    notes: list[str] = field(default_factory=list)


def chosen_month(request: Request) -> Month:
    """The month asked for (``?month=YYYY-MM``), else this month in Asia/Shanghai."""
    found = MONTH.match(param(request, "month", 7))
    if found and 2000 <= int(found[1]) <= 2100 and 1 <= int(found[2]) <= 12:  # noqa: PLR2004
        return Month(int(found[1]), int(found[2]))
    return Month.of(datetime.now(TZ).date())


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "—"


def _secs(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:  # noqa: PLR2004
        return f"{value:.0f} 秒"
    if value < 7200:  # noqa: PLR2004
        return f"{value / 60:.1f} 分钟"
    return f"{value / 3600:.1f} 小时"


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value / 60, 1)


def _weeks(month: Month) -> list[str]:
    """The local Mondays of the weeks that touch the month."""
    monday = month.first - timedelta(days=month.first.weekday())
    weeks = []
    while monday < month.next.first:
        weeks.append(monday.isoformat())
        monday += timedelta(days=7)
    return weeks


async def build(uow: UnitOfWork, month: Month) -> list[Chart]:
    """Every chart of a month's report."""
    repo = uow.reports
    by_week = await repo.requests_by_week(month)
    this, last = await repo.requests_by_kind(month), await repo.requests_by_kind(month.previous)
    sos = await repo.sos(month)
    escorts = await repo.escorts_by_hospital(month)
    activities = await repo.activities(month)
    reach = await repo.broadcast_reach(month)
    roster = await repo.roster_size(month)
    quiet = await repo.not_contacted_count(month)
    coverage = await repo.visit_coverage(month)

    kinds = [k for k in texts.REQUEST_KINDS if this.get(k) or last.get(k)]
    kinds += sorted(k for k in {*this, *last} if k not in kinds)
    label = {k: texts.REQUEST_KINDS.get(k, k) for k in kinds}
    weeks = _weeks(month)
    counts = {(w, k): n for w, k, n in by_week}
    week_labels = [f"{w[5:]} 起" for w in weeks]
    week_kinds = [k for k in kinds if this.get(k)]
    weekly = Chart(
        "weekly",
        "每周事项数（按类型）",
        ["周（周一）", *[label[k] for k in week_kinds], "合计"],
        [
            [
                wl,
                *[counts.get((w, k), 0) for k in week_kinds],
                sum(counts.get((w, k), 0) for k in week_kinds),
            ]
            for w, wl in zip(weeks, week_labels, strict=True)
        ],
        {
            "type": "bar",
            "stack": True,
            "categories": week_labels,
            "series": [
                {"name": label[k], "data": [counts.get((w, k), 0) for w in weeks]}
                for k in week_kinds
            ],
        },
        ["一周从周一算起；月初、月末的周只算本月的日子。"],
    )
    kind_chart = Chart(
        "kinds",
        "各类事项：本月与上月",
        ["类型", f"{month.month}月", f"{month.previous.month}月", "变化"],
        [[label[k], this.get(k, 0), last.get(k, 0), this.get(k, 0) - last.get(k, 0)] for k in kinds]
        + [
            [
                "合计",
                sum(this.values()),
                sum(last.values()),
                sum(this.values()) - sum(last.values()),
            ]
        ],
        {
            "type": "bar",
            "categories": [label[k] for k in kinds],
            "series": [
                {"name": f"{month.month}月", "data": [this.get(k, 0) for k in kinds]},
                {"name": f"{month.previous.month}月", "data": [last.get(k, 0) for k in kinds]},
            ],
        },
    )
    outcome_names = {**texts.CONSOLE_OUTCOMES, "unknown": "未注明"}
    sos_chart = Chart(
        "sos",
        "紧急求助：接手与办结用时",
        ["指标", "数值"],
        [
            ["求助总数", sos.total],
            ["已接手", sos.taken],
            ["已办结", sos.closed],
            ["接手用时 中位数", _secs(sos.take_median)],
            ["接手用时 P90", _secs(sos.take_p90)],
            [f"{FAST} 秒内接手", f"{sos.within_fast}（{_pct(sos.within_fast, sos.total)}）"],
            [
                f"{SLOW // 60} 分钟内接手",
                f"{sos.within_slow}（{_pct(sos.within_slow, sos.total)}）",
            ],
            ["办结用时 中位数", _secs(sos.close_median)],
            ["办结用时 P90", _secs(sos.close_p90)],
            ["误报", f"{sos.false_alarms}（占已办结 {_pct(sos.false_alarms, sos.closed)}）"],
            *[[f"办结结果：{outcome_names.get(o, o)}", n] for o, n in sorted(sos.outcomes.items())],
        ],
        {
            "type": "bar",
            "unit": "分钟",
            "categories": ["接手用时", "办结用时"],
            "series": [
                {"name": "中位数", "data": [_minutes(sos.take_median), _minutes(sos.close_median)]},
                {"name": "P90", "data": [_minutes(sos.take_p90), _minutes(sos.close_p90)]},
            ],
        },
        ["按求助发起的月份统计；中位数和 P90 取最近秩；参照：电话求助 98.5% 在 60 秒内接听。"],
    )
    escort_chart = Chart(
        "escorts",
        "看病陪诊：各医院",
        ["医院", "陪诊申请", "其中已取消"],
        [[h or "未填医院", n, c] for h, n, c in escorts],
        {
            "type": "bar",
            "horizontal": True,
            "categories": [h or "未填医院" for h, _, _ in escorts],
            "series": [{"name": "陪诊申请", "data": [n for _, n, _ in escorts]}],
        },
    )
    names = [f"{t}（{s.astimezone(TZ):%m-%d}）" for t, s, _, _, _ in activities]
    # Attendance is shown once staff check anyone in at the month's activities (the
    # console's check-in); before that the column says it is not recorded.
    checked_in = any(a for *_, a in activities)
    activity_chart = Chart(
        "activities",
        "活动报名：报满率",
        ["活动", "时间", "名额", "已报名", "报满率", "出席"],
        [
            [
                t,
                s.astimezone(TZ).strftime("%Y-%m-%d %H:%M"),
                c,
                n,
                _pct(n, c),
                a if checked_in else "未记录",
            ]
            for t, s, c, n, a in activities
        ],
        {
            "type": "bar",
            "unit": "%",
            "max": 100,
            "categories": names,
            "series": [
                {
                    "name": "报满率",
                    "data": [round(n * 100 / c, 1) if c else 0 for _, _, c, n, _ in activities],
                }
            ],
        },
        ["出席为工作台签到的人数（含配偶）。"]
        if checked_in
        else ["本月活动尚无签到记录，只统计报名。"],
    )
    sent: dict[str, list[int]] = {}
    for channel, status, n in reach:
        row = sent.setdefault(channel, [0, 0, 0])
        row[0 if status == "sent" else 1 if status in ("failed", "blocked") else 2] += n
    channels = sorted(sent)
    broadcast_chart = Chart(
        "broadcasts",
        "群发送达：各渠道",
        ["渠道", "已送达", "失败（含被拒收）", "未发出", "送达率"],
        [[CHANNELS.get(c, c), *sent[c], _pct(sent[c][0], sum(sent[c]))] for c in channels],
        {
            "type": "bar",
            "stack": True,
            "categories": [CHANNELS.get(c, c) for c in channels],
            "series": [
                {"name": name, "data": [sent[c][i] for c in channels]}
                for i, name in enumerate(("已送达", "失败", "未发出"))
            ],
        },
        ["按群发创建的月份统计。"],
    )
    visit_chart = visits_chart(coverage)
    contact_chart = Chart(
        "contact",
        "本月联系情况",
        ["在册人数", "本月有联系", "本月未联系", "未联系占比"],
        [[roster, roster - quiet, quiet, _pct(quiet, roster)]],
        {
            "type": "pie",
            "series": [
                {
                    "name": "人数",
                    "data": [
                        {"name": "本月有联系", "value": roster - quiet},
                        {"name": "本月未联系", "value": quiet},
                    ],
                }
            ],
        },
        ["“联系”指本月有事项（含住院看望）或聊天消息往来。"],
    )
    return [
        weekly, kind_chart, sos_chart, escort_chart, activity_chart, broadcast_chart,
        visit_chart, contact_chart,
    ]  # fmt: skip


def visits_chart(coverage: list[tuple[str | None, int, int]]) -> Chart:
    """必访探望: the month's visits due and made, by district (the ledger, 五必访)."""
    names = [d or texts.VISIT_NO_DISTRICT for d, _, _ in coverage]
    due, made = sum(n for _, n, _ in coverage), sum(m for _, _, m in coverage)
    return Chart(
        "visits",
        texts.VISIT_COVERAGE_TITLE,
        list(texts.VISIT_COVERAGE_HEADERS),
        [[name, n, m, n - m, _pct(m, n)] for name, (_, n, m) in zip(names, coverage, strict=True)]
        + [["合计", due, made, due - made, _pct(made, due)]],
        {
            "type": "bar",
            "stack": True,
            "categories": names,
            "series": [
                {"name": texts.VISIT_DONE_SERIES, "data": [m for _, _, m in coverage]},
                {"name": texts.VISIT_OPEN_SERIES, "data": [n - m for _, n, m in coverage]},
            ],
        },
        [texts.VISIT_COVERAGE_NOTE],
    )


async def _uncontacted(uow: UnitOfWork, month: Month, limit: int) -> Chart:
    rows = await uow.reports.not_contacted(month, limit)
    return Chart(
        "uncontacted",
        "本月未联系的人",
        ["编号", "姓名", "区", "独居"],
        [[i, n, d or "", "是" if alone else ""] for i, n, d, alone in rows],
    )


@guarded("reports.view")
async def reports(request: Request, who: Signed) -> Response:
    """The month's report."""
    month = chosen_month(request)
    may_list = allowed(who.role, "people.view")
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        charts = await build(uow, month)
        people = await _uncontacted(uow, month, 100) if may_list else None
    quiet = charts[-1].rows[0][2]
    context = {
        "nav": "reports",
        "month": month,
        "charts": charts,
        "data": {c.name: c.draw for c in charts if c.draw is not None},
        "people": people,
        "quiet": quiet,
        "this_month": Month.of(datetime.now(TZ).date()),
        "made": datetime.now(TZ),
    }
    return render(request, "reports.html", context, who=who)


@guarded("reports.view")
async def report_export(request: Request, who: Signed) -> Response:
    """One chart's table as an Excel sheet (``?chart=NAME&month=YYYY-MM``)."""
    month = chosen_month(request)
    name = param(request, "chart", 20) or CHARTS[0]
    if name not in CHARTS + LISTS:
        name = CHARTS[0]
    if name in LISTS and not allowed(who.role, "people.view"):
        return forbidden(request, who)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        if name in LISTS:
            chart = await _uncontacted(uow, month, EXPORT_SIZE)
            uow.audit.record(
                datetime.now(TZ), f"staff:{who.member.id}", "report_exported", "report",
                name, month=month.key, rows=len(chart.rows),
            )  # fmt: skip
            await uow.commit()
        else:
            chart = next(c for c in await build(uow, month) if c.name == name)
    body = workbook(chart, month)
    filename = f"yinling-{name}-{month.key}.xlsx"
    headers = {**PAGE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, media_type=XLSX, headers=headers)


def workbook(chart: Chart, month: Month) -> bytes:
    """A one-sheet workbook: title, header row, rows, notes."""
    book = Workbook()
    sheet = book.active or book.create_sheet()
    sheet.title = chart.name
    sheet.append([f"{month.year}年{month.month}月 {chart.title}"])
    sheet["A1"].font = Font(bold=True)
    sheet.append(chart.headers)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in chart.rows:
        sheet.append(row)
    for note in chart.notes:
        sheet.append([note])
    for column, header in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", chart.headers, strict=False):
        sheet.column_dimensions[column].width = max(10, len(str(header)) * 2 + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
