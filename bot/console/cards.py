"""What the board shows of one emergency, worked out once (the template only lays it out):
who, where, whom to call, what they said since, how paging went — and a digest, so the
board's poll swaps the list only when something on it changed."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from storage.alerts import MORE_WORDS
from storage.workbench import BoardAlert

__all__ = ["Card", "card", "digest"]

PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")


@dataclass(frozen=True, slots=True)
class Card:
    """One emergency as the board shows it."""

    request_id: int
    status: str  # open | acknowledged | unconfirmed
    name: str | None  # None: not on the roster
    person_id: int | None
    birth: date | None
    lives_alone: bool
    words: str
    more: list[tuple[datetime, str]]  # what they wrote since, newest first
    cries: int  # how many times they called for help
    phone: str | None  # the roster's, else one they typed
    phone_typed: bool
    address: str | None
    contact: str | None
    contact_phone: str | None
    health: str | None
    location: str | None  # a location they shared (not the roster's address)
    since: datetime
    taker: str | None
    rounds: int  # escalation levels paged so far
    reached: int  # pages delivered
    unreachable: int  # pages not delivered
    last_paged: datetime | None
    family_paged: bool = False
    notes: list[str] = field(default_factory=list)


def card(found: BoardAlert, names: dict[int, str]) -> Card:
    """The board's view of an emergency."""
    alert, request, person = found.alert, found.request, found.person
    more = [(s.at, str(s.note or "")) for s in found.steps if s.kind in MORE_WORDS and s.note]
    typed = next((m[0] for _, text in reversed(more) if (m := PHONE.search(text))), None)
    paged = [s for s in found.steps if s.kind == "paged"]
    shared = (request.details or {}).get("location") or any(
        s.kind == "located" for s in found.steps
    )
    return Card(
        request_id=request.id,
        status=alert.status,
        name=person.name if person else None,
        person_id=person.id if person else None,
        birth=person.birth_date if person else None,
        lives_alone=bool(person and person.lives_alone),
        words=found.words,
        more=sorted(more, reverse=True),
        cries=1 + sum(s.kind == "message" for s in found.steps),
        phone=(person.phone if person else None) or typed,
        phone_typed=not (person and person.phone) and typed is not None,
        address=person.address if person else None,
        contact=person.emergency_contact if person else None,
        contact_phone=person.emergency_phone if person else None,
        health=person.health_notes if person else None,
        location=alert.location if shared else None,
        since=alert.created_at,
        taker=names.get(alert.acknowledged_by) if alert.acknowledged_by else None,
        rounds=max((s.level for s in paged), default=0),
        reached=sum(s.result == "sent" for s in paged),
        unreachable=sum(s.result != "sent" for s in paged),
        last_paged=max((s.at for s in paged), default=None),
        family_paged=any(s.level >= 4 for s in paged),  # noqa: PLR2004 - FAMILY
        notes=[str(s.note) for s in found.steps if s.kind == "note" and s.note],
    )


def order(cards: list[Card]) -> list[Card]:
    """Nobody on it first (longest waiting first), then those being asked, then taken."""
    rank = {"open": 0, "unconfirmed": 1, "acknowledged": 2}
    return sorted(cards, key=lambda c: (rank.get(c.status, 3), c.since))


def digest(cards: list[Card]) -> str:
    """What changes the board (not the clocks: the page counts those itself)."""
    parts = [
        f"{c.request_id}:{c.status}:{c.taker}:{c.cries}:{len(c.more)}:{c.reached}:"
        f"{c.unreachable}:{c.rounds}:{c.location}:{len(c.notes)}"
        for c in cards
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]
