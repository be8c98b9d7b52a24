"""Signing up oneself and/or the spouse for an activity: seats while they last, then the
waitlist (storage/activities.py keeps the order)."""

from __future__ import annotations

from typing import Any

from handlers import phrases, texts
from handlers.activities.listing import (
    SIGNUP_NAME,
    activity_time,
    remember,
    signup_options,
    topic_activity,
    upcoming_activities,
)
from handlers.base import Ctx, Reply
from handlers.couple import waiting_side
from handlers.events import ActivitySignedUp
from handlers.flows import Flow, Rejection, Slot, Slots, start_flow
from handlers.slots import BOTH, SELF, SPOUSE, who_phrase, who_slot
from handlers.wording import menu_reply
from storage.activities import AlreadyRegistered


async def _find_activity(ctx: Ctx, value: Any) -> Any:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    name = str(value)
    upcoming = await upcoming_activities(ctx, limit=50)
    exact = [a for a in upcoming if a.title == name]
    close = exact or [a for a in upcoming if name in a.title or a.title in name]
    core = phrases.ACTIVITY_WORD.sub("", name)  # "党日活动" is 主题党日
    if not close and len(core) >= 2:  # noqa: PLR2004
        by_core = [a for a in upcoming if core in a.title]
        close = by_core if len(by_core) == 1 else []
    return close[0].id if close else name


async def _check_activity(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
    activity = await ctx.uow.activities.get(value) if isinstance(value, int) else None
    upcoming = await upcoming_activities(ctx)
    if activity is None or activity.starts_at < ctx.now:
        return Rejection(texts.ACT_UNKNOWN.format(name=value), signup_options(ctx, upcoming))
    if activity.eligibility == "lixiu" and (ctx.person is None or ctx.person.category != "lixiu"):
        others = [a for a in upcoming if a.eligibility != "lixiu"]
        return Rejection(
            texts.ACT_NOT_ELIGIBLE.format(title=activity.title), signup_options(ctx, others)
        )
    remember(ctx, activity)
    return None


async def _ask_activity(ctx: Ctx, slots: Slots) -> Reply:
    return Reply(texts.ACT_ASK_WHICH, signup_options(ctx, await upcoming_activities(ctx)))


def _attendees(who: str, first: object = SELF) -> tuple[str, ...]:
    """Who is signed up, in order: of a couple, the one to take a last seat first."""
    if who != BOTH:
        return (who,)
    return (SPOUSE, SELF) if first == SPOUSE else (SELF, SPOUSE)


async def _signup_summary(ctx: Ctx, slots: Slots) -> str:
    activity = await ctx.uow.activities.get(int(slots["activity"]))
    assert activity is not None  # checked when the slot was filled  # noqa: S101
    attendees = _attendees(str(slots["who"]), slots.get(FIRST_NAME))
    left = activity.capacity - activity.seats_taken
    note = texts.ACT_SUMMARY_FULL if left < len(attendees) else ""
    if len(attendees) == 2 and left == 1:  # noqa: PLR2004 - a couple, one seat left
        first, second = (who_phrase(ctx, a) for a in attendees)
        note = texts.ACT_SUMMARY_ONE_SEAT.format(first=first, second=second)
    if len(attendees) == 2 and slots.get(FIRST_NAME) == NEITHER:  # noqa: PLR2004
        note = texts.ACT_SUMMARY_BOTH_WAIT
    return texts.ACT_SUMMARY.format(
        title=activity.title,
        when=activity_time(ctx, activity),
        place=activity.place,
        who=who_phrase(ctx, str(slots["who"])),
        note=note,
    )


async def _sign_up(ctx: Ctx, slots: Slots) -> list[Reply]:
    activity = await ctx.uow.activities.get(int(slots["activity"]))
    if activity is None or ctx.person is None:
        return [menu_reply(texts.NOTHING_TO_RESUME, ctx.config)]
    if activity.cancelled_at is not None:  # cancelled by staff while we were asking
        return [menu_reply(texts.ACT_WAS_CANCELLED.format(title=activity.title), ctx.config)]
    lines = []
    for attendee in _attendees(str(slots["who"]), slots.get(FIRST_NAME)):
        who = who_phrase(ctx, attendee)
        try:
            result = await ctx.uow.activities.sign_up(
                activity.id,
                ctx.person.id,
                attendee,
                ctx.now,
                ctx.account.id if ctx.account else None,
                seat=slots.get(FIRST_NAME) != NEITHER,
            )
        except AlreadyRegistered as e:
            status = texts.ACT_STATUS.get(e.registration.status, e.registration.status)
            lines.append(texts.ACT_ALREADY.format(who=who, title=activity.title, status=status))
            continue
        ctx.emit(
            ActivitySignedUp(
                registration_id=result.id,
                activity_id=activity.id,
                activity=activity.title,
                attendee=attendee,
                status=result.status,
                position=result.position,
            )
        )
        if result.status == "registered":
            lines.append(
                texts.ACT_REGISTERED.format(
                    who=who, title=activity.title, when=activity_time(ctx, activity)
                )
            )
        else:
            lines.append(
                texts.ACT_WAITLISTED.format(title=activity.title, who=who, position=result.position)
            )
    return [Reply("\n".join(lines))]


ACTIVITY = Slot(
    "activity",
    texts.ACT_SLOT_WHICH,
    _ask_activity,
    normalize=_find_activity,
    validate=_check_activity,
)
FIRST_NAME = "first"
NEITHER = "neither"  # both would rather wait than go one without the other


async def _never_asked(ctx: Ctx, slots: Slots) -> Reply:
    return Reply(texts.ACT_SLOT_FIRST)  # never asked: told, or the retiree first


def _first_inferred(ctx: Ctx) -> str | None:
    """ "那我先报上 他排候补": the one of the couple who takes the seat first."""
    waiting = waiting_side(ctx)
    return {SELF: SPOUSE, SPOUSE: SELF, BOTH: NEITHER}.get(waiting) if waiting else None


# Of a couple signing up together, who takes a last seat (the other waits); only told.
FIRST = Slot(
    FIRST_NAME,
    texts.ACT_SLOT_FIRST,
    _never_asked,
    needed=lambda ctx, slots: False,
    infer=_first_inferred,
)
SIGNUP = Flow(
    name=SIGNUP_NAME,
    title=texts.ACT_TITLE,
    slots=(ACTIVITY, who_slot(allow_both=True), FIRST),
    summary=_signup_summary,
    complete=_sign_up,
)


async def signup(ctx: Ctx) -> list[Reply]:
    """Sign up oneself and/or the spouse for an activity ("给他报上" after one was
    shown: that one)."""
    slots: Slots = {}
    offered = [o for o in ctx.conv.options if o.startswith("/activity_signup{")]
    if not ctx.turn.values("activity") and len(offered) == 1:
        chosen = offered[0].split('"activity":', 1)[1].rstrip("}")
        if chosen.strip().isdigit():
            slots["activity"] = int(chosen)
    if not ctx.turn.values("activity") and "activity" not in slots:
        topic = await topic_activity(ctx)  # "噶末帮我报一个": the one just asked about
        if topic is not None:
            slots["activity"] = topic.id
    return await start_flow(ctx, SIGNUP, slots)
