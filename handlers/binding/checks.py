"""Pending bindings: name and phone matched, the person not yet proven. An SMS code to
the roster's phone, a staff member ("核实 N") or the person's own bound account
("同意绑定") proves it; a binding made another way ends it."""

from __future__ import annotations

from datetime import timedelta

from handlers import texts
from handlers.base import TZ, Ctx, Option, Reply, payload
from handlers.binding.guard import HOUR
from handlers.events import AccountBound, BindingDecided, BindingRequested
from handlers.handoff import when_answered
from storage.models import ChannelAccount, IdentityCheck, Person
from storage.verification import new_sms_code

MAX_SENDS = 3  # SMS codes per pending binding


async def pend(ctx: Ctx, account: ChannelAccount, person: Person) -> list[Reply]:
    """Name and phone matched: a pending binding, proven by an SMS code to the roster's
    phone, a staff member, or the person's own account (all three are asked at once)."""
    request = await ctx.uow.requests.create(
        "identity_check",
        now=ctx.now,
        actor=ctx.actor,
        person_id=person.id,
        status="open",
        account_id=account.id,
        details={"channel": ctx.channel, "external_id": ctx.external_id},
    )
    sms = ctx.config.sms_codes and bool(person.phone)
    check = await ctx.uow.verification.open(
        account,
        person.id,
        ctx.now,
        code=new_sms_code() if sms else None,
        code_valid=timedelta(minutes=ctx.config.sms_minutes),
        request_id=request.id,
    )
    ctx.uow.audit.record(
        ctx.now, ctx.actor, "binding_pending", "identity_check", check.id, person_id=person.id
    )
    ctx.emit(BindingRequested(check_id=check.id, person_id=person.id, account_id=account.id))
    ctx.conv.end_flow()
    if sms:
        text = texts.BIND_PENDING_SMS.format(
            name=person.name, tail=(person.phone or "")[-4:], minutes=ctx.config.sms_minutes
        )
    else:
        when = when_answered(ctx.local_now, ctx.config)
        text = texts.BIND_PENDING_STAFF.format(name=person.name, when=when)
    return [Reply(text, pending_options(sms))]


def pending_options(sms: bool) -> tuple[Option, ...]:
    staff = Option(texts.INTENT_LABELS["human_agent"], payload("human_agent"))
    return (Option(texts.BIND_RESEND, payload("resend_code")), staff) if sms else (staff,)


async def end_pending(ctx: Ctx, account: ChannelAccount, how: str) -> None:
    """A binding made another way ends the account's pending check (and its queue item)."""
    check = await ctx.uow.verification.pending_of(account.id)
    if check is not None:
        await _decide(ctx, check, "cancelled", how)


async def _decide(ctx: Ctx, check: IdentityCheck, status: str, how: str) -> None:
    await ctx.uow.verification.decide(check, status, how, ctx.actor, ctx.now)
    request = await ctx.uow.requests.get(check.request_id) if check.request_id else None
    if request is not None and request.status not in {"done", "cancelled"}:
        closed = "done" if status == "verified" else "cancelled"
        await ctx.uow.requests.set_status(request, closed, now=ctx.now, actor=ctx.actor, note=how)
    ctx.uow.audit.record(
        ctx.now, ctx.actor, f"binding_{status}", "identity_check", check.id, how=how
    )


async def verify(ctx: Ctx, check: IdentityCheck, how: str) -> ChannelAccount | None:
    """Prove a pending binding: the account becomes the person's (as a retiree)."""
    account = await ctx.uow.accounts.get(check.account_id)
    if account is None or check.status != "pending":
        return None
    await _decide(ctx, check, "verified", how)
    await ctx.uow.accounts.bind(account.channel, account.external_id, check.person_id, ctx.now)
    ctx.uow.audit.record(
        ctx.now, ctx.actor, "account_bound", "channel_account", account.id, how=how
    )
    ctx.emit(
        AccountBound(account_id=account.id, person_id=check.person_id, role="retiree", how=how)
    )
    return account


async def resend(ctx: Ctx, check: IdentityCheck) -> list[Reply]:
    if not ctx.config.sms_codes:
        return [Reply(texts.SMS_NO_CODE, pending_options(False))]
    if check.sends >= MAX_SENDS:
        at = (check.created_at + HOUR).astimezone(TZ).strftime("%H:%M")
        return [Reply(texts.BIND_RESEND_LIMIT.format(at=at), pending_options(False))]
    minutes = ctx.config.sms_minutes
    await ctx.uow.verification.new_code(check, ctx.now, timedelta(minutes=minutes))
    person = await ctx.uow.people.get(check.person_id)
    ctx.emit(
        BindingRequested(
            check_id=check.id,
            person_id=check.person_id,
            account_id=check.account_id,
            resend=True,
        )
    )
    tail = (person.phone or "")[-4:] if person else ""
    return [Reply(texts.BIND_RESENT.format(tail=tail, minutes=minutes), pending_options(True))]


async def owner_answer(ctx: Ctx, approve: bool) -> list[Reply]:
    """The person's own account answers "is this new account you or your family?"."""
    if ctx.person is None or ctx.account is None or ctx.account.role not in {"retiree", "family"}:
        return [Reply(texts.BINDING_NOTHING_PENDING)]
    check = await ctx.uow.verification.latest_pending_for(ctx.person.id, ctx.account.id)
    if check is None:
        return [Reply(texts.BINDING_NOTHING_PENDING)]
    if approve:
        await verify(ctx, check, "account")
        ctx.emit(BindingDecided(account_id=check.account_id, approved=True))
        return [Reply(texts.BINDING_APPROVED)]
    await _decide(ctx, check, "rejected", "account")
    await ctx.uow.requests.create(
        "handoff",
        now=ctx.now,
        actor=ctx.actor,
        person_id=ctx.person.id,
        status="open",
        account_id=ctx.account.id,
        details={"reason": "binding_rejected", "check": check.id},
    )
    ctx.emit(BindingDecided(account_id=check.account_id, approved=False))
    return [Reply(texts.BINDING_REJECTED)]
