"""What emergency pages say: to staff on call (with everything needed to act, and a "我来处理"
button), to family when no one on staff has answered, and to the retiree once someone has
taken it. The sending is services/paging.py (run by the worker's jobs); the wording is here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from handlers import texts
from handlers.base import TZ, Option, Reply, ServiceConfig, payload
from storage.alerts import FAMILY
from storage.models import Alert, Person, ServiceRequest

__all__ = [
    "family_page",
    "located",
    "more_words",
    "page",
    "resolve_option",
    "take_option",
    "told_person",
    "told_taken",
]


def _age(birth: date | None, now: datetime) -> str:
    if birth is None:
        return ""
    today = now.astimezone(TZ).date()
    years = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    return texts.ALERT_AGE.format(age=years)


def _or_unknown(value: str | None) -> str:
    return value.strip() if value and value.strip() else texts.ALERT_UNKNOWN_VALUE


def take_option(request_id: int) -> Option:
    """The "我来处理" button of a page (staff see one number everywhere: the request's)."""
    return Option(texts.ALERT_TAKE_LABEL, payload("alert_take", request=request_id))


def resolve_option(request_id: int) -> Option:
    """The "办结" button shown to whoever took the alert."""
    return Option(texts.ALERT_RESOLVE_LABEL, payload("alert_resolve", request=request_id))


def page(
    alert: Alert,
    request: ServiceRequest,
    person: Person | None,
    level: int,
    now: datetime,
    *,
    more: Sequence[str] = (),
    unanswered: bool = False,
) -> Reply:
    """The page for staff: who, where, how to reach them and their family, what they said
    (and ``more``: what they wrote since)."""
    contact = None
    if person is not None and (person.emergency_contact or person.emergency_phone):
        contact = " ".join(x for x in (person.emergency_contact, person.emergency_phone) if x)
    said = str((request.details or {}).get("text") or "")
    facts = {
        "name": person.name if person else texts.STAFF_UNKNOWN_PERSON,
        "age": _age(person.birth_date if person else None, now),
        "address": _or_unknown(person.address if person else None),
        "phone": _or_unknown(person.phone if person else None),
        "contact": _or_unknown(contact),
        "health": _or_unknown(person.health_notes if person else None),
        "location": _or_unknown(alert.location),
        "said": _or_unknown(said[:200]),
        "when": alert.created_at.astimezone(TZ).strftime("%m-%d %H:%M"),
    }
    lines = [line.format(**facts) for line in texts.ALERT_PAGE_LINES]
    lines += [texts.ALERT_PAGE_MORE.format(said=said[:200]) for said in more[-3:]]
    if unanswered:
        lines.append(texts.ALERT_PAGE_UNANSWERED)
    if level > FAMILY:  # the rounds after the family: everyone on call again
        lines.append(texts.ALERT_PAGE_AGAIN.format(round=level - FAMILY + 1))
    lines.append(texts.ALERT_TAKE_HINT.format(id=alert.request_id))
    return Reply("\n".join(lines), (take_option(alert.request_id),))


def family_page(person: Person | None, config: ServiceConfig) -> Reply:
    """The page for a son or daughter bound to the retiree."""
    name = person.name if person else ""
    return Reply(texts.ALERT_PAGE_FAMILY.format(name=name, hotline=config.hotline))


def told_taken(request_id: int, staff_name: str) -> Reply:
    """For the others paged: someone has taken it."""
    return Reply(texts.ALERT_TAKEN_BY_OTHER.format(id=request_id, staff=staff_name))


def told_person(staff_name: str) -> Reply:
    """For the retiree (and whoever raised it): someone is coming."""
    return Reply(texts.ALERT_TOLD_PERSON.format(staff=staff_name))


def located(alert: Alert, person: Person | None) -> Reply:
    """For staff on an emergency: where the person is, shared after the SOS."""
    name = person.name if person else texts.STAFF_UNKNOWN_PERSON
    return Reply(texts.ALERT_LOCATED.format(id=alert.request_id, name=name, place=alert.location))


def more_words(alert: Alert, person: Person | None, said: str) -> Reply:
    """For staff on an emergency: what the person wrote since (another cry, who they are)."""
    name = person.name if person else texts.STAFF_UNKNOWN_PERSON
    return Reply(texts.ALERT_MORE_WORDS.format(id=alert.request_id, name=name, said=said[:300]))
