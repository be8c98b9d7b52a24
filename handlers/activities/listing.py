"""What is coming: the numbered list (so "2" signs up for the second), narrowed by the
week, the day or the kind said, and questions about one activity ("太极拳在哪儿练")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from handlers import phrases, texts
from handlers.base import Ctx, Option, Reply, Turn, payload
from handlers.wording import format_date, format_when
from storage.models import Activity

LIST_SIZE = 6
# How long the activity last talked about stays "this one" ("给我报上", "几点集合").
TOPIC_MINUTES = 30
SIGNUP_NAME = "activity_signup"


def activity_time(ctx: Ctx, activity: Activity) -> str:
    local = activity.starts_at.astimezone(ctx.local_now.tzinfo)
    return format_when(local.date(), local.strftime("%H:%M"))


def _seats(activity: Activity) -> str:
    left = activity.capacity - activity.seats_taken
    return texts.ACT_SEATS_LEFT.format(n=left) if left > 0 else texts.ACT_SEATS_FULL


def _line(ctx: Ctx, activity: Activity) -> str:
    line = texts.ACT_LINE.format(
        title=activity.title,
        when=activity_time(ctx, activity),
        place=activity.place,
        seats=_seats(activity),
    )
    return line + (texts.ACT_ONLY_LIXIU if activity.eligibility == "lixiu" else "")


def signup_options(ctx: Ctx, activities: list[Activity]) -> tuple[Option, ...]:
    return tuple(
        Option(_line(ctx, a), payload("activity_signup", activity=a.id)) for a in activities
    )


async def upcoming_activities(ctx: Ctx, limit: int = LIST_SIZE) -> list[Activity]:
    return await ctx.uow.activities.upcoming(ctx.now, limit=limit)


def _week_said(ctx: Ctx, text: str) -> tuple[date, date] | None:
    """The days of "这周" (today to Sunday) or "下周" (next Monday to Sunday), if said."""
    today = ctx.today
    if phrases.NEXT_WEEK.search(text):
        monday = today + timedelta(days=7 - today.weekday())
        return monday, monday + timedelta(days=6)
    if phrases.THIS_WEEK.search(text):
        return today, today + timedelta(days=6 - today.weekday())
    return None


async def about_named(ctx: Ctx) -> list[Reply] | None:
    """A question about one activity named in the message ("太极拳在哪儿练 几点",
    "离休干部座谈会谁能参加"): when, where, seats or waiting list, who may join, and to
    sign up; None when no upcoming activity is named."""
    names = ctx.turn.values("activity")
    text = ctx.turn.text or ""
    kinds = [words for pattern, words in phrases.ACTIVITY_KINDS if pattern.search(text)]
    if not names and not (kinds and phrases.ASKS_DETAIL.search(text)):
        return None
    upcoming = await upcoming_activities(ctx, limit=50)
    found = {
        a.id: a
        for name in names
        for a in upcoming
        if a.title == name or name in a.title or (len(name) >= 2 and a.title in name)  # noqa: PLR2004
    }
    if not names:  # "唱戏那个 要交钱不": the one activity of that kind
        found = {a.id: a for a in upcoming if _of_kinds(a, kinds)}
    if len(found) != 1:
        return None
    [activity] = found.values()
    return _about(ctx, activity)


def asks_about(turn: Turn) -> bool:
    """A question about an activity's particulars read as a sign-up ("离休干部座谈会谁能参加"):
    asked, not "报"; answered with its facts, the sign-up offered."""
    text = turn.text
    return (
        turn.intent == "activity_signup"
        and bool(phrases.ASKS_DETAIL.search(text) and phrases.QUESTION.search(text))
        and not phrases.SIGN_UP_WORD.search(text)
    )


async def about_topic(ctx: Ctx) -> list[Reply] | None:
    """A question about the particulars of the activity just talked about, naming none
    ("几点集合 在哪", "要交钱不"): answered for that one; None otherwise."""
    turn = ctx.turn
    if turn.payload is not None or turn.values("activity"):
        return None
    if not phrases.ASKS_DETAIL.search(turn.text or ""):
        return None
    activity = await topic_activity(ctx)
    return None if activity is None else _about(ctx, activity)


def _about(ctx: Ctx, activity: Activity) -> list[Reply]:
    """When, where, seats or waiting list, who may join, and to sign up."""
    remember(ctx, activity)
    who = texts.ACT_ONLY_LIXIU_WHO if activity.eligibility == "lixiu" else texts.ACT_EVERYONE
    text = texts.ACT_ABOUT.format(line=_line(ctx, activity), who=who)
    join = Option(texts.ACT_SIGN_UP.format(title=activity.title),
                  payload("activity_signup", activity=activity.id))  # fmt: skip
    return [Reply(text, (join,))]


def remember(ctx: Ctx, activity: Activity) -> None:
    """The activity now talked about: "this one" for the next half hour."""
    until = ctx.now + timedelta(minutes=TOPIC_MINUTES)
    ctx.conv.topic = {"activity": activity.id, "until": until.isoformat()}


async def topic_activity(ctx: Ctx) -> Activity | None:
    """The activity of the sign-up under way, else the one last talked about, if upcoming."""
    conv = ctx.conv
    chosen = conv.slots.get("activity") if conv.flow == SIGNUP_NAME else None
    topic = conv.topic or {}
    if chosen is None and topic.get("until") and str(topic["until"]) > ctx.now.isoformat():
        chosen = topic.get("activity")
    if not isinstance(chosen, int):
        return None
    activity = await ctx.uow.activities.get(chosen)
    return activity if activity is not None and activity.starts_at >= ctx.now else None


def _of_kinds(activity: Activity, kinds: Sequence[Sequence[str]]) -> bool:
    return any(w in activity.title or w == activity.category for ws in kinds for w in ws)


async def activity_list(ctx: Ctx) -> list[Reply]:
    """What is coming, with seats left; a reply of "2" signs up for the second. A question
    about one named activity is answered for it."""
    named = await about_named(ctx)
    if named is not None:
        return named
    upcoming = await upcoming_activities(ctx, limit=50)
    text = ctx.turn.text or ""
    span = _week_said(ctx, text)
    kinds = [words for pattern, words in phrases.ACTIVITY_KINDS if pattern.search(text)]
    if span is not None or kinds:
        local = ctx.local_now.tzinfo
        picked = [
            a for a in upcoming
            if (span is None or span[0] <= a.starts_at.astimezone(local).date() <= span[1])
            and (not kinds or _of_kinds(a, kinds))
        ]  # fmt: skip
        if picked:  # "下周有啥活动", "有没有唱歌的": only those
            return [Reply(texts.ACT_LIST_HEAD, signup_options(ctx, picked[:LIST_SIZE]))]
    days = ctx.turn.values("date")
    if days:
        wanted = {date.fromisoformat(d) for d in days}
        upcoming = [
            a for a in upcoming if a.starts_at.astimezone(ctx.local_now.tzinfo).date() in wanted
        ]
        if not upcoming:
            when = texts.LIST_SEPARATOR.join(format_date(d) for d in sorted(wanted))
            later = await upcoming_activities(ctx)
            return [
                Reply(
                    texts.ACT_LIST_EMPTY.format(when=when) + texts.ACT_LIST_HEAD,
                    signup_options(ctx, later),
                )
            ]
    return [Reply(texts.ACT_LIST_HEAD, signup_options(ctx, upcoming[:LIST_SIZE]))]
