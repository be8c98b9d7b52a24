"""Paging staff through WeCom (企业微信) application messages.

* A staff member's WeCom account is a channel account ``("wecom", userid)`` with the role
  staff (``yinling staff wecom --staff ID --user USERID``); pages go to it as text messages
  from the configured self-built application (``/cgi-bin/message/send``).
* The access_token (``/cgi-bin/gettoken``) is cached in Redis when there is one, and fetched
  by one process at a time, as for the Official Account (bot/channels/shared_token.py): a
  40014/42001 answer triggers one coordinated refresh and one retry.
* WeCom silently drops what an application sends one member beyond 30 messages a minute
  (and 1,000 an hour): a limit per member, shared by every process (bot/limits.py),
  makes the next one wait.
* A member outside the application's visible range, unknown or without a licence
  (81013, 60111 …, or named in ``invaliduser``) is ``unreachable``, so the caller pages
  someone else; any other error is ``failed``. Logs never carry the userid (some
  companies use phone numbers as userids), only the account's id.

wechatpy's client is synchronous (requests); its calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import requests
import structlog
from redis import Redis as SyncRedis
from redis.exceptions import RedisError
from wechatpy.enterprise import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from bot.channels.shared_token import SharedToken
from bot.limits import URGENT, WECOM_MEMBER, Lane, Limits, LocalLimits
from bot.settings import Settings, WeComSettings

__all__ = ["FAILED", "SENT", "UNREACHABLE", "WeComClient", "WeComSender", "wecom_sender"]

log = structlog.get_logger("yinling.wecom")

SENT, FAILED, UNREACHABLE = "sent", "failed", "unreachable"
TOKEN_ERRORS = frozenset({40014, 42001})  # invalid / expired access_token
# Invalid UserID, invalid UserID list, no privilege (outside the visible range), UserID
# not found, "user & party & tag all invalid".
NOT_REACHABLE = frozenset({40003, 40031, 60011, 60111, 81013})


class WeComClient:
    """wechatpy's WeCom client (``api``) on a shared token, without automatic retries."""

    def __init__(self, settings: WeComSettings, redis: SyncRedis | None, prefix: str) -> None:
        if settings.corp_id is None or settings.secret is None or settings.agent_id is None:
            raise ValueError(
                "WeCom needs YINLING_WECOM__CORP_ID, YINLING_WECOM__SECRET and "
                "YINLING_WECOM__AGENT_ID"
            )
        self.corp_id = settings.corp_id
        self.agent_id = settings.agent_id
        self._secret = settings.secret.get_secret_value()
        self.timeout = 5
        self.base_url = f"{settings.api_base.rstrip('/')}/cgi-bin/"
        self._http = requests.Session()
        self.api = WeChatClient(self.corp_id, self._secret, timeout=self.timeout, auto_retry=False)
        self.api.API_BASE_URL = self.base_url
        self.token = SharedToken(
            RedisStorage(redis, prefix=f"{prefix}wecom") if redis else MemoryStorage(),
            # One token per application (wechatpy's own key holds part of the secret).
            f"{self.corp_id}_{self.agent_id}_access_token",
            self._fetch,
            redis=redis,
            lock_name=f"{prefix}wecom:token-lock:{settings.agent_id}",
            token_errors=TOKEN_ERRORS,
            log_name="wecom",
        )
        self.api.session = self.token.session_for(self.api.access_token_key)

    @property
    def message(self) -> Any:
        """wechatpy's application-message API."""
        return self.api.message

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run one API call; on an expired token refresh once (coordinated) and retry once."""
        return self.token.call(fn)

    def _fetch(self) -> requests.Response:
        """``GET /cgi-bin/gettoken`` at the configured base (wechatpy's is fixed)."""
        return self._http.get(
            f"{self.base_url}gettoken",
            params={"corpid": self.corp_id, "corpsecret": self._secret},
            timeout=self.timeout,
        )


def _named(answer: Any, field: str, user_id: str) -> bool:
    """Whether the answer lists ``user_id`` under ``field`` ("a|b" or a list)."""
    value = answer.get(field) if isinstance(answer, dict) else None
    if not value:
        return False
    names = value.split("|") if isinstance(value, str) else [str(v) for v in value]
    return user_id in names


class WeComSender:
    """Text messages from the application to members: sent | unreachable | failed."""

    def __init__(self, client: WeComClient, limits: Limits | None = None) -> None:
        self.client = client
        self.limits = limits or LocalLimits()

    async def send(
        self, user_id: str, chunks: Sequence[str], *, ref: object = None, lane: Lane = URGENT
    ) -> str:
        """Send the texts in order; stop at the first that does not go. ``ref`` (e.g. the
        account's id) names the recipient in the logs instead of the userid."""
        if not chunks:
            return FAILED
        key = f"wecom:{self.client.agent_id}:{user_id}"
        for chunk in chunks:
            async with self.limits.turn(key, WECOM_MEMBER, lane):
                result = await self._one(user_id, chunk, ref)
            if result != SENT:
                return result
        return SENT

    async def _one(self, user_id: str, text: str, ref: object) -> str:
        client = self.client
        try:
            answer = await asyncio.to_thread(
                client.call, lambda: client.message.send_text(client.agent_id, user_id, text)
            )
        except WeChatClientException as e:
            if e.errcode in NOT_REACHABLE:
                log.warning("wecom_unreachable", errcode=e.errcode, ref=ref)
                return UNREACHABLE
            code = e.errcode if e.errcode is not None else "http"
            log.warning("wecom_send_failed", errcode=code, ref=ref)
            return FAILED
        except (OSError, RedisError) as e:  # network (requests' errors are OSErrors), cache
            log.warning("wecom_send_failed", error=type(e).__name__, ref=ref)
            return FAILED
        if _named(answer, "invaliduser", user_id) or _named(answer, "unlicenseduser", user_id):
            log.warning("wecom_unreachable", errcode=0, ref=ref)
            return UNREACHABLE
        return SENT


def wecom_sender(settings: Settings, limits: Limits | None = None) -> WeComSender | None:
    """The WeCom sender when the application is configured, else None."""
    if not settings.wecom.enabled:
        return None
    redis = SyncRedis.from_url(settings.redis_url) if settings.redis_url else None
    return WeComSender(WeComClient(settings.wecom, redis, settings.redis_prefix), limits)
