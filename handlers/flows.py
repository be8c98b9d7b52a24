"""Declarative multi-turn flows: slots, questions, validation, one confirmation, completion.

Every service describes its flow as data (a ``Flow`` of ``Slot`` s); this module runs
all of them the same way:

* slots are filled from the entities of any turn (one sentence may fill several, and a
  later turn may correct one: "不对，是下周四");
* missing slots are asked one at a time, with numbered options where choices exist;
* every value is validated (a past date, an unknown hospital, a full slot) and a
  rejection says why and offers alternatives;
* before anything is written, one short summary is confirmed (确认 / 要修改 / 不办了);
* the active flow lives in the conversation state and expires when left idle.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from handlers import phrases, texts
from handlers.base import Ctx, Option, Reply, payload

__all__ = [
    "Flow",
    "Rejection",
    "Slot",
    "Slots",
    "Validate",
    "answers",
    "ask_again",
    "continue_flow",
    "kept",
    "notes_line",
    "reprompt",
    "said_yes",
    "start_flow",
]

Slots = dict[str, Any]
# Intents that mean "this message answers the flow's question".
_ANSWERS = {"affirm", "deny", "inform", "change"}
# Intents that start a service; one of them with confidence leaves the current flow.
SERVICE_INTENTS = {
    "medical_escort", "hospital_admission", "reimbursement", "eldercare_booking",
    "activity_list", "activity_signup", "booking_cancel", "my_records", "policy_question",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why a value cannot be taken, with alternatives to choose from."""

    text: str
    options: tuple[Option, ...] = ()
    # The options offer one way on, so a yes takes it ("先只办本人的，好吗？" "对").
    yes_takes_it: bool = False


Ask = Callable[[Ctx, Slots], Awaitable[Reply]]
Pick = Callable[[Ctx, list[str]], Any]
Parse = Callable[[Ctx, str], Any]
Validate = Callable[[Ctx, Any, Slots], Awaitable[Rejection | None]]
Normalize = Callable[[Ctx, Any], Awaitable[Any]]
Needed = Callable[[Ctx, Slots], bool]
Default = Callable[[Ctx, Slots], Any]


@dataclass(frozen=True, slots=True)
class Slot:
    """One piece of information a flow needs."""

    name: str
    label: str  # shown when asking which item to change
    ask: Ask
    entity: str | None = None  # entity type that fills it (default: the slot's name)
    pick: Pick | None = None  # which of several entity values to take
    parse: Parse | None = None  # read a free-text answer when this slot was asked
    normalize: Normalize | None = None  # e.g. an activity's name -> its id
    validate: Validate | None = None
    needed: Needed | None = None  # default: always
    default: Default | None = None  # filled without asking when this returns a value
    # A value the message implies without an entity ("两个人都去" for whom), any turn.
    infer: Callable[[Ctx], Any] | None = None

    def option(self, label: str, value: Any) -> Option:
        """A numbered choice that fills this slot."""
        return Option(label, payload("inform", **{self.name: value}))


@dataclass(frozen=True, slots=True)
class Flow:
    """A service's conversation, described as data."""

    name: str
    title: str
    slots: tuple[Slot, ...]
    summary: Callable[[Ctx, Slots], Awaitable[str]]
    complete: Callable[[Ctx, Slots], Awaitable[list[Reply]]]
    confirm: bool = True
    # The same thing already booked ("打扫的 是礼拜二上午对吧" after "我的记录"): what to say
    # instead of reading back a second booking of it.
    already: Callable[[Ctx, Slots], Awaitable[str | None]] | None = None
    slot_map: dict[str, Slot] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.slot_map.update({s.name: s for s in self.slots})


def _needed(ctx: Ctx, slot: Slot, slots: Slots) -> bool:
    return slot.needed(ctx, slots) if slot.needed else True


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


def _candidate(ctx: Ctx, slot: Slot) -> Any:
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


async def _fill(
    ctx: Ctx, flow: Flow, asked: str | None
) -> tuple[bool, Rejection | None, str | None]:
    """Put this turn's values into the slots; returns (changed, first rejection, its slot)."""
    slots = ctx.conv.slots
    changed = False
    rejected: tuple[Rejection, str] | None = None
    for slot in flow.slots:
        value = _candidate(ctx, slot)
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


async def _ask(ctx: Ctx, flow: Flow, slot: Slot, prefix: str = "") -> list[Reply]:
    question = await slot.ask(ctx, ctx.conv.slots)
    ctx.conv.step = "ask:" + slot.name
    text = f"{prefix}\n{question.text}" if prefix else question.text
    return [Reply(text, question.options)]


def _confirm_options() -> tuple[Option, ...]:
    return (
        Option(texts.CONFIRM_YES, payload("affirm")),
        Option(texts.CONFIRM_CHANGE, payload("deny")),
        Option(texts.CONFIRM_CANCEL, payload("stop")),
    )


async def _advance(ctx: Ctx, flow: Flow, prefix: str = "") -> list[Reply]:
    """Ask for the next missing slot, or confirm, or complete."""
    conv = ctx.conv
    conv.expires_at = (ctx.now + timedelta(minutes=ctx.config.flow_minutes)).isoformat()
    for slot in flow.slots:
        if slot.name in conv.slots or not _needed(ctx, slot, conv.slots):
            continue
        if slot.default is not None:
            value = slot.default(ctx, conv.slots)
            if value is not None:
                conv.slots[slot.name] = value
                continue
        return await _ask(ctx, flow, slot, prefix)
    said = await flow.already(ctx, conv.slots) if flow.already is not None else None
    if said is not None:
        conv.end_flow()
        return [Reply(said)]
    if flow.confirm:
        conv.step = "confirm"
        options = _confirm_options()
        summary = await flow.summary(ctx, conv.slots)
        notes = notes_line(conv.slots)
        summary = texts.CONFIRM_QUESTION.format(summary=f"{summary}\n{notes}" if notes else summary)
        return [Reply(f"{prefix}\n{summary}" if prefix else summary, options)]
    return await _complete(ctx, flow)


async def _complete(ctx: Ctx, flow: Flow) -> list[Reply]:
    slots = dict(ctx.conv.slots)
    ctx.conv.end_flow()
    return await flow.complete(ctx, slots)


async def _reject(ctx: Ctx, flow: Flow, rejection: Rejection, slot_name: str) -> list[Reply]:
    slot = flow.slot_map[slot_name]
    if rejection.options:
        ctx.conv.step = (OFFER if rejection.yes_takes_it else ASK) + slot.name
        ctx.conv.expires_at = (ctx.now + timedelta(minutes=ctx.config.flow_minutes)).isoformat()
        return [Reply(rejection.text, rejection.options)]
    return await _ask(ctx, flow, slot, rejection.text)


SAID = "said"  # what the user wrote during the flow, kept with the request for staff
ASK, OFFER = "ask:", "offer:"  # the step: a slot asked for, or one way on offered


def _keep_words(ctx: Ctx) -> bool:
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


def kept(slots: Slots) -> dict[str, Any]:
    """What a request keeps of the conversation besides its slots (for its details)."""
    return {k: slots[k] for k in (SAID, "contact_phone", "bed") if slots.get(k)}


def notes_line(slots: Slots) -> str:
    """The read-back of the details kept (contact phone, bed), or ""."""
    parts = []
    if slots.get("contact_phone"):
        parts.append(texts.NOTE_PHONE.format(phone=slots["contact_phone"]))
    if slots.get("bed"):
        parts.append(str(slots["bed"]))
    return texts.NOTES.format(notes=texts.NOTE_SEPARATOR.join(parts)) if parts else ""


async def start_flow(ctx: Ctx, flow: Flow, slots: Slots | None = None) -> list[Reply]:
    """Begin a flow, taking whatever the first message already says."""
    ctx.conv.end_flow()
    ctx.conv.flow = flow.name
    ctx.conv.slots = dict(slots or {})
    _keep_words(ctx)
    _, rejection, slot_name = await _fill(ctx, flow, asked=None)
    if rejection is not None and slot_name is not None:
        return await _reject(ctx, flow, rejection, slot_name)
    return await _advance(ctx, flow)


async def continue_flow(ctx: Ctx, flow: Flow) -> list[Reply] | None:
    """Handle one turn of an active flow; None when the message is not for this flow."""
    conv, turn = ctx.conv, ctx.turn
    step = conv.step or ""
    if turn.intent == "change":
        name = next(iter(turn.values("slot")), None)
        if name in flow.slot_map:
            conv.slots.pop(name, None)
            return await _ask(ctx, flow, flow.slot_map[name])
    asked = step.split(":", 1)[1] if step.startswith((ASK, OFFER)) else None
    matched = _offered_by_part(ctx, flow)
    if matched is not None:
        _keep_words(ctx)
        conv.slots.update(matched)  # "那改下午吧" to our list of free times: that one
        return await _advance(ctx, flow)
    noted = _keep_words(ctx)
    changed, rejection, slot_name = await _fill(ctx, flow, asked)
    if rejection is not None and slot_name is not None:
        return await _reject(ctx, flow, rejection, slot_name)
    yes = step == "confirm" and turn.payload is None and said_yes(turn.text)
    if changed and yes and not _missing(ctx, flow):
        return await _complete(ctx, flow)  # "是的 两个人都去": the yes, and what it adds
    if changed or (noted and not yes and turn.intent != "affirm"):
        return await _advance(ctx, flow)  # "有事打我电话 137…": kept, and read back
    if step == "confirm" and (turn.intent == "affirm" or yes):
        return await _complete(ctx, flow)
    if step == "confirm" and turn.intent == "deny":
        return _which_to_change(ctx, flow)
    if _wants_something_else(ctx, flow):
        return None
    if turn.intent == "affirm" or said_yes(turn.text):
        offered = _the_one_offered(ctx, flow) if step.startswith(OFFER) else None
        if offered is not None:
            conv.slots[offered[0]] = offered[1]  # "先只办本人的，好吗？" "对": that one
            return await _advance(ctx, flow)
        # "对" to a question that was not yes/no: kindly, the question again.
        return await _advance(ctx, flow, texts.YES_TO_AN_OPEN_QUESTION)
    return await _advance(ctx, flow, texts.NOT_UNDERSTOOD)


def _offered_by_part(ctx: Ctx, flow: Flow) -> dict[str, Any] | None:
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


def _the_one_offered(ctx: Ctx, flow: Flow) -> tuple[str, Any] | None:
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


def _missing(ctx: Ctx, flow: Flow) -> bool:
    return any(
        slot.name not in ctx.conv.slots and _needed(ctx, slot, ctx.conv.slots)
        for slot in flow.slots
    )


def answers(ctx: Ctx, flow: Flow) -> bool:
    """Whether this message reads as an answer to the flow's question (a value for one of
    its slots, or a yes/no at the confirmation), without changing anything."""
    step = ctx.conv.step or ""
    asked = step.split(":", 1)[1] if step.startswith((ASK, OFFER)) else None
    for slot in flow.slots:
        if _candidate(ctx, slot) is not None:
            return True
        if slot.name == asked and slot.parse and ctx.turn.text and slot.parse(ctx, ctx.turn.text):
            return True
    return step == "confirm" and said_yes(ctx.turn.text)


def _which_to_change(ctx: Ctx, flow: Flow) -> list[Reply]:
    changeable = [s for s in flow.slots if s.name in ctx.conv.slots]
    options = (
        *(Option(slot.label, payload("change", slot=slot.name)) for slot in changeable),
        Option(texts.CONFIRM_CANCEL, payload("stop")),
    )
    ctx.conv.step = "change"
    return [Reply(texts.CHANGE_WHICH, options)]


def _wants_something_else(ctx: Ctx, flow: Flow) -> bool:
    turn = ctx.turn
    return (
        turn.intent not in _ANSWERS
        and turn.intent != flow.name
        and turn.intent in SERVICE_INTENTS | {"greet", "thanks_bye", "human_agent"}
        and turn.confidence >= ctx.config.confidence_threshold
    )


async def ask_again(ctx: Ctx, flow: Flow, slots: Slots, prefix: str) -> list[Reply]:
    """Restart a flow with some slots kept, explaining why first."""
    ctx.conv.end_flow()
    ctx.conv.flow = flow.name
    ctx.conv.slots = dict(slots)
    return await _advance(ctx, flow, prefix)


async def reprompt(ctx: Ctx, flow: Flow) -> list[Reply]:
    """Ask the active flow's current question again (after a resume)."""
    return await _advance(ctx, flow)


async def resume(ctx: Ctx, flow: Flow) -> list[Reply]:
    """A parked flow taken up again, with what the message resuming it says ("接着办，下午");
    it is read back before anything is booked."""
    _keep_words(ctx)
    _, rejection, slot_name = await _fill(ctx, flow, asked=None)
    if rejection is not None and slot_name is not None:
        return await _reject(ctx, flow, rejection, slot_name)
    return await _advance(ctx, flow)
