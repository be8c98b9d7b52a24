"""What the state stores share: a message's key, a conversation's state, the errors, and
the contract (:class:`StateStore`, :class:`Turn`) both stores keep (storage/state/__init__.py
tells how a turn goes)."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

__all__ = [
    "Conversation",
    "LockTimeout",
    "MessageKey",
    "StateStore",
    "StoreUnavailable",
    "Turn",
]


@dataclass(frozen=True, slots=True)
class MessageKey:
    """A platform message: de-duplicated by sender and the platform's id, never by content."""

    channel: str
    sender: str
    message_id: str


@dataclass(slots=True)
class Conversation:
    """What the bot remembers between two messages of one conversation."""

    flow: str | None = None  # the active flow's name
    step: str | None = None  # what the flow is waiting for
    slots: dict[str, Any] = field(default_factory=dict)
    options: list[str] = field(default_factory=list)  # payloads of the numbered options shown
    labels: list[str] = field(default_factory=list)  # and their labels
    suspended: dict[str, Any] | None = None  # a flow interrupted by an emergency
    misses: int = 0  # low-confidence turns in a row
    location: dict[str, Any] | None = None  # last shared location
    expires_at: str | None = None  # ISO time after which the flow is dropped
    pending_sos: dict[str, Any] | None = None  # "is this an emergency?" asked, not answered
    topic: dict[str, Any] | None = None  # what was last talked about: {"activity": id, "until"}
    listed: dict[str, Any] | None = None  # a numbered list shown in text: {"keys": […], "until"}
    queued: dict[str, Any] | None = None  # a second request said with the flow's first message

    def expired(self, now: datetime) -> bool:
        """True when an active flow has been idle past its expiry."""
        return (
            self.flow is not None
            and self.expires_at is not None
            and datetime.fromisoformat(self.expires_at) <= now
        )

    def end_flow(self) -> None:
        """Leave the active flow (slots, step and options go with it)."""
        self.flow = None
        self.step = None
        self.slots = {}
        self.options = []
        self.labels = []
        self.expires_at = None

    def to_json(self) -> str:
        """Serialise."""
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> Conversation:
        """Deserialise (unknown keys from older versions are ignored); None is a new one."""
        if raw is None:
            return cls()
        data = json.loads(raw)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class LockTimeout(Exception):  # noqa: N818 - named for what happened
    """The conversation stayed locked by another worker for too long."""


class StoreUnavailable(Exception):  # noqa: N818 - named for what happened
    """The state store could not be reached (Redis down or not answering)."""


class Turn(Protocol):
    """One message's hold on its conversation."""

    first: bool  # False for a repeat of a message already claimed: do not handle it
    state: Conversation  # loaded after the lock was taken (a fresh one for a repeat)
    answer: str | None  # for a repeat: the first handling's answer, if it came in time

    async def finish(self, state: Conversation, answer: str, ttl: int) -> None:
        """Save the new state and the answer (for retries), mark the message done, and
        release the lock."""
        ...


class StateStore(Protocol):
    """Conversation state, per-conversation locks and the de-duplication record."""

    def turn(
        self, message: MessageKey, conversation: str, claim_ttl: int, wait: float = 0.0
    ) -> AbstractAsyncContextManager[Turn]:
        """Claim the message; if first, lock and load the conversation until the turn ends.
        A repeat of a message still being handled waits up to ``wait`` seconds for its
        answer. ``claim_ttl``: how long a handled message is remembered as done."""
        ...

    async def ping(self) -> bool:
        """True when the store is reachable."""
        ...
