"""A user whose binding waits to be proven: what they may do meanwhile (an emergency,
policy questions, a person) and the SMS code they type."""

from __future__ import annotations

from handlers import handoff, phrases, policy, texts
from handlers.base import Ctx, Reply
from handlers.binding.checks import pending_options, resend, verify
from handlers.binding.flow import welcome
from handlers.binding.guard import CODE_KINDS, refused_for_tries, tries_left
from handlers.flows import SERVICE_INTENTS
from handlers.wording import address, menu_reply
from storage.models import IdentityCheck


async def pending(ctx: Ctx) -> list[Reply]:
    """A user whose binding waits to be proven: the SMS code, a new one, public questions,
    a person — and nothing that shows or changes the person's records."""
    account = ctx.account
    assert account is not None  # noqa: S101 - the router sends only pending accounts here
    check = await ctx.uow.verification.pending_of(account.id)
    turn = ctx.turn
    if check is None:  # ended meanwhile (rejected, or superseded): start over
        account.pending_person_id = None
        return await welcome(ctx)
    typed = phrases.SMS_CODE.match(turn.text.strip()) if turn.payload is None else None
    if typed:
        return await _sms_code(ctx, check, typed[1])
    if turn.intent == "resend_code":
        return await resend(ctx, check)
    if turn.intent == "policy_question" and turn.confidence >= ctx.config.confidence_threshold:
        return await policy.policy_question(ctx)
    if turn.intent == "human_agent" and (
        turn.payload or turn.confidence >= ctx.config.confidence_threshold
    ):
        return await handoff.handoff(ctx)
    sms = check.code is not None
    text = texts.BIND_PENDING_WAIT
    if turn.intent in SERVICE_INTENTS and turn.confidence >= ctx.config.confidence_threshold:
        text = texts.PENDING_CANNOT
    return [Reply(f"{text}\n{texts.BIND_PENDING_CODE}" if sms else text, pending_options(sms))]


async def _sms_code(ctx: Ctx, check: IdentityCheck, typed: str) -> list[Reply]:
    throttled = await refused_for_tries(ctx, CODE_KINDS, ctx.config.tries_per_hour)
    if throttled is not None:
        return throttled
    right = ctx.uow.verification.code_matches(check, typed, ctx.now)
    if right is None:
        options = pending_options(check.code is not None)
        return [Reply(texts.SMS_EXPIRED if check.sms != "off" else texts.SMS_NO_CODE, options)]
    if not right:
        ctx.uow.verification.miss(ctx.channel, ctx.external_id, "sms", ctx.now)
        left = await tries_left(ctx)
        if left <= 0:
            check.code = None  # this code is spent: a new one must be asked for
            return await refused_for_tries(ctx, CODE_KINDS, ctx.config.tries_per_hour) or []
        return [Reply(texts.SMS_WRONG.format(left=left), pending_options(True))]
    account = await verify(ctx, check, "sms")
    person = await ctx.uow.people.get(check.person_id)
    if account is None or person is None:
        return await welcome(ctx)
    ctx.person = person
    hello = texts.BIND_DONE.format(address=address(person, ctx.config))
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]
