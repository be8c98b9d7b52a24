"""What staff see when they write to the bot: the queue of open requests (more comes with
the paging and broadcast issue). Only accounts bound as staff get here."""

from __future__ import annotations

from handlers import phrases, texts
from handlers.base import Ctx, Reply
from handlers.wording import format_when

__all__ = ["QUEUE_KINDS", "staff"]

QUEUE_KINDS = ("sos", "handoff", "hospital_visit", "medical_escort", "hospital_admission")
SHOWN = 10


async def staff(ctx: Ctx) -> list[Reply]:
    """The open requests, oldest first; anything else gets the staff help line."""
    member = (
        await ctx.uow.staff.get(ctx.account.staff_id)
        if ctx.account and ctx.account.staff_id
        else None
    )
    name = member.name if member else ""
    if ctx.turn.text.strip() not in phrases.STAFF_QUEUE:
        return [Reply(texts.STAFF_HELLO.format(name=name))]
    queue = await ctx.uow.requests.queue(QUEUE_KINDS, limit=SHOWN)
    if not queue:
        return [Reply(texts.STAFF_QUEUE_EMPTY)]
    ctx.uow.audit.record(
        ctx.now, ctx.actor, "queue_viewed", "service_request", None, count=len(queue)
    )
    lines = []
    for n, (request, person) in enumerate(queue, 1):
        lines.append(
            texts.STAFF_QUEUE_LINE.format(
                n=n,
                kind=texts.REQUEST_KINDS.get(request.kind, request.kind),
                who=person.name if person else texts.STAFF_UNKNOWN_PERSON,
                what=format_when(request.scheduled_date, request.scheduled_time),
                status=texts.REQUEST_STATUSES.get(request.status, request.status),
            )
        )
    return [Reply(texts.STAFF_QUEUE_HEAD.format(lines="\n".join(lines)))]
