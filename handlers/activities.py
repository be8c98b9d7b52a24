"""Activities: what is coming (numbered, so "2" signs up for the second), sign-ups for
oneself and/or the spouse with seats and a waitlist, and cancelling any booking."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from handlers import choices, phrases, texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.eldercare import service_name
from handlers.events import ActivitySignedUp, BookingCancelled, WaitlistPromoted
from handlers.flows import Flow, Rejection, Slot, Slots, start_flow
from handlers.slots import BOTH, SELF, SPOUSE, who_phrase, who_slot
from handlers.wording import format_date, format_when, menu_reply
from storage.activities import AlreadyRegistered
from storage.models import Activity

__all__ = [
    "CANCEL",
    "SIGNUP",
    "about_named",
    "about_topic",
    "activity_list",
    "activity_time",
    "booking_cancel",
    "signup",
]

LIST_SIZE = 6
# How long the activity last talked about stays "this one" ("给我报上", "几点集合").
TOPIC_MINUTES = 30
SIGNUP_NAME = "activity_signup"
CANCELLABLE = {
    "medical_escort": ("pending", "assigned"),
    "eldercare": ("booked",),
    "reimbursement": ("booked",),
}


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


def _signup_options(ctx: Ctx, activities: list[Activity]) -> tuple[Option, ...]:
    return tuple(
        Option(_line(ctx, a), payload("activity_signup", activity=a.id)) for a in activities
    )


async def _upcoming(ctx: Ctx, limit: int = LIST_SIZE) -> list[Activity]:
    return await ctx.uow.activities.upcoming(ctx.now, limit=limit)


# -------------------------------------------------------------------- list
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
    upcoming = await _upcoming(ctx, limit=50)
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
    upcoming = await _upcoming(ctx, limit=50)
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
            return [Reply(texts.ACT_LIST_HEAD, _signup_options(ctx, picked[:LIST_SIZE]))]
    days = ctx.turn.values("date")
    if days:
        wanted = {date.fromisoformat(d) for d in days}
        upcoming = [
            a for a in upcoming if a.starts_at.astimezone(ctx.local_now.tzinfo).date() in wanted
        ]
        if not upcoming:
            when = texts.LIST_SEPARATOR.join(format_date(d) for d in sorted(wanted))
            later = await _upcoming(ctx)
            return [
                Reply(
                    texts.ACT_LIST_EMPTY.format(when=when) + texts.ACT_LIST_HEAD,
                    _signup_options(ctx, later),
                )
            ]
    return [Reply(texts.ACT_LIST_HEAD, _signup_options(ctx, upcoming[:LIST_SIZE]))]


# ------------------------------------------------------------------ sign-up
async def _find_activity(ctx: Ctx, value: Any) -> Any:
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    name = str(value)
    upcoming = await _upcoming(ctx, limit=50)
    exact = [a for a in upcoming if a.title == name]
    close = exact or [a for a in upcoming if name in a.title or a.title in name]
    return close[0].id if close else name


async def _check_activity(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
    activity = await ctx.uow.activities.get(value) if isinstance(value, int) else None
    upcoming = await _upcoming(ctx)
    if activity is None or activity.starts_at < ctx.now:
        return Rejection(texts.ACT_UNKNOWN.format(name=value), _signup_options(ctx, upcoming))
    if activity.eligibility == "lixiu" and (ctx.person is None or ctx.person.category != "lixiu"):
        others = [a for a in upcoming if a.eligibility != "lixiu"]
        return Rejection(
            texts.ACT_NOT_ELIGIBLE.format(title=activity.title), _signup_options(ctx, others)
        )
    remember(ctx, activity)
    return None


async def _ask_activity(ctx: Ctx, slots: Slots) -> Reply:
    return Reply(texts.ACT_ASK_WHICH, _signup_options(ctx, await _upcoming(ctx)))


def _attendees(who: str) -> tuple[str, ...]:
    return (SELF, SPOUSE) if who == BOTH else (who,)


async def _signup_summary(ctx: Ctx, slots: Slots) -> str:
    activity = await ctx.uow.activities.get(int(slots["activity"]))
    assert activity is not None  # checked when the slot was filled  # noqa: S101
    full = activity.seats_taken + len(_attendees(str(slots["who"]))) > activity.capacity
    return texts.ACT_SUMMARY.format(
        title=activity.title,
        when=activity_time(ctx, activity),
        place=activity.place,
        who=who_phrase(ctx, str(slots["who"])),
        note=texts.ACT_SUMMARY_FULL if full else "",
    )


async def _sign_up(ctx: Ctx, slots: Slots) -> list[Reply]:
    activity = await ctx.uow.activities.get(int(slots["activity"]))
    if activity is None or ctx.person is None:
        return [menu_reply(texts.NOTHING_TO_RESUME, ctx.config)]
    if activity.cancelled_at is not None:  # cancelled by staff while we were asking
        return [menu_reply(texts.ACT_WAS_CANCELLED.format(title=activity.title), ctx.config)]
    lines = []
    for attendee in _attendees(str(slots["who"])):
        who = who_phrase(ctx, attendee)
        try:
            result = await ctx.uow.activities.sign_up(
                activity.id,
                ctx.person.id,
                attendee,
                ctx.now,
                ctx.account.id if ctx.account else None,
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
SIGNUP = Flow(
    name=SIGNUP_NAME,
    title=texts.ACT_TITLE,
    slots=(ACTIVITY, who_slot(allow_both=True)),
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


# ------------------------------------------------------------------- cancel
async def _cancellable(ctx: Ctx) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, label, facts) for everything the person can still cancel, the nearest first
    (so that "头一个" is the next thing to happen)."""
    if ctx.person is None:
        return []
    items: list[tuple[str, str, dict[str, Any]]] = []
    for registration, activity in await ctx.uow.activities.for_person(
        ctx.person.id, ctx.now, snapshot=True
    ):
        label = texts.CANCEL_ITEM_ACTIVITY.format(
            title=activity.title,
            when=activity_time(ctx, activity),
            who=who_phrase(ctx, registration.attendee),
        )
        facts = {
            "activity": activity.title,
            "date": activity.starts_at.astimezone(ctx.local_now.tzinfo).date().isoformat(),
        }
        items.append((f"reg:{registration.id}", label, facts))
    for request in await ctx.uow.requests.for_person(
        ctx.person.id, kinds=tuple(CANCELLABLE), open_only=True, snapshot=True
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


async def booking_cancel(ctx: Ctx) -> list[Reply]:
    """Cancel a sign-up or a booking; a freed seat goes to the first on the waitlist."""
    items = await _cancellable(ctx)
    if not items:
        return [menu_reply(texts.CANCEL_NOTHING, ctx.config)]
    chosen = [key for key, _, facts in items if _matches(ctx, facts)]
    listed = _listed_pick(ctx, {key for key, _, _ in items})
    if len(chosen) != 1 and listed is not None:
        chosen = [listed]  # "第二个不要了" after "我的记录": the second of that list
    kept_days = _days_to_keep(ctx)
    if len(chosen) > 1 and kept_days:  # "明天的送饭不要了 后天的还要"
        facts_of = {key: facts for key, _, facts in items}
        left = [k for k in chosen if str(facts_of[k].get("date")) not in kept_days]
        chosen = left or chosen
    both = [joined for joined, _ in _couples(items) if set(joined.split(BOTH_KEYS)) == set(chosen)]
    slots: Slots = {"booking": chosen[0]} if len(chosen) == 1 else {}
    if both and phrases.COUPLE.search(ctx.turn.text):
        slots = {"booking": both[0]}  # "合唱团 俩人都不去了"
    return await start_flow(ctx, CANCEL, slots)
