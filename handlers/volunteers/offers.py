"""Offering a request to volunteers (staff do it: the console), a volunteer's answer in
chat ("1 接受": the first to accept gets it), and the retiree's confirmation of the hours
("1 对": credited to the volunteer's time bank; "2 不对": staff check, a request of kind
``volunteer_hours``). Staff confirm hours and redeem them in the console (actions here)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from handlers import phrases, texts
from handlers.base import Ctx, Reply
from handlers.events import VolunteerAccepted, VolunteerHoursCredited, VolunteerOffered
from handlers.volunteers.bank import hours
from handlers.workbench import Done
from storage.models import ServiceRequest, Staff, VolunteerTask
from storage.uow import UnitOfWork
from storage.volunteers import Offered, Overdrawn

__all__ = [
    "HOURS_KIND",
    "MINUTES",
    "answer",
    "confirm_hours",
    "fits",
    "offer_request",
    "redeem",
    "typed_answer",
]

HOURS_KIND = "volunteer_hours"  # a disputed time, for staff to check (the queue)
# The time a task is reckoned to take until the retiree or staff confirm another.
MINUTES = {"escort": 120, "companionship": 120, "reading": 60, "repair": 60}
# Which volunteers' skills fit a task of a skill (reading is done on a companionship visit).
FITTING = {
    "escort": ("escort",),
    "companionship": ("companionship", "reading"),
    "repair": ("repair",),
}
SHORT = 8  # a typed answer is a few characters ("1 接受"); a longer message is something else
CLOSED = frozenset({"cancelled", "rescheduled", "closed", "rejected", "done", "resolved"})


def fits(request: ServiceRequest) -> str | None:
    """The volunteer skill a request calls for (escort, companionship, repair), if any."""
    if request.status in CLOSED:
        return None
    if request.kind == "medical_escort":
        return "escort"
    service = str(request.details.get("service") or "")
    if request.kind == "eldercare" and service in {"companionship", "repair"}:
        return service
    return None


# ------------------------------------------------------------------ staff actions
async def offer_request(uow: UnitOfWork, member: Staff, request_id: int, now: datetime) -> Done:
    """Offer a request to every active volunteer whose skills and districts fit."""
    actor = f"staff:{member.id}"
    request = await uow.requests.get(request_id)
    skill = fits(request) if request is not None else None
    if request is None or skill is None:
        return Done(ok=False, message=texts.CONSOLE_OFFER_UNFIT)
    task = await uow.volunteers.task_of(request.id)
    if task is not None and task.volunteer_id is not None:
        return Done(ok=False, message=texts.CONSOLE_OFFER_DONE)
    person = await uow.people.get(request.person_id) if request.person_id else None
    district = person.district if person else None
    found = [
        v
        for v in await uow.volunteers.matching(FITTING[skill], district)
        if v.person_id != request.person_id
    ]
    if not found:
        return Done(ok=False, message=texts.CONSOLE_OFFER_NONE)
    task = await uow.volunteers.open_task(request, skill, MINUTES[skill], actor=actor, now=now)
    new = [v for v in found if await uow.volunteers.offer(task, v, now)]
    uow.audit.record(now, actor, "volunteer_offered", "service_request", request.id, n=len(new))
    note = texts.NOTE_VOL_OFFERED.format(n=len(new))
    uow.requests.note(request, note, now=now, actor=actor)
    event = VolunteerOffered(task_id=task.id, request_id=request.id, offers=len(new))
    return Done(ok=True, message=texts.CONSOLE_OFFER_SENT.format(n=len(new)), events=[event])


async def confirm_hours(
    uow: UnitOfWork, member: Staff, task_id: int, minutes: int, now: datetime
) -> Done:
    """Staff confirm a task's hours (the retiree could not, or disputed them)."""
    actor = f"staff:{member.id}"
    task = await uow.volunteers.task(task_id)
    if task is None or minutes <= 0 or task.volunteer_id is None or task.status == "confirmed":
        return Done(ok=False, message=texts.CONSOLE_HOURS_BAD)
    entry = await uow.volunteers.credit(task, minutes, actor=actor, now=now)
    if entry is None:
        return Done(ok=False, message=texts.CONSOLE_HOURS_BAD)
    uow.audit.record(now, actor, "volunteer_hours_confirmed", "volunteer_task", task.id, m=minutes)
    for disputed, _ in await uow.requests.queue((HOURS_KIND,), limit=50):
        if disputed.details.get("task_id") == task.id:
            await uow.requests.set_status(disputed, "done", now=now, actor=actor)
    event = VolunteerHoursCredited(task.id, task.volunteer_id, minutes, "staff")
    return Done(
        ok=True, message=texts.CONSOLE_HOURS_SAVED.format(hours=hours(minutes)), events=[event]
    )


async def redeem(
    uow: UnitOfWork,
    member: Staff,
    person_id: int,
    request_id: int,
    minutes: int,
    *,
    now: datetime,
) -> Done:
    """Take hours out of a person's time bank for a booked request of theirs or of a
    relative's (never below zero; once per request)."""
    actor = f"staff:{member.id}"
    request = await uow.requests.get(request_id)
    if request is None or request.status in CLOSED or await uow.volunteers.redeemed(request_id):
        return Done(ok=False, message=texts.CONSOLE_REDEEM_BAD)
    try:
        entry = await uow.volunteers.redeem(person_id, request, minutes, actor=actor, now=now)
    except Overdrawn:
        return Done(ok=False, message=texts.CONSOLE_REDEEM_OVER)
    uow.audit.record(now, actor, "time_bank_redeemed", "time_bank_entry", entry.id, m=minutes)
    note = texts.NOTE_VOL_REDEEMED.format(hours=hours(minutes))
    uow.requests.note(request, note, now=now, actor=actor)
    return Done(ok=True, message=texts.CONSOLE_REDEEMED.format(hours=hours(minutes)))


# ------------------------------------------------------------ answers in chat
def _number(value: object) -> int | None:
    text = str(value or "")
    return int(text) if text.isdecimal() and len(text) < 10 else None  # noqa: PLR2004


def _core(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().strip(phrases.OPTION_TRIM)


def _choice(text: str, yes: frozenset[str], no: frozenset[str]) -> bool | None:
    """1 / "1 接受" / "接受" -> True; 2 / "2 不接" / "不接" -> False; else None."""
    core = _core(text)
    if not core:
        return None
    words = core.lstrip("12 ").strip()
    if core[0] == "1" and (not words or words in yes):
        return True
    if core[0] == "2" and (not words or words in no):
        return False
    if core in no:
        return False
    return True if core in yes else None


async def _accept(ctx: Ctx, found: Offered, yes: bool) -> list[Reply]:
    volunteers = ctx.uow.volunteers
    offer, task, request = found.offer, found.task, found.request
    what = texts.VOL_WHAT.get(task.skill, texts.BANK_OTHER)
    offer.answered_at = ctx.now
    if not yes:
        offer.status = "declined"
        return [Reply(texts.OFFER_DECLINED)]
    if offer.status == "taken" or not await volunteers.claim(task, offer.volunteer_id, ctx.now):
        offer.status, offer.result = "taken", "told"  # told here: the job need not
        return [Reply(texts.OFFER_TOO_LATE)]
    offer.status = "accepted"
    for other in await volunteers.offers(task.id, ("to_send", "sent")):
        other.status = "taken"  # told by the job (services/volunteers.py)
    ctx.uow.audit.record(ctx.now, ctx.actor, "volunteer_accepted", "volunteer_task", task.id)
    volunteer = await volunteers.get(offer.volunteer_id)
    helper = await ctx.uow.people.get(volunteer.person_id) if volunteer else None
    ctx.uow.requests.note(
        request,
        texts.NOTE_VOL_ACCEPTED.format(name=helper.name if helper else offer.volunteer_id),
        now=ctx.now,
        actor=ctx.actor,
    )
    ctx.emit(VolunteerAccepted(task.id, request.id, offer.volunteer_id))
    return [Reply(texts.OFFER_YOURS.format(what=what))]


async def _hours(ctx: Ctx, task: VolunteerTask, request: ServiceRequest, yes: bool) -> list[Reply]:
    volunteer = await ctx.uow.volunteers.get(task.volunteer_id) if task.volunteer_id else None
    helper = await ctx.uow.people.get(volunteer.person_id) if volunteer else None
    if not yes or volunteer is None or helper is None:
        task.status = "disputed"
        await ctx.uow.requests.create(
            HOURS_KIND,
            now=ctx.now,
            actor=ctx.actor,
            person_id=request.person_id,
            account_id=ctx.account.id if ctx.account else None,
            details={"task_id": task.id, "request_id": request.id, "minutes": task.minutes},
        )
        ctx.uow.audit.record(
            ctx.now, ctx.actor, "volunteer_hours_disputed", "volunteer_task", task.id
        )
        return [Reply(texts.HOURS_DISPUTED)]
    await ctx.uow.volunteers.credit(task, task.minutes, actor=ctx.actor, now=ctx.now)
    ctx.uow.audit.record(ctx.now, ctx.actor, "volunteer_hours_confirmed", "volunteer_task", task.id)
    ctx.emit(VolunteerHoursCredited(task.id, volunteer.id, task.minutes, "retiree"))
    return [Reply(texts.HOURS_THANKS.format(name=helper.name, hours=hours(task.minutes)))]


async def answer(ctx: Ctx) -> list[Reply]:
    """``volunteer_answer`` (a button of the offer or of the hours question)."""
    turn = ctx.turn
    said = next(iter(turn.values("answer")), "")
    if ctx.person is None:
        return [Reply(texts.OFFER_TOO_LATE)]
    offer_id = _number(next(iter(turn.values("offer")), None))
    if offer_id is not None:
        found = await ctx.uow.volunteers.open_offer(ctx.person.id, offer_id)
        if found is None:
            return [Reply(texts.OFFER_ANSWERED)]
        return await _accept(ctx, found, said == "yes")
    task_id = _number(next(iter(turn.values("task")), None))
    asked = await ctx.uow.volunteers.asked_of(ctx.person.id, task_id) if task_id else None
    if asked is None:
        return [Reply(texts.HOURS_ALREADY)]
    return await _hours(ctx, asked[0], asked[1], said == "yes")


async def typed_answer(ctx: Ctx) -> list[Reply] | None:
    """A typed answer to the last offer or hours question we sent ("1 接受", "2", "对"),
    when that question is the last thing the person was asked; None otherwise."""
    text = ctx.turn.text
    if ctx.person is None or ctx.conv.flow or not 0 < len(_core(text)) <= SHORT:
        return None
    accepts = _choice(text, texts.VOL_ACCEPT_WORDS, texts.VOL_DECLINE_WORDS)
    confirms = _choice(text, texts.HOURS_YES_WORDS, texts.HOURS_NO_WORDS)
    if accepts is None and confirms is None:
        return None  # no answer to either question: nothing to look up
    volunteers = ctx.uow.volunteers
    offered = await volunteers.open_offer(ctx.person.id)
    asked = await volunteers.asked_of(ctx.person.id)
    if offered is None and asked is None:
        return None
    last_in = await ctx.uow.messages.last_inbound(ctx.channel, ctx.external_id)
    offer_at = offered.offer.created_at if offered else None
    asked_at = asked[0].asked_at if asked else None
    latest = max((t for t in (offer_at, asked_at) if t is not None), default=None)
    if latest is None or (last_in is not None and last_in > latest and ctx.conv.options):
        return None  # the person has talked with us since: "1" answers our own list
    if offered is not None and (asked_at is None or (offer_at and offer_at >= asked_at)):
        return None if accepts is None else await _accept(ctx, offered, accepts)
    assert asked is not None  # noqa: S101 - one of the two is there
    return None if confirms is None else await _hours(ctx, asked[0], asked[1], confirms)
