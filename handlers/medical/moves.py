"""Moving a booking ("下礼拜三那个陪诊 改到礼拜四"): which one the message moves, what of it
carries over, and the old one marked moved when the new one is booked."""

from __future__ import annotations

from handlers.base import Ctx
from handlers.flows import Slots
from handlers.slots import move_said
from handlers.wording import format_when
from storage.repos import CLOSED_STATUSES


async def moved_from(ctx: Ctx, slots: Slots) -> int | None:
    """The booking this one replaces, now marked moved (in the same transaction)."""
    replaced = slots.get("replaces")
    old = await ctx.uow.requests.get(int(replaced)) if replaced else None
    if old is None or old.status in CLOSED_STATUSES:
        return None
    await ctx.uow.requests.set_status(old, "rescheduled", now=ctx.now, actor=ctx.actor)
    return old.id


async def moving(ctx: Ctx, kind: str) -> Slots:
    """A message that moves one of the person's bookings ("下礼拜三那个陪诊 改到礼拜四"):
    the old booking's slots to carry over, and which booking it replaces; {} otherwise."""
    marker = move_said(ctx)
    if ctx.person is None or marker is None:
        return {}
    booked = [
        r
        for r in await ctx.uow.requests.for_person(ctx.person.id, kinds=(kind,), open_only=True)
        if r.scheduled_date is not None and r.scheduled_date >= ctx.today
    ]
    said_before = {
        str(e["value"])
        for e in ctx.turn.entities
        if e["entity"] in {"date", "hospital", "department"} and int(e.get("start") or 0) < marker
    }
    named = [
        r for r in booked
        if said_before & {r.scheduled_date.isoformat() if r.scheduled_date else "",
                          str(r.details.get("hospital")), str(r.details.get("department"))}
    ]  # fmt: skip
    chosen = named if named else booked
    if len(chosen) != 1:
        return {}
    old = chosen[0]
    slots: Slots = {
        "replaces": old.id,
        "replaces_when": format_when(old.scheduled_date, old.scheduled_time),
        "who": old.beneficiary,
        "time": old.scheduled_time,
    }
    if old.scheduled_date is not None:
        slots["date"] = old.scheduled_date.isoformat()
    for key in ("hospital", "department"):
        if old.details.get(key):
            slots[key] = old.details[key]
    return slots
