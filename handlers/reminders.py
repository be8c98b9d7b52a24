"""What reminders say: to a retiree (or the family member who made the booking) the day
before an activity or a booking, and to the staff on duty each morning, the day's 必访
visits. The sending is services/reminders.py; the wording is here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from handlers import texts
from handlers.base import TZ, Option, Reply, ServiceConfig, payload
from handlers.eldercare import SLOT_KIND as ELDERCARE
from handlers.medical import TBD
from handlers.wording import address, format_date, format_when
from storage.models import Activity, ChannelAccount, Person, ServiceRequest

__all__ = ["BOOKING_KINDS", "activity", "booking", "staff_list"]

ESCORT, CLAIM = "medical_escort", "reimbursement"
# The bookings reminded the day before (the kinds of their service requests).
BOOKING_KINDS = (ELDERCARE, ESCORT, CLAIM)
SELF, SPOUSE, BOTH = "self", "spouse", "both"


def _hello(person: Person, account: ChannelAccount, config: ServiceConfig) -> str:
    if account.role == "family":
        return texts.REMIND_HELLO_FAMILY
    return texts.REMIND_HELLO.format(address=address(person, config))


def _who(value: str, person: Person, account: ChannelAccount) -> str:
    """您本人 / 您和老伴 to the retiree; 张建国本人 / 张建国和老伴 to a family member."""
    if account.role == "family":
        template = texts.BENEFICIARY_OF.get(value)
        return template.format(name=person.name) if template else value
    return texts.BENEFICIARY.get(value, value)


def _options() -> tuple[Option, ...]:
    return (
        Option(texts.REMIND_CANCEL, payload("booking_cancel")),
        Option(texts.REMIND_PERSON, payload("human_agent")),
    )


def activity(
    event: Activity,
    attendees: Sequence[str],
    person: Person,
    account: ChannelAccount,
    config: ServiceConfig,
) -> Reply:
    """Tomorrow's activity: what, when, where, and who of the household has a seat."""
    local = event.starts_at.astimezone(TZ)
    who = BOTH if {SELF, SPOUSE} <= set(attendees) else attendees[0]
    text = texts.REMIND_ACTIVITY.format(
        hello=_hello(person, account, config),
        when=format_when(local.date(), local.strftime("%H:%M")),
        title=event.title,
        place=event.place,
        who=_who(who, person, account),
    )
    return Reply(text, _options())


def booking(
    request: ServiceRequest, person: Person, account: ChannelAccount, config: ServiceConfig
) -> Reply:
    """Tomorrow's booking: an escorted hospital visit, home care, or handing in bills."""
    details = request.details or {}
    facts = {
        "hello": _hello(person, account, config),
        "when": format_when(request.scheduled_date, request.scheduled_time),
        "who": _who(request.beneficiary, person, account),
    }
    if request.kind == ESCORT:
        department = str(details.get("department") or TBD)
        text = texts.REMIND_ESCORT.format(
            hospital=details.get("hospital", ""),
            department=texts.ESCORT_DEPARTMENT_TBD if department == TBD else department,
            **facts,
        )
    elif request.kind == ELDERCARE:
        text = texts.REMIND_CARE.format(
            service=details.get("service_name") or details.get("service", ""), **facts
        )
    else:
        text = texts.REMIND_CLAIM.format(place=details.get("place") or texts.CLAIM_PLACE, **facts)
    return Reply(text, _options())


def _or_unknown(value: str | None) -> str:
    return value.strip() if value and value.strip() else texts.ALERT_UNKNOWN_VALUE


def _visit_line(request: ServiceRequest, person: Person | None, now: datetime) -> str:
    details = request.details or {}
    name = person.name if person else texts.STAFF_UNKNOWN_PERSON
    template = (
        texts.BENEFICIARY_OF.get(request.beneficiary) if request.beneficiary != SELF else None
    )
    who = template.format(name=name) if template else name
    hospital = " ".join(str(x) for x in (details.get("hospital"), details.get("department")) if x)
    due = request.due_at or now
    local = due.astimezone(TZ)
    line = texts.REMIND_STAFF_VISIT_LATE if due < now else texts.REMIND_STAFF_VISIT
    return line.format(
        who=who,
        hospital=_or_unknown(hospital),
        due=format_when(local.date(), local.strftime("%H:%M")),
    )


def staff_list(
    today: date,
    visits: Sequence[tuple[ServiceRequest, Person | None]],
    birthdays: Sequence[Person],
    alone: Sequence[Person],
    now: datetime,
) -> Reply:
    """The day's 必访 list for the staff on duty: hospital stays to visit within 24 hours,
    birthdays of those 80 and over, and people living alone to call this month."""
    lines = [texts.REMIND_STAFF_HEAD.format(day=format_date(today))]
    if visits:
        lines.append(texts.REMIND_STAFF_VISITS)
        lines += [_visit_line(request, person, now) for request, person in visits]
    if birthdays:
        lines.append(texts.REMIND_STAFF_BIRTHDAYS)
        lines += [
            texts.REMIND_STAFF_BIRTHDAY.format(
                name=p.name,
                age=today.year - p.birth_date.year if p.birth_date else "",
                phone=_or_unknown(p.phone),
            )
            for p in birthdays
        ]
    if alone:
        lines.append(texts.REMIND_STAFF_ALONE)
        lines += [
            texts.REMIND_STAFF_ALONE_LINE.format(
                name=p.name, phone=_or_unknown(p.phone), address=_or_unknown(p.address)
            )
            for p in alone
        ]
    lines.append(texts.REMIND_STAFF_FOOT)
    return Reply("\n".join(lines))
