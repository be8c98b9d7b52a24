"""Dates and times in Chinese, resolved against the message time (Asia/Shanghai).

Dates become ISO dates (``2026-11-25``); times become ``HH:MM`` or a part of the day
(``morning``, ``afternoon``, ``evening``), as ../shared/spec/intents.md asks. Dates and moves
of a day are read here; clock times in nlu/times.py, small numbers in nlu/numerals.py.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from nlu.numerals import NUM, cn_int, longest_first
from nlu.result import Entity
from nlu.times import extract_times

__all__ = [
    "TZ",
    "cn_int",
    "extract_dates",
    "extract_shifts",
    "extract_times",
    "is_holiday",
    "local_today",
]


TZ = ZoneInfo("Asia/Shanghai")
_MONTHS = 12
_MAX_DAY = 31
_COUPLE = 2  # "过两天" means "in a couple of days"


def local_today(now: datetime) -> date:
    """The calendar day of ``now`` in Asia/Shanghai."""
    return now.astimezone(TZ).date()


_RELATIVE_DAYS = {
    "大前天": -3, "前天": -2, "前儿": -2, "前日": -2, "前晚": -2, "昨天": -1, "昨日": -1,
    "昨儿": -1, "昨晚": -1, "昨夜": -1, "昨早": -1,
    "今天": 0, "今日": 0, "今儿": 0, "今个": 0, "今早": 0, "今晚": 0, "今朝": 0,
    "明天": 1, "明日": 1, "明儿": 1, "明个": 1, "明早": 1, "明晚": 1, "明朝": 1,
    "后天": 2, "后日": 2, "后儿": 2, "大后天": 3,
    # northern speech: 夜来 / 夜儿个 (yesterday), 今儿个, 明儿个, 后儿个, 前儿个
    "夜来": -1, "夜儿个": -1, "夜个": -1, "昨个": -1, "昨儿个": -1, "前儿个": -2,
    "今儿个": 0, "明儿个": 1, "后儿个": 2,
}  # fmt: skip
# Holidays on fixed dates of the solar calendar (month, day).
_SOLAR_HOLIDAYS = {
    "元旦": (1, 1), "妇女节": (3, 8), "三八节": (3, 8), "劳动节": (5, 1), "五一劳动节": (5, 1),
    "建党节": (7, 1), "七一": (7, 1), "建军节": (8, 1), "教师节": (9, 10), "国庆节": (10, 1),
    "国庆": (10, 1), "圣诞节": (12, 25),
}  # fmt: skip
# Holidays on fixed dates of the lunar calendar (lunar month, day; day 0 = the month's last).
_LUNAR_HOLIDAYS = {
    "春节": (1, 1), "大年初一": (1, 1), "元宵节": (1, 15), "元宵": (1, 15), "端午节": (5, 5),
    "端午": (5, 5), "七夕": (7, 7), "中秋节": (8, 15), "中秋": (8, 15), "重阳节": (9, 9),
    "重阳": (9, 9), "老年节": (9, 9), "腊八": (12, 8), "小年": (12, 23), "除夕": (12, 0),
    "大年三十": (12, 0),
}  # fmt: skip
_SOLAR_TERMS = {"冬至": "冬至", "清明节": "清明", "清明": "清明", "立春": "立春", "夏至": "夏至"}
_LUNAR_MONTHS = {
    "正": 1, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "十": 10, "冬": 11, "十一": 11, "腊": 12, "十二": 12,
}  # fmt: skip
_HOLIDAY_WORDS = sorted([*_SOLAR_HOLIDAYS, *_LUNAR_HOLIDAYS, *_SOLAR_TERMS], key=len, reverse=True)
_RE_HOLIDAY = re.compile("|".join(_HOLIDAY_WORDS))
_RE_LUNAR_DATE = re.compile(
    r"(正|冬|腊|十[一二]?|[二三四五六七八九])月(初[一二三四五六七八九十]|十[一二三四五六七八九]"
    r"|二十[一二三四五六七八九]?|廿[一二三四五六七八九]|三十)"
)
_WEEKDAYS = {
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7,
    "1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "6": 6, "7": 7,
}  # fmt: skip
_WEEK = r"(?:周|星期|礼拜|禮拜|星期|週)"
_RE_ISO = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号號]?")
_RE_MONTH_DAY = re.compile(
    rf"(?:(\d{{4}})年)?(?<![\d十])({NUM})月份?({NUM})(?:日|号|號)?(?![\d个天])"
)
_RE_REL_MONTH_DAY = re.compile(rf"(下个?月|这个?月|本月|上个?月)({NUM})(?:日|号|號)")
_RE_DAY_ONLY = re.compile(
    rf"(?<![\d月几十一二两三四五六七八九零〇廿卅])({NUM})(?:号|號)(?![楼线床窗门房车位机病码])"
)
# "然后天气…" is not 后天.
_RE_RELATIVE = re.compile(
    "(?<![然以之最])(?:" + "|".join(sorted(_RELATIVE_DAYS, key=len, reverse=True)) + ")"
)
_RE_DAYS_LATER = re.compile(rf"({NUM})(?:天|日)(?:以后|之后|后)|过({NUM})天(?:以后|之后|后)?")
_RE_WEEKS_LATER = re.compile(rf"({NUM})个?(?:星期|礼拜|周)(?:以后|之后|后)")
_RE_DAYS_AGO = re.compile(rf"({NUM})(?:天|日)(?:以前|之前|前)")
# "每周一次" and "一周一次" are frequencies, not Mondays.
_RE_WEEKDAY = re.compile(
    rf"(?<![每一])(下下个?|下个?|这个?|本|上个?)?{_WEEK}([一二三四五六日天1-7])(?![次回遍趟])"
)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest_year(today: date, month: int, day: int) -> date | None:
    """The date with that month and day closest to today (this year, last or next)."""
    candidates = [_safe_date(today.year + k, month, day) for k in (-1, 0, 1)]
    valid = [c for c in candidates if c is not None]
    if not valid:
        return None
    return min(valid, key=lambda d: abs((d - today).days))


def _month_shift(today: date, months: int, day: int) -> date | None:
    index = today.year * 12 + today.month - 1 + months
    return _safe_date(index // 12, index % 12 + 1, day)


def _weekday_date(today: date, prefix: str | None, weekday: int) -> date:
    monday = today - timedelta(days=today.isoweekday() - 1)
    if not prefix:
        return today + timedelta(days=(weekday - today.isoweekday()) % 7)
    if prefix.startswith("下下"):
        offset = 14
    elif prefix.startswith("下"):
        offset = 7
    elif prefix.startswith("上"):
        offset = -7
    else:
        offset = 0
    return monday + timedelta(days=offset + weekday - 1)


def _lunar_to_solar(year: int, month: int, day: int) -> date | None:
    from lunar_python import Lunar, LunarYear  # noqa: PLC0415 - rarely needed

    if day == 0:
        day = LunarYear.fromYear(year).getMonth(month).getDayCount()
    try:
        solar = Lunar.fromYmd(year, month, day).getSolar()
    except (ValueError, IndexError, AttributeError):
        return None
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _upcoming_lunar(today: date, month: int, day: int) -> date | None:
    """The next solar date (today or later) of a lunar month and day."""
    for year in (today.year - 1, today.year, today.year + 1):
        found = _lunar_to_solar(year, month, day)
        if found is not None and found >= today:
            return found
    return None


def _upcoming_term(today: date, term: str) -> date | None:
    from lunar_python import Solar  # noqa: PLC0415 - rarely needed

    for year in (today.year, today.year + 1):
        table = Solar.fromYmd(year, 6, 1).getLunar().getJieQiTable()
        for name, solar in table.items():
            when = date(solar.getYear(), solar.getMonth(), solar.getDay())
            if name == term and when >= today:
                return when
    return None


def _holiday(word: str, today: date) -> date | None:
    if word in _SOLAR_HOLIDAYS:
        month, day = _SOLAR_HOLIDAYS[word]
        this_year = date(today.year, month, day)
        return this_year if this_year >= today else date(today.year + 1, month, day)
    if word in _LUNAR_HOLIDAYS:
        return _upcoming_lunar(today, *_LUNAR_HOLIDAYS[word])
    return _upcoming_term(today, _SOLAR_TERMS[word])


def is_holiday(text: str) -> bool:
    """True when text is the name of a holiday or solar term."""
    return bool(_RE_HOLIDAY.fullmatch(text))


def _lunar_day(token: str) -> int | None:
    if token.startswith("初"):
        return cn_int(token[1:])
    return cn_int(token)


def _date_candidates(text: str, today: date) -> list[tuple[int, int, date]]:
    found: list[tuple[int, int, date]] = []
    for m in _RE_HOLIDAY.finditer(text):
        d = _holiday(m[0], today)
        if d:
            found.append((m.start(), m.end(), d))
    for m in _RE_LUNAR_DATE.finditer(text):
        day = _lunar_day(m[2])
        d = _upcoming_lunar(today, _LUNAR_MONTHS[m[1]], day) if day else None
        if d:
            found.append((m.start(), m.end(), d))
    for m in _RE_ISO.finditer(text):
        d = _safe_date(int(m[1]), int(m[2]), int(m[3]))
        if d:
            found.append((m.start(), m.end(), d))
    for m in _RE_MONTH_DAY.finditer(text):
        month, day = cn_int(m[2]), cn_int(m[3])
        if month is None or day is None or not 1 <= month <= _MONTHS:
            continue
        d = _safe_date(int(m[1]), month, day) if m[1] else _nearest_year(today, month, day)
        if d:
            found.append((m.start(), m.end(), d))
    for m in _RE_REL_MONTH_DAY.finditer(text):
        day = cn_int(m[2])
        shift = 1 if m[1].startswith("下") else -1 if m[1].startswith("上") else 0
        d = _month_shift(today, shift, day) if day else None
        if d:
            found.append((m.start(), m.end(), d))
    for m in _RE_DAY_ONLY.finditer(text):
        day = cn_int(m[1])
        if day is None or not 1 <= day <= _MAX_DAY:
            continue
        d = _safe_date(today.year, today.month, day)
        if d is None or d < today:
            d = _month_shift(today, 1, day)
        if d:
            found.append((m.start(), m.end(), d))
    for m in _RE_RELATIVE.finditer(text):
        found.append((m.start(), m.end(), today + timedelta(days=_RELATIVE_DAYS[m[0]])))
    for m in _RE_DAYS_LATER.finditer(text):
        n = cn_int(m[1] or m[2])
        # "过两天" is a vague "in a couple of days", not a date.
        if n is None or (m[2] and n == _COUPLE and not m[2].isdigit()):
            continue
        found.append((m.start(), m.end(), today + timedelta(days=n)))
    for m in _RE_DAYS_AGO.finditer(text):
        n = cn_int(m[1])
        if n:  # "三天前住进去的"
            found.append((m.start(), m.end(), today - timedelta(days=n)))
    for m in _RE_WEEKS_LATER.finditer(text):
        n = cn_int(m[1])
        if n:
            found.append((m.start(), m.end(), today + timedelta(days=7 * n)))
    for m in _RE_WEEKDAY.finditer(text):
        found.append((m.start(), m.end(), _weekday_date(today, m[1], _WEEKDAYS[m[2]])))
    return found


# A day moved by so many days: "往后推一天", "推迟两天", "晚一天" (later); "往前挪一天", "提前两天",
# "早一天" (earlier). "过两天" is a vague "soon" and no shift.
_RE_SHIFT_LATER = re.compile(
    rf"(?:往后|向后|朝后)?(?:推迟|延后|顺延|延期|推后|挪后|往后推|推|挪|延|晚)个?({NUM})天"
)
_RE_SHIFT_EARLIER = re.compile(
    rf"(?:(?:往前|向前|朝前)(?:推|挪|调|移|提)?|提前|提早|挪前|早)个?({NUM})天(?![前以之])"
    r"(?!.{0,2}(?:打电话|通知|告诉|联系|提醒|预约|约|说))"
)


def extract_shifts(text: str) -> list[Entity]:
    """Moves of a day by a number of days, as ``shift`` entities valued "+N" or "-N"."""
    found: list[Entity] = []
    for regex, sign in ((_RE_SHIFT_EARLIER, "-"), (_RE_SHIFT_LATER, "+")):
        for m in regex.finditer(text):
            n = cn_int(m[1])
            taken = any(e.start < m.end() and m.start() < e.end for e in found)
            if n and not taken:
                found.append(Entity("shift", f"{sign}{n}", m.start(), m.end(), m[0]))
    return found


def extract_dates(text: str, now: datetime) -> list[Entity]:
    """Find date expressions in normalised text and resolve them against ``now``."""
    today = local_today(now)
    spans = [(s, e, d.isoformat()) for s, e, d in _date_candidates(text, today)]
    return [Entity("date", v, s, e, text[s:e]) for s, e, v in longest_first(spans)]
