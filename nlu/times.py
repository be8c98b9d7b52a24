"""Times of day in Chinese: clock times ("下午三点半", "两点钟") become ``HH:MM``, parts of
the day (上午, 后晌, 下昼 …) ``morning``, ``afternoon`` or ``evening``."""

from __future__ import annotations

import re

from nlu.numerals import cn_int, longest_first
from nlu.result import Entity

_PARTS = {
    "凌晨": "night", "大清早": "morning", "清早": "morning", "一早": "morning",
    "早上": "morning", "早晨": "morning", "早起": "morning", "上午": "morning",
    "上半天": "morning", "今早": "morning", "明早": "morning", "中午": "noon", "晌午": "noon",
    "下午": "afternoon",
    "下半天": "afternoon", "午后": "afternoon", "后晌": "afternoon", "傍晚": "evening",
    "晚上": "evening", "晚间": "evening", "夜里": "evening", "今晚": "evening",
    "明晚": "evening", "昨晚": "evening", "昨夜": "evening", "前晚": "evening", "半夜": "night",
    "夜里头": "evening",
    # Northern and central dialects: 头晌/前晌/头午 the morning, 过晌/后半晌 the afternoon.
    "头晌": "morning", "头午": "morning", "前晌": "morning", "前半晌": "morning",
    "早半天": "morning", "过晌": "afternoon", "后半晌": "afternoon", "晚半晌": "afternoon",
    "下晌": "afternoon", "后半天": "afternoon",
    # Wu (Suzhou, Shanghai): 今朝/明朝 are today/tomorrow, not mornings; 上半日/上昼 the
    # morning, 下半日/下昼 the afternoon.
    "上半日": "morning", "上昼": "morning", "下半日": "afternoon", "下昼": "afternoon",
}  # fmt: skip
_PART = "|".join(sorted(_PARTS, key=len, reverse=True))
_HOUR = r"(?:\d{1,2}|二十[一二三四]?|十[一二三四五六七八九]?|[零一二两三四五六七八九])"
_MINUTE = (
    r"(?:\d{1,2}|零[一二三四五六七八九]|[二三四五]十[一二三四五六七八九]?"
    r"|十[一二三四五六七八九]?|[一二三四五六七八九])"
)
_RE_CLOCK = re.compile(
    rf"({_PART})?\s?(?:({_HOUR})(?:点|點|时|時)(?:(半)|(一刻)|(三刻)|(?:({_MINUTE})分?))?(钟)?"
    rf"|(\d{{1,2}})[:：](\d{{2}}))"
)
_RE_PART = re.compile(_PART)
_NOT_A_CLOCK_AFTER = re.compile(r"[公千斤元块毛度米个儿]")


def _clock_hour(hour: int, part: str | None) -> int:
    if part in {"afternoon", "evening"} and hour < 12:  # noqa: PLR2004
        return hour + 12
    if part == "noon" and hour <= 5:  # noqa: PLR2004
        return hour + 12
    if part is None and 1 <= hour <= 6:  # noqa: PLR2004
        # "两点钟" said to a booking service means the afternoon.
        return hour + 12
    return hour


def _clock(m: re.Match[str], text: str) -> str | None:
    part = _PARTS[m[1]] if m[1] else None
    if m[8] is not None:
        hour, minute = int(m[8]), int(m[9])
    else:
        hour_text = m[2]
        spoken = cn_int(hour_text)
        if spoken is None:
            return None
        hour, minute = spoken, 0
        if m[3]:
            minute = 30
        elif m[4]:
            minute = 15
        elif m[5]:
            minute = 45
        elif m[6]:
            value = cn_int(m[6])
            # "三点五" without 分 is a decimal number, not 3:05.
            if value is None or (len(m[6]) == 1 and not m[0].endswith("分") and value < 10):  # noqa: PLR2004
                return None
            minute = value
        # "一点" is usually "a little" (快一点); only a clock with context counts.
        bare = not (m[1] or m[3] or m[4] or m[5] or m[6] or m[7])
        if bare and hour_text == "一":
            return None
        if bare and _NOT_A_CLOCK_AFTER.match(text, m.end()):
            return None
        if hour_text == "一" and m[0].endswith(("时半", "時半")) and text.startswith("会", m.end()):
            return None  # "一时半会" is "a short while"
    if not (0 <= hour <= 24 and 0 <= minute < 60):  # noqa: PLR2004
        return None
    hour = _clock_hour(hour, part) % 24
    return f"{hour:02d}:{minute:02d}"


def _part_value(part: str) -> str:
    value = _PARTS[part]
    if value == "noon":
        return "12:00"
    return "morning" if value == "night" else value


def extract_times(text: str) -> list[Entity]:
    """Find clock times and parts of the day in normalised text."""
    spans: list[tuple[int, int, str]] = []
    for m in _RE_CLOCK.finditer(text):
        value = _clock(m, text)
        if value is not None:
            spans.append((m.start(), m.end(), value))
    for m in _RE_PART.finditer(text):
        spans.append((m.start(), m.end(), _part_value(m[0])))
    return [Entity("time", v, s, e, text[s:e]) for s, e, v in longest_first(spans)]
