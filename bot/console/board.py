"""紧急求助: the board of open emergencies (refreshed every few seconds), one emergency's
page with its whole history, and taking, annotating and closing one."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from bot.console.actions import perform
from bot.console.cards import card, digest, order
from bot.console.web import Signed, guarded, number, render, runtime_of
from handlers import texts, workbench
from handlers.workbench import Done
from storage.uow import UnitOfWork

__all__ = [
    "alert_close", "alert_note", "alert_page", "alert_take", "board", "board_count", "board_live",
]  # fmt: skip

POLL_SECONDS = 3  # the board asks for news this often (the issue asks for 5 s at most)


async def _board(request: Request) -> dict[str, object]:
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        alerts = await uow.workbench.board()
        ids = [s.staff_id for a in alerts for s in a.steps] + [
            a.alert.acknowledged_by for a in alerts
        ]
        names = await uow.workbench.staff_names(ids)
    cards = order([card(a, names) for a in alerts])
    return {
        "cards": cards,
        "waiting": sum(c.status != "acknowledged" for c in cards),
        "digest": digest(cards),
        "poll": POLL_SECONDS,
        "now": datetime.now(UTC),
    }


@guarded("board.view")
async def board(request: Request, who: Signed) -> Response:
    """The board."""
    return render(request, "board.html", await _board(request), who=who)


@guarded("board.view")
async def board_live(request: Request, who: Signed) -> Response:
    """The board's list alone (htmx polls it); nothing (204: htmx leaves the page as it is,
    focus and all) when nothing changed since the digest the page holds."""
    context = await _board(request)
    if request.query_params.get("seen") == context["digest"]:
        return Response(status_code=204)
    return render(request, "board.html", context, who=who, block="board")


@guarded("board.view")
async def board_count(request: Request, who: Signed) -> Response:
    """How many emergencies nobody has taken: the badge in every page's menu (polled)."""
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        waiting = await uow.workbench.waiting_alerts()
    return render(request, "count.html", {"waiting": waiting}, who=who)


async def _alert_context(request: Request, request_id: int) -> dict[str, object] | None:
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        found = await uow.workbench.alert(request_id)
        if found is None:
            return None
        ids = [s.staff_id for s in found.steps] + [found.alert.acknowledged_by]
        names = await uow.workbench.staff_names(ids)
        history = await uow.requests.history(request_id)
    return {"item": found, "card": card(found, names), "names": names, "history": history}


@guarded("board.view")
async def alert_page(request: Request, who: Signed) -> Response:
    """One emergency: the person, the words, every step."""
    request_id = number(request.path_params.get("id"))
    context = await _alert_context(request, request_id)
    if context is None:
        return _not_found(request, who, request_id)
    return render(request, "alert.html", context, who=who)


def _not_found(request: Request, who: Signed, request_id: int) -> Response:
    return render(
        request,
        "error.html",
        {"title": "没有找到", "why": texts.CONSOLE_NOT_FOUND.format(id=request_id)},
        who=who,
        status=404,
    )


@guarded("alert.take")
async def alert_take(request: Request, who: Signed) -> Response:
    """Take an emergency (the first to take it gets it)."""
    item = number(request.path_params.get("id"))

    async def take(uow: UnitOfWork, now: datetime) -> Done:
        return await workbench.take_alert(uow, who.member, item, now)

    return await perform(request, who, take, "alert.html", _alert_context)


@guarded("alert.take")
async def alert_note(request: Request, who: Signed) -> Response:
    """Add a note to an emergency."""
    item = number(request.path_params.get("id"))

    async def note(uow: UnitOfWork, now: datetime) -> Done:
        if await uow.alerts.for_request(item) is None:  # not an emergency: not the board's
            return Done(False, texts.CONSOLE_NOT_FOUND.format(id=item))
        return await workbench.note(uow, who.member, item, who.field("note"), now)

    return await perform(request, who, note, "alert.html", _alert_context)


@guarded("alert.close")
async def alert_close(request: Request, who: Signed) -> Response:
    """Close an emergency with its outcome."""
    item = number(request.path_params.get("id"))

    async def close(uow: UnitOfWork, now: datetime) -> Done:
        return await workbench.close_alert(
            uow,
            who.member,
            item,
            outcome=who.field("outcome", 20),
            words=who.field("note"),
            now=now,
        )

    return await perform(request, who, close, "alert.html", _alert_context)
