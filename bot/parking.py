"""A flow interrupted and taken up again: an emergency parks it at once; another request sets
it aside, and it is offered back ("刚才的“看病陪诊”还没办完") until its time runs out; it is
resumed when asked for, by its intent, by the words of going on or by a yes to the offer;
``stop`` leaves it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from handlers import activities, binding, eldercare, flows, medical, phrases, sos, texts, volunteers
from handlers.base import Ctx, Handler, Option, Reply, payload
from handlers.flows import Flow
from handlers.wording import menu_reply

__all__ = [
    "FLOWS",
    "aside_for",
    "offer_back",
    "park",
    "resume",
    "resumes",
    "set_aside",
    "stop",
    "suspension_over",
]

FLOWS: Mapping[str, Flow] = {
    flow.name: flow
    for flow in (
        binding.BINDING,
        medical.ESCORT,
        medical.ADMISSION,
        medical.CLAIM,
        eldercare.CARE,
        activities.SIGNUP,
        activities.CANCEL,
        volunteers.REGISTER,
    )
}


async def stop(ctx: Ctx) -> list[Reply]:
    """``stop``: leave the current flow (and forget the one waiting)."""
    conv = ctx.conv
    conv.suspended = None
    conv.queued = None  # nor the request said with it
    flow = FLOWS.get(conv.flow or "")
    conv.end_flow()
    if flow is None:
        return [menu_reply(texts.MENU_AGAIN, ctx.config)]
    return [menu_reply(texts.STOPPED.format(flow=flow.title), ctx.config)]


async def resume(ctx: Ctx) -> list[Reply]:
    """``resume``: take up the flow that was waiting where it was left."""
    conv = ctx.conv
    parked = conv.suspended
    conv.suspended = None
    flow = FLOWS.get(str(parked.get("flow"))) if parked else None
    if parked is None or flow is None:
        return [menu_reply(texts.NOTHING_TO_RESUME, ctx.config)]
    conv.end_flow()
    conv.flow, conv.slots = flow.name, dict(parked.get("slots") or {})
    read_back = parked.get("step") == "confirm"
    # "好，刚才看病的接着办，下午": and the afternoon
    return await flows.resume(ctx, flow, read_back)


async def aside_for(ctx: Ctx, handler: Handler) -> list[Reply]:
    """A person asked for in the middle of a booking ("我还要找工作人员说个事"): the booking
    waits, offered back with the answer ("刚才的送餐接着约" takes it up)."""
    flow = FLOWS.get(ctx.conv.flow or "")
    waiting = set_aside(ctx, flow) if flow is not None else None
    if waiting is None:
        return await handler(ctx)
    ctx.conv.end_flow()
    ctx.conv.suspended = waiting
    return offer_back(ctx, await handler(ctx), waiting)


def park(ctx: Ctx) -> None:
    """Put an interrupted flow aside so it can be resumed after an emergency."""
    conv = ctx.conv
    flow = FLOWS.get(conv.flow or "")
    if flow is not None and flow.name != binding.BINDING.name:
        conv.suspended = {"flow": flow.name, "title": flow.title, "slots": dict(conv.slots)}
    if flow is not None:
        conv.end_flow()


def set_aside(ctx: Ctx, flow: Flow) -> dict[str, object] | None:
    """A flow left for another request, to be offered back (nothing half-said is lost)."""
    if flow.name == binding.BINDING.name or not any(k in flow.slot_map for k in ctx.conv.slots):
        return None
    until = ctx.now + timedelta(minutes=sos.RESUME_MINUTES)
    return {
        "flow": flow.name,
        "title": flow.title,
        "slots": dict(ctx.conv.slots),
        "step": ctx.conv.step,
        "until": until.isoformat(),
    }


def suspension_over(ctx: Ctx) -> bool:
    """Whether the flow waiting is no longer offered (its time ran out)."""
    parked = ctx.conv.suspended
    until = parked.get("until") if parked else None
    return until is not None and datetime.fromisoformat(str(until)) <= ctx.now


def resumes(ctx: Ctx, suspended: dict[str, object], confident: bool) -> bool:
    """The flow waiting is taken up: asked for by its intent, or by the words of going on
    ("好，那接着约看病，上午"), or with a yes while it is offered ("行，那就下周二上午交")."""
    turn, flow = ctx.turn, suspended.get("flow")
    if turn.intent == flow and (confident or turn.payload):
        return True
    if turn.payload is not None or turn.intent in {"sos", "stop", "human_agent", "deny"}:
        return False
    if phrases.GO_ON.search(turn.text):
        return True
    offered = payload("resume") in ctx.conv.options
    leading = {name for name, _ in turn.ranking[:2]}
    return offered and bool({"affirm", flow} & leading)


def offer_back(ctx: Ctx, replies: list[Reply], parked: dict[str, object] | None) -> list[Reply]:
    """The replies, and the flow this message interrupted offered back."""
    conv = ctx.conv
    offer = parked is not None and not conv.flow and conv.suspended is parked
    if parked is not None and offer:
        title = str(parked["title"])
        option = Option(texts.RESUME_LABEL.format(flow=title), payload("resume"))
        replies = [*replies, Reply(texts.RESUME_OFFER.format(flow=title), (option,))]
    return replies
