"""What every way of binding shares: the limits on tries (per user and for everyone,
within an hour; storage/verification.py), the privacy notice agreed to on the account,
and the record of an account bound."""

from __future__ import annotations

from datetime import timedelta

from handlers import texts
from handlers.base import TZ, Ctx, Option, Reply, payload
from handlers.events import AccountBound
from handlers.flows import Slots
from storage.models import ChannelAccount, Person

MAX_ATTEMPTS = 3  # unmatched names and phones per user per hour, then a pause
HOUR = timedelta(hours=1)
ROSTER_KINDS = ("roster",)
CODE_KINDS = ("code", "sms")


async def consented_account(ctx: Ctx) -> ChannelAccount:
    """The user's account, with the notice they agreed to recorded (once)."""
    account = await ctx.uow.accounts.create_unbound(ctx.channel, ctx.external_id, ctx.now)
    if account.consent_version != texts.CONSENT_VERSION:
        account.consent_version = texts.CONSENT_VERSION
        account.consented_at = ctx.now
        ctx.uow.audit.record(
            ctx.now, ctx.actor, "consent_given", "channel_account", account.id,
            version=texts.CONSENT_VERSION,
        )  # fmt: skip
    ctx.account = account
    return account


async def refused_for_tries(ctx: Ctx, kinds: tuple[str, ...], limit: int) -> list[Reply] | None:
    """The reply when this user (or everyone together) has missed too often this hour."""
    hour_ago = ctx.now - HOUR
    mine, oldest = await ctx.uow.verification.misses(hour_ago, ctx.channel, ctx.external_id, kinds)
    everyone, first = await ctx.uow.verification.misses(hour_ago)
    if mine >= limit:
        again = oldest
    elif everyone >= ctx.config.tries_global_per_hour:
        again = first
    else:
        return None
    at = ((again or ctx.now) + HOUR).astimezone(TZ).strftime("%H:%M")
    ctx.uow.audit.record(ctx.now, ctx.actor, "binding_throttled", "channel_account", None)
    text = texts.BIND_THROTTLED if kinds == ROSTER_KINDS else texts.CODES_THROTTLED
    staff = Option(texts.INTENT_LABELS["human_agent"], payload("human_agent"))
    return [Reply(text.format(at=at, hotline=ctx.config.hotline), (staff,))]


async def tries_left(ctx: Ctx) -> int:
    mine, _ = await ctx.uow.verification.misses(
        ctx.now - HOUR, ctx.channel, ctx.external_id, CODE_KINDS
    )
    return max(ctx.config.tries_per_hour - mine, 0)


def consented_before(ctx: Ctx, slots: Slots) -> str | None:
    account = ctx.account
    return "yes" if account is not None and account.consent_version else None


async def record_bound(ctx: Ctx, account: ChannelAccount, person: Person | None, how: str) -> None:
    ctx.uow.audit.record(
        ctx.now, ctx.actor, "account_bound", "channel_account", account.id, how=how
    )
    if person is not None:
        ctx.emit(
            AccountBound(account_id=account.id, person_id=person.id, role=account.role, how=how)
        )
