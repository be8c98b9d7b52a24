"""Slots every service flow shares: for whom, which day, which part of the day."""

from __future__ import annotations

from datetime import date, timedelta

from handlers import phrases, texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.couple import BOTH, SELF, SPOUSE, named_who, pick_one, pick_who, staying_out
from handlers.flows import Rejection, Slot, Slots, Validate
from handlers.wording import format_date
from nlu.result import EntityDict

__all__ = [
    "BOTH",
    "SELF",
    "SPOUSE",
    "date_slot",
    "move_said",
    "part_slot",
    "staying_out",
    "who_phrase",
    "who_slot",
]

NOON = 12


def who_phrase(ctx: Ctx, value: str) -> str:
    """您本人 / 您的老伴 / 您和老伴; to a family member: 张建国本人 / 张建国的老伴."""
    if ctx.account is not None and ctx.account.role == "family" and ctx.person is not None:
        return (
            texts.BENEFICIARY_OF[value].format(name=ctx.person.name)
            if value in texts.BENEFICIARY_OF
            else value
        )
    return texts.BENEFICIARY.get(value, value)


def _parse_who(ctx: Ctx, text: str) -> str | None:
    return SELF if phrases.SELF_ANSWER.match(text.strip()) else None


def _who_default(ctx: Ctx, slots: Slots) -> str | None:
    named = named_who(ctx)
    return None if named == BOTH else named or SELF  # both: asked (or the flow's options)


def who_slot(allow_both: bool = False, ask_always: bool = False) -> Slot:
    """For whom: the retiree (self) or the spouse; a family member's "我爸" is the retiree."""

    async def ask(ctx: Ctx, slots: Slots) -> Reply:
        choices = [(texts.WHO_SELF, SELF), (texts.WHO_SPOUSE, SPOUSE)]
        if allow_both:
            choices.append((texts.WHO_BOTH, BOTH))
        return Reply(texts.ASK_WHO, tuple(slot.option(label, value) for label, value in choices))

    async def validate(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
        if value in (SPOUSE, BOTH) and ctx.person is not None and not ctx.person.spouse_name:
            # A spouse not on file is asked about, never booked.
            options = (
                slot.option(texts.WHO_SELF, SELF),
                Option(texts.INTENT_LABELS["human_agent"], payload("human_agent")),
            )
            return Rejection(texts.NO_SPOUSE_ON_FILE, options, yes_takes_it=True)
        if value in (SELF, SPOUSE) or (allow_both and value == BOTH):
            return None
        return Rejection(texts.ONLY_SELF_OR_SPOUSE)

    def infer(ctx: Ctx) -> str | None:
        named = named_who(ctx)
        return named if named != BOTH or allow_both else None

    slot = Slot(
        "who",
        texts.SLOT_WHO,
        ask,
        entity="beneficiary",
        pick=pick_who if allow_both else pick_one,
        parse=_parse_who,
        validate=validate,
        default=None if ask_always else _who_default,
        infer=infer,
    )
    return slot


def _future_pick(ctx: Ctx, values: list[str]) -> str:
    """Of the days said, the day to come; of several ("今朝想问问，明朝下半日…"), the one a
    part of the day or a clock time goes with, else not today (the day of the asking)."""
    upcoming = [v for v in values if v >= ctx.today.isoformat()]
    if len(set(upcoming)) > 1:
        with_time = _told_with_time(ctx, upcoming)
        later = [v for v in upcoming if v != ctx.today.isoformat()]
        upcoming = with_time or later or upcoming
    picked = upcoming[0] if upcoming else values[-1]
    current = ctx.conv.slots.get("date")
    said = next((str(e.get("text") or "") for e in ctx.turn.entities
                 if e["entity"] == "date" and e["value"] == picked), "")  # fmt: skip
    if current and phrases.WEEKDAY_SAID.search(said) and not phrases.NEXT_SAID.search(said):
        # "下礼拜三 … 不对 是礼拜四": the weekday of the week being corrected
        was, day = date.fromisoformat(str(current)), date.fromisoformat(picked)
        same_week = was + timedelta(days=day.weekday() - was.weekday())
        if same_week >= ctx.today:
            return same_week.isoformat()
    return picked


def _told_with_time(ctx: Ctx, values: list[str]) -> list[str]:
    """The days among these said right before a part of the day or a clock time."""
    starts = {int(e.get("start") or 0) for e in ctx.turn.entities if e["entity"] == "time"}
    return [
        str(e["value"])
        for e in ctx.turn.entities
        if e["entity"] == "date" and str(e["value"]) in values and _end(e) in starts
    ]


def _end(entity: EntityDict) -> int:
    return int(entity.get("end") or 0)


def _past_pick(ctx: Ctx, values: list[str]) -> str:
    """The day of a stay: of the days said, the one told with the stay ("前天摔了 昨天住进去"
    is yesterday), a past one before one to come; a bare weekday or day of the month still
    to come is the last one that has been ("礼拜五住进去的" on a Sunday is two days ago); a
    day said to come ("下礼拜三要住进去") stays, a stay planned."""
    said = {
        str(e["value"]): (str(e.get("text") or ""), int(e.get("start") or 0), _end(e))
        for e in ctx.turn.entities
        if e["entity"] == "date" and str(e["value"]) in values
    }
    stays = [m.start() for m in phrases.STAY_VERB.finditer(ctx.turn.text)]
    past = [v for v in values if v <= ctx.today.isoformat()]
    if len(past) > 1 and stays:
        # the day nearest before the word of the stay
        def gap(value: str) -> int:
            end = said.get(value, ("", 0, 0))[2]
            after = [s - end for s in stays if s >= end]
            return min(after) if after else 10_000

        return min(past, key=gap)
    if past:
        return past[0]
    day = date.fromisoformat(values[0])
    text = said.get(values[0], ("", 0, 0))[0]
    if phrases.MONTH_SAID.search(text) or phrases.NEXT_SAID.search(text):
        return values[0]  # "12月5号", "下礼拜三": that day, as said
    if phrases.WEEKDAY_SAID.search(text):
        return (day - timedelta(days=7)).isoformat()
    if (day - ctx.today).days <= 31:  # noqa: PLR2004 - "20号" read on 11-22: last month's
        month_before = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
        try:
            earlier = month_before.replace(day=day.day)
        except ValueError:
            return values[0]
        if earlier <= ctx.today:
            return earlier.isoformat()
    return values[0]


def date_slot(
    label: str = texts.SLOT_DATE,
    *,
    earliest: int = 1,
    latest: int = 30,
    past: bool = False,
    question: str = texts.ASK_DATE,
    choices: tuple[tuple[str, int], ...] = (),
) -> Slot:
    """A day between ``earliest`` and ``latest`` days from today (or in the past if ``past``)."""

    async def ask(ctx: Ctx, slots: Slots) -> Reply:
        offsets = choices or tuple(("", earliest + i) for i in range(3))
        days = [(text, ctx.today + timedelta(days=offset)) for text, offset in offsets]
        options = tuple(
            slot.option(text or format_date(day), day.isoformat()) for text, day in days
        )
        return Reply(question, options)

    async def validate(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
        try:
            day = date.fromisoformat(str(value))
        except ValueError:
            return Rejection(question)
        offset = (day - ctx.today).days
        if past:  # a stay that began, or one planned ("要住进去") within ``latest`` days
            if offset > 0 and not phrases.STAY_PLANNED.search(ctx.turn.text):
                return Rejection(texts.ADMISSION_FUTURE.format(date=format_date(day)))
            if offset > latest:
                return Rejection(texts.ADMISSION_TOO_FAR.format(date=format_date(day)))
            return None
        if offset < 0:
            return Rejection(texts.DATE_PAST.format(date=format_date(day)))
        if offset < earliest:
            return Rejection(texts.DATE_TOO_SOON)
        if offset > latest:
            return Rejection(texts.DATE_TOO_FAR.format(days=latest))
        return None

    slot = Slot(
        "date",
        label,
        ask,
        entity="date",
        pick=_past_pick if past else _future_pick,
        validate=validate,
    )
    return slot


# Parts of the day no one comes or escorts at: said back, never changed silently.
UNSERVED_PARTS = frozenset({"evening", "night", "noon"})


def _part_of(value: str) -> str:
    if ":" in value:
        return "morning" if int(value.split(":", 1)[0]) < NOON else "afternoon"
    return value


def part_slot(exact_times: bool = False, validate: Validate | None = None) -> Slot:
    """Morning or afternoon; with ``exact_times`` a clock time ("15:00") is kept as said."""

    async def ask(ctx: Ctx, slots: Slots) -> Reply:
        return Reply(
            texts.ASK_PART,
            (
                slot.option(texts.PART_MORNING, "morning"),
                slot.option(texts.PART_AFTERNOON, "afternoon"),
            ),
        )

    def pick(ctx: Ctx, values: list[str]) -> str:
        # "晚上不行啊 那就下午": a time we serve over one we do not
        served = [v for v in values if _part_of(v) not in UNSERVED_PARTS] or values
        return served[0] if exact_times else _part_of(served[0])

    async def check(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
        if value in UNSERVED_PARTS:
            # "晚上" is said back plainly with what we can do, never made an afternoon.
            said = texts.PARTS_OF_DAY.get(str(value), str(value))
            return Rejection(
                texts.PART_NOT_SERVED.format(part=said),
                (
                    slot.option(texts.PART_MORNING, "morning"),
                    slot.option(texts.PART_AFTERNOON, "afternoon"),
                ),
            )
        return await validate(ctx, value, slots) if validate is not None else None

    def parse(ctx: Ctx, text: str) -> str | None:
        if phrases.MORNING.search(text):
            return "morning"
        if phrases.AFTERNOON.search(text):
            return "afternoon"
        return None

    slot = Slot("time", texts.SLOT_TIME, ask, entity="time", pick=pick, parse=parse, validate=check)
    return slot


def move_said(ctx: Ctx) -> int | None:
    """Where the words of moving a booking begin ("改到…", or "往后推一天"), if any."""
    marker = phrases.RESCHEDULE.search(ctx.turn.text or "")
    if marker is not None:
        return marker.start()
    shifts = [int(e.get("start") or 0) for e in ctx.turn.entities if e["entity"] == "shift"]
    return min(shifts) if shifts else None
