"""Calling WeChat: one access_token owner, and outbound messages that pick the right API.

* The access_token comes from ``stable_token`` (normal mode, never ``force_refresh``) and is
  cached in Redis under a lock, so however many processes run, one of them fetches and
  the others read. A 40001/42001 answer triggers one coordinated refresh: whoever takes
  the lock first fetches, the rest see the new token and just retry once.
* ``WeChatOutbound.send`` answers outside a passive reply: a customer-service message while
  the user's 48-hour window is open and its quota lasts, else the configured template
  message. 45015 (window closed) and 45047 (quota spent) are recorded on the delivery and
  lead to the template, never to a blind retry.

wechatpy's client is synchronous (requests); its calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
import structlog
from redis import Redis as SyncRedis
from sqlalchemy.ext.asyncio import async_sessionmaker
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from bot.channels.shared_token import SharedToken
from bot.settings import WeChatSettings
from storage.db import AsyncSession
from storage.models import Delivery
from storage.uow import UnitOfWork

__all__ = ["CS_WINDOW", "StableTokenClient", "WeChatOutbound"]

log = structlog.get_logger("yinling.wechat")

CHANNEL = "wechat"
CS_WINDOW = timedelta(hours=48)  # customer-service messages: 48 h after the user last wrote
TOKEN_ERRORS = frozenset({40001, 40014, 42001})  # invalid / expired access_token
WINDOW_CLOSED, QUOTA_SPENT = 45015, 45047


class StableTokenClient:
    """wechatpy's client (``api``) on a shared ``stable_token``, without automatic retries.

    ``call(lambda: client.message.send_text(...))`` runs one API call with the token's
    coordinated refresh around it."""

    def __init__(self, settings: WeChatSettings, redis: SyncRedis | None, prefix: str) -> None:
        if settings.app_id is None or settings.app_secret is None:
            raise ValueError("WeChat API calls need YINLING_WECHAT__APP_ID and __APP_SECRET")
        self.app_id = settings.app_id
        self._secret = settings.app_secret.get_secret_value()
        self.timeout = 5
        self.base_url = f"{settings.api_base.rstrip('/')}/cgi-bin/"
        self._http = requests.Session()
        self.api = WeChatClient(self.app_id, self._secret, timeout=self.timeout, auto_retry=False)
        self.api.API_BASE_URL = self.base_url
        self.token = SharedToken(
            RedisStorage(redis, prefix=f"{prefix}wechat") if redis else MemoryStorage(),
            f"{self.app_id}_access_token",
            self._fetch,
            redis=redis,
            lock_name=f"{prefix}wechat:token-lock",
            token_errors=TOKEN_ERRORS,
            log_name="wechat",
        )
        self.api.session = self.token.session_for(self.api.access_token_key)

    @property
    def message(self) -> Any:
        """wechatpy's message API (customer-service and template messages)."""
        return self.api.message

    @property
    def menu(self) -> Any:
        """wechatpy's custom-menu API."""
        return self.api.menu

    def call(self, fn: Callable[[], Any]) -> Any:
        """Run one API call; on an expired token refresh once (coordinated) and retry once."""
        return self.token.call(fn)

    def _fetch(self) -> requests.Response:
        """``POST /cgi-bin/stable_token`` in normal mode (never a forced refresh)."""
        return self._http.post(
            f"{self.base_url}stable_token",
            json={
                "grant_type": "client_credential",
                "appid": self.app_id,
                "secret": self._secret,
                "force_refresh": False,
            },
            timeout=self.timeout,
        )


class WeChatOutbound:
    """Messages to WeChat users outside a passive reply (late replies, notices, broadcasts)."""

    def __init__(
        self,
        settings: WeChatSettings,
        sessions: async_sessionmaker[AsyncSession],
        client: StableTokenClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.client = client
        self.clock = clock

    async def late_reply(self, openid: str, chunks: Sequence[str]) -> None:
        """Deliver the rest of a reply the passive answer could not carry."""
        await self.send(openid, chunks, purpose="late_reply")

    async def send(self, openid: str, chunks: Sequence[str], *, purpose: str) -> list[Delivery]:
        """Send texts to a user by the API their window allows; every attempt is recorded."""
        now = self.clock()
        async with UnitOfWork(self.sessions) as uow:
            account = await uow.accounts.find(CHANNEL, openid)
            last = await uow.messages.last_inbound(CHANNEL, openid)
            window_open = last is not None and now - last < CS_WINDOW
            account_id = account.id if account is not None else None
            used = (
                await uow.deliveries.count_sent(account_id, "customer_service", last)
                if account_id is not None and last is not None and window_open
                else 0
            )
        deliveries = []
        for chunk in chunks:
            delivery = Delivery(
                channel=CHANNEL,
                account_id=account_id,
                purpose=purpose,
                status="pending",
                text=chunk,
                created_at=now,
            )
            quota_left = used < self.settings.cs_quota
            if window_open and quota_left:
                await self._customer_service(delivery, openid, chunk)
                if delivery.status == "sent":
                    used += 1
                    deliveries.append(delivery)
                    continue
                window_open = window_open and delivery.error_code != str(WINDOW_CLOSED)
                used = self.settings.cs_quota if delivery.error_code == str(QUOTA_SPENT) else used
                deliveries.append(delivery)
                if delivery.error_code not in {str(WINDOW_CLOSED), str(QUOTA_SPENT)}:
                    continue
                delivery = Delivery(
                    channel=CHANNEL,
                    account_id=account_id,
                    purpose=purpose,
                    status="pending",
                    text=chunk,
                    created_at=now,
                )
            await self._template(delivery, openid, chunk)
            deliveries.append(delivery)
        async with UnitOfWork(self.sessions) as uow:
            for delivery in deliveries:
                await uow.deliveries.add(delivery)
            await uow.commit()
        return deliveries

    async def _customer_service(self, delivery: Delivery, openid: str, text: str) -> None:
        delivery.method = "customer_service"
        await self._attempt(delivery, lambda: self.client.message.send_text(openid, text))

    async def _template(self, delivery: Delivery, openid: str, text: str) -> None:
        delivery.method = "template"
        template = self.settings.template_id
        if template is None:
            delivery.status = "skipped"
            delivery.error = "no template configured and the 48-hour window is closed"
            log.warning("wechat_undeliverable", purpose=delivery.purpose)
            return
        data = {self.settings.template_field: {"value": text[:200]}}
        await self._attempt(
            delivery, lambda: self.client.message.send_template(openid, template, data)
        )

    async def _attempt(self, delivery: Delivery, fn: Callable[[], Any]) -> None:
        try:
            result = await asyncio.to_thread(self.client.call, fn)
        except WeChatClientException as e:
            delivery.status = "failed"
            delivery.error_code = str(e.errcode) if e.errcode is not None else "http"
            delivery.error = str(e.errmsg)[:200] if e.errmsg else None
            log.warning(
                "wechat_send_failed",
                method=delivery.method,
                errcode=delivery.error_code,
                purpose=delivery.purpose,
            )
            return
        except OSError as e:
            delivery.status = "failed"
            delivery.error_code = "network"
            delivery.error = type(e).__name__
            log.warning("wechat_send_failed", method=delivery.method, error=type(e).__name__)
            return
        delivery.status = "sent"
        delivery.sent_at = self.clock()
        if isinstance(result, dict) and result.get("msgid") is not None:
            delivery.external_id = str(result["msgid"])

    async def push_menu(self, menu: dict[str, Any]) -> None:
        """Replace the account's custom menu."""
        await asyncio.to_thread(self.client.call, lambda: self.client.menu.create(menu))
