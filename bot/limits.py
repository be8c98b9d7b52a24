"""Flood limits shared by every process: Telegram's 30 messages a second for the bot,
WeCom's 30 a minute (and 1,000 an hour) to one member.

A platform counts a message when its request arrives: some time after we started it and
before its answer came back. So a send may start only while fewer than ``limit`` sends
under the same key are *in flight or were answered within the last* ``period``. Then no
``period`` at the server holds more than ``limit`` arrivals, however requests bunch up on
the way: take any window and, of the sends arriving in it, the one that started last —
when it started, every other one had started and was not answered before the window
opened (it arrived in it), so each was in flight or answered within ``period``; fewer
than ``limit`` of them, itself included at most ``limit``.

The count lives in Redis (a sorted set per key: each send's answer time, or while in
flight a time well ahead, so a process killed mid-send frees its places within
``inflight`` seconds), checked and taken in one script with Redis's own clock, so N
workers together keep the limit. Two lanes: pages, notices and replies (urgent) may use
the whole limit; broadcasts and reminders (bulk) leave ``headroom`` places free and are
spaced evenly at their rate across all processes, so a page never waits behind a bulk
send. Without Redis (the demo), or while Redis is away, the same rule runs in-process:
pages still go out.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

# The values and the protocol the services use (they import nothing of bot/).
from services.ports import HELD, TELEGRAM, URGENT, WECOM_MEMBER, Lane, Limits, Policy, Rule

__all__ = [
    "HELD",
    "TELEGRAM",
    "URGENT",
    "WECOM_MEMBER",
    "Lane",
    "Limits",
    "LocalLimits",
    "Policy",
    "RedisLimits",
    "Rule",
    "TelegramRateLimiter",
    "shared_limits",
]

log = structlog.get_logger("yinling.limits")

POLL_SECONDS = 0.01  # how often a send blocked by one still in flight looks again


# ------------------------------------------------------------------ in-process
@dataclass(slots=True)
class _Key:
    scores: dict[str, float] = field(default_factory=dict)  # send -> answered (or due) at
    next_start: float = 0.0  # bulk: the earliest next start


class LocalLimits:
    """The rule within one process (the demo, and the fallback while Redis is away)."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Coroutine[Any, Any, Any]] = asyncio.sleep,
    ) -> None:
        self.clock, self.sleep = clock, sleep
        self._keys: dict[str, _Key] = {}

    def try_take(self, key: str, policy: Policy, lane: Lane, ids: list[str]) -> float:
        """Take places for ``ids`` now (0.0), or say how long to wait before asking again."""
        now, state = self.clock(), self._keys.setdefault(key, _Key())
        longest = max(r.period for r in policy.rules)
        state.scores = {i: s for i, s in state.scores.items() if s > now - longest}
        for ceiling, period in policy.ceilings(lane.bulk):
            recent = sorted(s for s in state.scores.values() if s > now - period)
            over = len(recent) + len(ids) - ceiling
            if over > 0:
                if over > len(recent):  # more at once than the rule allows: one at a time
                    return period
                oldest = recent[over - 1]
                if oldest > now:  # still in flight: free once it is answered
                    return POLL_SECONDS
                return max(0.001, oldest + period - now)
        if lane.rate > 0:
            if now < state.next_start:
                return state.next_start - now
            # A late start does not push the schedule; after a pause it starts afresh.
            interval = len(ids) / lane.rate
            base = state.next_start if state.next_start >= now - interval else now
            state.next_start = base + interval
        for send in ids:
            state.scores[send] = now + policy.inflight
        return 0.0

    def give_back(self, key: str, ids: list[str], late: float = 0.0) -> None:
        """The sends were answered (now, or ``late`` seconds on when they failed half-way)."""
        state = self._keys.get(key)
        if state is None:
            return
        at = self.clock() + late
        for send in ids:
            if send in state.scores:
                state.scores[send] = at

    @asynccontextmanager
    async def turn(
        self, key: str, policy: Policy, lane: Lane = URGENT, messages: int = 1
    ) -> AsyncIterator[None]:
        ids = [uuid.uuid4().hex for _ in range(max(1, messages))]
        while (wait := self.try_take(key, policy, lane, ids)) > 0:
            await self.sleep(wait)
        late = max(r.period for r in policy.rules)
        try:
            yield
            late = 0.0
        finally:
            # Failed or cancelled mid-send: it may still arrive; count it a period longer.
            self.give_back(key, ids, late)


# ------------------------------------------------------------------------ Redis
# KEYS: the key's sorted set, its next-start key. ARGV: n, inflight ms, rate (0: none),
# then pairs of (ceiling, period ms), then the n send ids. Returns 0 (taken) or the whole
# milliseconds to wait, at least 1 (Redis truncates a number a script returns: 0.4 is 0).
_TAKE = """
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local n, inflight, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local rules = (#ARGV - 3 - n) / 2
local longest = 0
for i = 1, rules do longest = math.max(longest, tonumber(ARGV[3 + 2 * i])) end
redis.call("zremrangebyscore", KEYS[1], "-inf", "(" .. (now - longest))
for i = 1, rules do
  local ceiling, period = tonumber(ARGV[2 + 2 * i]), tonumber(ARGV[3 + 2 * i])
  local recent = redis.call("zcount", KEYS[1], "(" .. (now - period), "+inf")
  local over = recent + n - ceiling
  if over > 0 then
    if over > recent then return period end
    local s = redis.call("zrangebyscore", KEYS[1], "(" .. (now - period), "+inf",
      "WITHSCORES", "LIMIT", over - 1, 1)
    local oldest = tonumber(s[2])
    if oldest > now then return 10 end
    return math.max(1, math.ceil(oldest + period - now))
  end
end
if rate > 0 then
  local next_start = tonumber(redis.call("get", KEYS[2]) or "0")
  if now < next_start then return math.max(1, math.ceil(next_start - now)) end
  -- A start a little late (a busy process, the round trip) does not push the schedule,
  -- so the pace is the rate, not below it; after a pause the schedule starts afresh.
  local interval = n * 1000 / rate
  local base = next_start
  if base < now - interval then base = now end
  redis.call("set", KEYS[2], base + interval, "PX", 60000)
end
for i = 1, n do redis.call("zadd", KEYS[1], now + inflight, ARGV[3 + 2 * rules + i]) end
redis.call("pexpire", KEYS[1], longest + inflight + 1000)
return 0
"""
# KEYS: the sorted set. ARGV: how late (ms), then the send ids: answered now (+ late).
_GIVE_BACK = """
local t = redis.call("TIME")
local at = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do redis.call("zadd", KEYS[1], "XX", at, ARGV[i]) end
return 1
"""


class RedisLimits:
    """The rule across processes, in Redis; in-process while Redis does not answer."""

    def __init__(self, redis: Redis, prefix: str = "yl:") -> None:
        self.redis = redis
        self.prefix = prefix
        self.local = LocalLimits()
        self._take = redis.register_script(_TAKE)
        self._give_back = redis.register_script(_GIVE_BACK)

    def _keys(self, key: str) -> list[str]:
        return [f"{self.prefix}limit:{key}", f"{self.prefix}limit-next:{key}"]

    async def _try_take(self, key: str, policy: Policy, lane: Lane, ids: list[str]) -> float:
        args: list[Any] = [len(ids), int(policy.inflight * 1000), lane.rate]
        for ceiling, period in policy.ceilings(lane.bulk):
            args += [ceiling, int(period * 1000)]
        wait_ms = await self._take(keys=self._keys(key), args=[*args, *ids])
        return float(wait_ms) / 1000

    @asynccontextmanager
    async def turn(
        self, key: str, policy: Policy, lane: Lane = URGENT, messages: int = 1
    ) -> AsyncIterator[None]:
        ids = [uuid.uuid4().hex for _ in range(max(1, messages))]
        try:
            while (wait := await self._try_take(key, policy, lane, ids)) > 0:  # noqa: ASYNC110
                await asyncio.sleep(wait)
        except (RedisError, OSError) as e:
            log.warning("limits_local", key=key, error=type(e).__name__)
            async with self.local.turn(key, policy, lane, messages):
                yield
            return
        late = max(r.period for r in policy.rules)
        try:
            yield
            late = 0.0
        finally:
            with contextlib.suppress(RedisError, OSError):  # else it lapses after `inflight`
                await asyncio.shield(
                    self._give_back(keys=self._keys(key)[:1], args=[int(late * 1000), *ids])
                )


_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, str], Limits]] = (
    weakref.WeakKeyDictionary()
)


def shared_limits(redis_url: str | None, prefix: str) -> Limits:
    """The limits of this process (one per event loop and Redis): in Redis when configured."""
    per_loop = _SHARED.setdefault(asyncio.get_running_loop(), {})
    key = (redis_url or "", prefix)
    if key not in per_loop:
        per_loop[key] = (
            RedisLimits(
                Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=2), prefix
            )
            if redis_url
            else LocalLimits()
        )
    return per_loop[key]


# --------------------------------------------------------------------- Telegram
Callback = Callable[..., Coroutine[Any, Any, Any]]


class TelegramRateLimiter(BaseRateLimiter[Lane]):
    """python-telegram-bot's rate limiter on the shared limits: every call to a chat takes
    a turn (``rate_limit_args`` gives the lane; urgent when not given). A 429 makes only
    that call wait and try again — the shared limit keeps the others under it."""

    def __init__(self, redis_url: str | None, prefix: str = "yl:", max_retries: int = 2) -> None:
        self.redis_url, self.prefix = redis_url, prefix
        self.max_retries = max_retries

    @property
    def limits(self) -> Limits:
        """The process's shared limits (made on first use, in the bot's event loop)."""
        return shared_limits(self.redis_url, self.prefix)

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(  # noqa: PLR0917 - python-telegram-bot's signature
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: Lane | None,
    ) -> Any:
        """Run one Bot API call within the limit."""
        lane = rate_limit_args if isinstance(rate_limit_args, Lane) else URGENT
        for attempt in range(self.max_retries + 1):
            try:
                if data.get("chat_id") is None or lane.held:  # not counted (again) here
                    return await callback(*args, **kwargs)
                async with self.limits.turn(TELEGRAM.name, TELEGRAM, lane):
                    return await callback(*args, **kwargs)
            except RetryAfter as e:
                if attempt == self.max_retries:
                    raise
                log.warning("telegram_retry_after", endpoint=endpoint, seconds=str(e.retry_after))
                await asyncio.sleep(_seconds(e.retry_after) + 0.1)
        raise AssertionError("unreachable")  # pragma: no cover


def _seconds(value: Any) -> float:
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)
