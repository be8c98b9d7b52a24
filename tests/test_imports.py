"""The bureau's own data in: every kind's template imports on a fresh database and a second
import changes nothing; a sheet with twenty different mistakes gets a report naming each
row and column and writes nothing; a claim state from the finance office's sheet is what
the retiree hears in chat; files Chinese offices really produce (GB 18030 CSV, .xls)."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.importer import KIND_NAMES, report_lines
from bot.pipeline import Pipeline
from bot.sheets import SheetError, read_sheet, template
from handlers.base import ServiceConfig
from nlu.engine import EmbeddedEngine
from storage.db import AsyncSession
from storage.imports import FAMILY, KINDS, PEOPLE, Plan, apply, plan
from storage.models import AuditEntry, FamilyMember, Person, ServiceRequest
from storage.state import MemoryStore
from storage.uow import UnitOfWork
from tests.harness import Harness, texts_of

REPO = Path(__file__).resolve().parent.parent
TEMPLATES = REPO / "docs" / "templates"


async def _plan(sessions: async_sessionmaker[AsyncSession], kind: str, data: bytes,
                name: str = "sheet.xlsx") -> Plan:  # fmt: skip
    headings, rows = read_sheet(data, name)
    async with UnitOfWork(sessions) as uow:
        return await plan(uow, KINDS[kind], headings, rows)


async def _import(sessions: async_sessionmaker[AsyncSession], kind: str, data: bytes,
                  now: datetime, name: str = "sheet.xlsx") -> Plan:  # fmt: skip
    headings, rows = read_sheet(data, name)
    async with UnitOfWork(sessions) as uow:
        checked = await plan(uow, KINDS[kind], headings, rows)
        if checked.ok:
            await apply(uow, checked, now, "test")
            await uow.commit()
    return checked


def _csv(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode(encoding)


async def _count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# ------------------------------------------------------------------ templates


def test_the_cli_knows_every_kind() -> None:
    assert {name: kind.title for name, kind in KINDS.items()} == KIND_NAMES


def test_every_kind_has_its_template_under_docs() -> None:
    for name, kind in KINDS.items():
        headings, rows = read_sheet((TEMPLATES / f"{name}.xlsx").read_bytes(), f"{name}.xlsx")
        assert [h.rstrip("*") for h in headings] == [c.headings[0] for c in kind.columns], name
        assert len(rows) == len(kind.example), name


async def test_every_template_imports_on_a_fresh_database_and_again_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    # People first: the claims and family sheets name people on the roster.
    for name in (
        "people", "staff", "hospitals", "activities", "slots", "claims", "family", "doctors",
        "contacts",
    ):  # fmt: skip
        data = (TEMPLATES / f"{name}.xlsx").read_bytes()
        first = await _import(sessions, name, data, now)
        assert first.ok, (name, report_lines(first))
        assert first.count("add") == len(KINDS[name].example), name
        again = await _import(sessions, name, data, now)
        assert again.ok, name
        assert again.count("same") == len(again.rows), (name, report_lines(again))
    async with UnitOfWork(sessions) as uow:
        [person] = [p for p in await uow.session.scalars(select(Person)) if p.name == "赵示例"]
        assert person.id_number == "320502193103050018"  # sealed, and found again by it
        assert person.phone == "13900009001"
        assert person.category == "lixiu"
        imports = await uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "import"))
        assert {e.target_type for e in imports} == set(KINDS)
        family = {f.name: f for f in await uow.session.scalars(select(FamilyMember))}
        assert set(family) == {"赵小例", "孙小样"}
        son = family["赵小例"]
        assert (son.person_id, son.relation, son.phone) == (person.id, "儿子", "13700009001")
        assert son.phone_index  # sealed, and found by its blind index


async def test_a_family_row_belongs_to_someone_on_the_roster(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await _import(sessions, "people", template(PEOPLE), now)
    head = [c.headings[0] for c in FAMILY.columns]
    rows = [
        head,
        ["320502193103050018", "", "", "赵小例", "儿子", "13700009001", ""],
        ["32050219350412003X", "", "", "周小某", "女儿", "13700009003", ""],  # not on the roster
        ["", "无此人", "13900000000", "钱某", "女婿", "13700009004", ""],
        ["", "赵示例", "", "赵某", "儿子", "13700009005", ""],  # neither ID nor name and phone
        ["320502193103050018", "", "", "赵二", "表哥", "13700009006", ""],
        ["", "赵示例", "13900009001", "赵小例", "儿子", "137 0000 9001", ""],  # row 2 again
    ]
    checked = await _import(sessions, "family", _csv(rows), now, "家属.csv")
    assert not checked.ok
    assert await _count(sessions, FamilyMember) == 0
    by_row = {r.row: r for r in checked.rows}
    assert by_row[2].action == "add"
    assert [h for h, _ in by_row[3].errors] == ["老干部身份证号"]
    assert "找不到" in by_row[3].errors[0][1]
    assert [h for h, _ in by_row[4].errors] == ["老干部姓名"]
    assert [h for h, _ in by_row[5].errors] == ["老干部身份证号"]
    assert [h for h, _ in by_row[6].errors] == ["关系"]
    assert [h for h, _ in by_row[7].errors] == ["家属电话"]
    assert any("“老干部身份证号”" in line for line in report_lines(checked))
    # A changed relation on the next sheet is an update of the same member.
    fixed = [head, ["320502193103050018", "", "", "赵小例", "儿子", "13700009001", ""]]
    assert (await _import(sessions, "family", _csv(fixed), now, "家属.csv")).count("add") == 1
    fixed[1][4] = "其他"
    again = await _import(sessions, "family", _csv(fixed), now, "家属.csv")
    [update] = again.rows
    assert (update.action, update.changes) == ("update", ["关系"])
    assert await _count(sessions, FamilyMember) == 1


async def test_an_update_names_the_fields_that_change(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    await _import(sessions, "people", template(PEOPLE), now)
    changed = [dict(r) for r in PEOPLE.example]
    changed[0]["地址"] = "姑苏区新地址9号"
    changed[0]["独居"] = "是"
    again = await _import(sessions, "people", template(PEOPLE, changed), now)
    [update] = [r for r in again.rows if r.action == "update"]
    assert update.changes == ["地址", "独居"]
    async with UnitOfWork(sessions) as uow:
        person = await uow.session.scalar(select(Person).where(Person.name == "赵示例"))
        assert person is not None
        assert (person.address, person.lives_alone) == ("姑苏区新地址9号", True)


# ------------------------------------------------------------------ mistakes

GOOD = ["周正常", "离休", "男", "1935-04-12", "32050219350412003X", "市一局", "", "姑苏区",
        "姑苏区一路1号", "13900007001", "否", "", "", "", "", ""]  # fmt: skip
HEAD = [c.headings[0] for c in PEOPLE.columns] + ["籍贯"]  # an unknown column is ignored


def _row(**changes: str) -> list[str]:
    row = dict(zip(HEAD, [*GOOD, "江苏"], strict=True))
    row.update(changes)
    return [row[h] for h in HEAD]


# (what is wrong, the column the report must name)
MISTAKES = [
    (_row(姓名=""), "姓名"),
    (_row(类别="退伍"), "类别"),
    (_row(性别="男性"), "性别"),
    (_row(出生日期="1935-13-01", 身份证号=""), "出生日期"),
    (_row(出生日期="三月五日", 身份证号=""), "出生日期"),
    (_row(身份证号="32050219350412003"), "身份证号"),
    (_row(身份证号="320502193504120031"), "身份证号"),
    (_row(出生日期="1938-01-02", 身份证号="320502193801010056"), "出生日期"),
    (_row(出生日期="1945-06-18", 身份证号="320502194506180049"), "性别"),
    (_row(电话="12345"), "电话"),
    (_row(电话="1390000abcd"), "电话"),
    (_row(独居="可能"), "独居"),
    (_row(紧急联系人电话="999"), "紧急联系人电话"),
    (_row(姓名="名" * 41), "姓名"),
    (_row(地址="路" * 201), "地址"),
    (_row(类别=""), "类别"),
    (_row(出生日期="1935/02/30", 身份证号=""), "出生日期"),
    (_row(出生日期="", 身份证号="320502194013010017"), "身份证号"),
    (_row(备注="字" * 1001), "备注"),
    (_row(健康情况="病" * 1001), "健康情况"),
]


async def test_twenty_mistakes_are_each_named_by_row_and_column_and_nothing_is_written(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    good_twice = [_row(身份证号="320502195007070018", 出生日期="1950-07-07", 姓名="吴重复")] * 2
    rows = [HEAD, _row(), *[m for m, _ in MISTAKES], *good_twice]
    before = await _count(sessions, Person)
    checked = await _import(sessions, "people", _csv(rows), now, "名册.csv")
    assert not checked.ok
    assert await _count(sessions, Person) == before  # not even the good rows
    by_row = {r.row: r for r in checked.rows}
    assert by_row[2].action == "add"  # the good row would have been added
    for offset, (_, column) in enumerate(MISTAKES):
        row = by_row[3 + offset]
        assert row.action == "error", (offset, column)
        assert column in [heading for heading, _ in row.errors], (offset, row.errors)
    duplicate = by_row[3 + len(MISTAKES) + 1]
    assert duplicate.action == "error"
    assert f"第 {3 + len(MISTAKES)} 行" in duplicate.errors[0][1]
    lines = report_lines(checked)
    assert sum(line.startswith("第 ") and "：“" in line for line in lines) == len(MISTAKES) + 1
    assert any("籍贯" in p for p in checked.problems) is False  # ignored, not fatal
    assert lines[-1].endswith(f"有错 {len(MISTAKES) + 1} 行")


async def test_a_sheet_missing_a_required_column_is_refused_as_a_whole(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    checked = await _plan(sessions, "people", _csv([["姓名", "电话"], ["周某", "13900007002"]]),
                          "a.csv")  # fmt: skip
    assert not checked.ok
    assert checked.problems == ["缺少必填的列：类别"]


def test_files_offices_really_produce() -> None:
    rows = [["姓名", "类别"], ["周某", "离休"]]
    for encoding in ("utf-8-sig", "gb18030"):
        headings, body = read_sheet(_csv(rows, encoding), "名册.csv")
        assert headings == ["姓名", "类别"]
        assert body == [(2, ["周某", "离休"])]
    with pytest.raises(SheetError, match="另存为"):
        read_sheet(b"\xd0\xcf\x11\xe0", "名册.xls")
    with pytest.raises(SheetError, match="打不开"):
        read_sheet(b"not a zip at all", "名册.xlsx")
    with pytest.raises(SheetError, match="只能导入"):
        read_sheet(b"x", "名册.pdf")
    with pytest.raises(SheetError, match="没有内容"):
        read_sheet(_csv([["", ""], []]), "空.csv")


# ------------------------------------------------------------------ claims in chat


async def test_a_claim_state_from_the_finance_sheet_is_what_the_retiree_hears(
    sessions: async_sessionmaker[AsyncSession],
    engine_nlu: EmbeddedEngine,
    config: ServiceConfig,
    now: datetime,
) -> None:
    await _import(sessions, "people", template(PEOPLE), now)
    sheet = [
        ["单据编号", "身份证号", "姓名", "交单日期", "金额", "状态"],
        ["BX-77", "320502193103050018", "赵示例", "2026-11-10", "862.5", "已审核通过"],
    ]
    assert (await _import(sessions, "claims", _csv(sheet), now, "财务.csv")).ok
    pipeline = Pipeline(sessions, MemoryStore(), engine_nlu, config)
    await pipeline.refresh_lookups(now)
    bot = Harness(pipeline, sessions, now)
    async with UnitOfWork(sessions) as uow:
        person = await uow.session.scalar(select(Person).where(Person.name == "赵示例"))
    assert person is not None
    await bot.bind("zhao", person.id)
    said = texts_of(await bot.say("zhao", "我的报销到哪一步了"))
    assert "已审核通过，等待打款" in said
    assert "862.5" in said
    # The finance office's next sheet: paid. The history keeps both states.
    sheet[1][-1] = "已打款"
    assert (await _import(sessions, "claims", _csv(sheet), now, "财务.csv")).ok
    said = texts_of(await bot.say("zhao", "报销的钱到了没有"))
    assert "已打款" in said
    async with UnitOfWork(sessions) as uow:
        [claim] = list(
            await uow.session.scalars(
                select(ServiceRequest).where(ServiceRequest.kind == "reimbursement_claim")
            )
        )
        history = await uow.requests.history(claim.id)
    assert [h.to_status for h in history] == ["approved", "paid"]


# ------------------------------------------------------------------ the command


def test_the_command_reports_and_writes_only_when_told(tmp_path: Path) -> None:
    env = {**os.environ, "YINLING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'y.db'}"}

    def yinling(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own command
            [sys.executable, "-m", "bot.cli", "import", *args], env=env, cwd=REPO,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    people = str(TEMPLATES / "people.xlsx")
    dry = yinling("people", people)
    assert dry.returncode == 0, dry.stderr
    assert "run again with --yes" in dry.stdout
    done = yinling("people", people, "--yes")
    assert done.returncode == 0, done.stderr
    assert "written: 2 added" in done.stdout
    again = yinling("people", people, "--yes")
    assert "不变 2 行" in again.stdout
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([HEAD, _row(电话="12345")]))
    refused = yinling("people", str(bad), "--yes")
    assert refused.returncode == 1
    assert "第 2 行" in refused.stdout
    assert "“电话”" in refused.stdout
    assert "nothing was written" in refused.stdout
    made = tmp_path / "t.xlsx"
    assert yinling("claims", str(made), "--template").returncode == 0
    assert read_sheet(made.read_bytes(), made.name)[0][0] == "单据编号*"
