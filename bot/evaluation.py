"""``yinling evaluate conversations DIR``: multi-turn conversations run through the pipeline,
judged by the records they leave.

Each conversation is a YAML file (format: tests/conversations/heldout/README.md): a persona
from the demo roster, who writes (the retiree, or a son or daughter), optional records that
exist before, the user's turns, and every record the conversation must leave, in the words
of the product (看病陪诊, 上门服务, 活动报名, 取消, 改约, 找工作人员, 紧急求助 …). Every
conversation starts from a fresh copy of the demo data (seeded as of Sunday 2026-11-22
10:00, the date the sets are written against), bound as its sender; the turns are sent a
minute apart from the conversation's clock. Afterwards the person's records are read back
in the same words and compared with what was expected (bot/judging.py): each expected record
must be there with the fields it names, and nothing else may have been recorded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.judging import judge, records
from bot.messages import InboundMessage
from bot.pipeline import Pipeline
from handlers.base import ServiceConfig
from nlu.engine import Parser
from storage.db import TZ, Base, make_sessions, upgrade
from storage.demo import seed_demo
from storage.models import Activity, Person, Registration
from storage.state import MemoryStore
from storage.uow import UnitOfWork

__all__ = ["Conversation", "Verdict", "judge", "load_conversations", "run_conversations", "summary"]

SEEDED_AT = datetime(2026, 11, 22, 10, 0, tzinfo=TZ)  # the demo world the sets describe
CHANNEL = "evaluate"


@dataclass(frozen=True, slots=True)
class Conversation:
    """One conversation of a set."""

    id: str
    persona: str
    sender: str
    clock: datetime
    turns: tuple[str, ...]
    expect: tuple[dict[str, Any], ...]
    before: tuple[dict[str, Any], ...] = ()
    note: str = ""


@dataclass(slots=True)
class Verdict:
    """How a conversation ended: passed, or why not."""

    id: str
    passed: bool
    problems: list[str] = field(default_factory=list)
    found: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    transcript: list[tuple[str, str]] = field(default_factory=list)  # (user, bot)


def _clock(value: Any) -> datetime:
    if value is None:
        return SEEDED_AT
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=TZ)


def load_conversations(folder: Path) -> list[Conversation]:
    """Every ``*.yaml`` file of a folder (sorted by name)."""
    found = []
    for path in sorted(folder.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found.append(
            Conversation(
                id=str(data.get("id") or path.stem),
                persona=str(data["persona"]),
                sender=str(data.get("sender") or "self"),
                clock=_clock(data.get("clock")),
                turns=tuple(str(t) for t in data.get("turns") or ()),
                expect=tuple(dict(e) for e in data.get("expect") or ()),
                before=tuple(dict(b) for b in data.get("before") or ()),
                note=str(data.get("note") or ""),
            )
        )
    return found


# ------------------------------------------------------------------ the world
async def _reset(engine: AsyncEngine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - our tables


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _part(value: Any) -> str:
    said = str(value or "上午")
    return {"上午": "morning", "下午": "afternoon"}.get(said, said)


async def _before(uow: UnitOfWork, person: Person, record: dict[str, Any], now: datetime) -> int:
    """Write one record that exists before the conversation; its id."""
    kind = str(record.get("kind"))
    who = "spouse" if record.get("for") == "老伴" else "self"
    if kind == "活动报名":
        activity = await uow.session.scalar(
            select(Activity).where(Activity.title == str(record.get("activity")))
        )
        if activity is None:
            raise ValueError(f"unknown activity {record.get('activity')!r}")
        attendees = ("self", "spouse") if record.get("for") == "本人和老伴" else (who,)
        for attendee in attendees:
            await uow.activities.sign_up(activity.id, person.id, attendee, now)
        return activity.id
    details: dict[str, Any] = {}
    if kind == "上门服务":
        wanted = str(record.get("service"))
        services = await uow.catalog.eldercare_services()
        service = next((s for s in services if s.name == wanted or wanted in s.name), None)
        if service is None:
            raise ValueError(f"unknown service {wanted!r}")
        slot = await uow.catalog.slot(service.id, _day(record["date"]), _part(record.get("time")))
        if slot is not None:
            await uow.catalog.take_slot(slot.id)
        details = {"service": service.code, "service_name": service.name,
                   "slot_id": slot.id if slot else None}  # fmt: skip
        internal, status = "eldercare", "booked"
    elif kind == "看病陪诊":
        details = {"hospital": record.get("hospital"), "department": record.get("department")}
        internal, status = "medical_escort", "pending"
    elif kind == "住院报备":
        details = {"hospital": record.get("hospital"), "since": str(record.get("date"))}
        internal, status = "hospital_admission", "reported"
    elif kind == "交报销单据":
        internal, status = "reimbursement", "booked"
    else:
        raise ValueError(f"a `before` record of kind {kind!r} is not supported")
    request = await uow.requests.create(
        internal,
        now=now,
        actor="evaluation",
        person_id=person.id,
        status=status,
        beneficiary=who,
        details=details,
        scheduled_date=_day(record["date"]) if record.get("date") else None,
        scheduled_time=_part(record.get("time")) if record.get("date") else None,
    )
    return request.id


# ------------------------------------------------------------------ running
async def _one(
    engine: AsyncEngine, parser: Parser, config: ServiceConfig, conversation: Conversation
) -> Verdict:
    await _reset(engine)
    sessions = make_sessions(engine)
    async with UnitOfWork(sessions) as uow:
        # Home services are bookable on each of the next 14 days (the brief): from the
        # conversation's own day when it is told before the demo's
        told = conversation.clock.astimezone(TZ).date() + timedelta(days=1)
        await seed_demo(uow, SEEDED_AT, slots_from=told)
        person = await uow.session.scalar(select(Person).where(Person.name == conversation.persona))
        if person is None:
            return Verdict(conversation.id, False, [f"no persona {conversation.persona}"])
        family = conversation.sender not in {"self", "本人", ""}
        await uow.accounts.bind(
            CHANNEL, "user", person.id, SEEDED_AT,
            role="family" if family else "retiree",
            relation=conversation.sender if family else None,
        )  # fmt: skip
        before: dict[int, dict[str, Any]] = {}
        for record in conversation.before:
            made = await _before(uow, person, record, SEEDED_AT)
            if record.get("kind") != "活动报名":
                before[made] = record
        await uow.commit()
        person_id = person.id
    async with sessions() as session:
        seats = set(
            await session.scalars(
                select(Registration.id).where(Registration.person_id == person_id)
            )
        )
    pipeline = Pipeline(sessions, MemoryStore(), parser, config)
    await pipeline.refresh_lookups(conversation.clock)
    transcript: list[tuple[str, str]] = []
    for n, turn in enumerate(conversation.turns):
        message = InboundMessage(
            CHANNEL, "user", f"{conversation.id}-{n}",
            (conversation.clock + timedelta(minutes=n)).astimezone(UTC), text=turn,
        )  # fmt: skip
        response = await pipeline.handle(message)
        said = [
            r.text + "".join(f" [{i}. {o.label}]" for i, o in enumerate(r.options, 1))
            for r in response.replies
        ]
        transcript.append((turn, " / ".join(said)))
    found = await records(sessions, person_id, before, seats)
    problems = judge(conversation.expect, found)
    return Verdict(conversation.id, not problems, problems, found, transcript=transcript)


async def run_conversations(
    engine: AsyncEngine,
    parser: Parser,
    conversations: Iterable[Conversation],
    config: ServiceConfig | None = None,
) -> list[Verdict]:
    """Each conversation on a fresh copy of the demo data; their verdicts."""
    await upgrade(engine)
    verdicts = []
    for conversation in conversations:
        try:
            verdicts.append(await _one(engine, parser, config or ServiceConfig(), conversation))
        except Exception as e:  # a broken conversation is a failed one
            verdicts.append(Verdict(conversation.id, False, [], [], f"{type(e).__name__}: {e}"))
    return verdicts


def summary(verdicts: Sequence[Verdict]) -> dict[str, Any]:
    """Pass count and rate, and how the failures break down."""
    passed = sum(v.passed for v in verdicts)
    reasons: Counter[str] = Counter()
    for v in verdicts:
        for p in v.problems:
            reasons[p.split(" ", 1)[0]] += 1
        if v.error:
            reasons["error"] += 1
    total = len(verdicts)
    return {
        "conversations": total,
        "passed": passed,
        "rate": round(passed / total, 4) if total else 0.0,
        "problems": dict(reasons),
    }
