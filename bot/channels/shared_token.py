"""One access_token per WeChat/WeCom application, shared by every process.

``SharedToken`` keeps the token in wechatpy's session storage (Redis when configured):
it is fetched by one process at a time under a lock, and refreshed once, in a coordinated
way, when the API says it expired. A client holds a ``SharedToken`` and hands wechatpy's
client ``token.session_for(its key)`` as its storage: wechatpy then reads the shared token
and never fetches one of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import requests
import structlog
from redis import Redis as SyncRedis
from wechatpy.exceptions import WeChatClientException
from wechatpy.session import SessionStorage

__all__ = ["LOCK_SECONDS", "TOKEN_MARGIN", "SharedToken", "token_result"]

TOKEN_MARGIN = 300  # seconds: a cached token is dropped this long before it expires
LOCK_SECONDS = 10

Fetch = Callable[[], "requests.Response"]


def token_result(response: requests.Response) -> dict[str, Any]:
    """A token endpoint's JSON answer; WeChatClientException for an error code."""
    response.raise_for_status()
    result = response.json()
    if not isinstance(result, dict):
        raise WeChatClientException(None, "not a JSON object", request=response.request)
    code = int(result.get("errcode", 0) or 0)
    if code:
        errmsg = result.get("errmsg", code)
        raise WeChatClientException(code, errmsg, request=response.request, response=response)
    return result


class SharedToken:
    """The token of one application: ``storage[key]``, fetched by ``fetch`` under a lock.

    ``fetch`` asks the platform for a token (one HTTP request); ``token_errors`` are the
    error codes that mean "invalid / expired token"; ``log_name`` ("wechat" | "wecom")
    prefixes the log events."""

    def __init__(
        self,
        storage: SessionStorage,
        key: str,
        fetch: Fetch,
        *,
        redis: SyncRedis | None,
        lock_name: str,
        token_errors: frozenset[int],
        log_name: str,
    ) -> None:
        self.storage = storage
        self.key = key
        self._fetch = fetch
        self._redis = redis
        self._lock_name = lock_name
        self._local_lock = threading.Lock()
        self.token_errors = token_errors
        self.log_name = log_name
        self._log = structlog.get_logger(f"yinling.{log_name}")

    def session_for(self, sdk_key: str) -> SessionStorage:
        """Storage for a wechatpy client whose token key is ``sdk_key``: that key reads
        the shared token; anything else goes to the storage as it is."""
        return _TokenSession(self, sdk_key)

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
        token = self.storage.get(self.key)
        if token:
            return str(token)
        self.refresh(stale=None)
        return str(self.storage.get(self.key))

    def refresh(self, stale: str | None) -> None:
        """Fetch a token unless another process already replaced ``stale`` meanwhile."""
        with self._lock():
            current = self.storage.get(self.key)
            if current and current != stale:
                return  # someone else refreshed while we waited
            self._log.info(f"{self.log_name}_token_fetch")
            result = token_result(self._fetch())
            # Kept until shortly before it expires.
            ttl = max(60, int(result.get("expires_in", 7200)) - TOKEN_MARGIN)
            self.storage.set(self.key, result["access_token"], ttl)

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run one API call; on an expired token refresh once (coordinated) and retry once."""
        token = self.access_token
        try:
            return fn()
        except WeChatClientException as e:
            if e.errcode not in self.token_errors:
                raise
            self._log.warning(f"{self.log_name}_token_rejected", errcode=e.errcode)
            self.refresh(stale=token)
            return fn()


class _TokenSession(SessionStorage):  # type: ignore[misc]  # wechatpy is untyped
    """wechatpy's session storage, where the token key reads the shared token."""

    def __init__(self, token: SharedToken, sdk_key: str) -> None:
        self._token = token
        self._keys = {token.key, sdk_key}

    def get(self, key: str, default: Any = None) -> Any:
        if key in self._keys:
            return self._token.access_token
        return self._token.storage.get(key, default)

    def set(self, key: str, value: Any, ttl: int | None = None) -> None:
        self._token.storage.set(key, value, ttl)

    def delete(self, key: str) -> None:
        self._token.storage.delete(key)
