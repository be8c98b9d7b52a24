"""Conversation state and message de-duplication: in Redis, or in-process for the demo.

Both stores have the same interface and are tested against the same contract. Handling
one message is one *turn*: the platform message id is claimed (a repeat is never
handled twice), the conversation is locked, and only then is its state loaded; at the
end the new state and the answer (kept for retries) are saved and the lock released.
On Redis that is two round trips per message, pipelined: claim + lock + load, and
save + answer + release.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from storage.keys import Keys

__all__ = [
    "Conversation",
    "LockTimeout",
    "MemoryStore",
    "MessageKey",
    "RedisStore",
    "StateStore",
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


class Turn(Protocol):
    """One message's hold on its conversation."""

    first: bool  # False for a repeat of a message already claimed: do not handle it
    state: Conversation  # loaded after the lock was taken (a fresh one for a repeat)

    async def finish(self, state: Conversation, answer: str, ttl: int) -> None:
        """Save the new state and the answer (for retries), and release the lock."""
        ...


class StateStore(Protocol):
    """Conversation state, per-conversation locks and the de-duplication record."""

    def turn(
        self, message: MessageKey, conversation: str, claim_ttl: int
    ) -> AbstractAsyncContextManager[Turn]:
        """Claim the message; if first, lock and load the conversation until the turn ends."""
        ...

    async def wait_answer(self, message: MessageKey, seconds: float) -> str | None:
        """The answer to a message once its first handler has stored it, waiting ``seconds``."""
        ...

    async def ping(self) -> bool:
        """True when the store is reachable."""
        ...


# ------------------------------------------------------------------ memory
@dataclass(slots=True)
class _MemoryTurn:
    store: MemoryStore
    message: MessageKey
    conversation: str
    first: bool
    state: Conversation

    async def finish(self, state: Conversation, answer: str, ttl: int) -> None:
        self.store.put(self.conversation, state, ttl)
        self.store.answer(self.message, answer, ttl)


class MemoryStore:
    """In-process store for the console demo and single-process use."""

    def __init__(self) -> None:
        self._states: dict[str, tuple[float, str]] = {}
        self._seen: dict[MessageKey, float] = {}
        self._answers: dict[MessageKey, tuple[float, str]] = {}
        self._answered: dict[MessageKey, asyncio.Event] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def turn(
        self, message: MessageKey, conversation: str, claim_ttl: int
    ) -> AsyncIterator[_MemoryTurn]:
        """Claim, lock, load; release when the turn ends."""
        now = time.monotonic()
        if self._seen.get(message, 0.0) > now:
            yield _MemoryTurn(self, message, conversation, False, Conversation())
            return
        self._seen[message] = now + claim_ttl
        self._answered[message] = asyncio.Event()
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        async with lock:
            yield _MemoryTurn(self, message, conversation, True, self.get(conversation))
        if not lock.locked() and self._locks.get(conversation) is lock:
            del self._locks[conversation]

    def get(self, conversation: str) -> Conversation:
        """The stored state, or a fresh one."""
        item = self._states.get(conversation)
        if item is None or item[0] < time.monotonic():
            return Conversation()
        return Conversation.from_json(item[1])

    def put(self, conversation: str, state: Conversation, ttl: int) -> None:
        """Store the state for ``ttl`` seconds."""
        self._states[conversation] = (time.monotonic() + ttl, state.to_json())

    def answer(self, message: MessageKey, answer: str, ttl: int) -> None:
        """Keep the answer and wake anyone waiting for it."""
        self._answers[message] = (time.monotonic() + ttl, answer)
        event = self._answered.pop(message, None)
        if event is not None:
            event.set()

    async def wait_answer(self, message: MessageKey, seconds: float) -> str | None:
        """The stored answer, waiting up to ``seconds`` for it."""
        event = self._answered.get(message)
        if event is not None:
            try:
                await asyncio.wait_for(event.wait(), seconds)
            except TimeoutError:
                return None
        item = self._answers.get(message)
        return item[1] if item and item[0] > time.monotonic() else None

    async def ping(self) -> bool:
        """Always reachable."""
        return True


# ------------------------------------------------------------------- redis
# Delete the lock only if it is still ours (it may have expired and been retaken).
_RELEASE = """
if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) end
return 0
"""
# Claim the message (once ever), try the conversation's lock, and load its state.
_CLAIM = """
if not redis.call("set", KEYS[1], "1", "NX", "EX", ARGV[1]) then return {0, 0} end
local locked = redis.call("set", KEYS[2], ARGV[2], "NX", "PX", ARGV[3]) and 1 or 0
return {1, locked, redis.call("get", KEYS[3])}
"""
# Save the state and the answer, then release the lock if it is still ours.
_FINISH = """
redis.call("set", KEYS[1], ARGV[1], "EX", ARGV[3])
redis.call("set", KEYS[2], ARGV[2], "EX", ARGV[3])
if redis.call("get", KEYS[3]) == ARGV[4] then redis.call("del", KEYS[3]) end
return 1
"""


@dataclass(slots=True)
class _RedisTurn:
    store: RedisStore
    message: MessageKey
    conversation: str
    token: str
    first: bool
    state: Conversation
    released: bool = False

    async def finish(self, state: Conversation, answer: str, ttl: int) -> None:
        keys = self.store.keys
        answer_key = keys.answer(self.message.channel, self.message.sender, self.message.message_id)
        # One EVALSHA: a pipeline holding a script would first ask SCRIPT EXISTS.
        await self.store._finish(
            keys=[keys.state(self.conversation), answer_key, keys.lock(self.conversation)],
            args=[state.to_json(), answer, ttl, self.token],
        )
        self.released = True


@dataclass(slots=True)
class _LocalLock:
    """The turns of one conversation in this process, one at a time."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # turns holding or waiting for it (it is dropped at 0)


class RedisStore:
    """Redis store shared by every process of a deployment.

    The lock is a plain ``SET NX PX`` with a token and a compare-and-delete release (the
    pattern redis-py's ``Lock`` uses) rather than redis-py's ``Lock`` itself, so that it
    can share round trips with the claim, the load and the save.
    """

    # How often a waiting turn or retry looks again.
    POLL_SECONDS = 0.005

    def __init__(self, redis: Redis, keys: Keys | None = None, lock_seconds: float = 15.0) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self.lock_seconds = lock_seconds
        self._release = redis.register_script(_RELEASE)
        self._finish = redis.register_script(_FINISH)
        self._claim = redis.register_script(_CLAIM)
        self._local: dict[str, _LocalLock] = {}

    async def release(self, lock_key: str, token: str) -> None:
        """Release a lock taken with ``token``, if it is still ours."""
        await self._release(keys=[lock_key], args=[token])

    @asynccontextmanager
    async def turn(
        self, message: MessageKey, conversation: str, claim_ttl: int
    ) -> AsyncIterator[_RedisTurn]:
        """Claim + lock + load in one script call; save + answer + release at the end.

        Turns of one conversation in this process also queue on a local lock, and only the
        one holding it asks Redis for the conversation's lock: a retiree sending five voice
        fragments in a row costs no polling. A repeat of a message is told so at once."""
        seen = self.keys.seen(message.channel, message.sender, message.message_id)
        lock = self.keys.lock(conversation)
        token = uuid.uuid4().hex
        local = self._local.get(conversation)
        if local is None:
            local = self._local[conversation] = _LocalLock()
        local.users += 1
        try:
            deadline = time.monotonic() + self.lock_seconds
            first, locked, raw = await self._claim_turn(local, seen, conversation, token, claim_ttl)
            if not first:
                yield _RedisTurn(self, message, conversation, token, False, Conversation(), True)
                return
            try:
                if not locked:  # another process has a message of this conversation
                    raw = await self._wait_lock(conversation, seen, token, deadline)
                state = Conversation.from_json(raw)
                turn = _RedisTurn(self, message, conversation, token, True, state)
                try:
                    yield turn
                finally:
                    if not turn.released:
                        await self.release(lock, token)
            finally:
                local.lock.release()
        finally:
            local.users -= 1
            if not local.users and self._local.get(conversation) is local:
                del self._local[conversation]

    async def _claim_turn(
        self, local: _LocalLock, seen: str, conversation: str, token: str, ttl: int
    ) -> tuple[bool, bool, str | None]:
        """Claim the message and, if first, take the local lock and try the conversation's:
        (first, locked, state). The local lock is held on return when first."""
        queued = local.lock.locked()  # another turn of this conversation is running here
        if queued:
            if not await self.redis.set(seen, "1", nx=True, ex=ttl):
                return False, False, None
            try:
                async with asyncio.timeout(self.lock_seconds):
                    await local.lock.acquire()
            except TimeoutError:
                await self.redis.delete(seen)  # not handled: a resend will be
                raise LockTimeout(conversation) from None
        else:
            await local.lock.acquire()
        try:
            if queued:
                locked, raw = await self._try_lock(conversation, token)
                return True, locked, raw
            lock, state_key = self.keys.lock(conversation), self.keys.state(conversation)
            lock_ms = int(self.lock_seconds * 1000)
            claimed = await self._claim(keys=[seen, lock, state_key], args=[ttl, token, lock_ms])
        except BaseException:  # Redis away: the next turn must not wait on us
            local.lock.release()
            raise
        if not claimed[0]:
            local.lock.release()
            return False, False, None
        raw = claimed[2] if len(claimed) > 2 else None  # noqa: PLR2004 - a nil state is dropped
        return True, bool(claimed[1]), raw

    async def _try_lock(self, conversation: str, token: str) -> tuple[bool, str | None]:
        """Take the conversation's lock if it is free, and load its state."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self.keys.lock(conversation), token, nx=True, px=int(self.lock_seconds * 1000))
            pipe.get(self.keys.state(conversation))
            locked, raw = await pipe.execute()
        return bool(locked), raw

    async def _wait_lock(
        self, conversation: str, seen: str, token: str, deadline: float
    ) -> str | None:
        """Poll until the conversation's lock is ours; its state."""
        while True:
            if time.monotonic() > deadline:
                await self.redis.delete(seen)  # not handled: a resend will be
                raise LockTimeout(conversation)
            await asyncio.sleep(self.POLL_SECONDS)
            locked, raw = await self._try_lock(conversation, token)
            if locked:
                return raw

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
            await asyncio.sleep(self.POLL_SECONDS * 4)

    async def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(await self.redis.ping())
        except (OSError, RedisError):
            return False
