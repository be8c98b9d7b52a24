"""What emergency pages say: to staff on call (with everything needed to act, and a "我来处理"
button), to family when no one on staff has answered, and to the retiree once someone has
taken it. The sending is the worker's (bot/jobs.py); the wording is here."""

from __future__ import annotations

from datetime import date, datetime

from handlers import texts
from handlers.base import TZ, Option, Reply, ServiceConfig, payload
from storage.alerts import FAMILY
from storage.models import Alert, Person, ServiceRequest

__all__ = [
    "family_page",
    "located",
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


def take_option(alert_id: int) -> Option:
    """The "我来处理" button of a page."""
    return Option(texts.ALERT_TAKE_LABEL, payload("alert_take", alert=alert_id))


def resolve_option(alert_id: int) -> Option:
    """The "办结" button shown to whoever took the alert."""
    return Option(texts.ALERT_RESOLVE_LABEL, payload("alert_resolve", alert=alert_id))


def page(
    alert: Alert, request: ServiceRequest, person: Person | None, level: int, now: datetime
) -> Reply:
    """The page for staff: who, where, how to reach them and their family, what they said."""
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
    if level > FAMILY:  # the rounds after the family: everyone on call again
        lines.append(texts.ALERT_PAGE_AGAIN.format(round=level - FAMILY + 1))
    lines.append(texts.ALERT_TAKE_HINT.format(alert=alert.id))
    return Reply("\n".join(lines), (take_option(alert.id),))


def family_page(person: Person | None, config: ServiceConfig) -> Reply:
    """The page for a son or daughter bound to the retiree."""
    name = person.name if person else ""
    return Reply(texts.ALERT_PAGE_FAMILY.format(name=name, hotline=config.hotline))


def told_taken(alert_id: int, staff_name: str) -> Reply:
    """For the others paged: someone has taken it."""
    return Reply(texts.ALERT_TAKEN_BY_OTHER.format(alert=alert_id, staff=staff_name))


def told_person(staff_name: str) -> Reply:
    """For the retiree (and whoever raised it): someone is coming."""
    return Reply(texts.ALERT_TOLD_PERSON.format(staff=staff_name))


def located(alert: Alert, person: Person | None) -> Reply:
    """For staff on an emergency: where the person is, shared after the SOS."""
    name = person.name if person else texts.STAFF_UNKNOWN_PERSON
    return Reply(texts.ALERT_LOCATED.format(alert=alert.id, name=name, place=alert.location))
