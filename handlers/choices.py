"""Reading a reply against a list we showed: by number ("2", "第二个"), by its label typed
out ("上午"), by a word of one item ("理发那个"), or by an ordinal ("头一个", "倒数第二个")."""

from __future__ import annotations

import unicodedata

from handlers import phrases

__all__ = ["option_by_label", "option_by_words", "option_number", "ordinal", "plain_yes"]


MIN_WORD = 2  # a word of a label this long at least names it


def plain_yes(text: str) -> bool:
    core = unicodedata.normalize("NFKC", text).strip().strip(phrases.OPTION_TRIM)
    return core in phrases.TAKE_THE_OFFER


def option_number(text: str) -> int | None:
    """Read a reply like "2", "２", "二", "第二个" as an option number."""
    core = unicodedata.normalize("NFKC", text).strip().strip(phrases.OPTION_TRIM)
    if core.isdigit() and len(core) <= 2:  # noqa: PLR2004
        return int(core)
    return phrases.NUMERALS.get(core)


def option_by_words(text: str, labels: list[str]) -> int | None:
    """The option a reply names in its own words: a word of one label only ("理发那个",
    "国画班吧"), else an ordinal ("头一个", "最后那个", "倒数第二个")."""
    typed = unicodedata.normalize("NFKC", text).strip()
    if not phrases.PICK_POINTING.search(typed):
        return None  # "我要理发" is a request of its own; "理发那个" points at a list item
    shown = [unicodedata.normalize("NFKC", label) for label in labels]
    words = [
        w
        for w in phrases.WORD_BREAK.split(phrases.PICK_FILLER.sub(" ", typed))
        if len(w) >= MIN_WORD
    ]
    for word in words:
        hits = [i for i, label in enumerate(shown, 1) if word in label]
        if len(hits) == 1:
            return hits[0]
    return ordinal(typed, len(shown))


def ordinal(text: str, count: int) -> int | None:
    """The place in a list of ``count`` items an ordinal names ("头一个", "第二个",
    "倒数第二个", "最后那个"), if any."""
    typed = unicodedata.normalize("NFKC", text)
    from_end = phrases.PICK_FROM_END.search(typed)
    if from_end:
        digit = from_end[1]
        k = int(digit) if digit.isdigit() else phrases.NUMERALS.get(digit, 0)
        return count - k + 1 if 1 <= k <= count else None
    nth = phrases.NTH.search(typed)
    if nth:
        n = int(nth[1]) if nth[1].isdigit() else phrases.NUMERALS.get(nth[1], 0)
        return n if 1 <= n <= count else None
    if phrases.PICK_FIRST.search(typed):
        return 1 if count else None
    if phrases.PICK_LAST.search(typed):
        return count or None
    return None


def option_by_label(text: str, labels: list[str]) -> int | None:
    """The option whose label was typed out instead of its number ("医院", "上午")."""
    typed = unicodedata.normalize("NFKC", text).strip().strip(phrases.OPTION_TRIM)
    if len(typed) < 2:  # noqa: PLR2004 - one character is too little to go on
        return None
    shown = [unicodedata.normalize("NFKC", label) for label in labels]
    exact = [i for i, label in enumerate(shown, 1) if label == typed]
    if exact:
        return exact[0]
    # A label typed in part: its beginning ("太极拳班" for "太极拳班 11月26日…"), or most of it.
    close = [
        i
        for i, label in enumerate(shown, 1)
        if label.startswith(typed) or (typed in label and 2 * len(typed) >= len(label))
    ]
    return close[0] if len(close) == 1 else None
