"""The shared service-record database (一人一档): one file per person, every request in it.

Times are stored in UTC (``UTCDateTime``) and shown in Asia/Shanghai by the handlers. The
tables are grouped by what they hold (people, requests, catalog, messages, records); every
model is imported here, so ``from storage.models import Person`` and Alembic's metadata see
them all.
"""

from __future__ import annotations

from storage.models.catalog import (
    Activity,
    EldercareService,
    EldercareSlot,
    Hospital,
    PolicyArticle,
    Registration,
)
from storage.models.messages import Broadcast, BroadcastRecipient, Delivery, MessageRecord, Reminder
from storage.models.people import ChannelAccount, FamilyMember, Person, PersonTag, Staff
from storage.models.records import AuditEntry, BindingCode, CodeAttempt, IdentityCheck, ImportBatch
from storage.models.requests import Alert, AlertStep, DutyShift, RequestStatusChange, ServiceRequest

__all__ = [
    "Activity",
    "Alert",
    "AlertStep",
    "AuditEntry",
    "BindingCode",
    "Broadcast",
    "BroadcastRecipient",
    "ChannelAccount",
    "CodeAttempt",
    "Delivery",
    "DutyShift",
    "EldercareService",
    "EldercareSlot",
    "FamilyMember",
    "Hospital",
    "IdentityCheck",
    "ImportBatch",
    "MessageRecord",
    "Person",
    "PersonTag",
    "PolicyArticle",
    "Registration",
    "Reminder",
    "RequestStatusChange",
    "ServiceRequest",
    "Staff",
]
