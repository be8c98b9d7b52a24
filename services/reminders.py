"""Reminders: activities and bookings the day before, and the staff's daily 必访 list.

A periodic check, ``ReminderCheck``, put in the job registry by bot/jobs.py (so every
worker's reconciler runs it every few seconds; it looks at most once a minute), works in
Asia/Shanghai time:

- from 09:00 on the day before an activity, everyone with a seat (not on the waitlist,
  not cancelled) is reminded on their own accounts, and so is the family account that
  signed them up: what, when, where, and who of the household goes;
- from 09:00 on the day before an escorted hospital visit, a home-care visit or a time to
  hand in medical bills (a request still open), the same: the retiree's accounts and the
  family account that booked it;
- from 08:30, the staff on duty (level 1 of the duty roster now, on their staff accounts)
  get the day's 必访 list: hospital stays whose visit task is still open and due within
  24 hours (overdue ones too), retirees of 80 and over whose birthday is today, and
  retirees living alone not yet contacted this month. "Contacted", until staff record
  their calls, means: a list naming them was sent to staff this month (an ``alone_call``
  reminder with result "sent"); one that could not be delivered is tried again the next
  day.

Nobody is reminded after 20:00. Each reminder is claimed first (a row in ``reminders``,
storage/reminders.py), then sent, then its result recorded: two workers running the check
at the same moment send it once, and a reminder whose worker died mid-send is not sent
again. A blocked account (403) is marked inactive; the others still get theirs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import structlog

from handlers import reminders as wording
from handlers.base import TZ, Reply
from services.ports import BLOCKED, FAILED, SENT, Context, Lane
from storage.alerts import ON_DUTY
from storage.models import ChannelAccount, Person, ServiceRequest
from storage.reminders import ACTIVITY, ALONE_CALL, BIRTHDAY, HOSPITAL_VISIT, Claim
from storage.reminders import Key as ClaimKey
from storage.uow import UnitOfWork

__all__ = [
    "ACTIVITY_FROM",
    "STAFF_FROM",
    "UNTIL",
    "Outcome",
    "ReminderCheck",
    "send_due",
]

log = structlog.get_logger("yinling.reminders")

ACTIVITY_FROM = time(9, 0)  # retirees: the day before, from this local time
STAFF_FROM = time(8, 30)  # staff on duty: the day's list, from this local time
UNTIL = time(20, 0)  # nobody is reminded from this local time on
EVERY = timedelta(minutes=1)  # how often a worker looks (the claims make it once anyway)
BATCH = 100  # retiree reminders per look at most; a full batch looks again at once
STAFF_LIMIT = 1000  # lines of each part of the staff's list at most
VISIT_WITHIN = timedelta(hours=24)
MIN_AGE = 80
STAFF_KINDS = (HOSPITAL_VISIT, BIRTHDAY, ALONE_CALL)
PURPOSE = "reminder"
BULK = Lane(bulk=True)  # reminders leave room for pages (services/ports.py)


@dataclass(slots=True)
class Outcome:
    """What one look sent, by result; ``more``: a batch was full, look again at once."""

    results: Counter[str] = field(default_factory=Counter)
    more: bool = False

    @property
    def sent(self) -> int:
        """Reminders delivered."""
        return self.results[SENT]


async def send_due(jobs: Context, now: datetime, batch: int = BATCH) -> Outcome:
    """Send every reminder due at ``now`` and not sent yet (at most ``batch`` to retirees)."""
    local = now.astimezone(TZ)
    outcome = Outcome()
    if ACTIVITY_FROM <= local.time() < UNTIL:
        tomorrow = local.date() + timedelta(days=1)
        await _activities(jobs, now, tomorrow, batch, outcome)
        await _bookings(jobs, now, tomorrow, batch, outcome)
    if STAFF_FROM <= local.time() < UNTIL:
        await _staff(jobs, now, local.date(), outcome)
    return outcome


@dataclass(slots=True)
class ReminderCheck:
    """The reconciler's hook: ``send_due`` at most once per ``every`` (per process)."""

    every: timedelta = EVERY
    batch: int = BATCH
    last: datetime | None = None

    async def __call__(self, jobs: Context, now: datetime) -> int:
        """Look if it is time to. Returns 0: reminders are new messages, not lost work
        re-started, so the reconciler's count stays that of paged alerts and re-kicked
        jobs; what was sent is logged."""
        if self.last is not None and timedelta(0) <= now - self.last < self.every:
            return 0
        self.last = now
        outcome = await send_due(jobs, now, self.batch)
        if outcome.more:
            self.last = None
        if outcome.results:
            log.info("reminders_sent", **outcome.results)
        return 0


# ------------------------------------------------------------ retirees
async def _activities(
    jobs: Context, now: datetime, day: date, batch: int, outcome: Outcome
) -> None:
    start = datetime.combine(day, time.min, TZ)
    async with UnitOfWork(jobs.sessions) as uow:
        rows = await uow.reminders.activities_due(start, start + timedelta(days=1), day, batch)
    groups: dict[tuple[int, int], list[str]] = {}  # (activity, account) -> attendees
    found = {}
    for event, registration, person, account in rows:
        groups.setdefault((event.id, account.id), []).append(registration.attendee)
        found[(event.id, account.id)] = (event, person, account)
    if len(rows) >= batch:
        outcome.more = True
        if len(groups) > 1:
            groups.popitem()  # its other attendees may be past the limit: the next look
    claims = {key: Claim(day, ACTIVITY, key[0], key[1], found[key][1].id) for key in groups}
    claimed = await _claim(jobs, claims.values(), now)
    for key, attendees in groups.items():
        row_id = claimed.get(claims[key].key)
        if row_id is None:
            continue  # another worker has it
        event, person, account = found[key]
        reply = wording.activity(event, attendees, person, account, jobs.config)
        await _deliver(jobs, [row_id], account, reply, now=now, outcome=outcome)


async def _bookings(jobs: Context, now: datetime, day: date, batch: int, outcome: Outcome) -> None:
    async with UnitOfWork(jobs.sessions) as uow:
        rows = await uow.reminders.bookings_due(wording.BOOKING_KINDS, day, batch)
    outcome.more = outcome.more or len(rows) >= batch
    claims = [Claim(day, r.kind, r.id, account.id, person.id) for r, person, account in rows]
    claimed = await _claim(jobs, claims, now)
    for claim, (request, person, account) in zip(claims, rows, strict=True):
        row_id = claimed.get(claim.key)
        if row_id is not None:
            reply = wording.booking(request, person, account, jobs.config)
            await _deliver(jobs, [row_id], account, reply, now=now, outcome=outcome)


# ---------------------------------------------------------------- staff
def _birthdays(today: date) -> list[tuple[int, int]]:
    """Today's (month, day), and 29 February on the 28th of a year without one."""
    days = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28) and (today + timedelta(days=1)).month == 3:  # noqa: PLR2004
        days.append((2, 29))
    return days


async def _staff(jobs: Context, now: datetime, today: date, outcome: Outcome) -> None:
    async with UnitOfWork(jobs.sessions) as uow:
        accounts = await uow.reminders.on_duty(now, ON_DUTY)
        if not accounts:
            return  # nobody on duty (with an account): the list waits for someone
        visits = await uow.reminders.visits_due(now + VISIT_WITHIN, STAFF_LIMIT)
        born = await uow.reminders.born_on(_birthdays(today), STAFF_LIMIT)
        alone = await uow.reminders.alone_not_called(today.replace(day=1), today, STAFF_LIMIT)
        done = await uow.reminders.already(today, STAFF_KINDS, [a.id for a in accounts])
    birthdays = [p for p in born if p.birth_date and today.year - p.birth_date.year >= MIN_AGE]
    lists: dict[int, _StaffList] = {}
    for account in accounts:
        mine = _StaffList(
            account,
            [(r, p) for r, p in visits if (HOSPITAL_VISIT, r.id, account.id) not in done],
            [p for p in birthdays if (BIRTHDAY, p.id, account.id) not in done],
            [p for p in alone if (ALONE_CALL, p.id, account.id) not in done],
        )
        if mine.claims(today):
            lists[account.id] = mine
    claimed = await _claim(jobs, [c for m in lists.values() for c in m.claims(today)], now)
    for mine in lists.values():
        mine.keep(today, claimed)
        ids = [claimed[c.key] for c in mine.claims(today)]
        if ids:
            reply = wording.staff_list(today, mine.visits, mine.birthdays, mine.alone, now)
            await _deliver(jobs, ids, mine.account, reply, now=now, outcome=outcome)


@dataclass(slots=True)
class _StaffList:
    """The items of one staff account's list for a day."""

    account: ChannelAccount
    visits: list[tuple[ServiceRequest, Person | None]]
    birthdays: list[Person]
    alone: list[Person]

    def claims(self, day: date) -> list[Claim]:
        """One claim per item."""
        to = self.account.id
        return [
            *(Claim(day, HOSPITAL_VISIT, r.id, to, r.person_id) for r, _ in self.visits),
            *(Claim(day, BIRTHDAY, p.id, to, p.id) for p in self.birthdays),
            *(Claim(day, ALONE_CALL, p.id, to, p.id) for p in self.alone),
        ]

    def keep(self, day: date, claimed: Collection[ClaimKey]) -> None:
        """Only the items claimed here (another worker sends the rest)."""
        to = self.account.id
        self.visits = [v for v in self.visits if (day, HOSPITAL_VISIT, v[0].id, to) in claimed]
        self.birthdays = [p for p in self.birthdays if (day, BIRTHDAY, p.id, to) in claimed]
        self.alone = [p for p in self.alone if (day, ALONE_CALL, p.id, to) in claimed]


# ------------------------------------------------------- claim and send
async def _claim(jobs: Context, claims: Iterable[Claim], now: datetime) -> dict[ClaimKey, int]:
    """Claim in a transaction of its own, committed before anything is sent."""
    claims = list(claims)
    if not claims:
        return {}
    async with UnitOfWork(jobs.sessions) as uow:
        claimed = await uow.reminders.claim(claims, now)
        await uow.commit()
    return claimed


async def _deliver(
    jobs: Context,
    ids: list[int],
    account: ChannelAccount,
    reply: Reply,
    *,
    now: datetime,
    outcome: Outcome,
) -> None:
    """Send one message and record how it went on its claimed rows."""
    try:
        result = await jobs.notifier.send(account, [reply], purpose=PURPOSE, lane=BULK)
    except Exception:  # one account's trouble must not stop the others' reminders
        log.exception("reminder_send_failed", account_id=account.id)
        result = FAILED
    async with UnitOfWork(jobs.sessions) as uow:
        await uow.reminders.record(ids, result, now)
        if result == BLOCKED:
            await uow.accounts.deactivate(account.channel, account.external_id)
        await uow.commit()
    outcome.results[result] += 1
