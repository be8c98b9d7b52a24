"""An account's life outside the roster match: following and unfollowing the official
account, a retiree inviting family, and asking for one's data to be deleted."""

from __future__ import annotations

from datetime import timedelta

from handlers import texts
from handlers.base import Ctx, Reply
from handlers.binding.flow import bind_code, welcome
from handlers.binding.pending import pending
from handlers.events import HandoffRequested
from handlers.handoff import when_answered
from handlers.wording import address, menu_reply

FAMILY_CODE_DAYS = 3  # a code a retiree passes to a child is valid this long


async def forget_me(ctx: Ctx) -> list[Reply]:
    """ "删除我的信息" / "不想用了": a request to staff to delete the person's data (and to
    withdraw consent); emergencies keep working meanwhile."""
    request = await ctx.uow.requests.create(
        "forget_me",
        now=ctx.now,
        actor=ctx.actor,
        person_id=ctx.person.id if ctx.person else None,
        status="open",
        account_id=ctx.account.id if ctx.account else None,
        details={"channel": ctx.channel, "external_id": ctx.external_id},
    )
    ctx.uow.audit.record(ctx.now, ctx.actor, "forget_requested", "service_request", request.id)
    ctx.emit(HandoffRequested(request_id=request.id, reason="forget_me"))
    ctx.conv.end_flow()
    when = when_answered(ctx.local_now, ctx.config)
    return [Reply(texts.FORGET_ME_FILED.format(id=request.id, when=when))]


async def invite_family(ctx: Ctx) -> list[Reply]:
    """A retiree lets a son or daughter act for them: a one-time family code to pass on."""
    if ctx.person is None or ctx.account is None or ctx.account.role != "retiree":
        return [Reply(texts.FAMILY_INVITE_NOT_RETIREE)]
    issued = await ctx.uow.codes.issue(
        ctx.now,
        ctx.actor,
        role="family",
        person_id=ctx.person.id,
        valid_for=timedelta(days=FAMILY_CODE_DAYS),
    )
    ctx.uow.audit.record(
        ctx.now, ctx.actor, "code_issued", "binding_code", issued.id, role="family"
    )
    return [Reply(texts.FAMILY_INVITE_CODE.format(code=issued.code, days=FAMILY_CODE_DAYS))]


async def subscribe(ctx: Ctx) -> list[Reply]:
    """A new follower: a code in the QR scene binds at once; otherwise welcome and binding."""
    if ctx.turn.values("code"):
        return await bind_code(ctx)
    if ctx.person is None and ctx.account is not None and ctx.account.pending_person_id:
        return await pending(ctx)
    if ctx.person is not None:
        return [
            menu_reply(
                texts.WELCOME_BACK.format(address=address(ctx.person, ctx.config)), ctx.config
            )
        ]
    return await welcome(ctx)


async def unsubscribe(ctx: Ctx) -> list[Reply]:
    """An unfollow: forget the account's personal data (as WeChat requires); keep the records."""
    account = await ctx.uow.accounts.forget(ctx.channel, ctx.external_id)
    ctx.forget = True
    if account is not None:
        ctx.uow.audit.record(ctx.now, "system", "account_forgotten", "channel_account", account.id)
    ctx.conv.end_flow()
    return []
