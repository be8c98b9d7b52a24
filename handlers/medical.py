"""The medical green channel: escorted hospital visits (就医一键通), hospital stays
(住院提醒, with a staff visit due within 24 hours), and medical-bill reimbursement."""

from __future__ import annotations

from datetime import UTC, date, timedelta

from handlers import phrases, texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.events import EscortBooked, HospitalStayReported, ReimbursementBooked
from handlers.flows import Flow, Rejection, Slot, Slots, kept, start_flow
from handlers.slots import date_slot, move_said, part_slot, who_phrase, who_slot
from handlers.wording import format_date, format_when, status_name
from storage.repos import CLOSED_STATUSES

__all__ = ["ADMISSION", "CLAIM", "ESCORT", "admission", "escort", "reimbursement"]

VISIT_WITHIN = timedelta(hours=24)
MAX_NAME = 20  # characters in a hospital or department name said as an answer
TBD = "tbd"
OTHER_HOSPITAL = "other_hospital"  # a hospital outside the partner list, once it was said


# ------------------------------------------------------------------ escort
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


async def _ask_department(ctx: Ctx, slots: Slots) -> Reply:
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


async def _moved_from(ctx: Ctx, slots: Slots) -> int | None:
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


async def _book_escort(ctx: Ctx, slots: Slots) -> list[Reply]:
    replaced = await _moved_from(ctx, slots)
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
    _ask_department,
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


# --------------------------------------------------------------- admission
async def _ask_stay_hospital(ctx: Ctx, slots: Slots) -> Reply:
    partners = [h for h in await ctx.uow.catalog.hospitals() if h.green_channel]
    return Reply(
        texts.ADMISSION_ASK_HOSPITAL, tuple(STAY_HOSPITAL.option(h.name, h.name) for h in partners)
    )


def _any_hospital(ctx: Ctx, text: str) -> str | None:
    """A hospital the bureau doesn't work with is still a hospital stay: keep it as written."""
    cleaned = text.strip(phrases.ANSWER_TRIM)
    return (
        cleaned
        if 1 < len(cleaned) <= MAX_NAME
        and ctx.turn.intent not in {"deny", "stop"}
        and phrases.HOSPITAL_WORDS.search(cleaned)  # "明天中午的" answers no "which hospital?"
        else None
    )


async def _admission_summary(ctx: Ctx, slots: Slots) -> str:
    department = slots.get("department")
    return texts.ADMISSION_SUMMARY.format(
        who=who_phrase(ctx, str(slots["who"])),
        hospital=slots["hospital"],
        department=f" {department}" if department else "",
        since=format_date(date.fromisoformat(slots["date"])),
    )


async def _report_stay(ctx: Ctx, slots: Slots) -> list[Reply]:
    person_id = ctx.person.id if ctx.person else None
    account_id = ctx.account.id if ctx.account else None
    details = {
        "hospital": slots["hospital"],
        "department": slots.get("department"),
        "since": slots["date"],
        **kept(slots),
    }
    stay = await ctx.uow.requests.create(
        "hospital_admission", now=ctx.now, actor=ctx.actor, person_id=person_id, status="reported",
        beneficiary=str(slots["who"]), account_id=account_id, details=details,
        scheduled_date=date.fromisoformat(slots["date"]),
    )  # fmt: skip
    due = ctx.now + VISIT_WITHIN
    await ctx.uow.requests.create(
        "hospital_visit", now=ctx.now, actor=ctx.actor, person_id=person_id, status="pending",
        beneficiary=str(slots["who"]), account_id=account_id,
        details={"stay_request_id": stay.id, **details}, due_at=due,
    )  # fmt: skip
    ctx.emit(
        HospitalStayReported(
            request_id=stay.id,
            hospital=str(slots["hospital"]),
            since=str(slots["date"]),
            beneficiary=str(slots["who"]),
            visit_due=due.astimezone(UTC).isoformat(),
        )
    )
    return [Reply(texts.ADMISSION_DONE.format(id=stay.id))]


STAY_HOSPITAL = Slot(
    "hospital", texts.ADMISSION_SLOT_HOSPITAL, _ask_stay_hospital, parse=_any_hospital
)
ADMISSION = Flow(
    name="hospital_admission",
    title=texts.ADMISSION_TITLE,
    slots=(
        who_slot(),
        STAY_HOSPITAL,
        date_slot(
            texts.ADMISSION_SLOT_SINCE,
            past=True,
            question=texts.ADMISSION_ASK_SINCE,
            choices=(
                (texts.ADMISSION_TODAY, 0),
                (texts.ADMISSION_YESTERDAY, -1),
                (texts.ADMISSION_BEFORE, -2),
            ),
        ),
        # Taken when said ("在心内科住着"), never asked.
        Slot(
            "department", texts.ESCORT_SLOT_DEPARTMENT, _ask_department, needed=lambda c, s: False
        ),
    ),
    summary=_admission_summary,
    complete=_report_stay,
)


async def admission(ctx: Ctx) -> list[Reply]:
    """Report a hospital stay, so staff visit and arrange care."""
    return await start_flow(ctx, ADMISSION)


# ----------------------------------------------------------- reimbursement
async def _claim_summary(ctx: Ctx, slots: Slots) -> str:
    if slots.get("replaces_when"):
        when = format_when(date.fromisoformat(slots["date"]), slots["time"])
        return texts.CLAIM_MOVE_SUMMARY.format(old=slots["replaces_when"], when=when)
    return texts.CLAIM_SUMMARY.format(
        place=texts.CLAIM_PLACE, when=format_when(date.fromisoformat(slots["date"]), slots["time"])
    )


async def _book_claim(ctx: Ctx, slots: Slots) -> list[Reply]:
    replaced = await _moved_from(ctx, slots)
    day = date.fromisoformat(slots["date"])
    request = await ctx.uow.requests.create(
        "reimbursement",
        now=ctx.now,
        actor=ctx.actor,
        person_id=ctx.person.id if ctx.person else None,
        status="booked",
        account_id=ctx.account.id if ctx.account else None,
        details={"place": texts.CLAIM_PLACE, "replaces": replaced, **kept(slots)},
        scheduled_date=day,
        scheduled_time=str(slots["time"]),
    )
    ctx.emit(
        ReimbursementBooked(request_id=request.id, date=day.isoformat(), time=str(slots["time"]))
    )
    return [Reply(texts.CLAIM_DONE.format(id=request.id))]


CLAIM = Flow(
    name="reimbursement",
    title=texts.CLAIM_TITLE,
    slots=(date_slot(earliest=1, latest=30), part_slot(exact_times=True)),
    summary=_claim_summary,
    complete=_book_claim,
)


async def _claim_status(ctx: Ctx) -> list[Reply]:
    claims = (
        await ctx.uow.requests.for_person(ctx.person.id, kinds=("reimbursement_claim",))
        if ctx.person
        else []
    )
    book = (Option(texts.CLAIM_BOOK, payload("reimbursement", book=True)),)
    if not claims:
        return [Reply(texts.CLAIM_NONE, book)]
    lines = []
    for n, claim in enumerate(claims[:5], 1):
        amount = claim.details.get("amount")
        lines.append(
            texts.CLAIM_LINE.format(
                n=n,
                date=format_date(claim.created_at.astimezone(ctx.local_now.tzinfo).date()),
                amount=texts.CLAIM_AMOUNT.format(amount=amount) if amount else "",
                status=status_name(claim.status),
            )
        )
    return [Reply(texts.CLAIM_STATUS_HEAD.format(lines="\n".join(lines)), book)]


async def reimbursement(ctx: Ctx) -> list[Reply]:
    """Where one's claims stand, or a time to hand in bills."""
    turn = ctx.turn
    if turn.values("status") or (not turn.payload and phrases.CLAIM_STATUS.search(turn.text or "")):
        return await _claim_status(ctx)
    if turn.values("book") or turn.values("date") or not turn.payload:
        return await start_flow(ctx, CLAIM, await moving(ctx, "reimbursement"))
    # From the menu: which of the two?
    return [
        Reply(
            texts.CLAIM_WHICH,
            (
                Option(texts.CLAIM_BOOK, payload("reimbursement", book=True)),
                Option(texts.CLAIM_CHECK, payload("reimbursement", status=True)),
            ),
        )
    ]
