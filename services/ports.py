"""What the services need from the process that runs them, as protocols and plain values.

The composition root (bot/) implements them: ``bot.notify.Notifier`` is a ``Sender``,
``bot.limits`` a ``Limits``, ``bot.sms`` an ``SmsSender``, ``bot.jobs.Jobs`` a ``Context``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import async_sessionmaker

from handlers.base import Reply, ServiceConfig
from storage.db import AsyncSession
from storage.models import ChannelAccount

__all__ = [
    "BLOCKED",
    "FAILED",
    "HELD",
    "SENT",
    "TELEGRAM",
    "UNREACHABLE",
    "URGENT",
    "WECOM_MEMBER",
    "Check",
    "Context",
    "Job",
    "Lane",
    "Limits",
    "Policy",
    "Rule",
    "Sender",
    "SmsSender",
]

# How a send went.
SENT, FAILED, UNREACHABLE, BLOCKED = "sent", "failed", "unreachable", "blocked"


@dataclass(frozen=True, slots=True)
class Rule:
    """At most ``limit`` messages in any ``period`` seconds."""

    limit: int
    period: float


@dataclass(frozen=True, slots=True)
class Policy:
    """The rules of one kind of key, and the places bulk sends leave to urgent ones."""

    name: str
    rules: tuple[Rule, ...]
    headroom: int = 0
    inflight: float = 30.0  # an unanswered send counts as answered this late, at most

    def ceilings(self, bulk: bool) -> list[tuple[int, float]]:
        """Each rule's (limit, period), less the headroom for bulk sends."""
        return [(r.limit - (self.headroom if bulk else 0), r.period) for r in self.rules]


@dataclass(frozen=True, slots=True)
class Lane:
    """Urgent (pages, replies) or bulk (broadcasts, reminders), and bulk's even pace."""

    bulk: bool = False
    rate: float = 0.0  # bulk starts a second, evenly spaced over all processes (0: not)
    held: bool = False  # the caller already holds this send's turn: do not take another


URGENT = Lane()
HELD = Lane(held=True)
TELEGRAM = Policy("telegram", (Rule(30, 1.0),), headroom=2)
WECOM_MEMBER = Policy("wecom", (Rule(30, 60.0), Rule(1000, 3600.0)), headroom=3)


class Limits(Protocol):
    """Takes a turn under a key's flood limit for the length of a send."""

    def turn(
        self, key: str, policy: Policy, lane: Lane = URGENT, messages: int = 1
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """Wait for the send's turn; the block is the send; its end is the answer."""
        ...


class Sender(Protocol):
    """Sends replies to channel accounts outside a conversation."""

    async def send(
        self,
        account: ChannelAccount,
        replies: Sequence[Reply],
        purpose: str,
        *,
        lane: Lane = URGENT,
    ) -> str:
        """Send, and say how it went: sent | failed | unreachable | blocked."""
        ...

    def turn(
        self, account: ChannelAccount, replies: Sequence[Reply], lane: Lane
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """The turn under the account's flood limit that a send of ``replies`` needs, taken
        by the caller ahead of a ``send`` on the ``HELD`` lane (a no-op where none applies)."""
        ...


class SmsSender(Protocol):
    """Sends a one-time code to a mobile number."""

    async def send(self, phone: str, code: str) -> bool:
        """True when the provider took the message."""
        ...

    async def aclose(self) -> None:
        """Close the connections (at shutdown)."""
        ...


class Context(Protocol):
    """What a service's job receives: the database, the senders, the settings, the clock,
    and a way to kick another job (``bot.jobs.Jobs``)."""

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]: ...

    @property
    def notifier(self) -> Sender: ...

    @property
    def config(self) -> ServiceConfig: ...

    @property
    def sms(self) -> SmsSender | None: ...

    @property
    def alert_interval(self) -> timedelta: ...

    @property
    def retention_days(self) -> int: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...

    async def kick(self, job: str, *args: Any) -> None:
        """Send the job (by its registered name) through the broker."""
        ...


# A job: its context, then the arguments it was kicked with.
Job = Callable[..., Awaitable[Any]]
# A periodic check of the reconciler: how many lost things it re-started.
Check = Callable[[Context, datetime], Awaitable[int]]
