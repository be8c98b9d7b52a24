"""Reading a turn into a flow's slots: the value each slot is offered (an entity, a
payload, a day moved, a correction, the one choice offered), checked before it is kept,
and the words and details (contact phone, bed number) kept with the request."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from handlers import phrases, texts
from handlers.base import Ctx
from handlers.flows.model import Flow, Rejection, Slot, Slots

# Slots whose check depends on the slots before them.
RECHECKED = frozenset({"date", "time"})


def _shifted(ctx: Ctx, slot: Slot) -> str | None:
    """A day moved by so many days ("往后推一天", "提前两天") from the day being moved or
    corrected; a day said with it is the day meant."""
    moves = ctx.turn.values("shift") if ctx.turn.payload is None else []
    if (slot.entity or slot.name) != "date" or not moves:
        return None
    said = [str(v) for v in ctx.turn.values("date")]
    current = ctx.conv.slots.get(slot.name)
    if said and current not in said:
        return None  # "提前一天，礼拜四去": the day said is the day meant
    base = current
    if base is None:
        return None
    return (date.fromisoformat(str(base)) + timedelta(days=int(str(moves[0])))).isoformat()


def candidate(ctx: Ctx, slot: Slot) -> Any:
    """The value this turn offers for a slot (payload or entity), if any."""
    turn = ctx.turn
    shifted = _shifted(ctx, slot)
    if shifted is not None:
        return shifted
    if turn.intent == "inform":
        values = turn.values(slot.name)
    else:
        values = turn.values(slot.entity or slot.name)
    if not values:
        return slot.infer(ctx) if slot.infer is not None and turn.payload is None else None
    current = ctx.conv.slots.get(slot.name)
    moved = None
    if len(values) > 1:
        name = slot.name if turn.intent == "inform" else (slot.entity or slot.name)
        first = min(int(e.get("start") or 0) for e in turn.entities if e["entity"] == name)
        slips = [*phrases.SAID_WRONG.finditer(turn.text), *phrases.DROPPED.finditer(turn.text)]
        corrected = sorted((m for m in slips if m.start() > first), key=lambda m: m.start())
        moved = phrases.MOVE_TO.search(turn.text) or (corrected[-1] if corrected else None)
    if moved is not None:
        # "后天洗澡那个 改到下礼拜五下午": the value after "改到" is the new one; so is the one
        # after a slip put right ("下礼拜一不对下礼拜二").
        name = slot.name if turn.intent == "inform" else (slot.entity or slot.name)
        after = [
            str(e["value"])
            for e in turn.entities
            if e["entity"] == name and int(e.get("start") or 0) >= moved.start()
        ]
        if after:
            return after[0]
    if (
        len(values) > 1
        and current is not None
        and current in values
        and slot.entity != "beneficiary"
    ):
        # A correction naming the old and the new value ("不是三号 是五号", "不是一院 是二院",
        # "礼拜三有事 改礼拜五"): the new one is the value that is not the current one;
        # two words for the same value ("就是洗澡，助浴") leave it as it is.
        others = [v for v in values if v != current]
        return others[-1] if others else current
    return slot.pick(ctx, values) if slot.pick else values[0]


async def fill(
    ctx: Ctx, flow: Flow, asked: str | None
) -> tuple[bool, Rejection | None, str | None]:
    """Put this turn's values into the slots; returns (changed, first rejection, its slot)."""
    slots = ctx.conv.slots
    changed = False
    rejected: tuple[Rejection, str] | None = None
    for slot in flow.slots:
        value = candidate(ctx, slot)
        if value is None and slot.name == asked and slot.parse and ctx.turn.text:
            value = slot.parse(ctx, ctx.turn.text)
        if value is not None and slot.normalize is not None:
            value = await slot.normalize(ctx, value)
        if value is None and changed and slot.name in RECHECKED and slot.validate:
            # A day or time kept from before is checked again against what changed (the
            # afternoon still free on the day moved to?).
            value = slots.pop(slot.name, None)
        if value is None or slots.get(slot.name) == value:
            continue
        rejection = await slot.validate(ctx, value, slots) if slot.validate else None
        if rejection is not None:
            slots.pop(slot.name, None)
            rejected = rejected or (rejection, slot.name)
            continue
        slots[slot.name] = value
        changed = True
    if rejected:
        return changed, rejected[0], rejected[1]
    return changed, None, None


SAID = "said"  # what the user wrote during the flow, kept with the request for staff


def keep_words(ctx: Ctx) -> bool:
    """Keep what the user wrote (not buttons), and the contact phone and bed number in it:
    a detail that answers no question is still the request's (a phone typed mid-flow is
    not a new hand-off). True when a phone or bed number new to the request was kept."""
    turn = ctx.turn
    if turn.payload is not None or not turn.text.strip():
        return False
    slots = ctx.conv.slots
    said = [*slots.get(SAID, []), turn.text.strip()[:300]]
    slots[SAID] = said[-12:]
    before = (slots.get("contact_phone"), slots.get("bed"))
    for phone in turn.values("phone"):
        slots["contact_phone"] = phone
    bed = phrases.BED.search(turn.text)
    if bed:
        slots["bed"] = bed[0].replace(" ", "")
    return (slots.get("contact_phone"), slots.get("bed")) != before


NOTES = "notes"  # details told at the read-back that answer nothing asked ("饭要烂一点")
_NOTE_CHARS = 60


def note(ctx: Ctx) -> bool:
    """Keep a message told at the read-back as a note for the request, when it reads as a
    detail (words, not a question) rather than an answer: True when kept."""
    text = ctx.turn.text.strip()
    if ctx.turn.payload is not None or not phrases.DETAIL.search(text):
        return False
    about = phrases.ABOUT_THE_BOOKING.search(text) or phrases.GO_ON.search(text)
    if phrases.QUESTION.search(text) or about:
        return False  # a question, or words about the booking itself ("那我先报上 他排候补")
    notes = [*ctx.conv.slots.get(NOTES, []), text[:_NOTE_CHARS]]
    ctx.conv.slots[NOTES] = notes[-3:]
    return True


def kept(slots: Slots) -> dict[str, Any]:
    """What a request keeps of the conversation besides its slots (for its details)."""
    return {k: slots[k] for k in (SAID, "contact_phone", "bed", NOTES) if slots.get(k)}


def notes_line(slots: Slots) -> str:
    """The read-back of the details kept (contact phone, bed), or ""."""
    parts = []
    if slots.get("contact_phone"):
        parts.append(texts.NOTE_PHONE.format(phone=slots["contact_phone"]))
    if slots.get("bed"):
        parts.append(str(slots["bed"]))
    parts.extend(str(n) for n in slots.get(NOTES, []))
    return texts.NOTES.format(notes=texts.NOTE_SEPARATOR.join(parts)) if parts else ""


def offered_by_part(ctx: Ctx, flow: Flow) -> dict[str, Any] | None:
    """Of our choices that fill several slots at once (free days and times), the one that
    agrees with the part the message says; for a part of the day alone ("那改下午吧"), the
    first such time offered (the nearest day). A day alone is left to ask the time."""
    if ctx.turn.payload is not None:
        return None
    matches: list[dict[str, Any]] = []
    heard_keys: set[str] = set()
    for option in ctx.conv.options:
        if not option.startswith(INFORM):
            continue
        try:
            values = json.loads(option[len(INFORM) :])
        except ValueError:
            return None
        if not isinstance(values, dict) or len(values) < 2 or not set(values) <= set(flow.slot_map):  # noqa: PLR2004
            continue
        said = {name: ctx.turn.values(flow.slot_map[name].entity or name) for name in values}
        heard_keys |= {name for name, heard in said.items() if heard}
        if any(said.values()) and all(
            not heard or values[name] in heard for name, heard in said.items()
        ):
            matches.append(values)
    if len(matches) == 1 or (matches and heard_keys == {"time"}):
        return matches[0]
    return None


def the_one_offered(ctx: Ctx, flow: Flow) -> tuple[str, Any] | None:
    """The value of the only choice our last question offered (besides a person), if so."""
    values = []
    for option in ctx.conv.options:
        if option.startswith(INFORM):
            try:
                values.extend(json.loads(option[len(INFORM) :]).items())
            except ValueError:
                return None
    if len(values) != 1 or values[0][0] not in flow.slot_map:
        return None
    return str(values[0][0]), values[0][1]


INFORM = "/inform"


def said_yes(text: str) -> bool:
    """A yes, with or without more words ("是的 取消", "行 就按这个办", "对 两个都报"); not
    "对了，…" (by the way) nor a yes that goes on to take something back ("对 不过改周四")."""
    found = phrases.YES_WITH_MORE.match(text)
    return found is not None and not phrases.YES_TAKEN_BACK.search(text[found.end() :])
