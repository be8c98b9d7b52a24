"""Cancelling any booking: an activity seat (a couple's two together), an escort, a
home-care visit or a claim appointment, picked by what was said or by the list shown;
a freed seat goes to the first on the waitlist."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from handlers import choices, phrases, texts
from handlers.activities.listing import activity_time
from handlers.base import Ctx, Reply
from handlers.eldercare import service_name
from handlers.events import BookingCancelled, WaitlistPromoted
from handlers.flows import Flow, Rejection, Slot, Slots, start_flow
from handlers.slots import staying_out, who_phrase
from handlers.wording import format_when, menu_reply

CANCELLABLE = {
    "medical_escort": ("pending", "assigned"),
    "eldercare": ("booked",),
    "reimbursement": ("booked",),
}


async def _cancellable(ctx: Ctx) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, label, facts) for everything the person can still cancel, the nearest first
    (so that "头一个" is the next thing to happen)."""
    if ctx.person is None:
        return []
    items: list[tuple[str, str, dict[str, Any]]] = []
    for registration, activity in await ctx.uow.activities.for_person(ctx.person.id, ctx.now):
        label = texts.CANCEL_ITEM_ACTIVITY.format(
            title=activity.title,
            when=activity_time(ctx, activity),
            who=who_phrase(ctx, registration.attendee),
        )
        facts = {
            "activity": activity.title,
            "date": activity.starts_at.astimezone(ctx.local_now.tzinfo).date().isoformat(),
            "attendee": registration.attendee,
        }
        items.append((f"reg:{registration.id}", label, facts))
    for request in await ctx.uow.requests.for_person(
        ctx.person.id, kinds=tuple(CANCELLABLE), open_only=True
    ):
        if request.status not in CANCELLABLE[request.kind]:
            continue
        if request.scheduled_date is not None and request.scheduled_date < ctx.today:
            continue
        when = format_when(request.scheduled_date, request.scheduled_time)
        facts = {
            "date": request.scheduled_date.isoformat() if request.scheduled_date else "",
            **request.details,
        }
        if request.kind == "medical_escort":
            department = request.details.get("department")
            label = texts.CANCEL_ITEM_ESCORT.format(
                hospital=request.details.get("hospital", ""),
                department=f" {department}" if department and department != "tbd" else "",
                when=when,
            )
        elif request.kind == "eldercare":
            name = request.details.get("service_name") or await service_name(
                ctx, str(request.details.get("service"))
            )
            label = texts.CANCEL_ITEM_CARE.format(service=name, when=when)
        else:
            label = texts.CANCEL_ITEM_CLAIM.format(when=when)
        items.append((f"req:{request.id}", label, {"kind": request.kind, **facts}))
    items.sort(key=lambda item: str(item[2].get("date") or "9999"))  # the nearest first
    return items


def _matches(ctx: Ctx, facts: dict[str, Any]) -> bool:
    """Whether what the user said points at this item (name, service, hospital, day); what
    a clause keeps ("理发取消掉，助浴不动", "看病的不变") points at nothing."""
    turn = ctx.turn
    kept = _kept_spans(ctx)

    def said(entity: str) -> list[str]:
        return [
            str(e["value"])
            for e in turn.entities
            if e["entity"] == entity and not any(a <= int(e.get("start") or 0) < b for a, b in kept)
        ]

    pairs = [
        (said("activity"), facts.get("activity")),
        (said("service_type"), facts.get("service")),
        (said("hospital"), facts.get("hospital")),
        (said("department"), facts.get("department")),
        (said("date"), facts.get("date")),
    ]
    mentioned = [(values, fact) for values, fact in pairs if values]
    escort = [
        m for m in phrases.ESCORT_WORDS.finditer(turn.text)
        if not any(a <= m.start() < b for a, b in kept)
    ]  # fmt: skip
    if escort and facts.get("kind") == "medical_escort":
        return True
    return bool(mentioned) and all(fact in values for values, fact in mentioned)


def _kept_spans(ctx: Ctx) -> list[tuple[int, int]]:
    """The clauses of a message that keep something ("后天的还要", "助浴不动")."""
    text = ctx.turn.text or ""
    return [
        (clause.start(), clause.end())
        for clause in phrases.CLAUSES.finditer(text)
        if phrases.KEEP.search(clause[0])
    ]


BOTH_KEYS = "+"  # "reg:3+reg:4": a couple's two seats at one activity, cancelled together


def _couples(items: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, str]]:
    """(joined key, label) for each activity both of a couple are signed up for."""
    seats: dict[str, list[str]] = {}
    for key, _, facts in items:
        if key.startswith("reg:") and facts.get("activity"):
            seats.setdefault(str(facts["activity"]), []).append(key)
    return [
        (BOTH_KEYS.join(keys), texts.CANCEL_ITEM_BOTH.format(title=title))
        for title, keys in seats.items()
        if len(keys) == 2  # noqa: PLR2004 - the retiree and the spouse
    ]


async def _ask_booking(ctx: Ctx, slots: Slots) -> Reply:
    items = await _cancellable(ctx)
    options = [BOOKING.option(label, key) for key, label, _ in items]
    options += [BOOKING.option(label, key) for key, label in _couples(items)]
    return Reply(texts.CANCEL_ASK, tuple(options))


async def _check_booking(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
    keys = {key for key, _, _ in await _cancellable(ctx)}
    if all(part in keys for part in str(value).split(BOTH_KEYS)):
        return None
    reply = await _ask_booking(ctx, slots)
    return Rejection(reply.text, reply.options)


async def _cancel_summary(ctx: Ctx, slots: Slots) -> str:
    labels = {key: label for key, label, _ in await _cancellable(ctx)}
    parts = str(slots["booking"]).split(BOTH_KEYS)
    item = texts.LIST_SEPARATOR.join(labels.get(part, "") for part in parts)
    return texts.CANCEL_SUMMARY.format(item=item)


async def _cancel(ctx: Ctx, slots: Slots) -> list[Reply]:
    labels = {k: label for k, label, _ in await _cancellable(ctx)}
    keys = str(slots["booking"]).split(BOTH_KEYS)
    for key in keys:
        done = await _cancel_one(ctx, key)
        if done is not None:
            return done
    item = texts.LIST_SEPARATOR.join(labels.get(key, "") for key in keys)
    return [menu_reply(texts.CANCEL_DONE.format(item=item), ctx.config)]


async def _cancel_one(ctx: Ctx, key: str) -> list[Reply] | None:
    """Cancel one booking or seat; a reply only when it is gone already."""
    kind, _, raw_id = key.partition(":")
    if kind == "reg":
        registration = await ctx.uow.activities.registration(int(raw_id))
        if registration is None:
            return [Reply(texts.CANCEL_NOTHING)]
        activity = await ctx.uow.activities.get(registration.activity_id)
        promoted = await ctx.uow.activities.cancel(registration, ctx.now)
        ctx.emit(BookingCancelled(kind="activity", id=registration.id))
        if promoted is not None and activity is not None:
            ctx.emit(
                WaitlistPromoted(
                    registration_id=promoted.id,
                    person_id=promoted.person_id,
                    activity_id=activity.id,
                    activity=activity.title,
                )
            )
    else:
        request = await ctx.uow.requests.get(int(raw_id))
        if request is None:
            return [Reply(texts.CANCEL_NOTHING)]
        if request.kind == "eldercare" and request.details.get("slot_id"):
            await ctx.uow.catalog.release_slot(int(request.details["slot_id"]))
        await ctx.uow.requests.set_status(request, "cancelled", now=ctx.now, actor=ctx.actor)
        ctx.emit(BookingCancelled(kind=request.kind, id=request.id))
    return None


BOOKING = Slot("booking", texts.CANCEL_SLOT, _ask_booking, validate=_check_booking)
CANCEL = Flow(
    name="booking_cancel",
    title=texts.CANCEL_TITLE,
    slots=(BOOKING,),
    summary=_cancel_summary,
    complete=_cancel,
)


def _days_to_keep(ctx: Ctx) -> set[str]:
    """Days named in a part of the message that keeps them ("后天的还要")."""
    text = ctx.turn.text or ""
    kept: set[str] = set()
    for clause in phrases.CLAUSES.finditer(text):
        if phrases.KEEP.search(clause[0]):
            kept |= {
                str(e["value"])
                for e in ctx.turn.entities
                if e["entity"] == "date"
                and clause.start() <= int(e.get("start") or 0) < clause.end()
            }
    return kept


def _listed_pick(ctx: Ctx, cancellable: set[str]) -> str | None:
    """The item of the numbered list shown in text (my records) an ordinal points at."""
    listed = ctx.conv.listed or {}
    keys = [str(k) for k in listed.get("keys") or []]
    if not keys or str(listed.get("until") or "") <= ctx.now.isoformat():
        return None
    place = choices.ordinal(ctx.turn.text or "", len(keys))
    key = keys[place - 1] if place is not None else None
    return key if key in cancellable else None


def _each_named(ctx: Ctx, items: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Several bookings named one by one in a message ("礼拜三的打扫和礼拜六的讲座都退了"):
    each part that names exactly one of them, when every part does."""
    turn, text = ctx.turn, ctx.turn.text or ""
    parts = [m.span() for m in phrases.NAMED_PARTS.finditer(text)]
    if len(parts) < 2:  # noqa: PLR2004
        return []
    found: list[str] = []
    for begin, end in parts:
        inside = tuple(e for e in turn.entities if begin <= int(e.get("start") or 0) < end)
        if not inside:
            continue
        ctx.turn = replace(turn, entities=inside)
        matched = [key for key, _, facts in items if _matches(ctx, facts)]
        ctx.turn = turn
        if len(matched) != 1:
            return []
        found += [k for k in matched if k not in found]
    return found if len(found) > 1 else []


async def booking_cancel(ctx: Ctx) -> list[Reply]:
    """Cancel a sign-up or a booking; a freed seat goes to the first on the waitlist."""
    items = await _cancellable(ctx)
    if not items:
        return [menu_reply(texts.CANCEL_NOTHING, ctx.config)]
    # "礼拜三的打扫和礼拜六的讲座都退了": each named on its own, both
    each = _each_named(ctx, items)
    if each:
        return await start_flow(ctx, CANCEL, {"booking": BOTH_KEYS.join(each)})
    chosen = [key for key, _, facts in items if _matches(ctx, facts)]
    if not chosen and len(items) == 1:
        chosen = [items[0][0]]  # the only thing there is to cancel: read back, not listed
    listed = _listed_pick(ctx, {key for key, _, _ in items})
    if len(chosen) != 1 and listed is not None:
        chosen = [listed]  # "第二个不要了" after "我的记录": the second of that list
    kept_days = _days_to_keep(ctx)
    if len(chosen) > 1 and kept_days:  # "明天的送饭不要了 后天的还要"
        facts_of = {key: facts for key, _, facts in items}
        left = [k for k in chosen if str(facts_of[k].get("date")) not in kept_days]
        chosen = left or chosen
    both = [joined for joined, _ in _couples(items) if set(joined.split(BOTH_KEYS)) == set(chosen)]
    out = staying_out(ctx) if both else None
    if out is not None:
        # "我妈合唱团不去了 我爸还去": of the couple's two seats, the one who stays out
        facts_of = {key: facts for key, _, facts in items}
        chosen = [k for k in chosen if facts_of[k].get("attendee") == out] or chosen
        both = [] if len(chosen) == 1 else both
    slots: Slots = {"booking": chosen[0]} if len(chosen) == 1 else {}
    if both and phrases.COUPLE.search(ctx.turn.text):
        slots = {"booking": both[0]}  # "合唱团 俩人都不去了"
    return await start_flow(ctx, CANCEL, slots)
