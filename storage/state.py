"""Conversation state and message de-duplication: in Redis, or in-process for the demo.

Both stores have the same interface and are tested against the same contract. Handling
one message is one *turn*: the platform message id is claimed, the conversation is locked,
and only then is its state loaded; at the end the new state and the answer (kept for
retries) are saved and the lock released.

A message id goes through two delivery states. While a turn handles it, it is
*processing* under a short lease that the turn keeps renewing; only ``finish`` (called
after the database commit) makes it *done*, with its answer, for a day. A turn that ends
without finishing — an exception, a cancellation — gives the claim back at once, and a
process killed mid-message stops renewing, so its lease lapses within seconds: either way
the platform's retry of that message is handled, not swallowed. A repeat that arrives
while the first copy is still processing waits a moment for its answer (or for the claim
to come free, and then handles the message itself).

On Redis that is two round trips per message, pipelined: claim + lock + load, and
save + answer + release. Redis errors are raised as :class:`StoreUnavailable`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

import structlog
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
    "StoreUnavailable",
    "Turn",
]

log = structlog.get_logger("yinling.state")


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


# ------------------------------------------------------------------ memory
@dataclass(slots=True)
class _MemoryClaim:
    expires: float
    done: bool = False
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # done or given back


@dataclass(slots=True)
class _MemoryTurn:
    store: MemoryStore
    message: MessageKey
    conversation: str
    first: bool
    state: Conversation
    answer: str | None = None
    claim_ttl: int = 0
    finished: bool = False

    async def finish(self, state: Conversation, answer: str, ttl: int) -> None:
        self.store.put(self.conversation, state, ttl)
        self.store.answer(self.message, answer, ttl, self.claim_ttl)
        self.finished = True


class MemoryStore:
    """In-process store for the console demo and single-process use."""

    def __init__(self) -> None:
        self._states: dict[str, tuple[float, str]] = {}
        self._claims: dict[MessageKey, _MemoryClaim] = {}
        self._answers: dict[MessageKey, tuple[float, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def turn(
        self, message: MessageKey, conversation: str, claim_ttl: int, wait: float = 0.0
    ) -> AsyncIterator[_MemoryTurn]:
        """Claim, lock, load; give the claim back if the turn ends without finishing."""
        deadline = time.monotonic() + wait
        while True:
            claim = self._claims.get(message)
            if claim is None or claim.expires <= time.monotonic():
                break
            left = deadline - time.monotonic()
            if not claim.done and left > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(claim.settled.wait(), left)
                if self._claims.get(message) is not claim:
                    continue  # given back (the first handling failed): handle it here
            yield _MemoryTurn(
                self, message, conversation, False, Conversation(), self._answer(message)
            )
            return
        claim = self._claims[message] = _MemoryClaim(time.monotonic() + claim_ttl)
        turn = _MemoryTurn(self, message, conversation, True, Conversation(), claim_ttl=claim_ttl)
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        try:
            async with lock:
                turn.state = self.get(conversation)
                yield turn
        finally:
            if not turn.finished and self._claims.get(message) is claim:
                del self._claims[message]
            claim.settled.set()
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

    def answer(self, message: MessageKey, answer: str, ttl: int, claim_ttl: int) -> None:
        """Keep the answer and mark the message done."""
        self._answers[message] = (time.monotonic() + ttl, answer)
        claim = self._claims.get(message)
        if claim is not None:
            claim.done = True
            claim.expires = time.monotonic() + claim_ttl

    def _answer(self, message: MessageKey) -> str | None:
        item = self._answers.get(message)
        return item[1] if item and item[0] > time.monotonic() else None

    async def ping(self) -> bool:
        """Always reachable."""
        return True


# ------------------------------------------------------------------- redis
DONE = "d"  # the value of a handled message's claim; "p:<token>" while one is processing
# Claim the message unless someone has (then say who: done, or processing), try the
# conversation's lock, and load its state.
_CLAIM = """
local seen = redis.call("get", KEYS[1])
if seen then return {0, seen} end
redis.call("set", KEYS[1], "p:" .. ARGV[2], "PX", ARGV[1])
local locked = redis.call("set", KEYS[2], ARGV[2], "NX", "PX", ARGV[3]) and 1 or 0
return {1, locked, redis.call("get", KEYS[3])}
"""
# Claim the message only (a turn that will queue on its conversation's local lock).
_CLAIM_ONLY = """
local seen = redis.call("get", KEYS[1])
if seen then return {0, seen} end
redis.call("set", KEYS[1], "p:" .. ARGV[2], "PX", ARGV[1])
return {1}
"""
# Keep the claim and the lock while the turn runs (if they are still ours).
_RENEW = """
if redis.call("get", KEYS[1]) == "p:" .. ARGV[1] then redis.call("pexpire", KEYS[1], ARGV[2]) end
if redis.call("get", KEYS[2]) == ARGV[1] then redis.call("pexpire", KEYS[2], ARGV[2]) end
return 1
"""
# A turn that did not finish: give back the claim (a retry will be handled) and the lock.
_ABANDON = """
if redis.call("get", KEYS[1]) == "p:" .. ARGV[1] then redis.call("del", KEYS[1]) end
if redis.call("get", KEYS[2]) == ARGV[1] then redis.call("del", KEYS[2]) end
return 1
"""
# Save the state and the answer, mark the message done, release the lock if still ours.
_FINISH = """
redis.call("set", KEYS[1], ARGV[1], "EX", ARGV[3])
redis.call("set", KEYS[2], ARGV[2], "EX", ARGV[3])
redis.call("set", KEYS[4], "d", "EX", ARGV[5])
if redis.call("get", KEYS[3]) == ARGV[4] then redis.call("del", KEYS[3]) end
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(slots=True)
class _RedisTurn:
    store: RedisStore
    message: MessageKey
    conversation: str
    token: str
    first: bool
    state: Conversation
    answer: str | None = None
    claim_ttl: int = 0
    released: bool = False

    async def finish(self, state: Conversation, answer: str, ttl: int) -> None:
        keys, m = self.store.keys, self.message
        try:
            # One EVALSHA: a pipeline holding a script would first ask SCRIPT EXISTS.
            await self.store._finish(
                keys=[
                    keys.state(self.conversation),
                    keys.answer(m.channel, m.sender, m.message_id),
                    keys.lock(self.conversation),
                    keys.seen(m.channel, m.sender, m.message_id),
                ],
                args=[state.to_json(), answer, ttl, self.token, self.claim_ttl],
            )
        except (RedisError, OSError) as e:
            raise StoreUnavailable(type(e).__name__) from e
        self.released = True


@dataclass(slots=True)
class _LocalLock:
    """The turns of one conversation in this process, one at a time."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # turns holding or waiting for it (it is dropped at 0)


class _Lease:
    """Renews a turn's claim and lock every third of the lease while the turn runs; costs
    nothing for the many turns shorter than that (a timer, no task)."""

    def __init__(self, store: RedisStore, seen: str, lock: str, token: str) -> None:
        self.store, self.keys, self.token = store, [seen, lock], token
        self._timer: asyncio.TimerHandle | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self.store.lease_seconds / 3, self._due)

    def _due(self) -> None:
        self._task = asyncio.ensure_future(self._renew())

    async def _renew(self) -> None:
        try:
            ms = int(self.store.lease_seconds * 1000)
            await self.store._renew(keys=self.keys, args=[self.token, ms])
        except (RedisError, OSError) as e:
            log.warning("state_lease_not_renewed", error=type(e).__name__)
        self.start()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()


@dataclass(frozen=True, slots=True)
class _Claim:
    status: Literal["first", "done", "busy"]
    local: bool = False  # the local lock was taken with the claim
    locked: bool = False  # and the conversation's lock too
    state: str | None = None  # loaded with it
    answer: str | None = None  # for a repeat: the first handling's answer, if there


class RedisStore:
    """Redis store shared by every process of a deployment.

    The lock is a plain ``SET NX PX`` with a token and a compare-and-delete release (the
    pattern redis-py's ``Lock`` uses) rather than redis-py's ``Lock`` itself, so that it
    can share round trips with the claim, the load and the save. The claim and the lock
    live ``lease_seconds`` unless the turn renews them: a killed process holds neither
    for longer.
    """

    # How often a waiting turn or repeat looks again.
    POLL_SECONDS = 0.005

    def __init__(
        self,
        redis: Redis,
        keys: Keys | None = None,
        lock_seconds: float = 15.0,
        lease_seconds: float = 6.0,
    ) -> None:
        self.redis = redis
        self.keys = keys or Keys()
        self.lock_seconds = lock_seconds  # how long a turn waits for its conversation
        self.lease_seconds = lease_seconds
        self._finish = redis.register_script(_FINISH)
        self._claim = redis.register_script(_CLAIM)
        self._claim_only = redis.register_script(_CLAIM_ONLY)
        self._renew = redis.register_script(_RENEW)
        self._abandon = redis.register_script(_ABANDON)
        self._local: dict[str, _LocalLock] = {}

    @asynccontextmanager
    async def turn(
        self, message: MessageKey, conversation: str, claim_ttl: int, wait: float = 0.0
    ) -> AsyncIterator[_RedisTurn]:
        """Claim + lock + load in one script call; save + answer + release at the end.

        Turns of one conversation in this process also queue on a local lock, and only the
        one holding it asks Redis for the conversation's lock: a retiree sending five voice
        fragments in a row costs no polling. A repeat of a message is told so at once
        (``wait`` 0), or once the first copy's answer is there."""
        m = message
        seen = self.keys.seen(m.channel, m.sender, m.message_id)
        lock = self.keys.lock(conversation)
        token = uuid.uuid4().hex
        local = self._local.get(conversation)
        if local is None:
            local = self._local[conversation] = _LocalLock()
        local.users += 1
        try:
            claim = await self._claim_message(local, message, conversation, token, wait)
            if claim.status != "first":
                yield _RedisTurn(self, m, conversation, token, False, Conversation(), claim.answer)
                return
            lease = _Lease(self, seen, lock, token)
            lease.start()  # from here the claim is ours, and kept alive while we work
            held = claim.local
            turn = _RedisTurn(self, m, conversation, token, True, Conversation(), None, claim_ttl)
            try:
                deadline = time.monotonic() + self.lock_seconds
                try:
                    if not held:
                        async with asyncio.timeout(self.lock_seconds):
                            await local.lock.acquire()
                        held = True
                    raw = (
                        claim.state
                        if claim.locked
                        else await self._wait_lock(conversation, token, deadline)
                    )
                except TimeoutError:
                    raise LockTimeout(conversation) from None
                except (RedisError, OSError) as e:
                    raise StoreUnavailable(type(e).__name__) from e
                turn.state = Conversation.from_json(raw)
                yield turn
            finally:
                lease.stop()
                if held:
                    local.lock.release()
                if not turn.released:
                    await self._give_back(seen, lock, token)
        finally:
            local.users -= 1
            if not local.users and self._local.get(conversation) is local:
                del self._local[conversation]

    async def _claim_message(
        self, local: _LocalLock, message: MessageKey, conversation: str, token: str, wait: float
    ) -> _Claim:
        """Claim the message, waiting up to ``wait`` while another turn is processing it
        (until its answer is there, or its claim comes free and is ours)."""
        deadline = time.monotonic() + wait
        try:
            while True:
                claim = await self._try_claim(local, message, conversation, token)
                if claim.status == "first":
                    return claim
                answer = await self._answer(message)
                if claim.status == "done" or answer is not None or time.monotonic() >= deadline:
                    return _Claim("done" if answer is not None else claim.status, answer=answer)
                await asyncio.sleep(self.POLL_SECONDS * 4)
        except (RedisError, OSError) as e:
            raise StoreUnavailable(type(e).__name__) from e

    async def _try_claim(
        self, local: _LocalLock, message: MessageKey, conversation: str, token: str
    ) -> _Claim:
        """One attempt. When this process already runs a turn of the conversation, only the
        message is claimed (the turn then queues locally); otherwise the local lock is
        taken and the claim, the conversation's lock and its state come in one call."""
        m = message
        seen = self.keys.seen(m.channel, m.sender, m.message_id)
        lease_ms = int(self.lease_seconds * 1000)
        if local.lock.locked():
            found = await self._claim_only(keys=[seen], args=[lease_ms, token])
            if not found[0]:
                return _Claim("done" if _text(found[1]) == DONE else "busy")
            return _Claim("first")
        await local.lock.acquire()
        try:
            lock, state = self.keys.lock(conversation), self.keys.state(conversation)
            found = await self._claim(keys=[seen, lock, state], args=[lease_ms, token, lease_ms])
        except BaseException:  # Redis away: the next turn must not wait on us
            local.lock.release()
            raise
        if not found[0]:
            local.lock.release()
            return _Claim("done" if _text(found[1]) == DONE else "busy")
        raw = found[2] if len(found) > 2 else None  # noqa: PLR2004 - a nil state is dropped
        return _Claim("first", True, bool(found[1]), None if raw is None else _text(raw))

    async def _wait_lock(self, conversation: str, token: str, deadline: float) -> str | None:
        """Poll until the conversation's lock is ours (another process holds it); its state."""
        while True:
            locked, raw = await self._try_lock(conversation, token)
            if locked:
                return raw
            if time.monotonic() > deadline:
                raise LockTimeout(conversation)
            await asyncio.sleep(self.POLL_SECONDS)

    async def _try_lock(self, conversation: str, token: str) -> tuple[bool, str | None]:
        """Take the conversation's lock if it is free, and load its state."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(
                self.keys.lock(conversation), token, nx=True, px=int(self.lease_seconds * 1000)
            )
            pipe.get(self.keys.state(conversation))
            locked, raw = await pipe.execute()
        return bool(locked), None if raw is None else _text(raw)

    async def _give_back(self, seen: str, lock: str, token: str) -> None:
        """The turn ended without finishing: free the claim and the lock (if still ours)."""
        try:
            await self._abandon(keys=[seen, lock], args=[token])
        except (RedisError, OSError) as e:  # both lapse with their lease anyway
            log.warning("state_claim_not_given_back", error=type(e).__name__)

    async def _answer(self, message: MessageKey) -> str | None:
        m = message
        raw = await self.redis.get(self.keys.answer(m.channel, m.sender, m.message_id))
        return None if raw is None else _text(raw)

    async def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(await self.redis.ping())
        except (OSError, RedisError):
            return False
