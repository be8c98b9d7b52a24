"""Reading one cell of a bureau's sheet: text, choices, yes/no, dates, times, counts, money,
phone and ID numbers. A cell that cannot be taken raises CellError with why, in Chinese (the
clerk reads it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import Any

from storage.crypto import phone_digits
from storage.db import TZ

__all__ = [
    "CellError",
    "plain",
    "read_choice",
    "read_count",
    "read_date",
    "read_id_number",
    "read_money",
    "read_phone",
    "read_text",
    "read_when",
    "read_yes_no",
]


class CellError(ValueError):
    """A cell that cannot be taken, with why (in Chinese, for the clerk)."""


def read_text(limit: int) -> Callable[[Any], str | None]:
    def read(value: Any) -> str | None:
        said = plain(value)
        if said is None:
            return None
        if len(said) > limit:
            raise CellError(f"太长了（最多 {limit} 个字）")
        return said

    return read


def plain(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    said = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", str(value)).strip()
    return said or None


def read_choice(options: Mapping[str, str], what: str) -> Callable[[Any], str | None]:
    def read(value: Any) -> str | None:
        said = plain(value)
        if said is None:
            return None
        if said in options:
            return options[said]
        raise CellError(f"{what}应填：{'、'.join(dict.fromkeys(options))}")

    return read


_YES = {
    "是": True,
    "否": False,
    "Y": True,
    "N": False,
    "y": True,
    "n": False,
    "1": True,
    "0": False,
    "√": True,
    "×": False,
    "独居": True,
}


def read_yes_no(value: Any) -> bool | None:
    said = plain(value)
    if said is None:
        return None
    if isinstance(value, bool):
        return value
    if said in _YES:
        return _YES[said]
    raise CellError("应填“是”或“否”")


def read_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    said = plain(value)
    if said is None:
        return None
    found = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?", said)
    if not found and re.fullmatch(r"\d{8}", said):
        found = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", said)
    if not found:
        raise CellError("日期应写成 1935-04-12")
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        raise CellError("没有这一天") from None


def read_when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value.replace(tzinfo=TZ) if value.tzinfo is None else value
    said = plain(value)
    if said is None:
        return None
    found = re.fullmatch(r"(.+?)\s+(\d{1,2})[:：](\d{2})", said)
    if not found:
        raise CellError("时间应写成 2026-12-20 09:30")
    day = read_date(found[1])
    assert day is not None  # noqa: S101 - the pattern needs a day
    try:
        return datetime.combine(day, time(int(found[2]), int(found[3])), TZ)
    except ValueError:
        raise CellError("没有这个钟点") from None


def read_count(value: Any) -> int | None:
    said = plain(value)
    if said is None:
        return None
    if not re.fullmatch(r"\d{1,6}", said):
        raise CellError("应填一个整数，如 30")
    return int(said)


def read_money(value: Any) -> float | None:
    said = plain(value)
    if said is None:
        return None
    cleaned = said.replace(",", "").replace("，", "").removesuffix("元").strip()
    if not re.fullmatch(r"\d{1,9}(\.\d{1,2})?", cleaned):
        raise CellError("金额应写成 1280.50")
    return float(cleaned)


def read_phone(value: Any) -> str | None:
    said = plain(value)
    if said is None:
        return None
    number = phone_digits(said)
    mobile = re.fullmatch(r"1[3-9]\d{9}", number)
    landline = re.fullmatch(r"0\d{9,11}", number) or re.fullmatch(r"\d{7,8}", number)
    if not (mobile or landline) or re.search(r"[^\d\s\-+()（）]", said):
        raise CellError("电话号码不对（手机 11 位，座机带区号）")
    return said


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def read_id_number(value: Any) -> str | None:
    said = plain(value)
    if said is None:
        return None
    number = said.upper().replace(" ", "")
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise CellError("身份证号应是 18 位")
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != number[17]:
        raise CellError("身份证号校验位不对，请核对")
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise CellError("身份证号里的出生日期不对") from None
    return number
