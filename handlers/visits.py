"""Staff and the must-visit ledger (五必访, services/visits.py): logging a visit made
("探望 12 送了慰问品 精神不错" in the chat, 记录探望 on the console), which records who
visited, when and what they noted and closes the task; and recording an occasion that calls
for a visit (a hardship, a bereavement, a change of situation) from a person's page or the
chat ("登记必访 张建国 丧事 老伴上周去世"). "完成 12 …" on a visit task keeps it too.

Both run in the caller's unit of work and return a ``Done`` (handlers/workbench.py); both are
for the staff who work requests, and audited with the member, the action, the item and the
time."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from handlers import phrases, texts
from handlers.base import TZ, Ctx, Reply
from handlers.wording import format_date
from handlers.workbench import WORKER_ROLES, Done
from storage.models import MustVisit, ServiceRequest, Staff
from storage.repos import CLOSED_STATUSES
from storage.uow import UnitOfWork
from storage.visits import HOSPITAL, HOSPITAL_KIND, KIND, MAX_NOTE, VisitRepo

__all__ = [
    "RECORDED_WITHIN",
    "VISIT_KINDS",
    "chat_occasion",
    "chat_visit",
    "log_visit",
    "occasion_label",
    "record_occasion",
    "visited",
]

VISIT_KINDS = (KIND, HOSPITAL_KIND)
RECORDED_WITHIN = timedelta(days=3)  # a recorded hardship … is visited within three days
SEE_ALL_ROLES = frozenset({"leader", "admin"})


def _actor(member: Staff) -> str:
    return f"staff:{member.id}"


def occasion_label(occasion: str, detail: str | None) -> str:
    """大寿 → 90岁大寿, 节日 → 重阳节, the others as they are."""
    if occasion == "birthday" and detail:
        return texts.VISIT_BIRTHDAY.format(age=detail)
    if occasion == "festival" and detail:
        return texts.VISIT_FESTIVALS.get(detail, detail)
    return texts.VISIT_OCCASIONS.get(occasion, occasion)


def _since(request: ServiceRequest) -> date:
    try:
        return date.fromisoformat(str((request.details or {}).get("since")))
    except ValueError:
        return request.created_at.astimezone(TZ).date()


async def visited(
    uow: UnitOfWork, member: Staff, request: ServiceRequest, note: str, now: datetime
) -> MustVisit | None:
    """Keep a visit made on the ledger's row of its task (who, when, the note); a hospital
    stay's task the ledger lacks gets its row first. The task's closing is the caller's."""
    repo = VisitRepo(uow.session)
    row = await repo.for_request(request.id)
    if row is None and request.person_id is not None and request.kind == HOSPITAL_KIND:
        due = request.due_at.astimezone(TZ).date() if request.due_at else _since(request)
        row = await repo.add(
            request.person_id, HOSPITAL, _since(request), due,
            now=now, actor=_actor(member), request=request,
        )  # fmt: skip
    if row is not None:
        repo.visited(row, member.id, now, note.strip()[:MAX_NOTE])
    return row


async def log_visit(
    uow: UnitOfWork, member: Staff, request_id: int, note: str, *, now: datetime, via: str
) -> Done:
    """A visit made: kept on the ledger's row (who, when, the note) and the task done."""
    if member.role not in WORKER_ROLES:
        return Done(False, texts.VISIT_NOT_ALLOWED)
    request = await uow.requests.get(request_id) if request_id else None
    if request is None:
        return Done(False, texts.REQUEST_NOT_FOUND.format(id=request_id))
    if request.kind not in VISIT_KINDS:
        return Done(False, texts.VISIT_NOT_A_VISIT.format(id=request_id))
    if request.status in CLOSED_STATUSES:
        status = texts.REQUEST_STATUSES.get(request.status, request.status)
        return Done(False, texts.REQUEST_ALREADY_CLOSED.format(id=request_id, status=status))
    owner = request.assigned_staff_id
    if owner is not None and owner != member.id and member.role not in SEE_ALL_ROLES:
        other = await uow.staff.get(owner)
        name = other.name if other else texts.ALERT_UNKNOWN_VALUE
        return Done(False, texts.REQUEST_NOT_YOURS.format(id=request_id, staff=name))
    person = await uow.people.get(request.person_id) if request.person_id else None
    note = note.strip()[:MAX_NOTE]
    row = await visited(uow, member, request, note, now)
    if request.assigned_staff_id is None:
        request.assigned_staff_id = member.id
    await uow.requests.set_status(request, "done", now=now, actor=_actor(member), note=note or None)
    uow.audit.record(now, _actor(member), "visit_logged", "service_request", request.id, via=via)
    occasion = occasion_label(row.occasion, row.detail) if row else texts.VISIT_OCCASIONS[HOSPITAL]
    who = person.name if person else texts.STAFF_UNKNOWN_PERSON
    return Done(True, texts.VISIT_LOGGED.format(id=request.id, who=who, occasion=occasion))


async def record_occasion(
    uow: UnitOfWork, member: Staff, person_id: int, occasion: str, note: str, *, now: datetime
) -> Done:
    """A hardship, bereavement or change of situation staff learnt of: a visit owed, due
    within ``RECORDED_WITHIN`` (one per person, occasion and day)."""
    if member.role not in WORKER_ROLES:
        return Done(False, texts.VISIT_NOT_ALLOWED)
    if occasion not in texts.VISIT_RECORDED_OCCASIONS:
        return Done(False, texts.VISIT_OCCASION_UNKNOWN)
    person = await uow.people.get(person_id) if person_id else None
    if person is None:
        return Done(False, texts.VISIT_PERSON_NOT_FOUND)
    today = now.astimezone(TZ).date()
    due = today + RECORDED_WITHIN
    label = occasion_label(occasion, None)
    row = await VisitRepo(uow.session).add(
        person, occasion, today, due, now=now, actor=_actor(member),
        note=note.strip(), recorded_by=member.id,
    )  # fmt: skip
    if row is None:
        return Done(False, texts.VISIT_OCCASION_ALREADY.format(name=person.name, occasion=label))
    uow.audit.record(
        now, _actor(member), "visit_occasion_recorded", "person", person.id,
        occasion=occasion, request=row.request_id,
    )  # fmt: skip
    return Done(
        True,
        texts.VISIT_OCCASION_RECORDED.format(
            occasion=label, name=person.name, id=row.request_id, due=format_date(due)
        ),
    )


async def chat_visit(ctx: Ctx, member: Staff, request_id: int, note: str) -> list[Reply]:
    """探望 N 情况: ``log_visit`` from the staff chat."""
    done = await log_visit(ctx.uow, member, request_id, note, now=ctx.now, via="chat")
    return [Reply(done.message)]


async def chat_occasion(ctx: Ctx, member: Staff, who: str, word: str, note: str) -> list[Reply]:
    """登记必访 谁 事由 情况: ``record_occasion`` from the staff chat (by roster number or
    by a name nobody else has)."""
    if who.isdecimal():
        found = [p] if (p := await ctx.uow.people.get(int(who))) else []
    else:
        found = await ctx.uow.people.named(who)
    if len(found) != 1:
        return [Reply(texts.VISIT_WHO.format(who=who))]
    occasion = phrases.VISIT_OCCASION_WORDS.get(word, "")
    done = await record_occasion(ctx.uow, member, found[0].id, occasion, note, now=ctx.now)
    return [Reply(done.message)]
