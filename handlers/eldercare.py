"""Home eldercare bookings (居家养老服务): cleaning, haircut, bathing, meals, repairs,
massage, company, counselling, nursing — into slots with a capacity per day and part of day."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from handlers import phrases, texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.events import EldercareBooked
from handlers.flows import Flow, Rejection, Slot, Slots, ask_again, kept, start_flow
from handlers.slots import date_slot, move_said, part_slot, who_phrase, who_slot
from handlers.wording import format_when
from nlu.entities import SERVICE_TYPES

__all__ = ["CARE", "eldercare", "service_name"]

BOOKING_DAYS = 14
SLOT_KIND = "eldercare"


async def service_name(ctx: Ctx, code: str) -> str:
    """The bureau's name of a service code (上门理发 for haircut)."""
    service = await ctx.uow.catalog.eldercare_service(code)
    return service.name if service else code


async def _ask_service(ctx: Ctx, slots: Slots) -> Reply:
    services = await ctx.uow.catalog.eldercare_services()
    return Reply(texts.CARE_ASK_SERVICE, tuple(SERVICE.option(s.name, s.code) for s in services))


async def _check_service(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
    if value in SERVICE_TYPES and await ctx.uow.catalog.eldercare_service(str(value)):
        return None
    services = await ctx.uow.catalog.eldercare_services()
    return Rejection(
        texts.CARE_ASK_SERVICE, tuple(SERVICE.option(s.name, s.code) for s in services)
    )


async def _alternatives(ctx: Ctx, code: str, start: date) -> tuple[Rejection | None, list[str]]:
    service = await ctx.uow.catalog.eldercare_service(code)
    if service is None:
        return None, []
    open_slots = await ctx.uow.catalog.open_slots(service.id, start, limit=4)
    labels = [format_when(s.day, s.part) for s in open_slots]
    options = tuple(
        Option(label, payload("inform", date=s.day.isoformat(), time=s.part))
        for label, s in zip(labels, open_slots, strict=True)
    )
    return Rejection("", options), labels


async def _check_time(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
    if "service" not in slots or "date" not in slots:
        return None
    code, day = str(slots["service"]), date.fromisoformat(slots["date"])
    service = await ctx.uow.catalog.eldercare_service(code)
    slot = await ctx.uow.catalog.slot(service.id, day, str(value)) if service else None
    if slot is not None and slot.booked < slot.capacity:
        return None
    name = await service_name(ctx, code)
    template = texts.CARE_FULL if slot is not None else texts.CARE_NO_SLOT
    alternatives, _ = await _alternatives(ctx, code, ctx.today)
    if alternatives is None or not alternatives.options:
        return Rejection(texts.CARE_NOTHING_OPEN.format(service=name))
    when = format_when(day, str(value))
    # A full slot asks for both the day and the time again, with choices that fill both.
    slots.pop("date", None)
    return Rejection(template.format(when=when, service=name), alternatives.options)


async def _summary(ctx: Ctx, slots: Slots) -> str:
    when = format_when(date.fromisoformat(slots["date"]), slots["time"])
    name = await service_name(ctx, str(slots["service"]))
    who = who_phrase(ctx, str(slots["who"]))
    if slots.get("replaces_when"):
        return texts.CARE_RESCHEDULE_SUMMARY.format(
            old=slots["replaces_when"], service=name, when=when, who=who
        )
    summary = texts.CARE_SUMMARY.format(service=name, when=when, who=who)
    following = _following(slots)
    if following is not None:
        # "后天上午打扫 下午再来个理发的", "明天和后天都要送餐": one read-back, one yes
        later = format_when(date.fromisoformat(following["date"]), following["time"])
        also = await service_name(ctx, str(following["service"]))
        summary += "\n" + texts.CARE_THEN.format(service=also, when=later)
    return summary


def _following(slots: Slots) -> dict[str, Any] | None:
    """The second booking said with this one, complete from this one's slots."""
    then = slots.get(THEN)
    if not isinstance(then, dict):
        return None
    return {"who": slots["who"], "date": slots["date"], "time": slots["time"], **then}


async def _book(ctx: Ctx, slots: Slots) -> list[Reply]:
    code, day, part = str(slots["service"]), date.fromisoformat(slots["date"]), str(slots["time"])
    service = await ctx.uow.catalog.eldercare_service(code)
    slot = await ctx.uow.catalog.slot(service.id, day, part) if service else None
    if service is None or slot is None or not await ctx.uow.catalog.take_slot(slot.id):
        # Someone took the last place between the question and the confirmation.
        keep = {k: v for k, v in slots.items() if k in {"service", "who"}}
        return await ask_again(ctx, CARE, keep, texts.CARE_RACE)
    replaced = slots.get("replaces")
    if replaced:
        old = await ctx.uow.requests.get(int(replaced))
        if old is not None and old.status == "booked":
            if old.details.get("slot_id"):
                await ctx.uow.catalog.release_slot(int(old.details["slot_id"]))
            await ctx.uow.requests.set_status(old, "rescheduled", now=ctx.now, actor=ctx.actor)
    request = await ctx.uow.requests.create(
        SLOT_KIND,
        now=ctx.now,
        actor=ctx.actor,
        person_id=ctx.person.id if ctx.person else None,
        status="booked",
        beneficiary=str(slots["who"]),
        account_id=ctx.account.id if ctx.account else None,
        details={
            "service": code,
            "service_name": service.name,
            "slot_id": slot.id,
            "replaces": replaced,
            **kept(slots),
        },
        scheduled_date=day,
        scheduled_time=part,
    )
    ctx.emit(
        EldercareBooked(
            request_id=request.id,
            service=code,
            date=day.isoformat(),
            time=part,
            beneficiary=str(slots["who"]),
        )
    )
    done = Reply(texts.CARE_DONE.format(service=service.name, id=request.id))
    following = _following(slots)
    if following is not None:
        return [done, *await _book(ctx, following)]  # read back with this one, and agreed
    return [done]


THEN = "then"  # a second service said in the same message, booked after the first


def _second_day(ctx: Ctx, service: str) -> dict[str, str] | None:
    """A second day said with the first for the same service ("明天和后天都要送餐")."""
    days = sorted(
        (e for e in ctx.turn.entities if e["entity"] == "date"),
        key=lambda e: int(e.get("start") or 0),
    )
    for one, other in itertools.pairwise(days):
        between = ctx.turn.text[int(one.get("end") or 0) : int(other.get("start") or 0)]
        later = str(other["value"])
        if (
            phrases.AND_ALSO.fullmatch(between)
            and later > str(one["value"]) >= ctx.today.isoformat()
        ):
            return {"service": service, "date": later}
    return None


def _second_service(ctx: Ctx) -> dict[str, str] | None:
    """A second service said in the booking's message, with the day and the part of the day
    said in its clause ("下午再来个理发的"): what to book after the first."""
    services = [e for e in ctx.turn.entities if e["entity"] == "service_type"]
    first = services[0]["value"] if services else None
    second = next((e for e in services if e["value"] != first), None)
    if second is None:
        return _second_day(ctx, str(first)) if first else None
    text, start = ctx.turn.text, int(second.get("start") or 0)
    ends = [int(e.get("end") or 0) for e in services if e["value"] == first]
    breaks = [m.end() for m in phrases.CLAUSE_BREAK.finditer(text) if m.end() <= start]
    clause = max([*breaks, *[end for end in ends if end <= start], 0])
    following = phrases.CLAUSE_BREAK.search(text, int(second.get("end") or 0))
    own = [
        e for e in ctx.turn.entities
        if e["entity"] in {"date", "time"}
        and clause <= int(e.get("start") or 0) < (following.start() if following else len(text))
    ]  # fmt: skip
    if not phrases.ALSO.search(text[clause:start]) and not own:
        # "派个人来跟她聊聊" inside a request for counselling is one service; "礼拜五下午理发",
        # a day or a time of its own, another
        return None
    then = {"service": str(second["value"])}
    for entity in ctx.turn.entities:
        name = entity["entity"]
        if name in {"date", "time"} and int(entity.get("start") or 0) >= clause:
            then.setdefault(name, str(entity["value"]))
    return then


SERVICE = Slot(
    "service", texts.CARE_SLOT_SERVICE, _ask_service, entity="service_type", validate=_check_service
)
TIME = part_slot(validate=_check_time)


async def _already(ctx: Ctx, slots: Slots) -> str | None:
    """The same service on the same day and part of the day, already booked for them."""
    if ctx.person is None or "date" not in slots or "time" not in slots:
        return None
    for booked in await ctx.uow.requests.for_person(ctx.person.id, kinds=(SLOT_KIND,)):
        same = (
            booked.status == "booked"
            and booked.id != slots.get("replaces")
            and booked.details.get("service") == slots.get("service")
            and booked.scheduled_date is not None
            and booked.scheduled_date.isoformat() == slots["date"]
            and booked.scheduled_time == slots["time"]
            and booked.beneficiary == slots.get("who")
        )
        if same and booked.scheduled_date is not None:
            name = await service_name(ctx, str(slots["service"]))
            when = format_when(booked.scheduled_date, booked.scheduled_time)
            what = texts.CARE_ALREADY.format(service=name, when=when)
            return texts.ALREADY_BOOKED.format(what=what, id=booked.id)
    return None


CARE = Flow(
    name="eldercare_booking",
    title=texts.CARE_TITLE,
    slots=(SERVICE, who_slot(), date_slot(earliest=1, latest=BOOKING_DAYS), TIME),
    summary=_summary,
    complete=_book,
    already=_already,
)


async def eldercare(ctx: Ctx) -> list[Reply]:
    """Book (or move) a home eldercare service."""
    slots: Slots = {}
    codes = ctx.turn.values("service_type")
    if ctx.person and codes and move_said(ctx) is not None:
        booked = [
            r
            for r in await ctx.uow.requests.for_person(ctx.person.id, kinds=(SLOT_KIND,))
            if r.status == "booked" and r.details.get("service") == codes[0] and r.scheduled_date
            and r.scheduled_date >= ctx.today
        ]  # fmt: skip
        if booked:
            old = booked[0]
            slots["replaces"] = old.id
            slots["replaces_when"] = format_when(old.scheduled_date, old.scheduled_time)
            if ctx.turn.values("shift") and old.scheduled_date is not None:
                # "打扫卫生那个往后推一天": from that booking's day, at its time
                slots["date"] = old.scheduled_date.isoformat()
                slots["time"] = old.scheduled_time
                slots["who"] = old.beneficiary
    then = _second_service(ctx) if "replaces" not in slots else None
    if then is not None:
        slots[THEN] = then
    return await start_flow(ctx, CARE, slots)
