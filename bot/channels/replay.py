"""A replay window for signed webhooks whose signature does not cover the body.

WeChat signs a push's timestamp and nonce with the shared token, not its body: one logged
request URL would let anyone post any body, as any user, for ever. So a push must be
recent (its timestamp within ``window`` seconds of ours), and a timestamp + nonce may carry
one body only: the same body again is WeChat retrying (handled as a repeat by the
pipeline), another body is a replay and is refused. The record lives in Redis, shared by
every process, for twice the window (in-process without Redis). Redis being away lets a
push through: an emergency must not be refused because Redis is.
"""

from __future__ import annotations

import hashlib
import time

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["Replays"]

log = structlog.get_logger("yinling.replay")

KEPT_IN_PROCESS = 10_000  # without Redis: expired entries are dropped past this many


class Replays:
    """The nonces seen within the window, each with the digest of its body."""

    def __init__(self, redis: Redis | None, prefix: str, window: float, name: str) -> None:
        self.redis, self.prefix, self.window, self.name = redis, prefix, window, name
        self._seen: dict[str, tuple[float, str]] = {}

    def fresh(self, timestamp: str, now: float) -> bool:
        """Whether a signed timestamp is within the window of ``now`` (a POSIX time)."""
        try:
            return abs(now - int(timestamp)) <= self.window
        except ValueError:
            return False

    async def first_body(self, timestamp: str, nonce: str, body: bytes) -> bool:
        """True for the first body seen with this timestamp and nonce, and for that same
        body again; False for another body (a replayed signature)."""
        digest = hashlib.sha256(body).hexdigest()[:32]
        key = f"{self.prefix}{self.name}-nonce:{timestamp}:{nonce}"
        ttl = int(2 * self.window)
        if self.redis is not None:
            try:
                if await self.redis.set(key, digest, nx=True, ex=ttl):
                    return True
                seen = await self.redis.get(key)
            except (RedisError, OSError) as e:
                log.warning("replay_check_skipped", error=type(e).__name__)
                return True
            return seen is None or (seen.decode() if isinstance(seen, bytes) else seen) == digest
        now = time.monotonic()
        if len(self._seen) > KEPT_IN_PROCESS:
            self._seen = {k: v for k, v in self._seen.items() if v[0] > now}
        found = self._seen.get(key)
        if found is None or found[0] <= now:
            self._seen[key] = (now + ttl, digest)
            return True
        return found[1] == digest
