"""统计报表: a month of known requests, emergencies, activities, broadcasts and messages, and
the figures the page and its Excel downloads show for it (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.console.access import PERMISSIONS
from storage.models import (
    Activity,
    Alert,
    Broadcast,
    BroadcastRecipient,
    ChannelAccount,
    MessageRecord,
    Person,
    Registration,
    ServiceRequest,
)
from storage.uow import UnitOfWork
from tests.console.conftest import FAR, Console

MONTH = "2026-03"  # March 2026 begins on a Sunday (local time: Asia/Shanghai)
DATA = re.compile(r'<script type="application/json" id="report-data">(.*?)</script>', re.S)


def at(text: str) -> datetime:
    """A local (UTC+8) time."""
    return datetime.fromisoformat(f"{text}+08:00")


async def _seed(console: Console) -> dict[str, int]:
    """Three people on the roster since January; March's requests, emergencies, activities
    and a broadcast; person 3 hears from nobody in March."""
    async with UnitOfWork(console.sessions) as uow:
        s = uow.session
        joined = at("2026-01-01T09:00:00")
        people = [
            Person(name=name, category="tuixiu", district="姑苏区", lives_alone=alone,
                   created_at=joined, updated_at=joined)
            for name, alone in (("报表甲", False), ("报表乙", False), ("报表丙", True))
        ]  # fmt: skip
        s.add_all(people)
        await s.flush()
        p1, p2, p3 = (p.id for p in people)
        accounts = [
            ChannelAccount(channel=channel, external_id=f"rep{i}", role="retiree", person_id=pid,
                           active=True, created_at=joined, bound_at=joined)
            for i, (channel, pid) in enumerate(
                [("wechat", p1), ("wechat", p2), ("wechat", p3), ("telegram", p1), ("telegram", p2)]
            )
        ]  # fmt: skip
        s.add_all(accounts)
        await s.flush()

        def request(kind: str, when: str, status: str = "done", **details: Any) -> ServiceRequest:
            made = ServiceRequest(kind=kind, status=status, details=details, person_id=p1,
                                  created_at=at(when), updated_at=at(when))  # fmt: skip
            s.add(made)
            return made

        request("handoff", "2026-02-10T10:00:00")  # February
        request("handoff", "2026-02-28T23:30:00")  # February (15:30 UTC, the 28th)
        request("eldercare", "2026-03-01T00:30:00")  # March (16:30 UTC on 28 February)
        request("medical_escort", "2026-03-02T09:00:00", hospital="市立医院本部")
        request("medical_escort", "2026-03-03T09:00:00", "cancelled", hospital="市立医院本部")
        request("handoff", "2026-03-04T09:00:00")
        request("medical_escort", "2026-03-10T09:00:00", hospital="苏大附一院")
        request("handoff", "2026-04-01T00:00:00")  # April
        # Emergencies: taken after 30 s, 90 s, 240 s and never; closed after 10, 20, 60 min.
        raised = at("2026-03-12T08:00:00")
        for i, (taken, closed, outcome) in enumerate(
            [(30, 600, "helped"), (90, 1200, "false_alarm"), (240, 3600, "false_alarm"),
             (None, None, None)]
        ):  # fmt: skip
            when = raised + timedelta(hours=i)
            sos = ServiceRequest(
                kind="sos", status="resolved" if closed else "open", person_id=p1,
                details={"outcome": outcome} if outcome else {}, created_at=when, updated_at=when,
            )  # fmt: skip
            s.add(sos)
            await s.flush()
            s.add(
                Alert(
                    request_id=sos.id, person_id=p1, status="resolved" if closed else "open",
                    level=1, next_page_at=FAR,
                    acknowledged_at=when + timedelta(seconds=taken) if taken else None,
                    resolved_at=when + timedelta(seconds=closed) if closed else None,
                    created_at=when, updated_at=when,
                )
            )  # fmt: skip
        for title, capacity, taken_seats in (("书法讲座", 20, 15), ("合唱排练", 10, 10)):
            s.add(
                Activity(title=title, category="文体", starts_at=at("2026-03-20T14:00:00"),
                         place="活动中心", capacity=capacity, seats_taken=taken_seats,
                         created_at=joined)
            )  # fmt: skip
        broadcast = Broadcast(
            text="三月通知", created_by=console.staff["leader"], status="done", total=5, sent=3,
            failed=1, blocked=1, created_at=at("2026-03-05T09:00:00"),
            updated_at=at("2026-03-05T09:10:00"),
        )  # fmt: skip
        s.add(broadcast)
        await s.flush()
        for account, status in zip(
            accounts, ("sent", "sent", "failed", "sent", "blocked"), strict=True
        ):
            s.add(
                BroadcastRecipient(broadcast_id=broadcast.id, account_id=account.id,
                                   person_id=account.person_id, channel=account.channel,
                                   status=status)
            )  # fmt: skip
        for pid, when in ((p2, "2026-03-15T10:00:00"), (p3, "2026-04-02T10:00:00")):
            s.add(
                MessageRecord(channel="wechat", external_user_id="x", person_id=pid,
                              direction="in", kind="text", text="你好", created_at=at(when))
            )  # fmt: skip
        await uow.commit()
    return {"p1": p1, "p2": p2, "p3": p3}


def _data(html: str) -> dict[str, Any]:
    found = DATA.search(html)
    assert found, "no chart data on the page"
    loaded: dict[str, Any] = json.loads(found[1])
    return loaded


async def test_a_leader_sees_the_months_figures(console: Console) -> None:
    ids = await _seed(console)
    leader = await console.signed_in("leader")
    page = await leader.get(f"/console/reports?month={MONTH}")
    assert page.status_code == 200, page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # no inline script: the charts are drawn by reports.js
    assert '<script src="/console/static/reports.js"></script>' in page.text
    data = _data(page.text)
    assert set(data) == {
        "weekly", "kinds", "sos", "escorts", "activities", "broadcasts", "visits", "contact",
    }  # fmt: skip

    weekly = data["weekly"]
    mondays = ["02-23", "03-02", "03-09", "03-16", "03-23", "03-30"]
    assert weekly["categories"] == [f"{m} 起" for m in mondays]
    series = {s["name"]: s["data"] for s in weekly["series"]}
    assert series == {
        "看病陪诊": [0, 2, 1, 0, 0, 0],
        "上门服务": [1, 0, 0, 0, 0, 0],  # 00:30 on 1 March, local time
        "找工作人员": [0, 1, 0, 0, 0, 0],
        "紧急求助": [0, 0, 4, 0, 0, 0],
    }
    march, february = (s["data"] for s in data["kinds"]["series"])
    handoffs = data["kinds"]["categories"].index("找工作人员")
    assert (march[handoffs], february[handoffs]) == (1, 2)

    sos = data["sos"]
    assert sos["series"] == [
        {"name": "中位数", "data": [1.5, 20.0]},  # minutes: taken after 90 s, closed after 20 min
        {"name": "P90", "data": [4.0, 60.0]},
    ]
    for figure in ("1（25.0%）", "2（50.0%）", "2（占已办结 66.7%）", "90 秒", "60.0 分钟"):
        assert figure in page.text, figure

    escorts = data["escorts"]
    assert escorts["categories"] == ["市立医院本部", "苏大附一院"]
    assert escorts["series"][0]["data"] == [2, 1]

    activities = data["activities"]
    assert activities["series"][0]["data"] == [75.0, 100.0]
    assert "未记录" in page.text  # nobody checked in at March's activities

    reach = data["broadcasts"]
    assert reach["categories"] == ["Telegram", "微信"]
    assert {s["name"]: s["data"] for s in reach["series"]} == {
        "已送达": [1, 2], "失败": [1, 1], "未发出": [0, 0]
    }  # fmt: skip

    contact = data["contact"]["series"][0]["data"]
    assert contact == [{"name": "本月有联系", "value": 2}, {"name": "本月未联系", "value": 1}]
    # The leader may open files: the list names person 3, and only them.
    listed = re.findall(r'href="/console/people/(\d+)"', page.text)
    assert listed == [str(ids["p3"])]
    assert "本月未联系的人（共 1 人）" in page.text


async def test_each_chart_downloads_as_excel_with_its_figures(console: Console) -> None:
    ids = await _seed(console)
    leader = await console.signed_in("leader")

    async def sheet(chart: str) -> list[tuple[Any, ...]]:
        response = await leader.get(f"/console/reports/export?chart={chart}&month={MONTH}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert f"yinling-{chart}-{MONTH}.xlsx" in response.headers["content-disposition"]
        book = load_workbook(io.BytesIO(response.content))
        return [tuple(row) for row in book.active.iter_rows(values_only=True)]  # type: ignore[union-attr]

    weekly = await sheet("weekly")
    assert weekly[0][0] == "2026年3月 每周事项数（按类型）"
    assert weekly[1] == ("周（周一）", "看病陪诊", "上门服务", "找工作人员", "紧急求助", "合计")
    assert weekly[2] == ("02-23 起", 0, 1, 0, 0, 1)
    assert weekly[3] == ("03-02 起", 2, 0, 1, 0, 3)
    assert weekly[4] == ("03-09 起", 1, 0, 0, 4, 5)
    sos = {row[0]: row[1] for row in await sheet("sos")}
    assert sos["求助总数"] == 4
    assert sos["已办结"] == 3
    assert sos["60 秒内接手"] == "1（25.0%）"
    assert sos["办结结果：误报"] == 2
    escorts = await sheet("escorts")
    assert escorts[2:4] == [("市立医院本部", 2, 1), ("苏大附一院", 1, 0)]
    broadcasts = await sheet("broadcasts")
    assert broadcasts[2:4] == [("Telegram", 1, 1, 0, "50.0%"), ("微信", 2, 1, 0, "66.7%")]
    people = await sheet("uncontacted")
    assert people[2:] == [(ids["p3"], "报表丙", "姑苏区", "是")]
    exported = await console.audit("report_exported")
    assert [e.details for e in exported] == [{"month": MONTH, "rows": 1}]
    # An unknown chart is the first one; no month is this month.
    assert (await leader.get("/console/reports/export?chart=nope")).status_code == 200


async def test_attendance_counts_the_check_ins(console: Console) -> None:
    """Once staff check anyone in at the month's activities, the 出席 column counts the
    registrations checked in (counted in SQL), and 0 for an activity nobody was checked in."""
    ids = await _seed(console)
    async with UnitOfWork(console.sessions) as uow:
        s = uow.session
        lecture = await s.scalar(select(Activity).where(Activity.title == "书法讲座"))
        assert lecture is not None
        when = at("2026-03-20T14:05:00")
        for pid, attendee, attended in (
            (ids["p1"], "self", when), (ids["p1"], "spouse", when), (ids["p2"], "self", None),
        ):  # fmt: skip
            s.add(
                Registration(activity_id=lecture.id, person_id=pid, attendee=attendee,
                             status="registered", created_at=when, updated_at=when,
                             attended_at=attended)
            )  # fmt: skip
        await uow.commit()
    leader = await console.signed_in("leader")
    page = await leader.get(f"/console/reports?month={MONTH}")
    assert page.status_code == 200
    assert "未记录" not in page.text
    response = await leader.get(f"/console/reports/export?chart=activities&month={MONTH}")
    rows = [tuple(r) for r in load_workbook(io.BytesIO(response.content)).active.iter_rows(
        values_only=True)]  # type: ignore[union-attr]  # fmt: skip
    assert rows[1][-1] == "出席"
    assert {r[0]: r[-1] for r in rows[2:4]} == {"书法讲座": 2, "合唱排练": 0}


async def test_the_list_of_people_needs_people_view(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A role with the figures but not the files (were the admin given reports.view) sees
    the count of people not contacted, not who they are, and cannot download them."""
    await _seed(console)
    monkeypatch.setitem(PERMISSIONS, "reports.view", frozenset({"leader", "admin"}))
    admin = await console.signed_in("admin")
    page = await admin.get(f"/console/reports?month={MONTH}")
    assert page.status_code == 200
    assert _data(page.text)["contact"]["series"][0]["data"][1]["value"] == 1
    assert "报表丙" not in page.text
    assert "/console/people/" not in page.text
    refused = await admin.get(f"/console/reports/export?chart=uncontacted&month={MONTH}")
    assert refused.status_code == 403
    assert (await admin.get(f"/console/reports/export?chart=sos&month={MONTH}")).status_code == 200


async def test_other_roles_and_bad_months(console: Console) -> None:
    for role in ("clerk", "duty", "admin"):
        browser = await console.signed_in(role)
        assert (await browser.get("/console/reports")).status_code == 403, role
        assert (await browser.get("/console/reports/export?chart=sos")).status_code == 403, role
    leader = await console.signed_in("leader")
    for month in ("", "2026-13", "abcd-ef", "1999-01", "2026-3", "'; drop table people"):
        page = await leader.get("/console/reports", params={"month": month})
        assert page.status_code == 200, month
        assert "统计报表 · " in page.text
    empty = await leader.get("/console/reports?month=2030-01")
    assert "本月没有数据" in empty.text
