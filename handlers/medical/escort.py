"""Escorted green-channel hospital visits (就医一键通): which partner hospital (or another,
arranged by staff), which department, which day and part of the day, for whom."""

from __future__ import annotations

from datetime import date, timedelta

from handlers import phrases, texts
from handlers.base import Ctx, Reply
from handlers.events import EscortBooked
from handlers.flows import Flow, Rejection, Slot, Slots, kept, start_flow
from handlers.medical.moves import moved_from, moving
from handlers.slots import date_slot, part_slot, who_phrase, who_slot
from handlers.wording import format_when

MAX_NAME = 20  # characters in a hospital or department name said as an answer
TBD = "tbd"
OTHER_HOSPITAL = "other_hospital"  # a hospital outside the partner list, once it was said


async def _ask_hospital(ctx: Ctx, slots: Slots) -> Reply:
    partners = [h for h in await ctx.uow.catalog.hospitals() if h.green_channel]
    return Reply(
        texts.ESCORT_ASK_HOSPITAL, tuple(HOSPITAL.option(h.name, h.name) for h in partners)
    )


async def _check_hospital(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
    hospital = await ctx.uow.catalog.hospital_by_name(str(value))
    if hospital is not None and hospital.green_channel:
        return None
    if slots.get(OTHER_HOSPITAL) == value:
        return None  # said again, or chosen: recorded as typed; staff arrange it
    slots[OTHER_HOSPITAL] = value
    partners = [h for h in await ctx.uow.catalog.hospitals() if h.green_channel]
    keep = HOSPITAL.option(texts.ESCORT_KEEP_HOSPITAL.format(hospital=value), str(value))
    return Rejection(
        texts.ESCORT_NOT_PARTNER.format(hospital=value),
        (*(HOSPITAL.option(h.name, h.name) for h in partners), keep),
    )


async def ask_department(ctx: Ctx, slots: Slots) -> Reply:
    return Reply(
        texts.ESCORT_ASK_DEPARTMENT, (DEPARTMENT.option(texts.ESCORT_DEPARTMENT_UNSURE, TBD),)
    )


async def _check_department(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
    if value == TBD or "hospital" not in slots:
        return None
    hospital = await ctx.uow.catalog.hospital_by_name(str(slots["hospital"]))
    if hospital is None or not hospital.departments or value in hospital.departments:
        return None
    examples = texts.LIST_SEPARATOR.join(hospital.departments[:4])
    return Rejection(
        texts.ESCORT_NO_DEPARTMENT.format(
            hospital=hospital.name, department=value, examples=examples
        ),
        (DEPARTMENT.option(texts.ESCORT_DEPARTMENT_UNSURE, TBD),),
    )


def _any_department(ctx: Ctx, text: str) -> str | None:
    """A department the NLU doesn't know, said in answer to the question ("产科")."""
    cleaned = text.strip(phrases.ANSWER_TRIM)
    if phrases.UNDECIDED.search(cleaned):
        return TBD  # "科室你们帮我定吧", "不知道挂啥科"
    plausible = 1 < len(cleaned) <= MAX_NAME and cleaned.endswith(phrases.DEPARTMENT_ENDINGS)
    return cleaned if plausible else None


def _department_name(value: str) -> str:
    return texts.ESCORT_DEPARTMENT_TBD if value == TBD else value


async def _escort_summary(ctx: Ctx, slots: Slots) -> str:
    if slots.get("replaces_when"):
        return texts.ESCORT_MOVE_SUMMARY.format(
            old=slots["replaces_when"],
            hospital=slots["hospital"],
            department=_department_name(str(slots["department"])),
            when=format_when(date.fromisoformat(slots["date"]), slots["time"]),
        )
    return texts.ESCORT_SUMMARY.format(
        hospital=slots["hospital"],
        department=_department_name(str(slots["department"])),
        when=format_when(date.fromisoformat(slots["date"]), slots["time"]),
        who=who_phrase(ctx, str(slots["who"])),
    )


async def _book_escort(ctx: Ctx, slots: Slots) -> list[Reply]:
    replaced = await moved_from(ctx, slots)
    day = date.fromisoformat(slots["date"])
    request = await ctx.uow.requests.create(
        "medical_escort",
        now=ctx.now,
        actor=ctx.actor,
        person_id=ctx.person.id if ctx.person else None,
        status="pending",
        beneficiary=str(slots["who"]),
        account_id=ctx.account.id if ctx.account else None,
        details={
            "hospital": slots["hospital"],
            "department": slots["department"],
            "replaces": replaced,
            **kept(slots),
        },
        scheduled_date=day,
        scheduled_time=str(slots["time"]),
        due_at=ctx.now + timedelta(days=1),
    )
    ctx.emit(
        EscortBooked(
            request_id=request.id,
            hospital=str(slots["hospital"]),
            department=str(slots["department"]),
            date=day.isoformat(),
            time=str(slots["time"]),
            beneficiary=str(slots["who"]),
        )
    )
    return [Reply(texts.ESCORT_DONE.format(id=request.id))]


HOSPITAL = Slot("hospital", texts.ESCORT_SLOT_HOSPITAL, _ask_hospital, validate=_check_hospital)
DEPARTMENT = Slot(
    "department",
    texts.ESCORT_SLOT_DEPARTMENT,
    ask_department,
    parse=_any_department,
    validate=_check_department,
)


async def _escort_already(ctx: Ctx, slots: Slots) -> str | None:
    """The same visit (hospital, department, day, person) already booked."""
    if ctx.person is None or "date" not in slots:
        return None
    for booked in await ctx.uow.requests.for_person(
        ctx.person.id, kinds=("medical_escort",), open_only=True
    ):
        same = (
            booked.id != slots.get("replaces")
            and booked.scheduled_date is not None
            and booked.scheduled_date.isoformat() == slots["date"]
            and booked.details.get("hospital") == slots.get("hospital")
            and booked.details.get("department") == slots.get("department")
            and booked.beneficiary == slots.get("who")
        )
        if same and booked.scheduled_date is not None:
            what = texts.ESCORT_ALREADY.format(
                hospital=slots["hospital"],
                department=_department_name(str(slots["department"])),
                when=format_when(booked.scheduled_date, booked.scheduled_time),
            )
            return texts.ALREADY_BOOKED.format(what=what, id=booked.id)
    return None


ESCORT = Flow(
    name="medical_escort",
    title=texts.ESCORT_TITLE,
    slots=(
        who_slot(),
        HOSPITAL,
        DEPARTMENT,
        date_slot(earliest=1, latest=30),
        part_slot(exact_times=True),
    ),
    summary=_escort_summary,
    complete=_book_escort,
    already=_escort_already,
)


async def escort(ctx: Ctx) -> list[Reply]:
    """Book an escorted green-channel hospital visit (or move one)."""
    return await start_flow(ctx, ESCORT, await moving(ctx, "medical_escort"))
