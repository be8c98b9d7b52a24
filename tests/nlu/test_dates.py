"""Every date and time form the issue lists, resolved against Sunday 2026-11-22 10:00 (Shanghai)."""

from __future__ import annotations

from datetime import datetime

import pytest

from nlu.dates import cn_int, extract_dates, extract_shifts, extract_times
from nlu.normalize import normalize

NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")


def dates(text: str, now: datetime = NOW) -> list[tuple[str, str]]:
    """(normalised span, value) of each date."""
    return [(e.text, e.value) for e in extract_dates(normalize(text), now)]


def times(text: str) -> list[tuple[str, str]]:
    return [(e.text, e.value) for e in extract_times(normalize(text))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("今天去", [("今天", "2026-11-22")]),
        ("明天上午", [("明天", "2026-11-23")]),
        ("后天", [("后天", "2026-11-24")]),
        ("大后天", [("大后天", "2026-11-25")]),
        ("昨天住的院", [("昨天", "2026-11-21")]),
        ("前天", [("前天", "2026-11-20")]),
        ("明儿个来", [("明儿个", "2026-11-23")]),
        ("夜来住进去的", [("夜来", "2026-11-21")]),  # northern speech: yesterday
        ("後天", [("后天", "2026-11-24")]),
        ("下周三", [("下周三", "2026-11-25")]),
        ("下礼拜三想去", [("下礼拜三", "2026-11-25")]),
        ("下星期三", [("下星期三", "2026-11-25")]),
        ("下个星期五", [("下个星期五", "2026-11-27")]),
        ("下下周一", [("下下周一", "2026-11-30")]),
        ("周五", [("周五", "2026-11-27")]),
        ("星期天", [("星期天", "2026-11-22")]),
        ("这周五", [("这周五", "2026-11-20")]),
        ("上周五", [("上周五", "2026-11-13")]),
        ("12月5号", [("12月5号", "2026-12-05")]),
        ("十二月五日", [("十二月五日", "2026-12-05")]),
        ("十二月十五号", [("十二月十五号", "2026-12-15")]),
        ("1月3号", [("1月3号", "2027-01-03")]),
        ("11月20号住的院", [("11月20号", "2026-11-20")]),
        ("2027年2月1日", [("2027年2月1日", "2027-02-01")]),
        ("25号", [("25号", "2026-11-25")]),
        ("5号上午", [("5号", "2026-12-05")]),
        ("三十一号", [("三十一号", "2026-12-31")]),
        ("下个月3号", [("下个月3号", "2026-12-03")]),
        ("三天后", [("三天后", "2026-11-25")]),
        ("两个礼拜以后", [("两个礼拜以后", "2026-12-06")]),
        ("元旦", [("元旦", "2027-01-01")]),
        ("重阳节", [("重阳节", "2027-10-08")]),
        ("腊月二十", [("腊月二十", "2027-01-27")]),
        ("冬至那天", [("冬至", "2026-12-22")]),
        ("三天前住进去的", [("三天前", "2026-11-19")]),
        ("两天之前", [("两天之前", "2026-11-20")]),
        ("今朝想问问，明朝来", [("今朝", "2026-11-22"), ("明朝", "2026-11-23")]),
    ],
)
def test_dates(text: str, expected: list[tuple[str, str]]) -> None:
    assert dates(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "每周一次居家服务",
        "一周一次",
        "然后天气就冷了",
        "过两天再说",
        "3号楼",
        "地铁1号线",
        "一起去",
    ],
)
def test_not_dates(text: str) -> None:
    assert dates(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("上午", [("上午", "morning")]),
        ("早上", [("早上", "morning")]),
        ("下午", [("下午", "afternoon")]),
        ("晚上", [("晚上", "evening")]),
        ("下午三点", [("下午三点", "15:00")]),
        ("九点半", [("九点半", "09:30")]),
        ("两点钟", [("两点钟", "14:00")]),
        ("早上八点", [("早上八点", "08:00")]),
        ("晚上七点", [("晚上七点", "19:00")]),
        ("三点一刻", [("三点一刻", "15:15")]),
        ("十点十分", [("十点十分", "10:10")]),
        ("九点四十五", [("九点四十五", "09:45")]),
        ("九点零五", [("九点零五", "09:05")]),
        ("十二点", [("十二点", "12:00")]),
        ("一点半", [("一点半", "13:30")]),
        ("8:30", [("8:30", "08:30")]),
        ("14：30", [("14:30", "14:30")]),
        ("下午2点", [("下午2点", "14:00")]),
        ("中午十二点", [("中午十二点", "12:00")]),
        ("礼拜五上半日", [("上半日", "morning")]),
        ("明朝下半日", [("下半日", "afternoon")]),
        ("上昼来", [("上昼", "morning")]),
    ],
)
def test_times(text: str, expected: list[tuple[str, str]]) -> None:
    assert times(text) == expected


@pytest.mark.parametrize("text", ["能不能快一点", "三点五公斤", "我有一点头晕", "今朝", "明朝"])
def test_not_times(text: str) -> None:
    assert times(text) == []


def test_date_and_time_in_one_sentence() -> None:
    text = normalize("后天下午三点去市一院")
    assert [(e.entity, e.value) for e in extract_dates(text, NOW) + extract_times(text)] == [
        ("date", "2026-11-24"),
        ("time", "15:00"),
    ]


def test_same_words_resolve_against_the_message_time() -> None:
    friday = datetime.fromisoformat("2026-11-27T22:30:00+08:00")
    assert dates("明天", friday) == [("明天", "2026-11-28")]
    # 23:30 UTC on the 22nd is already the 23rd in Shanghai.
    late = datetime.fromisoformat("2026-11-22T23:30:00+00:00")
    assert dates("今天", late) == [("今天", "2026-11-23")]


@pytest.mark.parametrize(
    ("token", "value"),
    [("5", 5), ("十", 10), ("十二", 12), ("二十五", 25), ("廿三", 23), ("两", 2)],
)
def test_chinese_numerals(token: str, value: int) -> None:
    assert cn_int(token) == value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("往后推一天吧", ["+1"]),
        ("推迟两天", ["+2"]),
        ("那个晚一天", ["+1"]),
        ("往前挪一天", ["-1"]),
        ("提前两天行不行", ["-2"]),
        ("提前一天打电话给我", []),
        ("三天前住进去的", []),
        ("过两天再说", []),
        ("推拿一次", []),
    ],
)
def test_shifts(text: str, expected: list[str]) -> None:
    """A day moved by so many days, later (+) or earlier (-)."""
    assert [e.value for e in extract_shifts(normalize(text))] == expected
