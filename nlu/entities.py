"""Entity extraction: gazetteers (lookups and synonyms), patterns, beneficiary, phone, dates.

Values are normalised as ../shared/spec/intents.md says: hospitals, departments and
activities by the names the system knows (else as written), service types as codes,
beneficiary as ``self``/``spouse`` (another relative as written), phones as digits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from nlu.dates import extract_dates, extract_shifts, extract_times, is_holiday
from nlu.normalize import is_cjk
from nlu.result import Entity

__all__ = ["SERVICE_TYPES", "EntityExtractor", "Gazetteer", "short_names"]

SERVICE_TYPES = (
    "cleaning", "haircut", "bathing", "meal", "repair",
    "massage", "companionship", "counselling", "nursing",
)  # fmt: skip
GAZETTEER_ENTITIES = ("hospital", "department", "activity", "service_type")
# The class word at the end of an activity's name that people leave out ("国画班" -> "国画").
_CLASS_WORD = re.compile(r"(?:兴趣班|培训班|班|团|队|课|沙龙)$")


def short_names(title: str) -> set[str]:
    """The names people use for an activity besides its title: without the class word
    ("国画班" -> 国画, "合唱团" -> 合唱, "戏曲沙龙" -> 戏曲), at least two characters."""
    stem = _CLASS_WORD.sub("", title)
    return {stem} if stem != title and len(stem) >= 2 else set()  # noqa: PLR2004


# Tie-break between overlapping spans of equal length.
_PRIORITY = {
    "phone": 0, "date": 1, "time": 2, "hospital": 3, "department": 4,
    "activity": 5, "service_type": 6, "beneficiary": 7,
}  # fmt: skip

# Words that end a run of characters before a name: verbs, pronouns, particles.
_LEADING = re.compile(
    r".*(?:[去到在住进了的我他她您你想要陪找和跟看从给帮让叫请约报参加个是那这把吗呢吧啊呀么有没送转])"
)
_STOP_ACTIVITY_HEADS = {
    "什么", "啥", "哪些", "哪个", "最近", "这些", "那些", "有啥", "有什么", "啥子", "么子",
    "其他", "别的", "所有", "这次", "那次", "上次", "下次", "这个", "那个", "有没有", "有",
    "没有", "啥个", "么的", "有没得", "有哪些", "的", "个", "些", "点", "这", "那", "哪", "上",
    "去", "到", "出", "进", "住", "在", "看", "大", "小", "新", "老",
}  # fmt: skip
_RE_HOSPITAL = re.compile(r"[\u4e00-\u9fff]{1,10}?(?:医院|卫生院|卫生服务中心|保健院|医学中心)")
_RE_DEPARTMENT = re.compile(r"[\u4e00-\u9fff]{1,4}?(?:内科|外科)")
_RE_ACTIVITY = re.compile(
    r"[\u4e00-\u9fff]{1,8}?(?:班|合唱团|艺术团|队|讲座|活动|比赛|沙龙|演出|联欢会|一日游|参观|党日)"
    r"(?<!上班)(?<!下班)(?<!值班)(?<!加班)(?<!排队)(?<!夜班)(?<!早班)(?<!晚班)(?<!插队)"
)
_RE_PHONE = re.compile(r"(?<![\d])(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?![\d])")
_RE_LANDLINE = re.compile(r"(?<![\d])(0\d{2,3})[\s-]?(\d{7,8})(?![\d])")
_CN_DIGITS = {
    "零": "0", "〇": "0", "洞": "0", "幺": "1", "一": "1", "二": "2", "两": "2", "三": "3",
    "四": "4", "五": "5", "六": "6", "七": "7", "八": "8", "九": "9", "拐": "7", "勾": "9",
}  # fmt: skip
_RE_PHONE_CN = re.compile(
    r"[幺一][三四五六七八九](?:[零〇洞幺一二两三四五六七八九拐勾][\s,，]?){9}"
)

_SPOUSE = (
    "老伴儿", "老伴", "爱人", "老婆", "老公", "老头子", "老太婆", "那口子", "我先生",
    "我太太", "我丈夫", "我妻子", "我夫人", "我家老头", "老婆子", "老伴侣", "对象",
)  # fmt: skip
_BOTH = ("我们两口子", "两口子", "老两口", "我们俩", "我俩", "我们两个", "我们老两口")
_SELF = ("我自己", "本人", "我本人", "俺自己")
_KIN = (
    "爸爸", "妈妈", "爸", "妈", "父亲", "母亲", "老爸", "老妈", "爹", "娘", "岳父", "岳母", "公公",
    "婆婆", "爷爷", "奶奶", "外公", "外婆", "姥姥", "姥爷", "舅舅", "姑姑", "哥", "姐", "弟", "妹",
    "哥哥", "姐姐", "弟弟", "妹妹", "叔叔", "阿姨", "老爷子", "老太太", "老人家",
)  # fmt: skip
_RELATIVES = (
    *(p + k for p in ("我", "俺", "我家", "俺家", "我们家") for k in _KIN),
    "家父",
    "家母",
    "老父亲",
    "老母亲",
    "爸爸",
    "妈妈",
    "父亲",
    "母亲",
    "老爸",
    "老妈",
)
_RE_SELF_WITH_SPOUSE = re.compile(r"我(?=[和跟与同](?:" + "|".join(_SPOUSE) + "))")


class Gazetteer:
    """Surface forms -> (entity, value), matched exactly and by toneless pinyin."""

    def __init__(self, pinyin: Mapping[str, str]) -> None:
        self._pinyin = pinyin
        self._table: dict[str, tuple[str, str]] = {}
        self._by_sound: dict[tuple[str, ...], tuple[str, str]] = {}
        self._sound_lengths: list[int] = []  # of the names in _by_sound, longest first
        self._pattern: re.Pattern[str] | None = None

    def add(self, entity: str, table: Mapping[str, str]) -> None:
        """Add surface -> value pairs for an entity type."""
        for raw_surface, raw_value in table.items():
            surface, value = raw_surface.strip().lower(), raw_value
            if len(surface) < 2:  # noqa: PLR2004 - single characters match everywhere
                continue
            sound = self._sound(surface)
            known = self._by_sound.get(sound) if sound is not None else None
            if known is not None and known[0] == entity:
                # A misspelling that sounds like a name added earlier means that name (书发班).
                value = known[1]
            self._table[surface] = (entity, value)
            # Only names of three or more characters are matched by sound alone.
            if sound is not None and len(sound) >= 3:  # noqa: PLR2004
                self._by_sound.setdefault(sound, (entity, value))
        self._sound_lengths = sorted({len(k) for k in self._by_sound}, reverse=True)
        self._pattern = None

    def _sound(self, text: str) -> tuple[str, ...] | None:
        syllables = [self._pinyin.get(ch) for ch in text]
        if any(s is None for s in syllables):
            return None
        return tuple(s for s in syllables if s is not None)

    def entries(self) -> dict[str, tuple[str, str]]:
        """A copy of the surface table (for serialisation)."""
        return dict(self._table)

    def find(self, text: str) -> list[Entity]:
        """All gazetteer matches in normalised text (overlaps are resolved later)."""
        if not self._table:
            return []
        if self._pattern is None:
            alternatives = sorted(self._table, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(a) for a in alternatives))
        found = []
        covered = [False] * len(text)
        for m in self._pattern.finditer(text):
            entity, value = self._table[m[0]]
            found.append(Entity(entity, value, m.start(), m.end(), m[0]))
            covered[m.start() : m.end()] = [True] * (m.end() - m.start())
        exact = [(e.start, e.end) for e in found]
        found.extend(self._find_by_sound(text, covered, exact))
        return found

    def _find_by_sound(
        self, text: str, covered: list[bool], exact: list[tuple[int, int]]
    ) -> list[Entity]:
        """Names heard in the text ("生人民医院" for 省人民医院 by voice input): a window may
        take in an exact match it wholly contains (a longer name beats a shorter one), never
        cut through one."""
        if not self._by_sound:
            return []
        sounds = [self._pinyin.get(ch) for ch in text]
        found = []
        for size in self._sound_lengths:
            for start in range(len(text) - size + 1):
                end = start + size
                window = sounds[start:end]
                if any(s is None for s in window):
                    continue
                inside = [(a, b) for a, b in exact if a < end and b > start]
                if any(a < start or b > end or b - a >= size for a, b in inside):
                    continue
                if any(
                    covered[i] for i in range(start, end) if not any(a <= i < b for a, b in inside)
                ):
                    continue
                hit = self._by_sound.get(tuple(s for s in window if s is not None))
                if hit:
                    found.append(Entity(hit[0], hit[1], start, end, text[start:end]))
                    covered[start:end] = [True] * size
        return found


def _trim_leading(span: str) -> str:
    """Drop the verbs and pronouns in front of a name ("想去协和医院" -> "协和医院")."""
    m = _LEADING.match(span)
    return span[m.end() :] if m else span


_LONG_SUFFIXES = ("卫生服务中心", "医学中心", "合唱团", "艺术团", "联欢会", "一日游")
_TWO_CHAR_SUFFIXES = (
    "医院", "内科", "外科", "讲座", "活动", "比赛", "沙龙", "演出", "参观", "党日", "保健院",
    "卫生院",
)  # fmt: skip


def _suffix_length(name: str) -> int:
    for suffix in _LONG_SUFFIXES:
        if name.endswith(suffix):
            return len(suffix)
    return 2 if name.endswith(_TWO_CHAR_SUFFIXES) else 1


def _head(name: str) -> str:
    return name[: len(name) - _suffix_length(name)]


def _pattern_names(
    regex: re.Pattern[str], entity: str, text: str, min_head: int = 1
) -> list[Entity]:
    found = []
    for m in regex.finditer(text):
        name = _trim_leading(m[0])
        head = _head(name)
        if len(head) < min_head or head in _STOP_ACTIVITY_HEADS or head.endswith(("的", "个")):
            continue
        found.append(Entity(entity, name, m.end() - len(name), m.end(), name))
    return found


def _phones(text: str) -> list[Entity]:
    found = [
        Entity("phone", m[1] + m[2] + m[3], m.start(), m.end(), m[0])
        for m in _RE_PHONE.finditer(text)
    ]
    found += [
        Entity("phone", m[1] + m[2], m.start(), m.end(), m[0]) for m in _RE_LANDLINE.finditer(text)
    ]
    for m in _RE_PHONE_CN.finditer(text):
        digits = "".join(_CN_DIGITS.get(ch, "") for ch in m[0])
        found.append(Entity("phone", digits, m.start(), m.end(), m[0]))
    return found


_BENEFICIARY_WORDS: dict[str, str | None] = {
    **dict.fromkeys(_SPOUSE, "spouse"),
    **dict.fromkeys(_SELF, "self"),
    **dict.fromkeys(_RELATIVES, None),
}
_RE_BENEFICIARY = re.compile("|".join(sorted(_BENEFICIARY_WORDS, key=len, reverse=True)))
_RE_BOTH = re.compile("|".join(sorted(_BOTH, key=len, reverse=True)))


def _beneficiaries(text: str) -> list[Entity]:
    found = []
    for m in _RE_BENEFICIARY.finditer(text):
        found.append(
            Entity("beneficiary", _BENEFICIARY_WORDS[m[0]] or m[0], m.start(), m.end(), m[0])
        )
    for m in _RE_SELF_WITH_SPOUSE.finditer(text):
        found.append(Entity("beneficiary", "self", m.start(), m.end(), m[0]))
    for m in _RE_BOTH.finditer(text):
        found.append(Entity("beneficiary", "self", m.start(), m.end(), m[0]))
        found.append(Entity("beneficiary", "spouse", m.start(), m.end(), m[0]))
    return found


def _overlaps(a: Entity, b: Entity) -> bool:
    return a.start < b.end and b.start < a.end


def _resolve(candidates: list[Entity]) -> list[Entity]:
    """Longest span wins; a date and a time may overlap (明早九点); sorted by position."""
    chosen: list[Entity] = []
    ordered = sorted(
        candidates, key=lambda e: (-(e.end - e.start), _PRIORITY.get(e.entity, 9), e.start)
    )
    for cand in ordered:
        clash = False
        for other in chosen:
            pair = {cand.entity, other.entity}
            if not _overlaps(cand, other) or pair in ({"date", "time"}, {"date", "activity"}):
                continue
            same_span = (cand.start, cand.end) == (other.start, other.end)
            if same_span and cand.entity == other.entity == "beneficiary":
                clash = cand.value == other.value
            else:
                clash = True
            if clash:
                break
        if not clash:
            chosen.append(cand)
    return chosen


def _after_sure(guess: Entity, sure: list[Entity], text: str, min_head: int) -> Entity | None:
    """Cut a pattern-guessed name so it starts after any surer entity inside it."""
    start = guess.start
    for entity in sure:
        if entity.entity == "date" and is_holiday(entity.text):
            continue  # a holiday can be part of a name: 重阳节游园活动
        if _overlaps(entity, guess):
            if entity.end >= guess.end:
                return None  # the surer entity covers the name's ending
            start = max(start, entity.end)
    if start == guess.start:
        return guess
    name = _trim_leading(text[start : guess.end])
    if len(name) - _suffix_length(name) < min_head or _head(name) in _STOP_ACTIVITY_HEADS:
        return None
    return Entity(guess.entity, name, guess.end - len(name), guess.end, name)


class EntityExtractor:
    """All of the entity extraction for one engine."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer

    def extract(self, text: str, now: datetime) -> list[Entity]:
        """Entities of normalised ``text``, with dates resolved against ``now``."""
        candidates = self.gazetteer.find(text) + _phones(text) + _beneficiaries(text)
        candidates += extract_dates(text, now) + extract_times(text) + extract_shifts(text)
        sure = _resolve([c for c in candidates if _plausible(c, text)])
        for regex, entity, min_head in _GUESSES:
            for guess in _pattern_names(regex, entity, text, min_head):
                trimmed = _after_sure(guess, sure, text, min_head)
                if trimmed is not None and _plausible(trimmed, text):
                    sure = _resolve([*sure, trimmed])
        return sorted(sure, key=lambda e: (e.start, e.entity))


_GUESSES = (
    (_RE_HOSPITAL, "hospital", 1),
    (_RE_DEPARTMENT, "department", 1),
    (_RE_ACTIVITY, "activity", 2),
)


# A service word that names an entitlement ("护理补贴", "护理费标准") is not a booking of it.
_ENTITLEMENT_AFTER = re.compile(r"费?(?:补贴|津贴|补助|标准|待遇|政策)")


def _plausible(entity: Entity, text: str) -> bool:
    """Reject matches inside a longer word of Latin letters or digits, and a service's name
    that is part of an entitlement's."""
    if entity.entity in {"phone", "date", "time", "shift"}:
        return True
    if entity.entity == "service_type" and _ENTITLEMENT_AFTER.match(text, entity.end):
        return False
    before = text[entity.start - 1] if entity.start > 0 else " "
    after = text[entity.end] if entity.end < len(text) else " "
    first, last = entity.text[0], entity.text[-1]
    if not is_cjk(first) and before.isalnum():
        return False
    return is_cjk(last) or not after.isalnum()
