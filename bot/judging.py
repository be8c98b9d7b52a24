"""Judging a conversation of ``yinling evaluate conversations`` (bot/evaluation.py): the
person's records read back in the product's words (看病陪诊, 上门服务, 活动报名, 取消, 改约 …),
changes to the records that existed before included, and compared with what was expected:
each expected record must be there with the fields it names, and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select

from storage.models import Activity, Registration, ServiceRequest

__all__ = ["judge", "records"]

KINDS = {
    "medical_escort": "看病陪诊",
    "hospital_admission": "住院报备",
    "reimbursement": "交报销单据",
    "eldercare": "上门服务",
    "handoff": "找工作人员",
    "sos": "紧急求助",
}
IGNORED = {"hospital_visit", "reimbursement_claim", "identity_check", "forget_me", "must_visit"}
TIMES = {"morning": "上午", "afternoon": "下午", "evening": "晚上"}
WHO = {"self": "本人", "spouse": "老伴"}
SEAT = {"registered": "已报名", "waitlisted": "候补"}
CANCELLED = {"cancelled", "withdrawn"}
MOVED = "rescheduled"


# ------------------------------------------------------------------ reading records back
def _time(request: ServiceRequest) -> str | None:
    value = request.scheduled_time
    return TIMES.get(value, value) if value else None


def _notes(request: ServiceRequest) -> str:
    return json.dumps(request.details or {}, ensure_ascii=False)


def _as_record(request: ServiceRequest) -> dict[str, Any] | None:
    kind = KINDS.get(request.kind)
    if kind is None:
        return None if request.kind in IGNORED else {"kind": request.kind}
    d = request.details or {}
    record: dict[str, Any] = {"kind": kind}
    if kind in {"看病陪诊", "住院报备"}:
        record["hospital"] = d.get("hospital")
        record["for"] = WHO.get(request.beneficiary, request.beneficiary)
    if kind == "看病陪诊":
        department = d.get("department")
        record["department"] = "待定" if department in {None, "tbd"} else department
    if kind == "上门服务":
        record["service"] = d.get("service_name") or d.get("service")
        record["for"] = WHO.get(request.beneficiary, request.beneficiary)
    if request.scheduled_date is not None:
        record["date"] = request.scheduled_date.isoformat()
    if kind in {"看病陪诊", "上门服务", "交报销单据"}:
        record["time"] = _time(request)
    record["notes"] = _notes(request)
    return record


async def records(
    sessions: Any, person_id: int, before: dict[int, dict[str, Any]], before_seats: set[int]
) -> list[dict[str, Any]]:
    """The person's records now, in the product's words (changes to ``before`` ones too)."""
    found: list[dict[str, Any]] = []
    async with sessions() as session:
        requests = list(
            await session.scalars(
                select(ServiceRequest)
                .where(ServiceRequest.person_id == person_id)
                .order_by(ServiceRequest.id)
            )
        )
        # Emergencies raised by the sender before they were known may lack the person.
        requests += list(
            await session.scalars(
                select(ServiceRequest).where(
                    ServiceRequest.person_id.is_(None),
                    ServiceRequest.kind.in_(("sos", "handoff")),
                )
            )
        )
        seats = list(
            await session.execute(
                select(Registration, Activity)
                .join(Activity, Activity.id == Registration.activity_id)
                .where(Registration.person_id == person_id)
                .order_by(Registration.id)
            )
        )
    moved_to = {
        int(r.details["replaces"]): r for r in requests if (r.details or {}).get("replaces")
    }
    for request in requests:
        record = _as_record(request)
        if record is None:
            continue
        if request.id in before:
            if request.status in CANCELLED:
                found.append({"kind": "取消", "of": record["kind"], **_strip(before[request.id])})
            elif request.status == MOVED and request.id in moved_to:
                moved = _as_record(moved_to[request.id]) or {}
                found.append({**moved, "kind": "改约", "of": record["kind"]})
            continue
        replaced = (request.details or {}).get("replaces")
        if replaced and int(replaced) in before:
            continue  # reported as the 改约 of the record it replaces
        if request.status == MOVED:
            continue  # moved within the conversation: its new booking stands for it
        found.append(record)
        if request.status in CANCELLED:  # booked, then cancelled, in the same conversation
            found.append({**_strip(record), "kind": "取消", "of": record["kind"]})
    by_activity: dict[str, list[Registration]] = {}
    for registration, activity in seats:
        by_activity.setdefault(activity.title, []).append(registration)
    for title, registrations in by_activity.items():
        old = [r for r in registrations if r.id in before_seats]
        new = [r for r in registrations if r.id not in before_seats and r.status in SEAT]
        if any(r.status == "cancelled" for r in old):
            found.append({"kind": "取消", "of": "活动报名", "activity": title})
        for status in sorted({r.status for r in new}):
            attendees = {r.attendee for r in new if r.status == status}
            who = "本人和老伴" if attendees == {"self", "spouse"} else WHO.get(min(attendees), "")
            record = {"kind": "活动报名", "activity": title, "status": SEAT[status], "for": who}
            found.append(record)
    return found


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in {"kind", "notes"}}


# ------------------------------------------------------------------ judging
def _same(expected: Any, found: Any) -> bool:
    if isinstance(expected, date):
        expected = expected.isoformat()
    if isinstance(expected, int) and not isinstance(expected, bool):
        expected = str(expected)
    if found is None:
        return False
    return str(expected).strip() == str(found).strip()


def _matches(expected: dict[str, Any], found: dict[str, Any]) -> bool:
    if expected.get("kind") != found.get("kind"):
        return False
    for key, value in expected.items():
        if key == "kind":
            continue
        if key == "notes":
            words = value if isinstance(value, list) else [value]
            text_kept = str(found.get("notes", ""))
            if not all(str(w) in text_kept for w in words):
                return False
            continue
        if key not in found:
            continue  # a field the product does not record for this kind: not judged
        if not _same(value, found[key]):
            return False
    return True


def judge(expected: Sequence[dict[str, Any]], found: Sequence[dict[str, Any]]) -> list[str]:
    """What is wrong (empty: the records are as expected)."""
    left = list(found)
    problems = []
    for want in expected:
        hit = next((f for f in left if _matches(want, f)), None)
        if hit is None:
            problems.append(f"missing {json.dumps(want, ensure_ascii=False, default=str)}")
        else:
            left.remove(hit)
    for extra in left:
        shown = {k: v for k, v in extra.items() if k != "notes"}
        problems.append(f"unexpected {json.dumps(shown, ensure_ascii=False, default=str)}")
    return problems
