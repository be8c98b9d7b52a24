"""The 住院提醒 feed: admissions and discharges pushed by hospitals and health information
platforms (the HTTP endpoint, its signatures and replay window are bot/feeds.py).

An event names its person by the ID number, matched to the roster through the blind index.
A matched admission records the stay and the staff's visit task exactly as a retiree's own
report does (handlers/medical/stay.py ``record_stay``), unless the person already has an
open stay at that hospital (then the event is linked to it); a discharge closes the open
stay and notes it on the visit task. Each (organisation, event_id) is acted on once.
An event nobody on the roster matches waits for a clerk (bot/console/admissions.py), who
matches it to a person (then it is acted on as above) or dismisses it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from handlers import texts
from handlers.base import TZ
from handlers.events import Event
from handlers.medical.stay import record_stay
from handlers.wording import format_date
from handlers.workbench import Done
from storage.admissions import WAITING, AdmissionRepo
from storage.models import AdmissionEvent, Person, ServiceRequest
from storage.repos import CLOSED_STATUSES
from storage.uow import UnitOfWork

__all__ = [
    "KINDS",
    "Applied",
    "Done",
    "FeedEvent",
    "MalformedEventError",
    "Receipt",
    "birth_date",
    "dismiss",
    "keep_invalid",
    "mask_id",
    "match",
    "parse_event",
    "receive",
]

KINDS = ("admission", "discharge")
ID_NUMBER = re.compile(r"\d{17}[\dX]|\d{15}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
# field -> longest value kept (as the columns of storage/models/feeds.py)
LIMITS = {"event_id": 100, "name": 40, "hospital": 100, "department": 60, "ward": 40, "bed": 20}
REQUIRED = ("event_id", "type", "id_number", "hospital", "time")
# A waiting event is a clerk's task in the staff queue, due soon: the stay's visit is due
# within 24 hours of the admission.
REVIEW = "admission_review"
REVIEW_WITHIN = timedelta(hours=2)


class MalformedEventError(ValueError):
    """A signed body that is not an event we can read (its words go back to the sender;
    never the values, which may be personal)."""


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One admission or discharge, as read from a body."""

    event_id: str
    kind: str
    id_number: str
    hospital: str
    at: datetime
    name: str | None = None
    department: str | None = None
    ward: str | None = None
    bed: str | None = None


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedEventError(f"{name} must be a string")
    cleaned = _CONTROL.sub("", str(value)).strip()
    if len(cleaned) > LIMITS.get(name, 100):
        raise MalformedEventError(f"{name} is longer than {LIMITS.get(name, 100)} characters")
    return cleaned or None


def parse_event(raw: bytes) -> FeedEvent:
    """The event in a body, or :class:`MalformedEventError` saying what is wrong with it."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise MalformedEventError("the body is not JSON (UTF-8)") from None
    if not isinstance(body, dict):
        raise MalformedEventError("expected a JSON object")
    missing = [name for name in REQUIRED if body.get(name) in (None, "")]
    if missing:
        raise MalformedEventError("missing fields: " + ", ".join(missing))
    kind = body.get("type")
    if kind not in KINDS:
        raise MalformedEventError("type must be admission or discharge")
    number = _text(body, "id_number")
    if number is None or not ID_NUMBER.fullmatch(number.upper()):
        raise MalformedEventError("id_number is not an ID-card number (18 or 15 characters)")
    when = body.get("time")
    try:
        at = datetime.fromisoformat(when) if isinstance(when, str) else None
    except ValueError:
        at = None
    if at is None:
        raise MalformedEventError("time must be ISO-8601, e.g. 2026-12-08T09:30:00+08:00")
    return FeedEvent(
        event_id=str(_text(body, "event_id")),
        kind=str(kind),
        id_number=number.upper(),
        hospital=str(_text(body, "hospital")),
        at=at if at.tzinfo is not None else at.replace(tzinfo=TZ),  # naive: the bureau's time
        name=_text(body, "name"),
        department=_text(body, "department"),
        ward=_text(body, "ward"),
        bed=_text(body, "bed"),
    )


@dataclass(frozen=True, slots=True)
class Applied:
    """What acting on a matched event did: ``created`` a stay, ``linked`` to an open one,
    ``discharged`` one, or ``no_stay`` (a discharge with no open stay: nothing changed)."""

    outcome: str
    stay_id: int | None = None
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Receipt:
    """How an event was received: ``matched`` (and what was done), ``unmatched`` (waits for
    a clerk) or ``duplicate`` (that organisation sent that event id before)."""

    state: str
    event_row: int
    applied: Applied | None = None


def _actor(organisation: str) -> str:
    return f"feed:{organisation}"[:40]


async def receive(uow: UnitOfWork, organisation: str, event: FeedEvent, now: datetime) -> Receipt:
    """Store an event and act on it when it matches someone on the roster (the caller
    commits; two copies racing end in the unique key, to be answered as a duplicate)."""
    repo = AdmissionRepo(uow.session)
    earlier = await repo.find(organisation, event.event_id)
    if earlier is not None:
        return Receipt("duplicate", earlier.id)
    row = await repo.add(
        AdmissionEvent(
            organisation=organisation, event_id=event.event_id, kind=event.kind,
            state="unmatched", id_number=event.id_number, name=event.name,
            hospital=event.hospital, department=event.department, ward=event.ward,
            bed=event.bed, occurred_at=event.at, received_at=now, updated_at=now,
        )
    )  # fmt: skip
    uow.audit.record(now, _actor(organisation), "feed_received", "admission_event", row.id,
                     kind=event.kind)  # fmt: skip
    person = await repo.person_by_id_number(event.id_number)
    if person is None:
        await _review_task(uow, row, now)
        return Receipt("unmatched", row.id)
    applied = await _apply(uow, row, person, now, _actor(organisation))
    return Receipt("matched", row.id, applied)


async def keep_invalid(
    uow: UnitOfWork, organisation: str, raw: bytes, problem: str, now: datetime
) -> AdmissionEvent:
    """Keep a signed body we could not read, sealed, for a clerk to look at."""
    row = await AdmissionRepo(uow.session).add(
        AdmissionEvent(
            organisation=organisation, state="invalid", problem=problem[:200],
            raw=raw.decode("utf-8", "replace"), received_at=now, updated_at=now,
        )
    )  # fmt: skip
    uow.audit.record(now, _actor(organisation), "feed_invalid", "admission_event", row.id)
    await _review_task(uow, row, now)
    return row


async def _review_task(uow: UnitOfWork, row: AdmissionEvent, now: datetime) -> None:
    """Put a waiting event in the staff queue (no personal data in the task itself)."""
    details = {"admission_event": row.id, "organisation": row.organisation,
               "event": row.kind, "hospital": row.hospital, "state": row.state}  # fmt: skip
    task = await uow.requests.create(
        REVIEW, now=now, actor=_actor(row.organisation), person_id=None, status="pending",
        details=details, due_at=now + REVIEW_WITHIN,
    )  # fmt: skip
    row.task_request_id = task.id


async def _close_task(uow: UnitOfWork, row: AdmissionEvent, now: datetime, note: str) -> None:
    """The clerk decided: the event's task in the queue is done."""
    task = await uow.requests.get(row.task_request_id) if row.task_request_id else None
    if task is not None and task.status not in CLOSED_STATUSES:
        await uow.requests.set_status(task, "done", now=now, actor=str(row.handled_by),
                                      note=note)  # fmt: skip


def _same_hospital(stays: list[ServiceRequest], hospital: str | None) -> ServiceRequest | None:
    return next((s for s in stays if (s.details or {}).get("hospital") == hospital), None)


async def _apply(
    uow: UnitOfWork, row: AdmissionEvent, person: Person, now: datetime, actor: str
) -> Applied:
    """Act on an event matched to ``person``: record (or link) the stay, or close it."""
    repo = AdmissionRepo(uow.session)
    row.person_id, row.state, row.handled_by, row.updated_at = person.id, "matched", actor, now
    day: date = (row.occurred_at or now).astimezone(TZ).date()
    stays = await repo.open_stays(person.id, "hospital_admission")
    if row.kind == "admission":
        same = _same_hospital(stays, row.hospital)
        if same is not None:  # reported already (by the retiree, or by another sender)
            row.stay_request_id = same.id
            uow.requests.note(same, texts.FEED_STAY_NOTE.format(organisation=row.organisation),
                              now=now, actor=actor)  # fmt: skip
            return Applied("linked", same.id)
        details: dict[str, Any] = {
            "hospital": row.hospital, "department": row.department, "since": day.isoformat(),
            "source": "feed", "organisation": row.organisation, "feed_event": row.id,
        }  # fmt: skip
        details.update({k: v for k, v in (("ward", row.ward), ("bed", row.bed)) if v})
        made, event = await record_stay(
            uow, now=now, actor=actor, person_id=person.id, account_id=None,
            beneficiary="self", details=details, since=day,
        )  # fmt: skip
        row.stay_request_id = made.id
        return Applied("created", made.id, [event])
    stay = _same_hospital(stays, row.hospital) or (stays[0] if stays else None)
    if stay is None:
        row.problem = "no open stay to close"
        return Applied("no_stay")
    stay.details = {**(stay.details or {}), "discharged": day.isoformat()}
    words = {"day": format_date(day), "organisation": row.organisation}
    await uow.requests.set_status(stay, "done", now=now, actor=actor,
                                  note=texts.FEED_DISCHARGED_NOTE.format(**words))  # fmt: skip
    for visit in await repo.open_stays(person.id, "hospital_visit"):
        if (visit.details or {}).get("stay_request_id") == stay.id:
            uow.requests.note(visit, texts.FEED_DISCHARGED_VISIT_NOTE.format(**words),
                              now=now, actor=actor)  # fmt: skip
    row.stay_request_id = stay.id
    return Applied("discharged", stay.id)


async def match(uow: UnitOfWork, staff_id: int, row_id: int, person_id: int, now: datetime) -> Done:
    """A clerk says who a waiting event is about: act on it as if it had matched."""
    repo = AdmissionRepo(uow.session)
    row = await repo.get(row_id, lock=True) if row_id else None
    if row is None or row.state not in WAITING:
        return Done(False, texts.FEED_NOT_WAITING)
    if row.state == "invalid":
        return Done(False, texts.FEED_CANNOT_MATCH)
    person = await uow.people.get(person_id) if person_id else None
    if person is None:
        return Done(False, texts.FEED_NO_PERSON)
    actor = f"staff:{staff_id}"
    applied = await _apply(uow, row, person, now, actor)
    await _close_task(uow, row, now, texts.FEED_TASK_MATCHED.format(name=person.name,
                                                                    person=person.id))  # fmt: skip
    uow.audit.record(now, actor, "feed_matched", "admission_event", row.id, person=person.id,
                     stay=applied.stay_id)  # fmt: skip
    message = {
        "created": texts.FEED_MATCHED,
        "linked": texts.FEED_MATCHED_LINKED,
        "discharged": texts.FEED_MATCHED_DISCHARGE,
    }.get(applied.outcome, texts.FEED_MATCHED_NO_STAY)
    return Done(True, message.format(name=person.name, id=applied.stay_id), list(applied.events))


async def dismiss(uow: UnitOfWork, staff_id: int, row_id: int, now: datetime) -> Done:
    """A clerk sets a waiting event aside (not ours, a test, unreadable)."""
    row = await AdmissionRepo(uow.session).get(row_id, lock=True) if row_id else None
    if row is None or row.state not in WAITING:
        return Done(False, texts.FEED_NOT_WAITING)
    actor = f"staff:{staff_id}"
    row.state, row.handled_by, row.updated_at = "dismissed", actor, now
    await _close_task(uow, row, now, texts.FEED_TASK_DISMISSED)
    uow.audit.record(now, actor, "feed_dismissed", "admission_event", row.id)
    return Done(True, texts.FEED_DISMISSED)


def mask_id(number: str | None) -> str:
    """An ID number as the console shows it: the region and the last four."""
    if not number:
        return ""
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def birth_date(number: str | None) -> date | None:
    """The birth date written in an 18-character ID number (None if there is none)."""
    if not number or len(number) != 18:  # noqa: PLR2004
        return None
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None
