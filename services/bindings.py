"""New bindings, after the message that made them commits: the SMS code sent to the phone
on the roster, the person's own accounts asked ("是您或家人吗？") or told, and the user
told when staff or the person decided.

The code is sent once: the check is claimed (``sms`` to_send → sending) before the SMS
goes out. A kick that was lost is made up by the reconciler, which sends every code still
waiting (and not expired) a few seconds on. Neither the code nor the phone number is
logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog

from handlers import texts
from handlers.base import Option, Reply, payload
from handlers.wording import address
from services.ports import SENT, Context
from storage.uow import UnitOfWork

__all__ = [
    "BOUND",
    "DECIDED",
    "REQUESTED",
    "account_bound",
    "binding_decided",
    "binding_requested",
    "bound_args",
    "decided_args",
    "requested_args",
    "resend_lost",
    "send_code",
    "tell_bound",
    "tell_decided",
    "tell_owners",
]

log = structlog.get_logger("yinling.bindings")

# The jobs' names (as the broker knows them).
REQUESTED = "yinling.binding_requested"
BOUND = "yinling.account_bound"
DECIDED = "yinling.binding_decided"

LOST_AFTER = timedelta(seconds=15)  # a code still waiting this long: its kick was lost


def _channel_name(channel: str) -> str:
    return texts.CHANNEL_NAMES.get(channel, texts.CHANNEL_OTHER)


async def send_code(jobs: Context, check_id: int, now: datetime) -> bool:
    """Send a pending binding's SMS code (once); True if the provider took it."""
    if jobs.sms is None:
        return False
    async with UnitOfWork(jobs.sessions) as uow:
        check = await uow.verification.claim_send(check_id, now)
        person = await uow.people.get(check.person_id) if check else None
        await uow.commit()
        if check is None or person is None or not person.phone or not check.code:
            return False
        code, phone = check.code, person.phone
    ok = await jobs.sms.send(phone, code)
    async with UnitOfWork(jobs.sessions) as uow:
        check = await uow.verification.get(check_id)
        if check is not None:
            await uow.verification.sent(check, ok)
            await uow.commit()
    log.info("sms_code_sent" if ok else "sms_code_failed", check_id=check_id)
    return ok


async def tell_owners(jobs: Context, check_id: int) -> int:
    """Ask the person's bound accounts whether the new (pending) account is theirs."""
    async with UnitOfWork(jobs.sessions) as uow:
        check = await uow.verification.get(check_id)
        if check is None or check.status != "pending":
            return 0
        person = await uow.people.get(check.person_id)
        asker = await uow.accounts.get(check.account_id)
        owners = await uow.verification.bound_accounts(check.person_id)
    if person is None or asker is None:
        return 0
    reply = Reply(
        texts.BINDING_ASK_OWNER.format(channel=_channel_name(asker.channel), name=person.name),
        (
            Option(texts.BINDING_APPROVE, payload("binding_approve")),
            Option(texts.BINDING_REJECT, payload("binding_reject")),
        ),
    )
    told = 0
    for account in owners:
        if account.id != asker.id:
            told += await jobs.notifier.send(account, [reply], purpose="binding") == SENT
    log.info("binding_owners_asked", check_id=check_id, accounts=len(owners), told=told)
    return told


async def tell_bound(jobs: Context, account_id: int, person_id: int) -> int:
    """Tell the person's other accounts that a new account was bound to them."""
    async with UnitOfWork(jobs.sessions) as uow:
        person = await uow.people.get(person_id)
        new = await uow.accounts.get(account_id)
        owners = await uow.verification.bound_accounts(person_id)
    if person is None or new is None:
        return 0
    reply = Reply(
        texts.BINDING_TOLD_OWNER.format(name=person.name, channel=_channel_name(new.channel))
    )
    told = 0
    for account in owners:
        if account.id != account_id:
            told += await jobs.notifier.send(account, [reply], purpose="binding") == SENT
    return told


async def tell_decided(jobs: Context, account_id: int, approved: bool) -> bool:
    """Tell the user of a pending binding that staff or the person decided it."""
    async with UnitOfWork(jobs.sessions) as uow:
        account = await uow.accounts.get(account_id)
        person = await uow.people.get(account.person_id) if account and account.person_id else None
    if account is None:
        return False
    if approved and person is not None:
        text = texts.BINDING_CONFIRMED_YOU.format(address=address(person, jobs.config))
    else:
        text = texts.BINDING_REJECTED_YOU.format(hotline=jobs.config.hotline)
    return await jobs.notifier.send(account, [Reply(text)], purpose="binding") == SENT


async def binding_requested(jobs: Context, check_id: int, resend: bool = False) -> None:
    """The job: send the code; the first time, ask the person's own accounts too."""
    await send_code(jobs, check_id, jobs.clock())
    if not resend:
        await tell_owners(jobs, check_id)


async def account_bound(jobs: Context, account_id: int, person_id: int) -> None:
    """The job: tell the person's other accounts of the new one."""
    await tell_bound(jobs, account_id, person_id)


async def binding_decided(jobs: Context, account_id: int, approved: bool) -> None:
    """The job: tell the user their binding was confirmed or refused."""
    await tell_decided(jobs, account_id, approved)


def requested_args(event: Mapping[str, Any]) -> tuple[Any, ...]:
    """The arguments of ``REQUESTED`` from its event."""
    return int(event["check_id"]), bool(event.get("resend"))


def bound_args(event: Mapping[str, Any]) -> tuple[Any, ...]:
    """The arguments of ``BOUND`` from its event."""
    return int(event["account_id"]), int(event["person_id"])


def decided_args(event: Mapping[str, Any]) -> tuple[Any, ...]:
    """The arguments of ``DECIDED`` from its event."""
    return int(event["account_id"]), bool(event["approved"])


async def resend_lost(jobs: Context, now: datetime) -> int:
    """Send codes whose kick was lost (still waiting after ``LOST_AFTER``)."""
    if jobs.sms is None:
        return 0
    async with UnitOfWork(jobs.sessions) as uow:
        waiting = [
            c.id for c in await uow.verification.to_send() if c.created_at < now - LOST_AFTER
        ]
    sent = 0
    for check_id in waiting:
        sent += await send_code(jobs, check_id, now)
    return sent
