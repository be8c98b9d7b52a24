"""One access_token per WeChat/WeCom application, shared by every process.

A mixin for wechatpy's clients (Official Account and WeCom): the token is read from the
client's session storage (Redis when configured), fetched by one process at a time under
a lock, and refreshed once, in a coordinated way, when the API says it expired.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

import structlog
from redis import Redis as SyncRedis
from wechatpy.exceptions import WeChatClientException

__all__ = ["LOCK_SECONDS", "TOKEN_MARGIN", "SharedToken"]

TOKEN_MARGIN = 300  # seconds: a cached token is dropped this long before it expires
LOCK_SECONDS = 10


class SharedToken:
    """Put first among a wechatpy client's bases; call ``_share_token`` in ``__init__``."""

    token_errors: ClassVar[frozenset[int]]  # codes that mean "invalid / expired token"
    log_name: ClassVar[str]  # "wechat" | "wecom", for the log events
    session: Any  # wechatpy's storage (Redis or memory)

    if TYPE_CHECKING:  # provided by the wechatpy client and the subclass

        @property
        def access_token_key(self) -> str: ...

        def fetch_access_token(self) -> dict[str, Any]: ...

    def _share_token(self, redis: SyncRedis | None, lock_name: str) -> None:
        self._redis = redis
        self._lock_name = lock_name
        self._local_lock = threading.Lock()

    def _lock(self) -> AbstractContextManager[Any]:
        if self._redis is None:
            return self._local_lock
        lock: AbstractContextManager[Any] = self._redis.lock(
            self._lock_name, timeout=LOCK_SECONDS, blocking_timeout=15
        )
        return lock

    @property
    def access_token(self) -> str:
        """The shared token; fetched (by one process at a time) only when none is cached."""
        token = self.session.get(self.access_token_key)
        if token:
            return str(token)
        self.refresh(stale=None)
        return str(self.session.get(self.access_token_key))

    def refresh(self, stale: str | None) -> None:
        """Fetch a token unless another process already replaced ``stale`` meanwhile."""
        with self._lock():
            current = self.session.get(self.access_token_key)
            if current and current != stale:
                return  # someone else refreshed while we waited
            self.fetch_access_token()

    def _keep(self, result: dict[str, Any]) -> dict[str, Any]:
        """Cache a fetched token until shortly before it expires."""
        ttl = max(60, int(result.get("expires_in", 7200)) - TOKEN_MARGIN)
        self.session.set(self.access_token_key, result["access_token"], ttl)
        return result

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run one API call; on an expired token refresh once (coordinated) and retry once."""
        token = self.access_token
        try:
            return fn()
        except WeChatClientException as e:
            if e.errcode not in self.token_errors:
                raise
            structlog.get_logger(f"yinling.{self.log_name}").warning(
                f"{self.log_name}_token_rejected", errcode=e.errcode
            )
            self.refresh(stale=token)
            return fn()
