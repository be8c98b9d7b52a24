"""Running a flow turn by turn: start, continue, resume; the next missing slot asked, one
confirmation read back, a change or a stop, and completion."""

from __future__ import annotations

from datetime import timedelta

from handlers import texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.flows.filling import (
    candidate,
    fill,
    keep_words,
    note,
    notes_line,
    offered_by_part,
    said_yes,
    the_one_offered,
)
from handlers.flows.model import SERVICE_INTENTS, Flow, Rejection, Slot, Slots

# Intents that mean "this message answers the flow's question".
_ANSWERS = {"affirm", "deny", "inform", "change"}


def _needed(ctx: Ctx, slot: Slot, slots: Slots) -> bool:
    return slot.needed(ctx, slots) if slot.needed else True


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
        if slot.default is not None and conv.step != ASK + slot.name:
            # A default fills what nobody asked about, never the question left unanswered
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


ASK, OFFER = "ask:", "offer:"  # the step: a slot asked for, or one way on offered


async def start_flow(ctx: Ctx, flow: Flow, slots: Slots | None = None) -> list[Reply]:
    """Begin a flow, taking whatever the first message already says."""
    ctx.conv.end_flow()
    ctx.conv.flow = flow.name
    ctx.conv.slots = dict(slots or {})
    keep_words(ctx)
    _, rejection, slot_name = await fill(ctx, flow, asked=None)
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
    if _another_request(ctx, flow):
        return None  # "对了，我老伴下礼拜二要理发，也帮她约一个": not this booking's details
    matched = offered_by_part(ctx, flow)
    if matched is not None:
        keep_words(ctx)
        conv.slots.update(matched)  # "那改下午吧" to our list of free times: that one
        return await _advance(ctx, flow)
    noted = keep_words(ctx)
    changed, rejection, slot_name = await fill(ctx, flow, asked)
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
        offered = the_one_offered(ctx, flow) if step.startswith(OFFER) else None
        if offered is not None:
            conv.slots[offered[0]] = offered[1]  # "先只办本人的，好吗？" "对": that one
            return await _advance(ctx, flow)
        # "对" to a question that was not yes/no: kindly, the question again.
        return await _advance(ctx, flow, texts.YES_TO_AN_OPEN_QUESTION)
    if step == "confirm" and turn.intent != flow.name and note(ctx):
        return await _advance(ctx, flow, texts.NOTED)  # "我牙口不好 饭要烂一点": kept, read back
    return await _advance(ctx, flow, texts.NOT_UNDERSTOOD)


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
        if candidate(ctx, slot) is not None:
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


# What names a request of its own: a home service, an activity, a hospital or department.
_NAMING = frozenset({"service_type", "activity", "hospital", "department"})


def _another_request(ctx: Ctx, flow: Flow) -> bool:
    """Another service asked for, by a name this flow has no slot for (a haircut in the
    middle of a hospital visit): its day and its person are not this flow's."""
    takes = {slot.entity or slot.name for slot in flow.slots}
    names = {e["entity"] for e in ctx.turn.entities} & _NAMING
    return ctx.turn.payload is None and bool(names - takes) and _wants_something_else(ctx, flow)


async def ask_again(ctx: Ctx, flow: Flow, slots: Slots, prefix: str) -> list[Reply]:
    """Restart a flow with some slots kept, explaining why first."""
    ctx.conv.end_flow()
    ctx.conv.flow = flow.name
    ctx.conv.slots = dict(slots)
    return await _advance(ctx, flow, prefix)


async def reprompt(ctx: Ctx, flow: Flow) -> list[Reply]:
    """Ask the active flow's current question again (after a resume)."""
    return await _advance(ctx, flow)


async def resume(ctx: Ctx, flow: Flow, read_back: bool = False) -> list[Reply]:
    """A parked flow taken up again, with what the message resuming it says ("接着办，下午");
    it is read back before anything is booked, unless it was left at its read-back and the
    message is a plain yes to it ("哦 那行 约上吧" after asking what it costs)."""
    keep_words(ctx)
    changed, rejection, slot_name = await fill(ctx, flow, asked=None)
    if rejection is not None and slot_name is not None:
        return await _reject(ctx, flow, rejection, slot_name)
    yes = ctx.turn.payload is None and (ctx.turn.intent == "affirm" or said_yes(ctx.turn.text))
    if read_back and flow.confirm and yes and not changed and not _missing(ctx, flow):
        return await _complete(ctx, flow)
    return await _advance(ctx, flow)
