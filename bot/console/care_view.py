"""What the person's page shows of their plan (一人一策): the risk level with the reason of
each rule that applied, the plan's items, the staff contact (一对一) and the family-doctor
contracts; read in the page's own unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from handlers import texts
from handlers.base import TZ
from handlers.care import risk_of
from services.care import CADENCES, OWNERS
from storage.models import Person
from storage.uow import UnitOfWork

__all__ = ["care_context"]


async def care_context(uow: UnitOfWork, person: Person, now: datetime) -> dict[str, Any]:
    """The ``care`` part of the person page's context."""
    today = now.astimezone(TZ).date()
    risk = await risk_of(uow, person, now, today)
    items = await uow.care.items(person.id)
    return {
        "risk": risk,
        "items": items,
        "missing": risk.missing({i.cadence for i in items}),
        "contact": await uow.care.contact(person.id),
        "contracts": await uow.care.contracts(person.id),
        "staff": await uow.workbench.active_staff(),
        "cadences": {c: texts.CARE_CADENCES[c] for c in CADENCES},
        "owners": {o: texts.CARE_OWNERS[o] for o in OWNERS},
        "today": today,
    }
