"""Conversation state and message de-duplication: in Redis, or in-process for the demo.

Both stores have the same interface and are tested against the same contract. A
conversation is locked while one of its messages is handled, and its state is
loaded only after the lock is held, so two messages never interleave.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from storage.keys import Keys

__all__ = ["Conversation", "MemoryStore", "MessageKey", "RedisStore", "StateStore"]


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
    def from_json(cls, raw: str | bytes) -> Conversation:
        """Deserialise (unknown keys from older versions are ignored)."""
        data = json.loads(raw)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class StateStore(Protocol):
    """Conversation state, per-conversation locks and the de-duplication record."""

    def locked(self, conversation: str) -> Any:
        """Async context manager holding the conversation's lock."""
        ...

    async def load(self, conversation: str) -> Conversation:
        """The stored state, or a fresh one."""
        ...

    async def save(self, conversation: str, state: Conversation, ttl: int) -> None:
        """Store the state for ``ttl`` seconds."""
        ...

    async def finish(
        self, conversation: str, state: Conversation, message: MessageKey, answer: str, ttl: int
    ) -> None:
        """Store the state and the message's answer (for its retries) together."""
        ...

    async def claim(self, message: MessageKey, ttl: int) -> bool:
        """True for the first claim of a platform message id, False for every repeat."""
        ...

    async def wait_answer(self, message: MessageKey, seconds: float) -> str | None:
        """The answer to a message once its first handler has stored it, waiting ``seconds``."""
        ...

    async def ping(self) -> bool:
        """True when the store is reachable."""
        ...


class MemoryStore:
    """In-process store for the console demo and single-process use."""

    def __init__(self) -> None:
        self._states: dict[str, tuple[float, str]] = {}
        self._seen: dict[str, float] = {}
        self._answers: dict[str, tuple[float, str]] = {}
        self._answered: dict[str, asyncio.Event] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._keys = Keys()

    @asynccontextmanager
    async def locked(self, conversation: str) -> AsyncIterator[None]:
        """Hold the conversation's lock."""
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        async with lock:
            yield
        if not lock.locked() and self._locks.get(conversation) is lock:
            del self._locks[conversation]

    async def load(self, conversation: str) -> Conversation:
        """The stored state, or a fresh one."""
        item = self._states.get(conversation)
        if item is None or item[0] < time.monotonic():
            return Conversation()
        return Conversation.from_json(item[1])

    async def save(self, conversation: str, state: Conversation, ttl: int) -> None:
        """Store the state for ``ttl`` seconds."""
        self._states[conversation] = (time.monotonic() + ttl, state.to_json())

    async def finish(
        self, conversation: str, state: Conversation, message: MessageKey, answer: str, ttl: int
    ) -> None:
        """Store the state and the answer; wake anyone waiting for the answer."""
        await self.save(conversation, state, ttl)
        key = self._keys.seen(message.channel, message.sender, message.message_id)
        self._answers[key] = (time.monotonic() + ttl, answer)
        event = self._answered.pop(key, None)
        if event is not None:
            event.set()

    async def claim(self, message: MessageKey, ttl: int) -> bool:
        """True for the first claim of a platform message id."""
        key = self._keys.seen(message.channel, message.sender, message.message_id)
        now = time.monotonic()
        if self._seen.get(key, 0.0) > now:
            return False
        self._seen[key] = now + ttl
        self._answered[key] = asyncio.Event()
        return True

    async def wait_answer(self, message: MessageKey, seconds: float) -> str | None:
        """The stored answer, waiting up to ``seconds`` for it."""
        key = self._keys.seen(message.channel, message.sender, message.message_id)
        event = self._answered.get(key)
        if event is not None:
            try:
                await asyncio.wait_for(event.wait(), seconds)
            except TimeoutError:
                return None
        item = self._answers.get(key)
        return item[1] if item and item[0] > time.monotonic() else None

    async def ping(self) -> bool:
        """Always reachable."""
        return True


class RedisStore:
    """Redis store shared by every process of a deployment."""

    # How often a waiting retry looks for the first handler's answer.
    POLL_SECONDS = 0.02

    def __init__(self, redis: Redis, keys: Keys | None = None, lock_seconds: float = 15.0) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self.lock_seconds = lock_seconds

    @asynccontextmanager
    async def locked(self, conversation: str) -> AsyncIterator[None]:
        """Hold the conversation's lock (it expires by itself if a worker dies)."""
        lock = self.redis.lock(
            self.keys.lock(conversation),
            timeout=self.lock_seconds,
            blocking_timeout=self.lock_seconds,
            sleep=0.005,
        )
        async with lock:
            yield

    async def load(self, conversation: str) -> Conversation:
        """The stored state, or a fresh one."""
        raw = await self.redis.get(self.keys.state(conversation))
        return Conversation() if raw is None else Conversation.from_json(raw)

    async def save(self, conversation: str, state: Conversation, ttl: int) -> None:
        """Store the state for ``ttl`` seconds."""
        await self.redis.set(self.keys.state(conversation), state.to_json(), ex=ttl)

    async def finish(
        self, conversation: str, state: Conversation, message: MessageKey, answer: str, ttl: int
    ) -> None:
        """Store the state and the answer in one round trip."""
        answer_key = self.keys.answer(message.channel, message.sender, message.message_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.keys.state(conversation), state.to_json(), ex=ttl)
            pipe.set(answer_key, answer, ex=ttl)
            await pipe.execute()

    async def claim(self, message: MessageKey, ttl: int) -> bool:
        """SET NX: exactly one caller wins, whatever the timing."""
        key = self.keys.seen(message.channel, message.sender, message.message_id)
        return bool(await self.redis.set(key, "1", nx=True, ex=ttl))

    async def wait_answer(self, message: MessageKey, seconds: float) -> str | None:
        """Poll for the first handler's answer for up to ``seconds``."""
        key = self.keys.answer(message.channel, message.sender, message.message_id)
        deadline = time.monotonic() + seconds
        while True:
            raw = await self.redis.get(key)
            if raw is not None:
                return raw.decode() if isinstance(raw, bytes) else str(raw)
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(self.POLL_SECONDS)

    async def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(await self.redis.ping())
        except (OSError, RedisError):
            return False
