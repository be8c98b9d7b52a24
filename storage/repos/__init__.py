"""Repositories for people, accounts, staff, requests and the logs; handlers never write SQL.

One module per family; every name is re-exported here (``from storage.repos import X``).
"""

from __future__ import annotations

from storage.repos.accounts import STAFF_CODE_MAX, AccountRepo, CodeRepo
from storage.repos.messages import (
    INBOUND_INDEX,
    DuplicateMessage,
    MessageRepo,
    is_duplicate_message,
)
from storage.repos.people import PeopleRepo, StaffRepo, digits
from storage.repos.records import AuditRepo, DeliveryRepo
from storage.repos.requests import CLOSED_STATUSES, RequestRepo

__all__ = [
    "CLOSED_STATUSES",
    "INBOUND_INDEX",
    "STAFF_CODE_MAX",
    "AccountRepo",
    "AuditRepo",
    "CodeRepo",
    "DeliveryRepo",
    "DuplicateMessage",
    "MessageRepo",
    "PeopleRepo",
    "RequestRepo",
    "StaffRepo",
    "digits",
    "is_duplicate_message",
]
