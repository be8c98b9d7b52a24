"""The hand-off (转人工) to the person's own contact (一对一) in office hours; outside them,
or without a contact, the usual routing (the queue, whoever is on duty)."""

from __future__ import annotations

from handlers.base import Ctx
from storage.models import Staff

__all__ = ["office_contact", "open_now"]


def open_now(ctx: Ctx) -> bool:
    """Whether the bureau is at work now (its office days and hours)."""
    local, config = ctx.local_now, ctx.config
    return (
        local.isoweekday() in config.office_days
        and config.office_open <= local.time() < config.office_close
    )


async def office_contact(ctx: Ctx) -> Staff | None:
    """The person's contact, if it is office hours and they have one."""
    if ctx.person is None or not open_now(ctx):
        return None
    return await ctx.uow.care.contact(ctx.person.id)
