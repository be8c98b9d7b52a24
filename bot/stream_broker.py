"""taskiq-redis's stream broker, made to survive a Redis restart.

``RedisStreamBroker`` declares its consumer group once, at startup. A Redis that comes
back without its data (restarted without persistence, or a fail-over to an empty replica)
has no group: every ``XREADGROUP`` then fails with NOGROUP, and taskiq's receiver retries
at once, for ever, in a tight loop that never receives a job again. This broker declares
the group again when that happens, and waits a moment while Redis is away. The group
reads the stream from its start, so a job kicked into the new stream before any worker
declared the group again is run, not skipped (a group that exists is left as it is).

Jobs may therefore be delivered again or lost when Redis loses its data: ours are
idempotent, and each has a reconciler that re-kicks what the database says is unfinished.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage
from taskiq_redis import RedisStreamBroker

__all__ = ["RecoveringStreamBroker"]

log = structlog.get_logger("yinling.jobs")


class RecoveringStreamBroker(RedisStreamBroker):
    """A stream broker whose workers keep receiving after Redis lost its data."""

    def __init__(self, url: str, *, retry_seconds: float = 0.5, **kwargs: Any) -> None:
        kwargs.setdefault("consumer_id", "0")
        super().__init__(url, **kwargs)
        self.retry_seconds = retry_seconds

    async def startup(self) -> None:
        """Start even while Redis is away (the app must still answer emergencies, which
        need only the database): the group is declared again by ``listen``."""
        try:
            await super().startup()
        except (RedisConnectionError, RedisTimeoutError, OSError) as e:
            log.warning("redis_unavailable_at_start", queue=self.queue_name, error=str(e))

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Messages from the stream; the group is declared again whenever Redis lost it."""
        while True:
            try:
                await self._declare_consumer_group()  # a no-op while the group exists
                async for message in super().listen():
                    yield message
            except ResponseError as e:
                if "NOGROUP" not in str(e):
                    raise
                log.warning("stream_group_lost", queue=self.queue_name)
            except (RedisConnectionError, RedisTimeoutError, OSError) as e:
                log.warning("redis_unavailable", queue=self.queue_name, error=str(e))
                await asyncio.sleep(self.retry_seconds)
