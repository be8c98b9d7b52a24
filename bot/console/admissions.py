"""住院提醒 (the hospitals' feed, bot/feeds.py): the events nobody on the roster matched, or
that could not be read, for a clerk to match to a person (then the stay is recorded, as for
a matched event) or to dismiss. Every look and every decision is audited."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from bot.console.actions import perform
from bot.console.web import Signed, guarded, number, render, runtime_of
from handlers import admissions as feed
from handlers import texts
from storage.admissions import AdmissionRepo
from storage.uow import UnitOfWork

__all__ = ["admission_dismiss", "admission_match", "admissions"]

CANDIDATES = 5  # people suggested for one event


async def _context(request: Request) -> dict[str, object]:
    """The waiting events, each with the people on the roster it may be about."""
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        repo = AdmissionRepo(uow.session)
        rows = await repo.waiting()
        total = await repo.count_waiting()
        births = [b for b in (feed.birth_date(r.id_number) for r in rows) if b is not None]
        people = await repo.candidates([r.name for r in rows if r.name], births)
    items = []
    for row in rows:
        born = feed.birth_date(row.id_number)
        likely = [p for p in people if (row.name and p.name == row.name) or
                  (born is not None and p.birth_date == born)]  # fmt: skip
        items.append({"row": row, "masked": feed.mask_id(row.id_number), "born": born,
                      "candidates": likely[:CANDIDATES]})  # fmt: skip
    return {
        "items": items, "total": total, "nav": "admissions",
        "kinds": texts.FEED_KINDS, "states": texts.FEED_STATES,
    }  # fmt: skip


async def _after(request: Request, item: int) -> dict[str, object] | None:
    """The list again after an action on event ``item`` (None: there is no such event)."""
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        if await AdmissionRepo(uow.session).get(item) is None:
            return None
    return await _context(request)


@guarded("people.view")
async def admissions(request: Request, who: Signed) -> Response:
    """The hospitals' events waiting for a clerk."""
    context = await _context(request)
    shown = context["items"]
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        uow.audit.record(datetime.now(UTC), f"staff:{who.member.id}", "feed_viewed",
                         "admission_event", None,
                         shown=len(shown) if isinstance(shown, list) else 0)  # fmt: skip
        await uow.commit()
    return render(request, "admissions.html", context, who=who)


@guarded("people.edit")
async def admission_match(request: Request, who: Signed) -> Response:
    """Say who an event is about: the stay is recorded (or closed) as for a matched one."""
    row_id = number(request.path_params.get("id"))
    person_id = number(who.field("person", 12))

    async def action(uow: UnitOfWork, now: datetime) -> feed.Done:
        return await feed.match(uow, who.member.id, row_id, person_id, now)

    return await perform(request, who, action, "admissions.html", _after)


@guarded("people.edit")
async def admission_dismiss(request: Request, who: Signed) -> Response:
    """Set an event aside (not about anyone on the roster, a test, unreadable)."""
    row_id = number(request.path_params.get("id"))

    async def action(uow: UnitOfWork, now: datetime) -> feed.Done:
        return await feed.dismiss(uow, who.member.id, row_id, now)

    return await perform(request, who, action, "admissions.html", _after)
