"""A second request said in the same message as the first ("帮我爷爷约个后天上午上门理发 再给他
报个礼拜六的健康讲座"): kept while the first is read back and booked, then taken up at once —
its own read-back follows the first's confirmation, so nothing said is dropped silently.

Only a request of another kind is queued (two home services in one message are one read-back,
handlers/eldercare.py), and only one said with words of booking in its own clause ("报", "约");
a question about an activity inside a hospital booking is not a sign-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from handlers import phrases
from handlers.base import Ctx, Handler, Reply, Turn
from handlers.flows import Flow
from nlu.result import EntityDict

__all__ = ["remember_second", "take_up"]

# The entity that names a request, and the request it names.
_KIND_OF = {
    "activity": "activity_signup",
    "service_type": "eldercare_booking",
    "hospital": "medical_escort",
    "department": "medical_escort",
}
# What of the message goes with the second request: its names, its day and time, its person.
_CARRIED = {
    "activity_signup": {"activity", "date", "beneficiary"},
    "eldercare_booking": {"service_type", "date", "time", "beneficiary"},
    "medical_escort": {"hospital", "department", "date", "time", "beneficiary"},
}
QUEUE_MINUTES = 30


def _start(entity: EntityDict) -> int:
    return int(entity.get("start") or 0)


def remember_second(ctx: Ctx, started: Flow | None) -> None:
    """After a flow started on this message: the request of another kind its other words
    ask for, kept on the conversation to be taken up when this flow ends."""
    turn = ctx.turn
    if started is None or turn.payload is not None or not turn.text:
        return
    takes = {slot.entity or slot.name for slot in started.slots}
    text = turn.text
    for entity in sorted(turn.entities, key=_start):
        kind = _KIND_OF.get(entity["entity"])
        if kind is None or kind == started.name or entity["entity"] in takes:
            continue
        begin = max([0, *(m.end() for m in phrases.CLAUSE_BREAK.finditer(text, 0, _start(entity)))])
        following = phrases.CLAUSE_BREAK.search(text, int(entity.get("end") or 0))
        clause = text[begin : following.start() if following else len(text)]
        if not (phrases.BOOKING_WORD.search(clause) or phrases.ALSO.search(clause)):
            continue  # "合唱团是几点来着": a question, not a second booking
        carried = [e for e in turn.entities if e["entity"] in _CARRIED[kind] and _start(e) >= begin]
        days = [e for e in turn.entities if e["entity"] == "date"]
        if days and not any(e["entity"] == "date" for e in carried):
            carried.append(days[0])  # "礼拜一上午交单据 下午顺便去省人医看个眼科": that day
        until = ctx.now + timedelta(minutes=QUEUE_MINUTES)
        ctx.conv.queued = {"intent": kind, "entities": carried, "until": until.isoformat()}
        return


async def take_up(ctx: Ctx, routes: Mapping[str, Handler]) -> list[Reply]:
    """When a flow has ended: the request said with it, started (its read-back, or its first
    question). Nothing when none is waiting, or it waited too long."""
    queued = ctx.conv.queued
    ctx.conv.queued = None
    if not queued or ctx.conv.flow or datetime.fromisoformat(queued["until"]) <= ctx.now:
        return []
    intent = str(queued["intent"])
    ctx.turn = Turn(
        text="",
        intent=intent,
        confidence=1.0,
        entities=tuple(queued.get("entities") or ()),
        ranking=((intent, 1.0),),
    )
    return await routes[intent](ctx)
