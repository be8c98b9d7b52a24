"""Binding an unknown channel user to the roster: name and phone, checked against it.

After three failed tries the user is handed to staff, who can bind them by hand.
"""

from __future__ import annotations

import re
from datetime import timedelta

from handlers import phrases, texts
from handlers.base import Ctx, Reply
from handlers.events import AccountBound, BindingFailed
from handlers.flows import Flow, Rejection, Slot, Slots, ask_again
from handlers.handoff import create_handoff, when_answered
from handlers.wording import address, mask_phone, menu_reply
from storage.models import ChannelAccount, Person
from storage.repos import digits

__all__ = [
    "BINDING",
    "MAX_ATTEMPTS",
    "bind_code",
    "contact",
    "invite_family",
    "subscribe",
    "unsubscribe",
    "welcome",
]

MAX_ATTEMPTS = 3
FAMILY_CODE_DAYS = 3  # a code a retiree passes to a child is valid this long
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
    name, phone = str(slots["name"]), str(slots["phone"])
    person = await ctx.uow.people.find_by_name_and_phone(name, phone)
    if person is None:
        attempts = int(slots.get("attempts", 0)) + 1
        ctx.emit(BindingFailed(attempts=attempts))
        if attempts >= MAX_ATTEMPTS:
            await create_handoff(ctx, "binding")
            when = when_answered(ctx.local_now, ctx.config)
            return [Reply(texts.BIND_GIVE_UP.format(hotline=ctx.config.hotline, when=when))]
        prefix = texts.BIND_NOT_FOUND.format(name=name, phone=mask_phone(phone))
        return await ask_again(ctx, BINDING, {"attempts": attempts}, prefix)
    account = await ctx.uow.accounts.bind(ctx.channel, ctx.external_id, person.id, ctx.now)
    ctx.uow.audit.record(
        ctx.now, ctx.actor, "account_bound", "channel_account", account.id, person_id=person.id
    )
    ctx.emit(AccountBound(account_id=account.id, person_id=person.id, role=account.role))
    hello = texts.BIND_DONE.format(address=address(person, ctx.config))
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]


async def _no_summary(ctx: Ctx, slots: Slots) -> str:
    return ""  # binding writes nothing the user must confirm


BINDING = Flow(
    name="binding",
    title=texts.BIND_TITLE,
    slots=(
        Slot("name", texts.BIND_SLOT_NAME, _ask_name, entity="person_name", parse=_parse_name),
        Slot("phone", texts.BIND_SLOT_PHONE, _ask_phone, parse=_parse_phone, validate=_check_phone),
    ),
    summary=_no_summary,
    complete=_complete,
    confirm=False,
)


async def welcome(ctx: Ctx) -> list[Reply]:
    """First contact from an unknown user: greet and start binding with what they said."""
    slots: Slots = {}
    text = ctx.turn.text or ""
    if phrases.NAME_PREFIX.match(text.strip()):
        name = _parse_name(ctx, phrases.NAME_SPLIT.split(text.strip())[0])
        if name:
            slots["name"] = name
    phone = ctx.turn.values("phone")
    if phone:
        slots["phone"] = phone[0]
    return await ask_again(ctx, BINDING, slots, texts.BIND_WELCOME.format(bureau=ctx.config.bureau))


async def _bound(ctx: Ctx, account: ChannelAccount, person: Person | None, how: str) -> None:
    ctx.uow.audit.record(
        ctx.now, ctx.actor, "account_bound", "channel_account", account.id, how=how
    )
    if person is not None:
        ctx.emit(AccountBound(account_id=account.id, person_id=person.id, role=account.role))


async def bind_code(ctx: Ctx, typed: str | None = None) -> list[Reply]:
    """Bind at once with a one-time code (WeChat QR scene, Telegram deep link, or typed)."""
    code = typed or next(iter(ctx.turn.values("code")), "")
    account = await ctx.uow.accounts.create_unbound(ctx.channel, ctx.external_id, ctx.now)
    issued = await ctx.uow.codes.redeem(code, account.id, ctx.now) if code else None
    if issued is None:
        if ctx.person is not None:
            return [
                menu_reply(
                    texts.WELCOME_BACK.format(address=address(ctx.person, ctx.config)), ctx.config
                )
            ]
        return await ask_again(ctx, BINDING, {}, texts.CODE_INVALID)
    ctx.conv.end_flow()
    if issued.role == "staff" and issued.staff_id is not None:
        staff = await ctx.uow.staff.get(issued.staff_id)
        await ctx.uow.accounts.bind(
            ctx.channel, ctx.external_id, 0, ctx.now, role="staff", staff_id=issued.staff_id
        )
        await _bound(ctx, account, None, "code")
        return [Reply(texts.CODE_BOUND_STAFF.format(name=staff.name if staff else ""))]
    person = await ctx.uow.people.get(int(issued.person_id or 0))
    if person is None:
        return await ask_again(ctx, BINDING, {}, texts.CODE_INVALID)
    relation = issued.relation or (
        texts.FAMILY_DEFAULT_RELATION if issued.role == "family" else None
    )
    await ctx.uow.accounts.bind(
        ctx.channel, ctx.external_id, person.id, ctx.now, role=issued.role, relation=relation
    )
    await _bound(ctx, account, person, "code")
    if issued.role == "family":
        hello = texts.CODE_BOUND_FAMILY.format(name=person.name, relation=relation)
    else:
        hello = texts.CODE_BOUND_RETIREE.format(address=address(person, ctx.config))
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]


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
    account = await ctx.uow.accounts.bind(ctx.channel, ctx.external_id, person.id, ctx.now)
    await _bound(ctx, account, person, "contact")
    hello = texts.BIND_DONE.format(address=address(person, ctx.config))
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]


async def subscribe(ctx: Ctx) -> list[Reply]:
    """A new follower: a code in the QR scene binds at once; otherwise welcome and binding."""
    if ctx.turn.values("code"):
        return await bind_code(ctx)
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
