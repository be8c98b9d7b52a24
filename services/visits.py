"""The must-visit ledger (五必访): the daily job that puts the visits owed in it.

Five occasions call for a staff visit; each visit owed is a row of the ledger
(storage/visits.py) with a staff task in the queue (a service request):

- a hospital stay: its "hospital_visit" task is made when the stay is reported
  (handlers/medical/stay.py); the ledger takes it in (here too, for any it lacks);
- a landmark birthday, 80, 85, 90, 95 and every year from 100: due the day before;
- a hardship or bereavement, and a change of situation (moved to a care home, living
  alone now, spouse died): recorded by staff (handlers/visits.py), due within a few days;
- the festivals of a configurable calendar (春节, 重阳节 … dates of the lunar calendar
  computed with ``lunar_python``), for a configurable set of people (by default all 离休
  people and everyone aged 80 or more on the day).

``VisitLedger`` (in the job registry, bot/jobs.py) runs ``generate`` once a day per worker,
from 06:00 Asia/Shanghai; tasks are made ``lead`` days ahead of their due day. Running it
again (another worker, a restart, a second run the same day) adds nothing: the ledger has
one row per person, occasion and date, and its unique key refuses a second one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import structlog
from lunar_python import Lunar
from sqlalchemy.exc import IntegrityError

from handlers.base import TZ, ServiceConfig
from services.ports import Context
from storage.models import Person
from storage.uow import UnitOfWork
from storage.visits import HOSPITAL, VisitRepo

__all__ = [
    "DEFAULT_AUDIENCE",
    "DEFAULT_FESTIVALS",
    "Audience",
    "Festival",
    "VisitLedger",
    "festival_day",
    "generate",
    "landmark",
    "parse_audience",
    "parse_festivals",
]

log = structlog.get_logger("yinling.visits")

BIRTHDAY, FESTIVAL = "birthday", "festival"
LANDMARKS = (80, 85, 90, 95)  # and every year from 100
EVERY_YEAR_FROM = 100
LEAD = timedelta(days=7)  # tasks are made this long before they are due
FROM = time(6, 0)  # the daily run, from this local time
BATCH = 500  # hospital-stay tasks taken into the ledger per run at most
STAYS_WITHIN = timedelta(days=30)  # hospital-stay tasks made this recently
ACTOR = "system:visits"
# key=calendar:MM-DD:days before (the visit is due that many days before the festival).
DEFAULT_FESTIVALS = "spring_festival=lunar:01-01:7,double_ninth=lunar:09-09:0"
DEFAULT_AUDIENCE = "lixiu,80"  # categories, and an age (everyone at least that old)


@dataclass(frozen=True, slots=True)
class Festival:
    """A festival of the visit calendar: its key (texts.VISIT_FESTIVALS names it), its
    month and day in the lunar or the solar calendar, and how many days before it the
    visit is due."""

    key: str
    lunar: bool
    month: int
    day: int
    before: int = 0

    def on(self, year: int) -> date | None:
        """Its solar date in a year (for a lunar one: the lunar year that starts in it)."""
        if not self.lunar:
            try:
                return date(year, self.month, self.day)
            except ValueError:
                return None
        return festival_day(year, self.month, self.day)


@dataclass(frozen=True, slots=True)
class Audience:
    """Whom festival visits are for: people of these categories, or aged at least
    ``min_age`` on the day (None: no age rule)."""

    categories: tuple[str, ...] = ("lixiu",)
    min_age: int | None = 80


def festival_day(year: int, month: int, day: int) -> date | None:
    """The solar date of a lunar month and day of a lunar year (None: no such day)."""
    try:
        solar = Lunar.fromYmd(year, month, day).getSolar()
    except Exception:  # lunar_python raises plain exceptions for days a month lacks
        return None
    back = solar.getLunar()  # a 30th of a short month would run on into the next month
    if (back.getMonth(), back.getDay()) != (month, day):
        return None
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def parse_festivals(spec: str) -> tuple[Festival, ...]:
    """``key=lunar:MM-DD:days,key=solar:MM-DD:days`` (days before: optional, 0)."""
    found = []
    for item in filter(None, (i.strip() for i in spec.split(","))):
        key, _, rule = item.partition("=")
        calendar, _, rest = rule.partition(":")
        when, _, before = rest.partition(":")
        month, _, day = when.partition("-")
        if calendar not in {"lunar", "solar"} or not (month.isdigit() and day.isdigit()):
            raise ValueError(f"bad festival {item!r}: key=lunar|solar:MM-DD[:days before]")
        found.append(
            Festival(key.strip(), calendar == "lunar", int(month), int(day), int(before or 0))
        )
    return tuple(found)


def parse_audience(spec: str) -> Audience:
    """``lixiu,80``: categories, and a number for the age from which everyone counts."""
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    ages = [int(p) for p in parts if p.isdigit()]
    return Audience(tuple(p for p in parts if not p.isdigit()), ages[0] if ages else None)


def landmark(born: date, birthday: date) -> bool:
    """Whether the birthday is a landmark one (80, 85, 90, 95, every year from 100)."""
    age = birthday.year - born.year
    return age in LANDMARKS or age >= EVERY_YEAR_FROM


def _birthday_in(born: date, year: int) -> date:
    """The birthday in a year (29 February on the 28th of a year without one)."""
    try:
        return born.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def _years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return date(day.year - years, 2, 28)


async def generate(
    sessions: Context | UnitOfWork,
    today: date,
    now: datetime,
    *,
    config: ServiceConfig | None = None,
    lead: timedelta = LEAD,
    stays_only: bool = False,
) -> Counter[str]:
    """Put every visit owed from ``today`` up to ``lead`` ahead in the ledger (with
    ``stays_only``, only the hospital stays' tasks it lacks); how many of each occasion were
    added. ``sessions`` is the jobs' context (a transaction of its own, committed) or a
    caller's unit of work (not committed)."""
    festivals = parse_festivals(config.visit_festivals if config else DEFAULT_FESTIVALS)
    audience = parse_audience(config.festival_visits_for if config else DEFAULT_AUDIENCE)
    if stays_only:
        festivals, audience, lead = (), Audience((), None), timedelta(days=-2)
    if isinstance(sessions, UnitOfWork):
        return await _generate(sessions, today, now, festivals, audience, lead)
    try:
        async with UnitOfWork(sessions.sessions) as uow:
            added = await _generate(uow, today, now, festivals, audience, lead)
            await uow.commit()
    except IntegrityError:  # another worker added the same visits at the same moment
        log.info("visits_generated_elsewhere")
        return Counter()
    return added


async def _generate(  # noqa: PLR0917 - internal, called twice
    uow: UnitOfWork,
    today: date,
    now: datetime,
    festivals: tuple[Festival, ...],
    audience: Audience,
    lead: timedelta,
) -> Counter[str]:
    repo = VisitRepo(uow.session)
    added: Counter[str] = Counter()
    # Hospital stays: their tasks exist already; the ledger takes them in.
    for request, person in await repo.stays_not_in_ledger(now - STAYS_WITHIN, BATCH):
        details = request.details or {}
        try:
            since = date.fromisoformat(str(details.get("since")))
        except ValueError:
            since = request.created_at.astimezone(TZ).date()
        due = request.due_at.astimezone(TZ).date() if request.due_at else since
        if await repo.add(person, HOSPITAL, since, due, now=now, actor=ACTOR, request=request):
            added[HOSPITAL] += 1
    if lead < timedelta(0):
        return added
    # Landmark birthdays, due the day before.
    last = today + lead + timedelta(days=1)
    days = [today + timedelta(days=n) for n in range((last - today).days + 1)]
    wanted = {(d.month, d.day) for d in days} | (
        {(2, 29)} if any((d.month, d.day) == (2, 28) for d in days) else set()
    )
    birthdays = []
    for person in await repo.born_on(wanted):
        if person.birth_date is None:
            continue
        day = _birthday_in(person.birth_date, today.year)
        if day < today:
            day = _birthday_in(person.birth_date, today.year + 1)
        if day <= last and landmark(person.birth_date, day):
            birthdays.append((person, day))
    have = await repo.existing(BIRTHDAY, {day for _, day in birthdays})
    for person, day in birthdays:
        if (person.id, day) in have:
            continue
        age = str(day.year - person.birth_date.year) if person.birth_date else None
        if await repo.add(
            person, BIRTHDAY, day, day - timedelta(days=1),
            now=now, actor=ACTOR, detail=age, looked=True,
        ):  # fmt: skip
            added[BIRTHDAY] += 1
    # Festivals of the calendar, for the audience.
    for festival in festivals:
        for year in (today.year, today.year + 1):
            on = festival.on(year)
            if on is None or on < today:
                continue
            due = on - timedelta(days=festival.before)
            if due > today + lead:
                continue
            added[FESTIVAL] += await _festival(repo, festival, on, due, audience=audience, now=now)
    return added


async def _festival(
    repo: VisitRepo, festival: Festival, day: date, due: date, *, audience: Audience, now: datetime
) -> int:
    born_by = _years_ago(day, audience.min_age) if audience.min_age is not None else None
    people: list[Person] = await repo.festival_people(audience.categories, born_by)
    have = await repo.existing(FESTIVAL, {day})
    count = 0
    for person in people:
        if (person.id, day) in have:
            continue
        if await repo.add(
            person, FESTIVAL, day, due, now=now, actor=ACTOR, detail=festival.key, looked=True
        ):
            count += 1
    return count


@dataclass(slots=True)
class VisitLedger:
    """The reconciler's hook: ``generate`` once a (local) day per worker, from ``FROM``;
    in between, hospital stays' tasks are taken in at most once per ``stays_every``."""

    lead: timedelta = LEAD
    stays_every: timedelta = timedelta(minutes=10)
    last: date | None = None
    stays_last: datetime | None = None

    async def __call__(self, jobs: Context, now: datetime) -> int:
        """Returns 0: visits owed are new work, not lost work re-started (logged)."""
        local = now.astimezone(TZ)
        if local.time() >= FROM and self.last != local.date():
            self.last, self.stays_last = local.date(), now
            added = await generate(jobs, local.date(), now, config=jobs.config, lead=self.lead)
        elif (
            self.stays_last is None or not timedelta(0) <= now - self.stays_last < self.stays_every
        ):
            self.stays_last = now
            added = await generate(jobs, local.date(), now, stays_only=True)
        else:
            return 0
        if added:
            log.info("visits_generated", **added)
        return 0
