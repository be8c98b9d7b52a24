"""The binding flow: the privacy notice first (PIPL), then a one-time code from staff or
the person (QR scene, deep link, typed), a phone number Telegram vouches for, or a name
and phone found on the roster (which makes a pending binding, handlers/binding/checks.py)."""

from __future__ import annotations

import re

from handlers import phrases, texts
from handlers.base import Ctx, Option, Reply, payload
from handlers.binding.checks import end_pending, pend
from handlers.binding.guard import (
    CODE_KINDS,
    MAX_ATTEMPTS,
    ROSTER_KINDS,
    consented_account,
    consented_before,
    record_bound,
    refused_for_tries,
    tries_left,
)
from handlers.events import BindingFailed
from handlers.flows import Flow, Rejection, Slot, Slots, ask_again
from handlers.handoff import create_handoff, when_answered
from handlers.wording import address, mask_phone, menu_reply
from storage.repos import digits

_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,5}$")
_NOT_NAMES = {"greet", "thanks_bye", "affirm", "deny", "stop", "human_agent", "sos"}


def _parse_name(ctx: Ctx, text: str) -> str | None:
    cleaned = phrases.NAME_PUNCTUATION.sub("", text)
    explicit = bool(phrases.NAME_PREFIX.match(cleaned))
    if (
        not explicit
        and ctx.turn.intent in _NOT_NAMES
        and ctx.turn.confidence >= ctx.config.confidence_threshold
    ):
        return None  # "你好", "好的" or "救命" is not a name
    cleaned = phrases.NAME_PREFIX.sub("", cleaned)
    cleaned = re.sub(r"\d+", "", cleaned)
    return cleaned if _NAME.match(cleaned) else None


def _parse_phone(ctx: Ctx, text: str) -> str | None:
    number = digits(text)
    return number or None


async def _check_phone(ctx: Ctx, value: object, slots: Slots) -> Rejection | None:
    number = str(value)
    if len(number) != 11 or not number.startswith("1"):  # noqa: PLR2004 - mobile numbers
        return Rejection(texts.BIND_BAD_PHONE)
    return None


async def _ask_name(ctx: Ctx, slots: Slots) -> Reply:
    return Reply(texts.BIND_ASK_NAME)


async def _ask_phone(ctx: Ctx, slots: Slots) -> Reply:
    return Reply(texts.BIND_ASK_PHONE.format(name=slots.get("name", "")))


async def _complete(ctx: Ctx, slots: Slots) -> list[Reply]:
    if slots.get("consent") != "yes":
        ctx.conv.end_flow()
        return [Reply(texts.CONSENT_DECLINED.format(hotline=ctx.config.hotline))]
    code = slots.get("code")
    if code:
        return await bind_code(ctx, str(code), agreed=True)
    name, phone = str(slots["name"]), str(slots["phone"])
    throttled = await refused_for_tries(ctx, ROSTER_KINDS, MAX_ATTEMPTS)
    if throttled is not None:
        return throttled
    person = await ctx.uow.people.find_by_name_and_phone(name, phone)
    if person is None:
        ctx.uow.verification.miss(ctx.channel, ctx.external_id, "roster", ctx.now)
        attempts = int(slots.get("attempts", 0)) + 1
        ctx.emit(BindingFailed(attempts=attempts))
        if attempts >= MAX_ATTEMPTS:
            await create_handoff(ctx, "binding")
            when = when_answered(ctx.local_now, ctx.config)
            return [Reply(texts.BIND_GIVE_UP.format(hotline=ctx.config.hotline, when=when))]
        prefix = texts.BIND_NOT_FOUND.format(name=name, phone=mask_phone(phone))
        kept = {"attempts": attempts, "consent": "yes"}
        return await ask_again(ctx, BINDING, kept, prefix)
    account = await consented_account(ctx)
    if account.person_id == person.id and account.active and account.bound_at is not None:
        return [
            menu_reply(texts.WELCOME_BACK.format(address=address(person, ctx.config)), ctx.config)
        ]
    return await pend(ctx, account, person)


async def _no_summary(ctx: Ctx, slots: Slots) -> str:
    return ""  # binding writes nothing the user must confirm


def _parse_consent(ctx: Ctx, text: str) -> str | None:
    said = text.strip()
    if said in {"1", texts.CONSENT_YES} or phrases.CONSENT_YES.match(said):
        return "yes"
    if said in {"2", texts.CONSENT_NO} or phrases.CONSENT_NO.match(said):
        return "no"
    intent = ctx.turn.intent
    if intent in {"affirm", "deny"} and ctx.turn.confidence >= ctx.config.confidence_threshold:
        return "yes" if intent == "affirm" else "no"
    return None


async def _ask_consent(ctx: Ctx, slots: Slots) -> Reply:
    options = (
        Option(texts.CONSENT_YES, payload("inform", consent="yes")),
        Option(texts.CONSENT_NO, payload("inform", consent="no")),
        Option(texts.INTENT_LABELS["human_agent"], payload("human_agent")),
    )
    return Reply(texts.CONSENT_NOTICE.format(bureau=ctx.config.bureau), options)


def _agreed(ctx: Ctx, slots: Slots) -> bool:
    return slots.get("consent") == "yes" and not slots.get("code")


BINDING = Flow(
    name="binding",
    title=texts.BIND_TITLE,
    slots=(
        Slot(
            "consent",
            texts.BIND_SLOT_CONSENT,
            _ask_consent,
            parse=_parse_consent,
            default=consented_before,
        ),
        Slot(
            "name",
            texts.BIND_SLOT_NAME,
            _ask_name,
            entity="person_name",
            parse=_parse_name,
            needed=_agreed,
        ),
        Slot(
            "phone",
            texts.BIND_SLOT_PHONE,
            _ask_phone,
            parse=_parse_phone,
            validate=_check_phone,
            needed=_agreed,
        ),
    ),
    summary=_no_summary,
    complete=_complete,
    confirm=False,
)


async def welcome(ctx: Ctx) -> list[Reply]:
    """First contact from an unknown user: the privacy notice, then binding with what they
    said (a name and phone in the first message are kept for after the consent)."""
    slots: Slots = {}
    text = ctx.turn.text or ""
    if phrases.NAME_PREFIX.match(text.strip()):
        name = _parse_name(ctx, phrases.NAME_SPLIT.split(text.strip())[0])
        if name:
            slots["name"] = name
    phone = ctx.turn.values("phone")
    if phone:
        slots["phone"] = phone[0]
    if consented_before(ctx, slots):
        prefix = texts.BIND_WELCOME.format(bureau=ctx.config.bureau)
        return await ask_again(ctx, BINDING, slots, prefix)
    return await ask_again(ctx, BINDING, slots, "")


async def bind_code(ctx: Ctx, typed: str | None = None, *, agreed: bool = False) -> list[Reply]:
    """Bind at once with a one-time code (WeChat QR scene, Telegram deep link, or typed) —
    after the privacy notice, for someone who has not agreed to it yet."""
    code = typed or next(iter(ctx.turn.values("code")), "")
    if ctx.person is not None and ctx.account is not None and ctx.account.role == "retiree":
        # Already bound: a scan of the same QR code again, say.
        hello = texts.WELCOME_BACK.format(address=address(ctx.person, ctx.config))
        return [menu_reply(hello, ctx.config)]
    throttled = await refused_for_tries(ctx, CODE_KINDS, ctx.config.tries_per_hour)
    if throttled is not None:
        return throttled
    state, role = await ctx.uow.codes.state(code, ctx.now) if code else ("spent", None)
    agreed = agreed or role == "staff" or bool(consented_before(ctx, {}))  # staff: at work
    agreed = agreed or (ctx.conv.flow == BINDING.name and ctx.conv.slots.get("consent") == "yes")
    if state == "spent" and agreed:
        return await ask_again(ctx, BINDING, {"consent": "yes"}, texts.CODE_INVALID)
    if state == "spent":  # the notice comes with their next message
        ctx.conv.end_flow()
        person_option = Option(texts.INTENT_LABELS["human_agent"], payload("human_agent"))
        return [Reply(texts.CODE_SPENT, (person_option,))]
    if state == "unknown":
        ctx.conv.end_flow()
        ctx.uow.verification.miss(ctx.channel, ctx.external_id, "code", ctx.now)
        left = await tries_left(ctx)
        if left <= 0:
            return await refused_for_tries(ctx, CODE_KINDS, ctx.config.tries_per_hour) or []
        return [Reply(texts.CODE_WRONG.format(left=left))]
    if not agreed:
        return await ask_again(ctx, BINDING, {"code": code}, "")  # the notice first
    if role == "staff":
        account = await ctx.uow.accounts.create_unbound(ctx.channel, ctx.external_id, ctx.now)
    else:
        account = await consented_account(ctx)
    issued = await ctx.uow.codes.redeem(code, account.id, ctx.now) if code else None
    if issued is None:
        ctx.conv.end_flow()
        return await ask_again(ctx, BINDING, {"consent": "yes"}, texts.CODE_INVALID)
    ctx.conv.end_flow()
    if issued.role == "staff" and issued.staff_id is not None:
        staff = await ctx.uow.staff.get(issued.staff_id)
        await ctx.uow.accounts.bind(
            ctx.channel, ctx.external_id, 0, ctx.now, role="staff", staff_id=issued.staff_id
        )
        await record_bound(ctx, account, None, "code")
        return [Reply(texts.CODE_BOUND_STAFF.format(name=staff.name if staff else ""))]
    person = await ctx.uow.people.get(int(issued.person_id or 0))
    if person is None:
        return await ask_again(ctx, BINDING, {"consent": "yes"}, texts.CODE_INVALID)
    relation = issued.relation or (
        texts.FAMILY_DEFAULT_RELATION if issued.role == "family" else None
    )
    await ctx.uow.accounts.bind(
        ctx.channel, ctx.external_id, person.id, ctx.now, role=issued.role, relation=relation
    )
    await end_pending(ctx, account, "code")
    await record_bound(ctx, account, person, "code")
    if issued.role == "family":
        hello = texts.CODE_BOUND_FAMILY.format(name=person.name, relation=relation)
    else:
        hello = texts.CODE_BOUND_RETIREE.format(address=address(person, ctx.config))
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]


async def contact(ctx: Ctx) -> list[Reply]:
    """Bind by the phone number the user shared from their own account (Telegram)."""
    if ctx.turn.values("own") != ["True"]:  # only the sender's own number (Telegram)
        return [Reply(texts.CONTACT_NOT_OWN)]
    phone = digits(next(iter(ctx.turn.values("phone")), ""))
    person = await ctx.uow.people.find_by_phone(phone[-11:]) if phone else None
    if person is None:
        return await ask_again(
            ctx, BINDING, {}, texts.CONTACT_UNKNOWN.format(phone=mask_phone(phone))
        )
    ctx.conv.end_flow()
    await consented_account(ctx)
    account = await ctx.uow.accounts.bind(ctx.channel, ctx.external_id, person.id, ctx.now)
    await end_pending(ctx, account, "contact")
    await record_bound(ctx, account, person, "contact")
    hello = texts.BIND_DONE.format(address=address(person, ctx.config))
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]
