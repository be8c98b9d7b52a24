"""Medical-bill reimbursement: where one's claims stand, or a time to hand in the bills."""

from __future__ import annotations

from datetime import date

from handlers import phrases, texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.events import ReimbursementBooked
from handlers.flows import Flow, Slots, kept, start_flow
from handlers.medical.moves import moved_from, moving
from handlers.slots import date_slot, part_slot
from handlers.wording import format_date, format_when, status_name


async def _claim_summary(ctx: Ctx, slots: Slots) -> str:
    if slots.get("replaces_when"):
        when = format_when(date.fromisoformat(slots["date"]), slots["time"])
        return texts.CLAIM_MOVE_SUMMARY.format(old=slots["replaces_when"], when=when)
    return texts.CLAIM_SUMMARY.format(
        place=texts.CLAIM_PLACE, when=format_when(date.fromisoformat(slots["date"]), slots["time"])
    )


async def _book_claim(ctx: Ctx, slots: Slots) -> list[Reply]:
    replaced = await moved_from(ctx, slots)
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
