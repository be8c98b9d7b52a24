"""Binding an unknown channel user to the roster, proving who they are.

First the privacy notice (PIPL: what is kept, why, who sees it, how to withdraw), agreed
to once and recorded with its version. Then either a one-time code from staff or the
person (QR scene, deep link, typed), or a phone number Telegram vouches for, binds at
once; or a name and phone found on the roster make a *pending* binding, proven by the SMS
code sent to the roster's phone, by a staff member ("核实 N"), or by the person's own
bound account ("同意绑定"). Until then the user may raise an emergency, ask policy
questions and reach a person — nothing that shows or changes the person's records.

Wrong codes and unmatched names count against the user and everyone (within an hour,
storage/verification.py): after the limit the user is told when to try again.
"""

from __future__ import annotations

import re
from datetime import timedelta

from handlers import handoff, phrases, policy, texts
from handlers.base import TZ, Ctx, Option, Reply, payload
from handlers.events import (
    AccountBound,
    BindingDecided,
    BindingFailed,
    BindingRequested,
    HandoffRequested,
)
from handlers.flows import SERVICE_INTENTS, Flow, Rejection, Slot, Slots, ask_again
from handlers.handoff import create_handoff, when_answered
from handlers.wording import address, mask_phone, menu_reply
from storage.models import ChannelAccount, IdentityCheck, Person
from storage.repos import digits
from storage.verification import new_sms_code

__all__ = [
    "BINDING",
    "MAX_ATTEMPTS",
    "bind_code",
    "contact",
    "forget_me",
    "invite_family",
    "owner_answer",
    "pending",
    "subscribe",
    "unsubscribe",
    "verify",
    "welcome",
]

MAX_ATTEMPTS = 3  # unmatched names and phones per user per hour, then a pause
MAX_SENDS = 3  # SMS codes per pending binding
HOUR = timedelta(hours=1)
ROSTER_KINDS = ("roster",)
CODE_KINDS = ("code", "sms")
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
    if slots.get("consent") != "yes":
        ctx.conv.end_flow()
        return [Reply(texts.CONSENT_DECLINED.format(hotline=ctx.config.hotline))]
    code = slots.get("code")
    if code:
        return await bind_code(ctx, str(code), agreed=True)
    name, phone = str(slots["name"]), str(slots["phone"])
    throttled = await _throttled(ctx, ROSTER_KINDS, MAX_ATTEMPTS)
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
    account = await _consented_account(ctx)
    if account.person_id == person.id and account.active and account.bound_at is not None:
        return [
            menu_reply(texts.WELCOME_BACK.format(address=address(person, ctx.config)), ctx.config)
        ]
    return await _pend(ctx, account, person)


async def _consented_account(ctx: Ctx) -> ChannelAccount:
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


async def _pend(ctx: Ctx, account: ChannelAccount, person: Person) -> list[Reply]:
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
    return [Reply(text, _pending_options(sms))]


def _pending_options(sms: bool) -> tuple[Option, ...]:
    staff = Option(texts.INTENT_LABELS["human_agent"], payload("human_agent"))
    return (Option(texts.BIND_RESEND, payload("resend_code")), staff) if sms else (staff,)


async def _throttled(ctx: Ctx, kinds: tuple[str, ...], limit: int) -> list[Reply] | None:
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


async def _tries_left(ctx: Ctx) -> int:
    mine, _ = await ctx.uow.verification.misses(
        ctx.now - HOUR, ctx.channel, ctx.external_id, CODE_KINDS
    )
    return max(ctx.config.tries_per_hour - mine, 0)


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


def _consented_before(ctx: Ctx, slots: Slots) -> str | None:
    account = ctx.account
    return "yes" if account is not None and account.consent_version else None


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
            default=_consented_before,
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
    if _consented_before(ctx, slots):
        prefix = texts.BIND_WELCOME.format(bureau=ctx.config.bureau)
        return await ask_again(ctx, BINDING, slots, prefix)
    return await ask_again(ctx, BINDING, slots, "")


async def _bound(ctx: Ctx, account: ChannelAccount, person: Person | None, how: str) -> None:
    ctx.uow.audit.record(
        ctx.now, ctx.actor, "account_bound", "channel_account", account.id, how=how
    )
    if person is not None:
        ctx.emit(
            AccountBound(account_id=account.id, person_id=person.id, role=account.role, how=how)
        )


async def bind_code(ctx: Ctx, typed: str | None = None, *, agreed: bool = False) -> list[Reply]:
    """Bind at once with a one-time code (WeChat QR scene, Telegram deep link, or typed) —
    after the privacy notice, for someone who has not agreed to it yet."""
    code = typed or next(iter(ctx.turn.values("code")), "")
    if ctx.person is not None and ctx.account is not None and ctx.account.role == "retiree":
        # Already bound: a scan of the same QR code again, say.
        hello = texts.WELCOME_BACK.format(address=address(ctx.person, ctx.config))
        return [menu_reply(hello, ctx.config)]
    throttled = await _throttled(ctx, CODE_KINDS, ctx.config.tries_per_hour)
    if throttled is not None:
        return throttled
    state, role = await ctx.uow.codes.state(code, ctx.now) if code else ("spent", None)
    agreed = agreed or role == "staff" or bool(_consented_before(ctx, {}))  # staff: at work
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
        left = await _tries_left(ctx)
        if left <= 0:
            return await _throttled(ctx, CODE_KINDS, ctx.config.tries_per_hour) or []
        return [Reply(texts.CODE_WRONG.format(left=left))]
    if not agreed:
        return await ask_again(ctx, BINDING, {"code": code}, "")  # the notice first
    if role == "staff":
        account = await ctx.uow.accounts.create_unbound(ctx.channel, ctx.external_id, ctx.now)
    else:
        account = await _consented_account(ctx)
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
        await _bound(ctx, account, None, "code")
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
    await _end_pending(ctx, account, "code")
    await _bound(ctx, account, person, "code")
    if issued.role == "family":
        hello = texts.CODE_BOUND_FAMILY.format(name=person.name, relation=relation)
    else:
        hello = texts.CODE_BOUND_RETIREE.format(address=address(person, ctx.config))
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]


async def _end_pending(ctx: Ctx, account: ChannelAccount, how: str) -> None:
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
        return await _resend(ctx, check)
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
    return [Reply(f"{text}\n{texts.BIND_PENDING_CODE}" if sms else text, _pending_options(sms))]


async def _sms_code(ctx: Ctx, check: IdentityCheck, typed: str) -> list[Reply]:
    throttled = await _throttled(ctx, CODE_KINDS, ctx.config.tries_per_hour)
    if throttled is not None:
        return throttled
    right = ctx.uow.verification.code_matches(check, typed, ctx.now)
    if right is None:
        options = _pending_options(check.code is not None)
        return [Reply(texts.SMS_EXPIRED if check.sms != "off" else texts.SMS_NO_CODE, options)]
    if not right:
        ctx.uow.verification.miss(ctx.channel, ctx.external_id, "sms", ctx.now)
        left = await _tries_left(ctx)
        if left <= 0:
            check.code = None  # this code is spent: a new one must be asked for
            return await _throttled(ctx, CODE_KINDS, ctx.config.tries_per_hour) or []
        return [Reply(texts.SMS_WRONG.format(left=left), _pending_options(True))]
    account = await verify(ctx, check, "sms")
    person = await ctx.uow.people.get(check.person_id)
    if account is None or person is None:
        return await welcome(ctx)
    ctx.person = person
    hello = texts.BIND_DONE.format(address=address(person, ctx.config))
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]


async def _resend(ctx: Ctx, check: IdentityCheck) -> list[Reply]:
    if not ctx.config.sms_codes:
        return [Reply(texts.SMS_NO_CODE, _pending_options(False))]
    if check.sends >= MAX_SENDS:
        at = (check.created_at + HOUR).astimezone(TZ).strftime("%H:%M")
        return [Reply(texts.BIND_RESEND_LIMIT.format(at=at), _pending_options(False))]
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
    return [Reply(texts.BIND_RESENT.format(tail=tail, minutes=minutes), _pending_options(True))]


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
    await _consented_account(ctx)
    account = await ctx.uow.accounts.bind(ctx.channel, ctx.external_id, person.id, ctx.now)
    await _end_pending(ctx, account, "contact")
    await _bound(ctx, account, person, "contact")
    hello = texts.BIND_DONE.format(address=address(person, ctx.config))
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]


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
