"""Small numbers as said in Chinese ("十五", "廿三", "两"), the pattern that finds them, and
the rule that picks among overlapping spans; shared by dates and times."""

from __future__ import annotations

_DIGITS = {
    "零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
NUM = (
    r"(?:\d{1,2}|三十一?|[二两]十[一二三四五六七八九]?|廿[一二三四五六七八九]?"
    r"|十[一二三四五六七八九]?|[一二两三四五六七八九])"
)


def cn_int(token: str) -> int | None:
    """Read a small number written in digits or Chinese numerals (up to 99)."""
    if token.isdigit():
        return int(token)
    token = token.replace("廿", "二十").replace("卅", "三十")
    if "十" in token:
        tens, _, ones = token.partition("十")
        high = _DIGITS.get(tens) if tens else 1
        low = _DIGITS.get(ones) if ones else 0
        if high is None or low is None:
            return None
        return high * 10 + low
    if len(token) == 1:
        return _DIGITS.get(token)
    digits = [_DIGITS.get(ch) for ch in token]
    if any(d is None for d in digits):
        return None
    return int("".join(str(d) for d in digits))


def longest_first(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Keep the longest of overlapping spans, earliest first on ties; sort by position."""
    chosen: list[tuple[int, int, str]] = []
    for span in sorted(spans, key=lambda s: (-(s[1] - s[0]), s[0])):
        if all(span[1] <= c[0] or span[0] >= c[1] for c in chosen):
            chosen.append(span)
    return sorted(chosen)
