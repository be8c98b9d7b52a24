"""``yinling import KIND FILE``: check a sheet, print what it would do row by row, and write
it (all of it, in one transaction) only with ``--yes`` and only when no row is wrong.
``yinling import KIND --template FILE`` writes the kind's template. The console's import
page (bot/console/imports.py) runs the same check and the same write.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings
    from storage.imports import Plan

__all__ = ["add_arguments", "report_lines", "run"]

ACTIONS = {"add": "新增", "update": "更新", "same": "不变", "error": "有错"}
# storage.imports.KINDS, named here so that `yinling --help` loads no database code
# (tests/test_imports.py checks the two agree).
KIND_NAMES = {
    "people": "人员名册", "staff": "工作人员", "hospitals": "合作医院", "activities": "活动",
    "slots": "上门服务时段", "claims": "报销进度", "family": "家属名单",
    "doctors": "家庭医生签约", "contacts": "一对一联系人",
}  # fmt: skip


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``yinling import``."""
    kinds = ", ".join(f"{k} ({title})" for k, title in KIND_NAMES.items())
    parser = sub.add_parser("import", help=f"load the bureau's sheets (.xlsx, .csv): {kinds}")
    parser.add_argument("kind", choices=list(KIND_NAMES), help="what the sheet holds")
    parser.add_argument("file", type=Path, help="the .xlsx or .csv file")
    parser.add_argument("--yes", action="store_true", help="write it (else only the report)")
    parser.add_argument("--template", action="store_true", help="write the template to FILE")
    parser.add_argument("--by", default="cli", help="who imports (for the audit log)")


def report_lines(plan: Plan, limit: int | None = None) -> list[str]:
    """The report, one line per row that adds, updates or is wrong (then the totals)."""
    lines = [f"文件：{problem}" for problem in plan.problems]
    shown = 0
    for row in plan.rows:
        if row.action == "same":
            continue
        if limit is not None and shown >= limit:
            lines.append("……")
            break
        shown += 1
        if row.action == "error":
            why = "；".join(f"“{heading}”{reason}" for heading, reason in row.errors)
            lines.append(f"第 {row.row} 行 {row.label}：{why}")
        elif row.action == "update":
            lines.append(f"第 {row.row} 行 {row.label}：更新 {'、'.join(row.changes)}")
        else:
            lines.append(f"第 {row.row} 行 {row.label}：新增")
    totals = "，".join(f"{ACTIONS[a]} {plan.count(a)} 行" for a in ACTIONS)
    lines.append(f"共 {len(plan.rows)} 行：{totals}")
    return lines


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``yinling import``."""
    from bot.sheets import SheetError, read_sheet, template  # noqa: PLC0415
    from storage.db import make_sessions, upgrade  # noqa: PLC0415
    from storage.imports import KINDS, apply, plan  # noqa: PLC0415
    from storage.uow import UnitOfWork  # noqa: PLC0415

    kind = KINDS[args.kind]
    if args.template:
        args.file.write_bytes(template(kind))
        print(f"wrote the {args.kind} template to {args.file}")
        return 0
    try:
        headings, rows = read_sheet(args.file.read_bytes(), args.file.name)
    except OSError as e:
        print(f"cannot read {args.file}: {e.strerror}", file=sys.stderr)
        return 2
    except SheetError as e:
        print(str(e), file=sys.stderr)
        return 2
    engine = settings.open_engine()
    try:
        await upgrade(engine)
        async with UnitOfWork(make_sessions(engine)) as uow:
            checked = await plan(uow, kind, headings, rows)
            print("\n".join(report_lines(checked)))
            if not checked.ok:
                print("nothing was written: correct the rows above and import again")
                return 1
            if not args.yes:
                print("nothing was written yet: run again with --yes to write it")
                return 0
            counts = await apply(uow, checked, datetime.now(UTC), args.by)
            await uow.commit()
    finally:
        await engine.dispose()
    print(f"written: {counts['add']} added, {counts['update']} updated")
    return 0
