"""志愿者与时间银行: the volunteers (skills, districts, balance), entering one; the open
requests that fit a volunteer, and offering one to the matching volunteers (staff decide:
nothing is offered on its own); tasks taken, and confirming their hours; redeeming hours
for a booked request. The actions are handlers/volunteers/offers.py's; every one is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import Response

from bot.console.actions import perform
from bot.console.web import Signed, guarded, number, render, runtime_of
from handlers import texts, volunteers
from handlers.events import VolunteerRegistered
from handlers.workbench import Done
from storage.models import Person, ServiceRequest, VolunteerTask
from storage.repos import CLOSED_STATUSES
from storage.uow import UnitOfWork
from storage.volunteers import ANYWHERE

__all__ = [
    "volunteer_hours",
    "volunteer_offer",
    "volunteer_redeem",
    "volunteer_register",
    "volunteers_page",
]

SHOWN = 50
HOUR = 60
MAX_HOURS = 24


async def _context(request: Request, _: int = 0) -> dict[str, object]:
    async with UnitOfWork(runtime_of(request).sessions) as uow:
        rows = await uow.volunteers.listing()
        open_requests = list(
            await uow.session.scalars(
                select(ServiceRequest)
                .where(
                    ServiceRequest.kind.in_(("medical_escort", "eldercare")),
                    ServiceRequest.status.not_in(CLOSED_STATUSES),
                )
                .order_by(ServiceRequest.id.desc())
                .limit(SHOWN)
            )
        )
        fitting = []
        for item in open_requests:
            skill = volunteers.fits(item)
            task = await uow.volunteers.task_of(item.id) if skill else None
            if skill and (task is None or task.volunteer_id is None):
                fitting.append((item, skill, task))
        tasks: list[tuple[VolunteerTask, str]] = []
        names = {p.id: p.name for _, p, _ in rows}
        by_volunteer = {v.id: p.name for v, p, _ in rows}
        for task in await uow.volunteers.open_tasks(SHOWN):
            if task.volunteer_id is not None:
                tasks.append((task, by_volunteer.get(task.volunteer_id, "")))
        people = {
            p.id: p
            for p in await uow.session.scalars(
                select(Person).where(Person.id.in_({r.person_id for r, _, _ in fitting}))
            )
        }
    return {
        "nav": "volunteers",
        "rows": [
            {
                "volunteer": v,
                "person": p,
                "skills": volunteers.skill_names(v.skills),
                "areas": volunteers.area_names(v.districts),
                "balance": volunteers.hours(b),
            }
            for v, p, b in rows
        ],
        "fitting": [
            {
                "request": r,
                "skill": texts.VOL_WHAT.get(s, s),
                "person": people.get(r.person_id or 0),
                "offered": t is not None,
            }
            for r, s, t in fitting
        ],
        "tasks": [
            {"task": t, "name": n, "skill": texts.VOL_WHAT.get(t.skill, t.skill)} for t, n in tasks
        ],
        "names": names,
        "skills": texts.VOL_SKILL_NAMES,
        "kinds": texts.REQUEST_KINDS,
    }


@guarded("volunteer.view")
async def volunteers_page(request: Request, who: Signed) -> Response:
    """The volunteers, the requests that fit one, the tasks taken."""
    return render(request, "volunteers.html", await _context(request), who=who)


@guarded("volunteer.manage")
async def volunteer_register(request: Request, who: Signed) -> Response:
    """Enter (or update) a volunteer: a person on the roster, skills, districts."""
    person_id = number(who.field("person", 12))
    skills = [
        s for s in (who.form.getlist("skills") if who.form else []) if s in texts.VOL_SKILL_NAMES
    ]
    said = who.field("districts", 200)
    areas = [ANYWHERE] if not said.strip() or ANYWHERE in said else _split(said)

    async def save(uow: UnitOfWork, now: datetime) -> Done:
        person = await uow.people.get(person_id) if person_id else None
        if person is None:
            return Done(ok=False, message=texts.CONSOLE_VOL_NO_PERSON)
        if not skills:
            return Done(ok=False, message=texts.CONSOLE_VOL_NO_SKILL)
        actor = f"staff:{who.member.id}"
        volunteer = await uow.volunteers.register(person.id, skills, areas, actor=actor, now=now)
        uow.audit.record(now, actor, "volunteer_registered", "volunteer", volunteer.id)
        event = VolunteerRegistered(volunteer.id, volunteer.skills, volunteer.districts)
        return Done(
            ok=True, message=texts.CONSOLE_VOL_SAVED.format(name=person.name), events=[event]
        )

    return await perform(request, who, save, "volunteers.html", _context)


def _split(said: str) -> list[str]:
    for mark in texts.VOL_LIST_MARKS:
        said = said.replace(mark, " ")
    return [w[:40] for w in said.split() if w][:10] or [ANYWHERE]


@guarded("volunteer.manage")
async def volunteer_offer(request: Request, who: Signed) -> Response:
    """Offer a request to the volunteers whose skills and districts fit."""
    request_id = number(who.field("request", 12))

    async def offer(uow: UnitOfWork, now: datetime) -> Done:
        return await volunteers.offer_request(uow, who.member, request_id, now)

    return await perform(request, who, offer, "volunteers.html", _context)


@guarded("volunteer.manage")
async def volunteer_hours(request: Request, who: Signed) -> Response:
    """Confirm a task's hours (in hours, halves allowed): into the volunteer's time bank."""
    task_id = number(who.field("task", 12))
    minutes = _minutes(who.field("hours", 6))

    async def confirm(uow: UnitOfWork, now: datetime) -> Done:
        return await volunteers.confirm_hours(uow, who.member, task_id, minutes, now)

    return await perform(request, who, confirm, "volunteers.html", _context)


@guarded("volunteer.manage")
async def volunteer_redeem(request: Request, who: Signed) -> Response:
    """Redeem a person's hours for a booked request (theirs or a relative's)."""
    person_id = number(who.field("person", 12))
    request_id = number(who.field("request", 12))
    minutes = _minutes(who.field("hours", 6))

    async def redeem(uow: UnitOfWork, now: datetime) -> Done:
        if minutes <= 0 or await uow.people.get(person_id) is None:
            return Done(ok=False, message=texts.CONSOLE_REDEEM_BAD)
        return await volunteers.redeem(uow, who.member, person_id, request_id, minutes, now=now)

    return await perform(request, who, redeem, "volunteers.html", _context)


def _minutes(typed: str) -> int:
    """Hours typed (2, 1.5) as minutes; 0 when not a sensible number."""
    try:
        value = float(typed.strip())
    except ValueError:
        return 0
    if not 0 < value <= MAX_HOURS:
        return 0
    return round(value * HOUR)
