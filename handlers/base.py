"""What every handler works with: the typed context of one message, replies and options."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from handlers import texts
from handlers.events import Event
from nlu.result import EntityDict
from storage.db import TZ
from storage.models import ChannelAccount, Person
from storage.state import Conversation
from storage.uow import UnitOfWork

__all__ = [
    "TZ",
    "Ctx",
    "Handler",
    "Option",
    "Reply",
    "ServiceConfig",
    "Turn",
    "payload",
]


@dataclass(frozen=True, slots=True)
class Option:
    """A numbered choice; ``payload`` is what choosing it sends (``/affirm``, ``/inform{…}``)."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to the user: short text and, optionally, numbered options."""

    text: str
    options: tuple[Option, ...] = ()


def payload(intent: str, **entities: Any) -> str:
    """Build a button payload in Rasa's form: ``/intent`` or ``/intent{"k": "v"}``."""
    if not entities:
        return "/" + intent
    return "/" + intent + json.dumps(entities, ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class Turn:
    """What the user sent this time, as understood."""

    text: str
    kind: str = "text"  # text | voice | button | location | event | image
    payload: str | None = None
    intent: str = "out_of_scope"
    confidence: float = 0.0
    entities: tuple[EntityDict, ...] = ()
    ranking: tuple[tuple[str, float], ...] = ()
    # The emergency guard's verdict (force | calm | none) and the classifier's own sos
    # confidence before it: the router pages, asks first, or neither (bot/routing.py).
    guard: str = "none"
    classifier_sos: float = 0.0
    # The emergency model's probability of an emergency now (None: the engine has none).
    emergency_now: float | None = None

    def entity(self, name: str) -> EntityDict | None:
        """The first entity of a type."""
        return next((e for e in self.entities if e["entity"] == name), None)

    def values(self, name: str) -> list[str]:
        """All values of an entity type, in order."""
        return [str(e["value"]) for e in self.entities if e["entity"] == name]


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """The bureau's settings that handlers need (filled from ``bot.settings``)."""

    bureau: str = texts.DEFAULT_BUREAU
    region: str = texts.DEFAULT_REGION  # policy answers: this region, its parents, national
    hotline: str = "0512-65000000"
    honorific: str = "lao"  # lao: 张老 | tongzhi: 张建国同志
    office_open: time = time(8, 30)
    office_close: time = time(17, 30)
    office_days: tuple[int, ...] = (1, 2, 3, 4, 5)  # ISO weekdays
    flow_minutes: int = 30
    sos_confirm_seconds: int = 120  # "is this an emergency?" unanswered this long: paged
    confidence_threshold: float = 0.45
    ambiguity_margin: float = 0.1
    # Proving identity at binding: SMS codes on (a provider is configured), how long one is
    # good for, and the attempt limits (wrong codes, unmatched names) within an hour.
    sms_codes: bool = False
    sms_minutes: int = 10
    tries_per_hour: int = 5
    tries_global_per_hour: int = 200
    # A plan task (一人一策) this many days past its day is reported to the leader on duty.
    plan_overdue_days: int = 3
    # The must-visit ledger (services/visits.py): the festival calendar
    # (key=lunar|solar:MM-DD[:days before], …) and whom its visits are for (categories, and
    # an age from which everyone counts).
    visit_festivals: str = "spring_festival=lunar:01-01:7,double_ninth=lunar:09-09:0"
    festival_visits_for: str = "lixiu,80"


@dataclass(slots=True)
class Ctx:
    """Everything a handler may use for one message; writes go through ``uow``."""

    now: datetime
    turn: Turn
    uow: UnitOfWork
    conv: Conversation
    channel: str
    external_id: str
    account: ChannelAccount | None
    person: Person | None
    config: ServiceConfig
    tokenize: Callable[[str], list[str]] = list  # words of a text (the NLU's segmenter)
    events: list[Event] = field(default_factory=list)
    forget: bool = False  # the user's personal data was just removed: log nothing of them

    def emit(self, event: Event) -> None:
        """Record a domain event; it is published after the transaction commits."""
        self.events.append(event)

    @property
    def local_now(self) -> datetime:
        """The message time in Asia/Shanghai."""
        return self.now.astimezone(TZ)

    @property
    def today(self) -> date:
        """Today's date in Asia/Shanghai."""
        return self.local_now.date()

    @property
    def actor(self) -> str:
        """Who acts, for histories and the audit log."""
        return f"account:{self.account.id}" if self.account else f"{self.channel}:anonymous"


Handler = Callable[[Ctx], Awaitable[list[Reply]]]
