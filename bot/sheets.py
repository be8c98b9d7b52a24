"""Sheets in and out: the bureau's Excel (.xlsx) and CSV files as rows of cells, and the
template files of each import (docs/templates/).

CSV files from Chinese Excel are often GB 18030 (GBK) rather than UTF-8: both are read. The
heading row is the first row with any text; rows with no text at all are skipped; every
row keeps its number as the clerk sees it in Excel, so a report can name it.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.exceptions import InvalidFileException

from storage.imports import Kind

__all__ = ["MAX_BYTES", "SheetError", "read_sheet", "template"]

MAX_BYTES = 10 * 1024 * 1024  # a roster of 20,000 people is well under this


class SheetError(ValueError):
    """A file that cannot be read as a sheet (said in Chinese, for the clerk)."""


def read_sheet(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """(headings, [(row number, cells)]) of the file's first sheet."""
    if len(data) > MAX_BYTES:
        raise SheetError("文件太大了（最多 10 MB），请分成几个文件")
    name = filename.lower()
    if name.endswith(".xlsx"):
        rows = _xlsx(data)
    elif name.endswith(".csv"):
        rows = _csv(data)
    elif name.endswith(".xls"):
        raise SheetError("请在 Excel 里“另存为”.xlsx 格式再导入")
    else:
        raise SheetError("只能导入 .xlsx 或 .csv 文件")
    for index, (number, cells) in enumerate(rows):
        if any(_filled(c) for c in cells):
            headings = ["" if c is None else str(c).strip() for c in cells]
            body = [(n, c) for n, c in rows[index + 1 :] if any(_filled(x) for x in c)]
            return headings, body
        del number
    raise SheetError("文件里没有内容")


def _filled(cell: Any) -> bool:
    return cell is not None and str(cell).strip() != ""


def _xlsx(data: bytes) -> list[tuple[int, list[Any]]]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise SheetError("这个文件打不开，不是有效的 .xlsx 文件") from None
    try:
        sheet = book.worksheets[0]
        return [(number, list(row)) for number, row in
                enumerate(sheet.iter_rows(values_only=True), 1)]  # fmt: skip
    finally:
        book.close()


def _csv(data: bytes) -> list[tuple[int, list[Any]]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError("读不出文件的文字编码，请在 Excel 里另存为“CSV UTF-8”")
    if "\x00" in text:
        raise SheetError("这不是 CSV 文本文件")
    try:
        return [(number, list(row)) for number, row in
                enumerate(csv.reader(io.StringIO(text)), 1)]  # fmt: skip
    except csv.Error:
        raise SheetError("CSV 文件的格式不对") from None


def template(kind: Kind, rows: Sequence[dict[str, Any]] | None = None) -> bytes:
    """An .xlsx with the kind's headings (required ones marked *) and example rows."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # noqa: S101 - a new workbook has its sheet
    sheet.title = kind.title
    required = {c.headings[0] for c in kind.columns if c.required}
    headings = [c.headings[0] for c in kind.columns]
    sheet.append([f"{h}*" if h in required else h for h in headings])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in kind.example if rows is None else rows:
        sheet.append([row.get(h, "") for h in headings])
    for index, heading in enumerate(headings, 1):
        width = max(len(heading) * 2 + 4, *(len(str(r.get(heading, ""))) + 4 for r in kind.example))
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = min(width, 40)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
