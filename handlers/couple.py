"""Which of a couple a message means: the retiree (self), the spouse or both — by their
words, their names, a son's or daughter's "我爸/我妈" read by the roster's gender, the one
said with the request in a long message, the one a correction names ("不是我爸，是我妈"),
and the one who stays out ("我妈不去了 我爸还去")."""

from __future__ import annotations

from handlers import phrases
from handlers.base import Ctx

__all__ = [
    "BOTH",
    "SELF",
    "SPOUSE",
    "named_who",
    "pick_one",
    "pick_who",
    "staying_out",
    "waiting_side",
]

SELF, SPOUSE, BOTH = "self", "spouse", "both"
SIGN_UP = "activity_signup"  # the flow whose seats may run out for one of a couple


def named_who(ctx: Ctx) -> str | None:
    """Whom the message names: the spouse or the retiree by name; for a family member,
    "我爸"/"我妈" by the roster's gender (the retiree, or the retiree's spouse)."""
    person, text = ctx.person, ctx.turn.text
    if person is None or not text:
        return None
    alone = _one_of_the_couple(ctx) if person.spouse_name else None
    if alone is not None:
        return alone
    instead = phrases.NOT_BUT.search(text)
    if instead is not None and person.spouse_name:
        # "不是我爸，是我妈去看": the one said after the "不是"
        family = ctx.account is not None and ctx.account.role == "family"
        named = _sides_in(instead[1], family, person.gender, person.spouse_name)
        if not named and phrases.SELF_WORDS.search(instead[1]):
            named = {SELF}
        if len(named) == 1:
            return next(iter(named))
    if person.spouse_name and phrases.COUPLE.search(text):
        # "我跟老伴都去", "老两口", "给我爸妈都报上"; unless the request itself is said of one
        # of them ("我爸妈年纪大了 … 我爸头发长了 约个理发")
        return _said_with_the_request(ctx) or BOTH
    if person.spouse_name and person.spouse_name in text:
        return SPOUSE
    surname = person.spouse_name[:1] if person.spouse_name else ""
    if surname and surname != person.name[:1] and phrases.BY_SURNAME + surname in text:
        with_me = phrases.WITH_ME.search(text.split(phrases.BY_SURNAME + surname)[0])
        return BOTH if with_me else SPOUSE  # "我家老马" for 马建华; "我和我家老马都想去"
    if person.name in text:
        return SELF
    if ctx.account is None or ctx.account.role != "family":
        return None
    father, mother = bool(phrases.FATHER.search(text)), bool(phrases.MOTHER.search(text))
    if father and mother and person.spouse_name:
        # "我爸住院了 我妈一个人在家 给她订个送餐": the one the service is for, by pronoun
        her, him = bool(phrases.FOR_HER.search(text)), bool(phrases.FOR_HIM.search(text))
        if her == him or person.gender not in {"M", "F"}:
            # "给我爸妈都报上"; "爷爷住进省人医了 奶奶在那陪着": the one said with the request
            return _said_with_the_request(ctx) or BOTH
        father, mother = him, her
    if father == mother or person.gender not in {"M", "F"}:
        return None  # both, neither, or no gender on the roster: the retiree, as before
    said = "M" if father else "F"
    if said == person.gender:
        return SELF
    return SPOUSE if person.spouse_name else None


_REQUEST_ENTITIES = frozenset({"hospital", "department", "service_type", "activity"})


def _said_with_the_request(ctx: Ctx) -> str | None:
    """Of a couple both named in a long message, the one named in the clauses that carry
    the request (the hospital, the department, the service or the activity), if only one
    of them is: "爷爷今天住进省人医了 骨科 奶奶在那陪着" is the grandfather's stay."""
    person, text = ctx.person, ctx.turn.text
    if person is None or not person.spouse_name:
        return None
    family = ctx.account is not None and ctx.account.role == "family"
    starts = [int(e.get("start") or 0) for e in ctx.turn.entities
              if e["entity"] in _REQUEST_ENTITIES]  # fmt: skip
    sides: set[str] = set()
    first_named: str | None = None  # the first clause that names one of them only
    position = 0
    for clause in phrases.CLAUSE_BREAK.split(text):
        begin = text.find(clause, position)
        position = begin + len(clause)
        named = _sides_in(clause, family, person.gender, person.spouse_name) if clause else set()
        if first_named is None and len(named) == 1:
            first_named = next(iter(named))
        if any(begin <= s < position for s in starts):
            sides.update(named)
    if not sides and starts:
        # the request's clauses name nobody: the one the message is about, named first
        # ("我爸前列腺不太好 想约市二院泌尿外科 … 我妈陪不动他")
        return first_named
    return next(iter(sides)) if len(sides) == 1 else None


def _sides_in(clause: str, family: bool, gender: str | None, spouse: str) -> set[str]:
    """Which of the couple a clause names: the retiree (self) and/or the spouse."""
    found = set()
    if family and gender in {"M", "F"}:
        if phrases.FATHER.search(clause) or phrases.FOR_HIM.search(clause):
            found.add(SELF if gender == "M" else SPOUSE)
        if phrases.MOTHER.search(clause) or phrases.FOR_HER.search(clause):
            found.add(SELF if gender == "F" else SPOUSE)
    elif phrases.SPOUSE_WORDS.search(clause) or spouse in clause:
        found.add(SPOUSE)
    if phrases.COUPLE.search(clause):
        found.update((SELF, SPOUSE))
    return found


def staying_out(ctx: Ctx) -> str | None:
    """Of a couple, the one a message says stays out ("我妈合唱团不去了 我爸还去", "老伴不去
    了"): self or spouse; None when it says neither or both."""
    if ctx.person is None or not ctx.person.spouse_name:
        return None
    going = _one_of_the_couple(ctx)
    return {SELF: SPOUSE, SPOUSE: SELF}.get(going) if going else None


def _one_of_the_couple(ctx: Ctx) -> str | None:
    """One of a couple, told by the other staying out ("我妈不去了 我爸去", "老伴在家歇着")
    or by going alone ("那就我一个人")."""
    family = ctx.account is not None and ctx.account.role == "family"
    person = ctx.person
    if person is None:
        return None
    if not family and phrases.ALONE.search(ctx.turn.text):
        return SELF
    for clause in phrases.CLAUSE_BREAK.split(ctx.turn.text):
        if not phrases.STAYS_OUT.search(clause):
            continue
        if family:
            father = bool(phrases.FATHER.search(clause))
            mother = bool(phrases.MOTHER.search(clause))
            if father == mother or person.gender not in {"M", "F"}:
                continue
            out = SELF if ("M" if father else "F") == person.gender else SPOUSE
        elif phrases.SPOUSE_WORDS.search(clause) or person.spouse_name in clause:
            out = SPOUSE
        elif phrases.SELF_WORDS.search(clause):
            out = SELF
        else:
            continue
        return SPOUSE if out == SELF else SELF
    return None


def waiting_side(ctx: Ctx) -> str | None:
    """Of a couple, the one a message puts on the waiting list while the other takes the seat
    ("那我先报上 他排候补", "让老伴先上 我排候补", "先给我妈报 我爸排候补"): self or spouse;
    both ("两个人都排候补")."""
    person, text = ctx.person, ctx.turn.text or ""
    if person is None or not person.spouse_name or not phrases.WAITS.search(text):
        return None
    if ctx.conv.flow != SIGN_UP:
        return None  # "老伴排队挂号太累" is no waiting list
    family = ctx.account is not None and ctx.account.role == "family"
    for clause in phrases.CLAUSE_BREAK.split(text):
        if not phrases.WAITS.search(clause):
            continue
        named = _sides_in(clause, family, person.gender, person.spouse_name)
        if not named and person.gender in {"M", "F"}:
            him, her = bool(phrases.HE.search(clause)), bool(phrases.SHE.search(clause))
            if family and him != her:
                named = {SELF if ("M" if him else "F") == person.gender else SPOUSE}
            elif not family and (him or her):
                named = {SPOUSE}
        if not named and phrases.SELF_WORDS.search(clause):
            named = {SELF}
        if named == {SELF, SPOUSE}:
            return BOTH  # "那两个人都排候补吧 要学一起学"
        if len(named) == 1:
            return next(iter(named))
    return None


def pick_who(ctx: Ctx, values: list[str]) -> str:
    person = ctx.person
    if waiting_side(ctx) is not None:
        return BOTH  # "那我先报上 他排候补": both, one of them waiting
    alone = _one_of_the_couple(ctx) if person is not None and person.spouse_name else None
    if alone is not None:
        return alone  # "就我自己 老伴不去": both named, one going
    alone_said = phrases.ALONE.search(ctx.turn.text or "")
    if person is not None and not person.spouse_name and alone_said:
        return SELF  # "老伴早走了 就报我自己", "老伴前年就走了 … 就我一个": no spouse on file
    if SELF in values and SPOUSE in values:
        return BOTH
    named = named_who(ctx)
    if named is not None:
        return named
    value = values[0]
    if value not in (SELF, SPOUSE) and ctx.account is not None and ctx.account.role == "family":
        return SELF  # a daughter's "我爸" is the retiree she acts for
    return value


def pick_one(ctx: Ctx, values: list[str]) -> str | None:
    """For a flow that takes one person: both named is asked about, not refused."""
    picked = pick_who(ctx, values)
    return None if picked == BOTH else picked
