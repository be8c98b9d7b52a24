"""Hospital stays (住院提醒): reported with the hospital and the day, and a staff visit due
within 24 hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from handlers import phrases, texts
from handlers.base import TZ, Ctx, Reply
from handlers.events import HospitalStayReported
from handlers.flows import Flow, Slot, Slots, kept, start_flow
from handlers.medical.escort import MAX_NAME, ask_department
from handlers.slots import date_slot, who_phrase, who_slot
from handlers.wording import format_date
from storage.models import ServiceRequest
from storage.uow import UnitOfWork
from storage.visits import HOSPITAL, VisitRepo

VISIT_WITHIN = timedelta(hours=24)


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


async def record_stay(
    uow: UnitOfWork,
    *,
    now: datetime,
    actor: str,
    person_id: int | None,
    account_id: int | None,
    beneficiary: str,
    details: dict[str, Any],
    since: date,
) -> tuple[ServiceRequest, HospitalStayReported]:
    """Record a hospital stay and the staff's visit task, due within 24 hours: what a
    retiree's own report does, and what a hospital's admission event does (handlers/
    admissions.py). The event is the caller's to emit."""
    stay = await uow.requests.create(
        "hospital_admission", now=now, actor=actor, person_id=person_id, status="reported",
        beneficiary=beneficiary, account_id=account_id, details=details, scheduled_date=since,
    )  # fmt: skip
    due = now + VISIT_WITHIN
    visit = await uow.requests.create(
        "hospital_visit", now=now, actor=actor, person_id=person_id, status="pending",
        beneficiary=beneficiary, account_id=account_id,
        details={"stay_request_id": stay.id, **details}, due_at=due,
    )  # fmt: skip
    if person_id is not None:  # the must-visit ledger (五必访) has the stay's visit
        await VisitRepo(uow.session).add(
            person_id, HOSPITAL, since, due.astimezone(TZ).date(), now=now, actor=actor,
            request=visit,
        )  # fmt: skip
    event = HospitalStayReported(
        request_id=stay.id,
        hospital=str(details["hospital"]),
        since=since.isoformat(),
        beneficiary=beneficiary,
        visit_due=due.astimezone(UTC).isoformat(),
    )
    return stay, event


async def _report_stay(ctx: Ctx, slots: Slots) -> list[Reply]:
    details = {
        "hospital": slots["hospital"],
        "department": slots.get("department"),
        "since": slots["date"],
        **kept(slots),
    }
    stay, event = await record_stay(
        ctx.uow, now=ctx.now, actor=ctx.actor, person_id=ctx.person.id if ctx.person else None,
        account_id=ctx.account.id if ctx.account else None, beneficiary=str(slots["who"]),
        details=details, since=date.fromisoformat(slots["date"]),
    )  # fmt: skip
    ctx.emit(event)
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
        Slot("department", texts.ESCORT_SLOT_DEPARTMENT, ask_department, needed=lambda c, s: False),
    ),
    summary=_admission_summary,
    complete=_report_stay,
)


async def admission(ctx: Ctx) -> list[Reply]:
    """Report a hospital stay, so staff visit and arrange care."""
    return await start_flow(ctx, ADMISSION)
