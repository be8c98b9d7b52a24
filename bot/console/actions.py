"""After a console action is committed: publish its events (the jobs tell the person and
the other staff, as for the chat's commands) and send its notices to the retiree through
their channel. Neither may fail the page: what could not be sent is said on it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

import structlog
from starlette.requests import Request
from starlette.responses import Response

from bot.console.web import Signed, number, render, runtime_of
from bot.jobs import Jobs
from bot.notify import SENT
from handlers import texts
from handlers.workbench import Done, Notice
from storage.uow import UnitOfWork

__all__ = ["after_commit", "perform"]

log = structlog.get_logger("yinling.console")

SEND_SECONDS = 15.0


Action = Callable[[UnitOfWork, datetime], Awaitable[Done]]
Context = Callable[[Request, int], Awaitable[dict[str, object] | None]]


async def perform(
    request: Request, who: Signed, action: Action, template: str, context: Context
) -> Response:
    """Run a staff action in one transaction, then publish and send what it calls for, and
    answer with the item's page again, saying how it went (409 when it was refused)."""
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        done = await action(uow, datetime.now(UTC))
        await uow.commit()
    delivered = await after_commit(request, done) if done.ok else True
    item = number(request.path_params.get("id"))
    shown = await context(request, item)
    if shown is None:
        return render(
            request, "error.html", {"title": "没有找到", "why": done.message}, who=who, status=404
        )
    flash = done.message if delivered else f"{done.message}（{texts.CONSOLE_NOT_DELIVERED}）"
    return render(
        request,
        template,
        {**shown, "flash": flash, "ok": done.ok},
        who=who,
        status=200 if done.ok else 409,
    )


async def after_commit(request: Request, done: Done) -> bool:
    """Publish the events and send the notices of a committed action; False when a notice
    could not be delivered (the page says so, and staff phone instead)."""
    jobs: Jobs | None = getattr(request.app.state, "jobs", None)
    if jobs is None:
        return not done.notices
    if done.events:
        try:
            async with asyncio.timeout(5):
                await jobs.dispatch([event.to_dict() for event in done.events])
        except Exception as e:  # the reconciler still does what was not kicked
            log.warning("console_events_not_dispatched", error=type(e).__name__)
    return await _send(request, jobs, done.notices)


async def _send(request: Request, jobs: Jobs, notices: Sequence[Notice]) -> bool:
    delivered = True
    for notice in notices:
        async with UnitOfWork(runtime_of(request).sessions) as uow:
            account = await uow.accounts.get(notice.account_id)
        if account is None:
            delivered = False
            continue
        try:
            async with asyncio.timeout(SEND_SECONDS):
                result = await jobs.notifier.send(account, [notice.reply], notice.purpose)
        except Exception as e:
            log.warning("console_notice_failed", error=type(e).__name__, account_id=account.id)
            result = "failed"
        delivered = delivered and result == SENT
    return delivered
