"""The shared service-record database (一人一档): one file per person, every request in it.

Times are stored in UTC (``UTCDateTime``) and shown in Asia/Shanghai by the handlers. The
tables are grouped by what they hold (people, requests, catalog, messages, records); every
model is imported here, so ``from storage.models import Person`` and Alembic's metadata see
them all.
"""

from __future__ import annotations

from storage.models.care import CareContact, CarePlanItem, DoctorContract
from storage.models.catalog import (
    Activity,
    EldercareService,
    EldercareSlot,
    Hospital,
    PolicyArticle,
    Registration,
)
from storage.models.feeds import AdmissionEvent
from storage.models.messages import Broadcast, BroadcastRecipient, Delivery, MessageRecord, Reminder
from storage.models.people import ChannelAccount, FamilyMember, Person, PersonTag, Staff
from storage.models.records import AuditEntry, BindingCode, CodeAttempt, IdentityCheck, ImportBatch
from storage.models.requests import Alert, AlertStep, DutyShift, RequestStatusChange, ServiceRequest
from storage.models.visits import MustVisit
from storage.models.volunteers import TimeBankEntry, Volunteer, VolunteerOffer, VolunteerTask

__all__ = [
    "Activity",
    "AdmissionEvent",
    "Alert",
    "AlertStep",
    "AuditEntry",
    "BindingCode",
    "Broadcast",
    "BroadcastRecipient",
    "CareContact",
    "CarePlanItem",
    "ChannelAccount",
    "CodeAttempt",
    "Delivery",
    "DoctorContract",
    "DutyShift",
    "EldercareService",
    "EldercareSlot",
    "FamilyMember",
    "Hospital",
    "IdentityCheck",
    "ImportBatch",
    "MessageRecord",
    "MustVisit",
    "Person",
    "PersonTag",
    "PolicyArticle",
    "Registration",
    "Reminder",
    "RequestStatusChange",
    "ServiceRequest",
    "Staff",
    "TimeBankEntry",
    "Volunteer",
    "VolunteerOffer",
    "VolunteerTask",
]
