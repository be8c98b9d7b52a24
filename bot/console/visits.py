"""必访探望 on the console (五必访, handlers/visits.py): 记录探望 on a visit task's page
(who visited, when, what they noted; the task is done) and 登记必访事由 on a person's page
(a hardship, a bereavement, a change of situation: a visit owed within three days). For the
staff who work requests (``request.work``); audited like the chat's commands."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from bot.console.actions import perform
from bot.console.people import _person_context
from bot.console.queue import _request_context
from bot.console.web import Signed, guarded, number
from handlers import visits
from handlers.workbench import Done
from storage.uow import UnitOfWork

__all__ = ["person_occasion", "request_visit"]


@guarded("request.work")
async def request_visit(request: Request, who: Signed) -> Response:
    """记录探望: the visit made, with its note; the task is closed."""
    item = number(request.path_params.get("id"))

    async def visit(uow: UnitOfWork, now: datetime) -> Done:
        return await visits.log_visit(
            uow, who.member, item, who.field("note"), now=now, via="console"
        )

    return await perform(request, who, visit, "request.html", _request_context)


@guarded("request.work")
async def person_occasion(request: Request, who: Signed) -> Response:
    """登记必访事由: a hardship, bereavement or change of situation calls for a visit."""
    person_id = number(request.path_params.get("id"))

    async def record(uow: UnitOfWork, now: datetime) -> Done:
        return await visits.record_occasion(
            uow, who.member, person_id, who.field("occasion", 20), who.field("note"), now=now
        )

    return await perform(request, who, record, "person.html", _person_context)
