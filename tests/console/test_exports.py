"""导出 Excel: each download opens in openpyxl with the right rows and Chinese headings;
contact and health columns only when asked for ("含联系方式") and only for a role that may
open files; every download is audited (what, how many rows, with or without contact
details — never the values); a role without ``export.run`` is refused."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from bot.console.access import PERMISSIONS
from storage.models import Person, PersonTag, Registration
from storage.uow import UnitOfWork
from tests.console.conftest import Console, with_activity

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PII_HEADINGS = {"电话", "地址", "身份证号", "健康情况", "紧急联系人", "紧急联系人电话"}


def sheets(response: httpx.Response) -> dict[str, list[list[Any]]]:
    """Every sheet of a downloaded workbook as rows of values (the title line dropped)."""
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    book = load_workbook(io.BytesIO(response.content))
    found = {}
    for sheet in book.worksheets:
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        found[sheet.title] = [["" if v is None else v for v in row] for row in rows[1:]]
    return found


def table(response: httpx.Response, name: str) -> list[dict[str, Any]]:
    """One sheet as dicts by heading."""
    headers, *rows = sheets(response)[name]
    return [dict(zip(headers, row, strict=True)) for row in rows]


async def _people(console: Console, now: datetime) -> dict[str, int]:
    """Three more people: two in 姑苏区 (one 离休, tagged 书画组), one elsewhere."""
    made = {}
    async with UnitOfWork(console.sessions) as uow:
        for name, district, category, phone in (
            ("李秀英", "姑苏区", "lixiu", "13900000001"),
            ("王德明", "姑苏区", "tuixiu", "13900000002"),
            ("赵淑芬", "吴中区", "tuixiu", "13900000003"),
        ):
            person = await uow.people.add(
                Person(name=name, category=category, district=district, phone=phone,
                       address=f"{name}家", health_notes="糖尿病", spouse_name=f"{name}的老伴",
                       emergency_contact="女儿", lives_alone=False, created_at=now,
                       updated_at=now)
            )  # fmt: skip
            made[name] = person.id
        uow.session.add(PersonTag(person_id=made["李秀英"], tag="书画组", created_at=now))
        await uow.commit()
    return made


async def _exported(console: Console) -> list[dict[str, Any]]:
    return [dict(e.details) for e in await console.audit("exported")]


async def test_an_activitys_roster_registered_then_waitlisted(
    console: Console, now: datetime
) -> None:
    made = await _people(console, now)
    activity = await with_activity(console)  # two seats
    async with UnitOfWork(console.sessions) as uow:
        for i, (person, attendee) in enumerate(
            (("王德明", "self"), ("李秀英", "spouse"), ("赵淑芬", "self"))
        ):
            await uow.activities.sign_up(activity, made[person], attendee, now + timedelta(i))
        uow.session.add(Registration(activity_id=activity, person_id=console.ids["person"],
                                     attendee="self", status="cancelled", created_at=now,
                                     updated_at=now))  # fmt: skip
        await uow.commit()
    clerk = await console.signed_in("clerk")
    url = f"/console/activities/{activity}/export"

    rows = table(await clerk.get(url), "报名名单")
    assert [(r["姓名"], r["状态"], r["参加人"], r["候补第几位"]) for r in rows] == [
        ("王德明", "已报名", "本人", ""),
        ("李秀英", "已报名", "配偶", ""),
        ("赵淑芬", "候补", "本人", 1),
    ]
    assert rows[1]["配偶姓名"] == "李秀英的老伴"
    assert not PII_HEADINGS & set(rows[0])  # no contact details unless asked for

    rows = table(await clerk.get(url, params={"pii": "1"}), "报名名单")
    assert set(rows[0]) >= PII_HEADINGS
    assert [r["电话"] for r in rows] == ["13900000002", "13900000001", "13900000003"]

    audited = await _exported(console)
    assert audited == [
        {"what": "roster", "rows": 3, "pii": False},
        {"what": "roster", "rows": 3, "pii": True},
    ]
    entries = await console.audit("exported")
    assert entries[0].target_type == "activity"
    assert entries[0].target_id == str(activity)
    assert entries[0].actor == f"staff:{console.staff['clerk']}"
    assert "13900000002" not in str([e.details for e in entries])  # never the values

    missing = await clerk.get("/console/activities/999999/export")
    assert missing.status_code == 404
    assert len(await _exported(console)) == 2  # nothing exported, nothing audited


async def test_a_segment_of_people_with_the_searchs_filters(
    console: Console, now: datetime
) -> None:
    await _people(console, now)
    leader = await console.signed_in("leader")
    everyone = table(await leader.get("/console/people/export"), "人员名单")
    assert [r["姓名"] for r in everyone] == sorted(r["姓名"] for r in everyone)
    assert len(everyone) == 4
    assert not PII_HEADINGS & set(everyone[0])

    gusu = table(await leader.get("/console/people/export", params={"district": "姑苏区"}),
                 "人员名单")  # fmt: skip
    assert {r["姓名"] for r in gusu} == {"张建国", "李秀英", "王德明"}
    lixiu = await leader.get(
        "/console/people/export", params={"district": "姑苏区", "category": "lixiu"}
    )
    assert [r["姓名"] for r in table(lixiu, "人员名单")] == ["李秀英"]
    assert [r["类别"] for r in table(lixiu, "人员名单")] == ["离休"]
    tagged = table(await leader.get("/console/people/export", params={"tag": "书画组"}), "人员名单")
    assert [r["姓名"] for r in tagged] == ["李秀英"]
    named = await leader.get("/console/people/export", params={"q": "王德", "pii": "1"})
    [row] = table(named, "人员名单")
    assert (row["姓名"], row["电话"], row["地址"], row["健康情况"]) == (
        "王德明",
        "13900000002",
        "王德明家",
        "糖尿病",
    )
    by_phone = await leader.get("/console/people/export", params={"q": "139 0000 0003"})
    assert [r["姓名"] for r in table(by_phone, "人员名单")] == ["赵淑芬"]

    audited = await _exported(console)
    assert audited[0] == {"what": "people", "rows": 4, "pii": False}
    assert audited[2] == {"what": "people", "rows": 1, "pii": False, "district": "姑苏区",
                          "category": "lixiu"}  # fmt: skip
    assert audited[4] == {"what": "people", "rows": 1, "pii": True, "q": "王德"}


async def test_a_persons_file_profile_and_timeline(console: Console) -> None:
    clerk = await console.signed_in("clerk")
    url = f"/console/people/{console.ids['person']}/export"
    plain = sheets(await clerk.get(url))
    assert set(plain) == {"基本情况", "经历"}
    profile = dict(plain["基本情况"][1:])
    assert profile["姓名"] == "张建国"
    assert profile["所在区"] == "姑苏区"
    assert not PII_HEADINGS & set(profile)
    headers, *lines = plain["经历"]
    assert headers == ["时间", "类型", "事由", "情况"]
    what = [(line[1], line[2]) for line in lines]
    assert ("事项", f"找工作人员 编号 {console.ids['request']}") in what or any(
        kind == "事项" and f"编号 {console.ids['request']}" in text for kind, text in what
    )
    assert any(kind == "紧急求助" for kind, _ in what)

    full = sheets(await clerk.get(url, params={"pii": "1"}))
    profile = dict(full["基本情况"][1:])
    assert profile["健康情况"] == "高血压"
    assert profile["地址"] == "示范路1号"

    entries = await console.audit("exported")
    assert [(e.target_type, e.target_id, e.details["what"], e.details["pii"]) for e in entries] == [
        ("person", str(console.ids["person"]), "person", False),
        ("person", str(console.ids["person"]), "person", True),
    ]
    assert entries[0].details["rows"] == len(lines)
    assert "高血压" not in str([e.details for e in entries])

    missing = await clerk.get("/console/people/999999/export")
    assert missing.status_code == 404


async def test_the_months_requests(console: Console, now: datetime) -> None:
    leader = await console.signed_in("leader")
    month = now.strftime("%Y-%m")
    rows = table(await leader.get("/console/queue/export", params={"month": month}), "事项明细")
    assert [r["编号"] for r in rows] == [console.ids["request"], console.ids["alert"]]
    assert [r["姓名"] for r in rows] == ["张建国", "张建国"]
    assert rows[0]["所在区"] == "姑苏区"
    assert {"类型", "状态", "提交时间", "预约日期", "经办人", "医院", "服务"} <= set(rows[0])
    assert not PII_HEADINGS & set(rows[0])
    with_pii = table(
        await leader.get("/console/queue/export", params={"month": month, "pii": "1"}), "事项明细"
    )
    assert with_pii[0]["地址"] == "示范路1号"
    other = await leader.get("/console/queue/export", params={"month": "2001-01"})
    assert table(other, "事项明细") == []
    audited = await _exported(console)
    assert audited == [
        {"what": "requests", "rows": 2, "pii": False, "month": month},
        {"what": "requests", "rows": 2, "pii": True, "month": month},
        {"what": "requests", "rows": 0, "pii": False, "month": "2001-01"},
    ]


async def test_no_contact_details_for_a_role_that_may_not_open_files(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the admin (no ``people.view``) given ``export.run``, ticking the box would
    still export no contact details."""
    monkeypatch.setitem(PERMISSIONS, "export.run", frozenset({"clerk", "leader", "admin"}))
    admin = await console.signed_in("admin")
    response = await admin.get("/console/queue/export", params={"pii": "1"})
    assert not PII_HEADINGS & set(sheets(response)["事项明细"][0])
    person = await admin.get(f"/console/people/{console.ids['person']}/export", params={"pii": "1"})
    assert not PII_HEADINGS & {row[0] for row in sheets(person)["基本情况"]}
    assert [d["pii"] for d in await _exported(console)] == [False, False]


@pytest.mark.parametrize("role", ["duty", "admin"])
async def test_a_role_without_export_is_refused(console: Console, role: str) -> None:
    browser = await console.signed_in(role)
    activity = await with_activity(console)
    for url in (
        f"/console/activities/{activity}/export",
        "/console/people/export",
        f"/console/people/{console.ids['person']}/export",
        "/console/queue/export?pii=1",
    ):
        response = await browser.get(url)
        assert response.status_code == 403, url
        assert "没有权限" in response.text
    assert await _exported(console) == []


async def test_the_pages_offer_the_downloads(console: Console) -> None:
    clerk = await console.signed_in("clerk")
    people = await clerk.get("/console/people", params={"district": "姑苏区"})
    assert 'action="/console/people/export"' in people.text
    assert 'name="district" value="姑苏区"' in people.text
    assert "含联系方式" in people.text
    person = await clerk.get(f"/console/people/{console.ids['person']}")
    assert f'action="/console/people/{console.ids["person"]}/export"' in person.text
    queue = await clerk.get("/console/queue")
    assert 'action="/console/queue/export"' in queue.text
    duty = await console.signed_in("duty")
    assert "/export" not in (await duty.get("/console/people")).text
    assert "/export" not in (await duty.get("/console/queue")).text
