"""What the plan's tasks say to staff: the leader's message about tasks overdue."""

from __future__ import annotations

from collections.abc import Sequence

from handlers import texts
from handlers.base import Reply
from handlers.wording import format_date
from storage.models import Person, ServiceRequest

__all__ = ["SHOWN", "escalation", "task_what"]

SHOWN = 10  # tasks listed in one message at most


def task_what(request: ServiceRequest) -> str:
    """每周上门照护 / 家庭医生续签: what the task is."""
    cadence = str(request.details.get("cadence") or "")
    return texts.CARE_CADENCES.get(cadence) or texts.REQUEST_KINDS.get(request.kind, request.kind)


def escalation(rows: Sequence[tuple[ServiceRequest, Person | None]], days: int) -> Reply:
    """The leader's message: each overdue task (whose, what, due when, its number)."""
    lines = [texts.CARE_ESCALATION_HEAD.format(days=days)]
    for n, (request, person) in enumerate(rows[:SHOWN], 1):
        due = request.scheduled_date
        lines.append(
            texts.CARE_ESCALATION_LINE.format(
                n=n,
                name=person.name if person else "",
                what=task_what(request),
                day=format_date(due) if due else "",
                id=request.id,
            )
        )
    if len(rows) > SHOWN:
        lines.append(texts.CARE_ESCALATION_MORE.format(n=len(rows) - SHOWN))
    return Reply("\n".join(lines))
