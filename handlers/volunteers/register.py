"""Registering as a volunteer by chat ("我想当志愿者"): what one can do (陪诊, 陪伴聊天, 读报,
小修小补) and where (districts, or anywhere), read back and confirmed before it is saved."""

from __future__ import annotations

import re
from typing import Any

from handlers import texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.events import VolunteerRegistered
from handlers.flows import Flow, Slot, Slots, start_flow
from storage.volunteers import ANYWHERE, codes

__all__ = ["REGISTER", "SKILLS", "area_names", "register", "skill_names"]

SKILLS = tuple(texts.VOL_SKILL_NAMES)  # escort, companionship, reading, repair
_NUMBERS = re.compile(r"\d+")


def skill_names(joined: str) -> str:
    """escort,reading -> 陪诊、读报."""
    return texts.VOL_LIST_SEP.join(texts.VOL_SKILL_NAMES.get(c, c) for c in codes(joined))


def area_names(joined: str) -> str:
    """姑苏区,吴中区 -> 姑苏区、吴中区; * -> 哪个区都行."""
    names = [texts.VOL_ANYWHERE if c == ANYWHERE else c for c in codes(joined)]
    return texts.VOL_LIST_SEP.join(names)


def _by_numbers(ctx: Ctx, text: str, slot: str) -> list[str]:
    """Values of the numbered options typed together ("1 3")."""
    found: list[str] = []
    for number in _NUMBERS.findall(text):
        index = int(number) - 1
        if 0 <= index < len(ctx.conv.options):
            option = ctx.conv.options[index]
            _, _, body = option.partition("{")
            match = re.search(rf'"{slot}":"([^"]*)"', "{" + body)
            if match:
                found.extend(codes(match[1]))
    return found


def _parse_skills(ctx: Ctx, text: str) -> str | None:
    """What the person says they can do, as codes ("陪诊 读报" -> escort,reading)."""
    found = [c for c in SKILLS if any(w in text for w in texts.VOL_SKILL_WORDS[c])]
    if not found and any(w in text for w in texts.VOL_ALL_WORDS):
        found = list(SKILLS)
    found = found or _by_numbers(ctx, text, "skills")
    return ",".join(dict.fromkeys(found)) if found else None


def _infer_skills(ctx: Ctx) -> str | None:
    """Skills said in the first message ("我想当志愿者，能陪人看病")."""
    if ctx.conv.slots.get("skills") or ctx.conv.step not in {None, ""}:
        return None
    found = [c for c in SKILLS if any(w in ctx.turn.text for w in texts.VOL_SKILL_WORDS[c])]
    return ",".join(found) if found else None


async def _ask_skills(ctx: Ctx, slots: Slots) -> Reply:
    options = [Option(texts.VOL_SKILL_NAMES[c], payload("inform", skills=c)) for c in SKILLS]
    options.append(Option(texts.VOL_ALL_SKILLS, payload("inform", skills=",".join(SKILLS))))
    return Reply(texts.VOL_ASK_SKILLS, tuple(options))


def _parse_areas(ctx: Ctx, text: str) -> str | None:
    """The words of the answer, read against the roster's districts by ``_known_areas``."""
    numbered = _by_numbers(ctx, text, "areas")
    if numbered:
        return ",".join(numbered)
    hints = (texts.VOL_DISTRICT_SUFFIX, *texts.VOL_AREA_HINTS, *texts.VOL_ANYWHERE_WORDS)
    # Only what names a place reads as an answer (the router asks "is it an emergency?"
    # of anything else the classifier is unsure of).
    return text.strip() if any(h in text for h in hints) else None


async def _known_areas(ctx: Ctx, value: Any) -> str | None:
    """Districts named (those people on the roster live in), or anywhere."""
    said = str(value)
    if any(w in said for w in texts.VOL_ANYWHERE_WORDS) or ANYWHERE in codes(said):
        return ANYWHERE
    known = await ctx.uow.volunteers.districts()
    places = {d: said.find(d.removesuffix(texts.VOL_DISTRICT_SUFFIX)) for d in known}
    found = sorted((d for d, at in places.items() if at >= 0), key=places.__getitem__)
    return ",".join(found) if found else None  # in the order said


async def _ask_areas(ctx: Ctx, slots: Slots) -> Reply:
    options = []
    district = ctx.person.district if ctx.person else None
    if district:
        options.append(
            Option(texts.VOL_OWN_AREA.format(district=district), payload("inform", areas=district))
        )
    options.append(Option(texts.VOL_ANYWHERE, payload("inform", areas=ANYWHERE)))
    return Reply(texts.VOL_ASK_AREAS, tuple(options))


async def _summary(ctx: Ctx, slots: Slots) -> str:
    return texts.VOL_SUMMARY.format(
        skills=skill_names(str(slots["skills"])), areas=area_names(str(slots["areas"]))
    )


async def _save(ctx: Ctx, slots: Slots) -> list[Reply]:
    if ctx.person is None:
        return [Reply(texts.NOT_UNDERSTOOD)]
    volunteer = await ctx.uow.volunteers.register(
        ctx.person.id,
        codes(str(slots["skills"])),
        codes(str(slots["areas"])),
        actor=ctx.actor,
        now=ctx.now,
    )
    ctx.uow.audit.record(ctx.now, ctx.actor, "volunteer_registered", "volunteer", volunteer.id)
    ctx.emit(VolunteerRegistered(volunteer.id, volunteer.skills, volunteer.districts))
    return [Reply(texts.VOL_DONE)]


SKILLS_SLOT = Slot(
    "skills",
    texts.VOL_SLOT_SKILLS,
    _ask_skills,
    entity="volunteer_skills",
    parse=_parse_skills,
    infer=_infer_skills,
)
AREAS_SLOT = Slot(
    "areas",
    texts.VOL_SLOT_AREAS,
    _ask_areas,
    entity="volunteer_areas",
    parse=_parse_areas,
    normalize=_known_areas,
)
REGISTER = Flow("volunteer_register", texts.VOL_TITLE, (SKILLS_SLOT, AREAS_SLOT), _summary, _save)


async def register(ctx: Ctx) -> list[Reply]:
    """``volunteer_register``: ask what they can do and where, confirm, save."""
    return await start_flow(ctx, REGISTER)
