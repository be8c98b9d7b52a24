"""导入: a clerk uploads the bureau's sheet (.xlsx or .csv), sees what it would do row by
row, and confirms; then all of it is written in one transaction (storage/imports.py, the
same check and write as ``yinling import``). The uploaded file is kept sealed between the
check and the confirmation (an ImportBatch) and checked again against the database as it
is when confirmed; batches go after a day."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from bot.console.web import Signed, guarded, number, param, render, runtime_of
from bot.importer import report_lines
from bot.sheets import MAX_BYTES, SheetError, read_sheet, template
from storage.imports import KINDS, Plan, apply, plan
from storage.models import ImportBatch
from storage.uow import UnitOfWork

__all__ = ["import_apply", "import_check", "import_page", "import_template"]

KEEP = timedelta(days=1)
SHOWN = 500  # rows of a report shown on the page (the totals count them all)


def _page(request: Request, who: Signed, status: int = 200, **context: object) -> Response:
    return render(
        request, "import.html", {"kinds": KINDS, "shown": SHOWN, **context}, who=who, status=status
    )


@guarded("import.run")
async def import_page(request: Request, who: Signed) -> Response:
    """The upload form, with a template for each kind."""
    return _page(request, who)


@guarded("import.run")
async def import_template(request: Request, who: Signed) -> Response:
    """The kind's template (.xlsx)."""
    asked = param(request, "kind", 20)
    if not asked:
        return _page(request, who)  # the page lists every template
    kind = KINDS.get(asked)
    if kind is None:
        return _page(request, who, 404, error="没有这种名册。")
    return Response(
        template(kind),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f"attachment; filename={kind.name}.xlsx",
            "Cache-Control": "no-store",
        },
    )


async def _check(uow: UnitOfWork, kind_name: str, data: bytes, name: str) -> Plan | str:
    try:
        headings, rows = read_sheet(data, name)
    except SheetError as e:
        return str(e)
    return await plan(uow, KINDS[kind_name], headings, rows)


@guarded("import.run", upload=MAX_BYTES)
async def import_check(request: Request, who: Signed) -> Response:
    """Check an uploaded sheet: the report, and a batch to confirm when nothing is wrong."""
    kind_name = who.field("kind", 20)
    upload = who.form.get("file") if who.form is not None else None
    if kind_name not in KINDS:
        return _page(request, who, 409, error="请先选择名册的种类。")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _page(request, who, 409, error="请选择要导入的文件。", kind=kind_name)
    data = await upload.read(MAX_BYTES + 1)
    name = upload.filename[-200:]
    now = datetime.now(UTC)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        checked = await _check(uow, kind_name, data, name)
        if isinstance(checked, str):
            return _page(request, who, 409, error=checked, kind=kind_name)
        batch = None
        if checked.ok:
            await uow.session.execute(
                delete(ImportBatch).where(ImportBatch.created_at < now - KEEP)
            )
            batch = ImportBatch(
                kind=kind_name,
                filename=name,
                staff_id=who.member.id,
                payload=base64.b64encode(data).decode(),
                created_at=now,
            )
            uow.session.add(batch)
            await uow.session.flush()
        uow.audit.record(
            now,
            f"staff:{who.member.id}",
            "import_checked",
            kind_name,
            None,
            rows=len(checked.rows),
            ok=checked.ok,
        )
        await uow.commit()
    return _page(
        request,
        who,
        200 if checked.ok else 409,
        kind=kind_name,
        plan=checked,
        filename=name,
        batch=batch.id if batch else None,
        lines=report_lines(checked, SHOWN),
    )


@guarded("import.run")
async def import_apply(request: Request, who: Signed) -> Response:
    """Write a checked batch (checked again first: the database may have moved on)."""
    batch_id = number(who.field("batch", 12))
    now = datetime.now(UTC)
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        batch = await uow.session.get(ImportBatch, batch_id) if batch_id else None
        # Anyone who may import may confirm (a leader confirming a clerk's upload, say).
        if batch is None or batch.applied_at is not None or batch.created_at < now - KEEP:
            return _page(request, who, 404, error="这次上传已经导入过或已过期，请重新上传。")
        checked = await _check(uow, batch.kind, base64.b64decode(batch.payload), batch.filename)
        if isinstance(checked, str) or not checked.ok:
            lines = report_lines(checked, SHOWN) if not isinstance(checked, str) else [checked]
            moved = "数据已有变化，请看报告后重新上传。"
            return _page(request, who, 409, kind=batch.kind, error=moved, lines=lines)
        counts = await apply(uow, checked, now, f"staff:{who.member.id}")
        batch.applied_at = now
        batch.payload = json.dumps({"applied": counts})  # the sheet itself is not kept
        await uow.commit()
    return _page(request, who, kind=batch.kind, done=counts, filename=batch.filename)
