"""Every domain event a handler can emit — the one place they are documented.

Events are flat JSON objects with a ``type``. Handlers emit them in the message's
transaction; the pipeline hands them out only after that transaction commits
(``yinling simulate`` prints them; the job queue will deliver them to staff).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

__all__ = [
    "AccountBound",
    "ActivitySignedUp",
    "AlertAcknowledged",
    "AlertLocated",
    "AlertResolved",
    "AlertUpdated",
    "BindingDecided",
    "BindingFailed",
    "BindingRequested",
    "BookingCancelled",
    "BroadcastCreated",
    "EldercareBooked",
    "EscortBooked",
    "Event",
    "HandoffRequested",
    "HospitalStayReported",
    "ReimbursementBooked",
    "SosRaised",
    "VolunteerAccepted",
    "VolunteerHoursCredited",
    "VolunteerOffered",
    "VolunteerRegistered",
    "WaitlistPromoted",
]


@dataclass(frozen=True, slots=True)
class Event:
    """Base of all events."""

    type: ClassVar[str] = "event"

    def to_dict(self) -> dict[str, Any]:
        """``{"type": …, **fields}``."""
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True, slots=True)
class SosRaised(Event):
    """An emergency was reported; the request and its alert are written, paging is due."""

    type: ClassVar[str] = "sos_raised"
    request_id: int
    person_id: int | None
    location: str | None = None
    alert_id: int | None = None
    for_sender: bool = True  # False when staff raised it for a retiree


@dataclass(frozen=True, slots=True)
class AlertAcknowledged(Event):
    """A staff member took an emergency; the others paged are to be told."""

    type: ClassVar[str] = "alert_acknowledged"
    alert_id: int
    staff_id: int


@dataclass(frozen=True, slots=True)
class AlertLocated(Event):
    """The person in an emergency shared where they are; staff paged are to be told."""

    type: ClassVar[str] = "alert_located"
    alert_id: int


@dataclass(frozen=True, slots=True)
class AlertUpdated(Event):
    """The person wrote again on an open emergency (another cry for help, or who and
    where they are); the staff on it are to be told."""

    type: ClassVar[str] = "alert_updated"
    alert_id: int
    step_id: int


@dataclass(frozen=True, slots=True)
class BroadcastCreated(Event):
    """Staff confirmed a broadcast in the chat; the workers are to send it."""

    type: ClassVar[str] = "broadcast_created"
    broadcast_id: int
    recipients: int


@dataclass(frozen=True, slots=True)
class AlertResolved(Event):
    """A staff member closed an emergency."""

    type: ClassVar[str] = "alert_resolved"
    alert_id: int
    staff_id: int


@dataclass(frozen=True, slots=True)
class HandoffRequested(Event):
    """The conversation was handed to a person on staff."""

    type: ClassVar[str] = "handoff_requested"
    request_id: int
    reason: str  # asked | unsure | binding | error | personal_figure | forget_me


@dataclass(frozen=True, slots=True)
class AccountBound(Event):
    """A channel user was matched to a person on the roster."""

    type: ClassVar[str] = "account_bound"
    account_id: int
    person_id: int
    role: str
    how: str = "name"  # name (staff-made) | code | contact | sms | staff | account


@dataclass(frozen=True, slots=True)
class BindingRequested(Event):
    """Name and phone matched: a pending binding waits to be proven. Its SMS code is to be
    sent (``resend``: a new one), and the person's bound accounts asked."""

    type: ClassVar[str] = "binding_requested"
    check_id: int
    person_id: int
    account_id: int
    resend: bool = False


@dataclass(frozen=True, slots=True)
class BindingDecided(Event):
    """Staff or the person's own account decided a pending binding; its user is told."""

    type: ClassVar[str] = "binding_decided"
    account_id: int
    approved: bool


@dataclass(frozen=True, slots=True)
class BindingFailed(Event):
    """A channel user could not be matched to the roster."""

    type: ClassVar[str] = "binding_failed"
    attempts: int


@dataclass(frozen=True, slots=True)
class EscortBooked(Event):
    """A green-channel hospital visit with a staff escort was booked."""

    type: ClassVar[str] = "escort_booked"
    request_id: int
    hospital: str
    department: str
    date: str  # ISO date
    time: str  # HH:MM | morning | afternoon
    beneficiary: str  # self | spouse


@dataclass(frozen=True, slots=True)
class HospitalStayReported(Event):
    """A hospital stay was reported; staff must visit before ``visit_due``."""

    type: ClassVar[str] = "hospital_stay_reported"
    request_id: int
    hospital: str
    since: str  # ISO date
    beneficiary: str
    visit_due: str  # ISO datetime (UTC)


@dataclass(frozen=True, slots=True)
class ReimbursementBooked(Event):
    """A time to hand in medical bills was booked."""

    type: ClassVar[str] = "reimbursement_booked"
    request_id: int
    date: str
    time: str


@dataclass(frozen=True, slots=True)
class EldercareBooked(Event):
    """A home eldercare service was booked into a slot."""

    type: ClassVar[str] = "eldercare_booked"
    request_id: int
    service: str  # cleaning | haircut | …
    date: str
    time: str  # morning | afternoon
    beneficiary: str


@dataclass(frozen=True, slots=True)
class ActivitySignedUp(Event):
    """A seat or a waitlist place in an activity was taken."""

    type: ClassVar[str] = "activity_signed_up"
    registration_id: int
    activity_id: int
    activity: str
    attendee: str  # self | spouse
    status: str  # registered | waitlisted
    position: int | None  # place on the waitlist


@dataclass(frozen=True, slots=True)
class BookingCancelled(Event):
    """A booking, request or registration was cancelled."""

    type: ClassVar[str] = "booking_cancelled"
    kind: str  # activity | medical_escort | eldercare | reimbursement
    id: int


@dataclass(frozen=True, slots=True)
class WaitlistPromoted(Event):
    """Someone on a waitlist got the seat a cancellation freed; they are to be told."""

    type: ClassVar[str] = "waitlist_promoted"
    registration_id: int
    person_id: int
    activity_id: int
    activity: str


# ------------------------------------------------------- volunteers (时间银行)
@dataclass(frozen=True, slots=True)
class VolunteerRegistered(Event):
    """A person registered (or updated) as a volunteer: their skills and districts."""

    type: ClassVar[str] = "volunteer_registered"
    volunteer_id: int
    skills: str  # comma-separated: escort, companionship, reading, repair
    districts: str  # comma-separated district names, or "*" for anywhere


@dataclass(frozen=True, slots=True)
class VolunteerOffered(Event):
    """Staff offered a request to the matching volunteers; the offers are to be sent."""

    type: ClassVar[str] = "volunteer_offered"
    task_id: int
    request_id: int
    offers: int


@dataclass(frozen=True, slots=True)
class VolunteerAccepted(Event):
    """A volunteer took a task (the first to accept); the others and the retiree are told."""

    type: ClassVar[str] = "volunteer_accepted"
    task_id: int
    request_id: int
    volunteer_id: int


@dataclass(frozen=True, slots=True)
class VolunteerHoursCredited(Event):
    """A task's hours were confirmed and put in the volunteer's time bank."""

    type: ClassVar[str] = "volunteer_hours_credited"
    task_id: int
    volunteer_id: int
    minutes: int
    by: str  # retiree | staff
