"""审计日志: every staff action, from the console and the chat; read-only."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.console.web import Signed, guarded, number, param, render, runtime_of
from storage.uow import UnitOfWork

__all__ = ["audit"]


@guarded("audit.view")
async def audit(request: Request, who: Signed) -> Response:
    """The audit log, newest first, filtered by who, what and on what."""
    query = request.query_params
    actor = param(request, "actor", 40)
    action = param(request, "action", 40)
    target = param(request, "target", 30)
    offset = number(query.get("offset"))
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        page = await uow.workbench.audit(
            actor=actor or None, action=action or None, target_type=target or None, offset=offset
        )
        actions = await uow.workbench.audit_actions()
    context = {"page": page, "actor": actor, "action": action, "target": target, "actions": actions}
    return render(request, "audit.html", context, who=who)
