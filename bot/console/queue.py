"""待办: every open request, longest waiting first, filtered by kind, state, district, due
date and owner; a request's page with its history; assigning it, moving it on, notes, and
answering a hand-off through the channel the person wrote on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from bot.channels.wechat_api import CS_WINDOW
from bot.console.actions import perform
from bot.console.web import Signed, guarded, number, param, render, runtime_of, staff_ids
from handlers import texts, workbench
from handlers.base import TZ
from handlers.workbench import WORKER_ROLES, Done
from storage.uow import UnitOfWork
from storage.workbench import QueueFilter

__all__ = [
    "queue",
    "request_assign",
    "request_move",
    "request_note",
    "request_page",
    "request_reply",
]

# The kinds the queue offers as filters (an emergency is on the board, but shows here too).
KINDS = (
    "medical_escort",
    "hospital_admission",
    "hospital_visit",
    "admission_review",
    "must_visit",
    "plan_item",
    "doctor_renewal",
    "handoff",
    "reimbursement",
    "eldercare",
    "identity_check",
    "forget_me",
    "volunteer_hours",
    "sos",
)


def _filter(request: Request, who: Signed) -> tuple[QueueFilter, dict[str, str]]:
    kind = param(request, "kind")
    status = param(request, "status")
    district = param(request, "district", 40)
    due = param(request, "due")
    owner = param(request, "owner")
    today = datetime.now(TZ).date()
    due_before = {"today": today, "week": today + timedelta(days=7)}.get(due)
    due_on = today + timedelta(days=1) if due == "tomorrow" else None
    where = QueueFilter(
        kinds=(kind,) if kind in KINDS else (),
        status=status if status in texts.REQUEST_STATUSES else None,
        district=district or None,
        due_before=due_before,
        due_on=due_on,
        by_date=param(request, "sort") == "date",
        staff_id=who.member.id if owner == "mine" else None,
        unassigned=owner == "nobody",
    )
    chosen = {
        "kind": kind,
        "status": status,
        "district": district,
        "due": due,
        "owner": owner,
        "sort": param(request, "sort"),
    }
    return where, chosen


@guarded("queue.view")
async def queue(request: Request, who: Signed) -> Response:
    """The queue (the list block alone for htmx)."""
    where, chosen = _filter(request, who)
    offset = number(request.query_params.get("offset"))
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        shown = await uow.workbench.queue_page(where, offset)
    context = {
        "services": shown.services,
        "page": shown.page,
        "names": shown.names,
        "districts": shown.districts,
        "chosen": chosen,
        "kinds": KINDS,
        "statuses": texts.REQUEST_STATUSES,
        "now": datetime.now(UTC),
    }
    block = "list" if request.headers.get("hx-target") == "queue-list" else None
    return render(request, "queue.html", context, who=who, block=block)


async def _request_context(request: Request, request_id: int) -> dict[str, object] | None:
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        item = await uow.requests.get(request_id)
        if item is None:
            return None
        person = await uow.people.get(item.person_id) if item.person_id else None
        history = await uow.requests.history(request_id)
        staff = [m for m in await uow.workbench.active_staff() if m.role in WORKER_ROLES]
        history_staff = staff_ids(h.actor for h in history)
        names = await uow.workbench.staff_names([item.assigned_staff_id, *history_staff])
        account = (
            await uow.accounts.get(item.requested_by_account_id)
            if item.requested_by_account_id
            else None
        )
        messages = await uow.workbench.last_messages(account.id) if account else []
        last_in = await uow.workbench.last_inbound_at(account.id) if account else None
        services = await uow.workbench.service_names()
    window_open = None
    if account is not None and account.channel == "wechat":
        window_open = last_in is not None and datetime.now(UTC) - last_in < CS_WINDOW
    return {
        "item": item,
        "person": person,
        "history": history,
        "staff": staff,
        "names": names,
        "account": account,
        "messages": messages,
        "window_open": window_open,
        "states": workbench.STATES,
        "services": services,
    }


@guarded("queue.view")
async def request_page(request: Request, who: Signed) -> Response:
    """One request."""
    request_id = number(request.path_params.get("id"))
    context = await _request_context(request, request_id)
    if context is not None and getattr(context["item"], "kind", "") == "sos":
        return RedirectResponse(f"/console/alerts/{request_id}", 303)  # on the board's page
    if context is None:
        return render(
            request,
            "error.html",
            {"title": "没有找到", "why": texts.CONSOLE_NOT_FOUND.format(id=request_id)},
            who=who,
            status=404,
        )
    return render(request, "request.html", context, who=who)


@guarded("request.work")
async def request_assign(request: Request, who: Signed) -> Response:
    """Give the request to a staff member (an escort's retiree is told who)."""
    item, helper = number(request.path_params.get("id")), number(who.field("staff", 12))

    async def assign(uow: UnitOfWork, now: datetime) -> Done:
        return await workbench.assign(uow, who.member, item, helper, now)

    return await perform(request, who, assign, "request.html", _request_context)


@guarded("request.work")
async def request_move(request: Request, who: Signed) -> Response:
    """Put the request in another state."""
    item = number(request.path_params.get("id"))

    async def move(uow: UnitOfWork, now: datetime) -> Done:
        return await workbench.move(
            uow,
            who.member,
            item,
            status=who.field("status", 20),
            words=who.field("note"),
            now=now,
        )

    return await perform(request, who, move, "request.html", _request_context)


@guarded("request.work")
async def request_note(request: Request, who: Signed) -> Response:
    """Add a note to the request's history."""
    item = number(request.path_params.get("id"))

    async def note(uow: UnitOfWork, now: datetime) -> Done:
        return await workbench.note(uow, who.member, item, who.field("note"), now)

    return await perform(request, who, note, "request.html", _request_context)


@guarded("handoff.reply")
async def request_reply(request: Request, who: Signed) -> Response:
    """Answer whoever asked, through their channel."""
    item = number(request.path_params.get("id"))

    async def reply(uow: UnitOfWork, now: datetime) -> Done:
        return await workbench.reply(uow, who.member, item, who.field("text"), now)

    return await perform(request, who, reply, "request.html", _request_context)
