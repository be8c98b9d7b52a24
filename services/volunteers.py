"""Volunteers' messages, after what made them commits (through the ``Sender`` port):

- ``volunteer_offered`` (staff offered a request): each matching volunteer gets the offer,
  with numbered options ("1 接受 / 2 不接"); an offer is claimed (to_send → sent) before
  it goes out, so it is sent once;
- ``volunteer_accepted`` (the first volunteer took it): the other volunteers are told it
  is taken, and the retiree who will come (the volunteer's name; never their phone);
- ``volunteer_hours_credited``: the volunteer is told the hours went into their bank;
- ``AskHours``, a periodic check of the reconciler: the day after an accepted task's
  service day, the retiree is asked to confirm the hours ("志愿者X陪您去了医院，大约2小时，
  对吗？"), once (the task is claimed: accepted → asked).

Names, phones and message texts are not logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import update

from handlers import texts
from handlers.base import TZ, Option, Reply, payload
from handlers.volunteers import hours
from handlers.wording import address, format_when
from services.ports import SENT, Context
from storage.models import ChannelAccount, Person, ServiceRequest, VolunteerOffer, VolunteerTask
from storage.uow import UnitOfWork

__all__ = [
    "ACCEPTED",
    "CREDITED",
    "OFFERED",
    "AskHours",
    "accepted_args",
    "ask_hours",
    "credited_args",
    "offered_args",
    "send_offers",
    "tell_accepted",
    "tell_credited",
]

log = structlog.get_logger("yinling.volunteers")

OFFERED = "yinling.volunteer_offered"
ACCEPTED = "yinling.volunteer_accepted"
CREDITED = "yinling.volunteer_hours_credited"
EVERY = timedelta(minutes=1)


def offered_args(event: Mapping[str, Any]) -> tuple[Any, ...]:
    return (int(event["task_id"]),)


def accepted_args(event: Mapping[str, Any]) -> tuple[Any, ...]:
    return (int(event["task_id"]),)


def credited_args(event: Mapping[str, Any]) -> tuple[Any, ...]:
    return (int(event["task_id"]),)


def _what(task: VolunteerTask) -> str:
    return texts.VOL_WHAT.get(task.skill, texts.BANK_OTHER)


def _when(request: ServiceRequest) -> str:
    return format_when(request.scheduled_date, request.scheduled_time)


async def _send(jobs: Context, accounts: list[ChannelAccount], reply: Reply, purpose: str) -> str:
    """Send to the first account that takes it; how it went."""
    result = "unreachable"
    for account in accounts:
        result = await jobs.notifier.send(account, [reply], purpose)
        if result == SENT:
            break
    return result


async def send_offers(jobs: Context, task_id: int) -> int:
    """Send a task's offers not yet sent; the number sent."""
    async with UnitOfWork(jobs.sessions) as uow:
        task = await uow.volunteers.task(task_id)
        request = await uow.requests.get(task.request_id) if task else None
        if task is None or request is None:
            return 0
        person = await uow.people.get(request.person_id) if request.person_id else None
        district = (person.district if person else None) or texts.VOL_WHERE_UNKNOWN
        hospital = request.details.get("hospital")
        where = (
            texts.VOL_WHERE_HOSPITAL.format(district=district, hospital=hospital)
            if hospital
            else texts.VOL_WHERE_HOME.format(district=district)
        )
        offers = await uow.volunteers.offers(task.id, ("to_send",))
        claimed = []
        for offer in offers:
            won = await uow.session.execute(
                update(VolunteerOffer)
                .where(VolunteerOffer.id == offer.id, VolunteerOffer.status == "to_send")
                .values(status="sent")
                .execution_options(synchronize_session=False)
            )
            if won.rowcount:  # type: ignore[attr-defined]
                claimed.append(offer.id)
        await uow.commit()
    sent = 0
    for offer_id in claimed:
        async with UnitOfWork(jobs.sessions) as uow:
            mine = await uow.session.get(VolunteerOffer, offer_id)
            volunteer = await uow.volunteers.get(mine.volunteer_id) if mine else None
            helper = await uow.people.get(volunteer.person_id) if volunteer else None
            accounts = await uow.volunteers.accounts_of(volunteer.person_id) if volunteer else []
            if mine is None or helper is None:
                continue
            text = texts.OFFER.format(
                address=address(helper, jobs.config), what=_what(task), when=_when(request),
                where=where,
            )  # fmt: skip
            yes = payload("volunteer_answer", offer=offer_id, answer="yes")
            no = payload("volunteer_answer", offer=offer_id, answer="no")
            options = (Option(texts.OFFER_ACCEPT, yes), Option(texts.OFFER_DECLINE, no))
            mine.result = await _send(jobs, accounts, Reply(text, options), "volunteer_offer")
            await uow.commit()
        sent += mine.result == SENT
    log.info("volunteer_offers_sent", task_id=task_id, sent=sent, claimed=len(claimed))
    return sent


async def tell_accepted(jobs: Context, task_id: int) -> int:
    """Tell the other volunteers the task is taken, and the retiree who will come."""
    told = 0
    async with UnitOfWork(jobs.sessions) as uow:
        task = await uow.volunteers.task(task_id)
        request = await uow.requests.get(task.request_id) if task else None
        if task is None or request is None or task.volunteer_id is None:
            return 0
        taken = [o for o in await uow.volunteers.offers(task.id, ("taken",)) if o.result != "told"]
        for offer in taken:
            volunteer = await uow.volunteers.get(offer.volunteer_id)
            accounts = await uow.volunteers.accounts_of(volunteer.person_id) if volunteer else []
            reply = Reply(texts.OFFER_TAKEN.format(when=_when(request), what=_what(task)))
            if offer.result == SENT:  # only those who had the offer
                await _send(jobs, accounts, reply, "volunteer_taken")
                told += 1
            offer.result = "told"
        volunteer = await uow.volunteers.get(task.volunteer_id)
        helper = await uow.people.get(volunteer.person_id) if volunteer else None
        person = await uow.people.get(request.person_id) if request.person_id else None
        accounts = await _retiree_accounts(uow, request)
        if helper is not None and accounts:
            text = texts.RETIREE_TOLD.format(
                address=_address_for(accounts, person, jobs),
                when=_when(request), what=_what(task), name=helper.name,
            )  # fmt: skip
            told += await _send(jobs, accounts, Reply(text), "volunteer_coming") == SENT
        await uow.commit()
    log.info("volunteer_accepted_told", task_id=task_id, told=told)
    return told


def _address_for(accounts: list[ChannelAccount], person: Person | None, jobs: Context) -> str:
    """张老 to the retiree's own account; 您 to a son or daughter who booked for them."""
    if accounts and accounts[0].role == "retiree":
        return address(person, jobs.config)
    return texts.ADDRESS_UNKNOWN


async def _retiree_accounts(uow: UnitOfWork, request: ServiceRequest) -> list[ChannelAccount]:
    """The account that made the request (if still active), else the person's own."""
    first = (
        await uow.accounts.get(request.requested_by_account_id)
        if request.requested_by_account_id
        else None
    )
    if first is not None and first.active and first.person_id == request.person_id:
        return [first]
    return await uow.volunteers.accounts_of(request.person_id) if request.person_id else []


async def tell_credited(jobs: Context, task_id: int) -> int:
    """Tell the volunteer their hours went into the time bank."""
    async with UnitOfWork(jobs.sessions) as uow:
        task = await uow.volunteers.task(task_id)
        volunteer = (
            await uow.volunteers.get(task.volunteer_id) if task and task.volunteer_id else None
        )
        helper = await uow.people.get(volunteer.person_id) if volunteer else None
        if task is None or volunteer is None or helper is None:
            return 0
        accounts = await uow.volunteers.accounts_of(volunteer.person_id)
    text = texts.HOURS_CREDITED.format(
        address=address(helper, jobs.config), what=_what(task), hours=hours(task.minutes)
    )
    return int(await _send(jobs, accounts, Reply(text), "volunteer_credited") == SENT)


async def ask_hours(jobs: Context, now: datetime, batch: int = 50) -> int:
    """Ask the retirees of tasks whose service day is over to confirm the hours; the
    number asked."""
    today = now.astimezone(TZ).date()
    asked = 0
    async with UnitOfWork(jobs.sessions) as uow:
        due = [t.id for t in await uow.volunteers.due_to_ask(today, batch)]
    for task_id in due:
        async with UnitOfWork(jobs.sessions) as uow:
            if not await uow.volunteers.mark_asked(task_id, now):
                continue  # another worker asks
            task = await uow.volunteers.task(task_id)
            request = await uow.requests.get(task.request_id) if task else None
            volunteer = (
                await uow.volunteers.get(task.volunteer_id) if task and task.volunteer_id else None
            )
            helper = await uow.people.get(volunteer.person_id) if volunteer else None
            if task is None or request is None or helper is None:
                await uow.commit()
                continue
            person = await uow.people.get(request.person_id) if request.person_id else None
            accounts = await _retiree_accounts(uow, request)
            await uow.commit()
        text = texts.HOURS_ASK.format(
            address=_address_for(accounts, person, jobs), name=helper.name,
            did=texts.HOURS_DID.get(task.skill, texts.BANK_OTHER), hours=hours(task.minutes),
        )  # fmt: skip
        options = (
            Option(texts.HOURS_YES, payload("volunteer_answer", task=task_id, answer="yes")),
            Option(texts.HOURS_NO, payload("volunteer_answer", task=task_id, answer="no")),
        )
        asked += await _send(jobs, accounts, Reply(text, options), "volunteer_hours") == SENT
    if due:
        log.info("volunteer_hours_asked", due=len(due), asked=asked)
    return asked


@dataclass(slots=True)
class AskHours:
    """The reconciler's hook: ``ask_hours`` at most once per ``every`` (per process)."""

    every: timedelta = EVERY
    last: datetime | None = None

    async def __call__(self, jobs: Context, now: datetime) -> int:
        """Look if it is time to; returns 0 (questions are new messages, not lost work)."""
        if self.last is not None and timedelta(0) <= now - self.last < self.every:
            return 0
        self.last = now
        await ask_hours(jobs, now)
        return 0
