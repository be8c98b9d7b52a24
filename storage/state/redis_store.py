"""The Redis state store, shared by every process of a deployment."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from storage.keys import Keys
from storage.state.base import Conversation, LockTimeout, MessageKey, StoreUnavailable

__all__ = ["DONE", "RedisStore"]

log = structlog.get_logger("yinling.state")

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
