"""The WeChat Official Account channel: URL verification, pushes, passive replies.

* Every request's signature is checked (a forged one gets 403 and nothing is processed);
  safe mode (AES) accepts the current and the previous EncodingAESKey.
* Bodies are size-limited and parsed without DTDs or entities (bot/channels/wechat_format.py).
* WeChat drops a push after 5 s and retries it three times: the pipeline gets
  ``answer_within`` seconds (4 by default). When it is done in time — nearly always — the
  reply goes back passively; otherwise WeChat gets ``success`` and the reply follows
  through the customer-service API (bot/channels/passive.py). Repeats of a push (same
  MsgId, or for events the same FromUserName + CreateTime + Event) are handled once and
  answered with the first answer.
* Reading a push (ids, menu keys, locations) is bot/channels/wechat_inbound.py; sending
  outside a passive reply (the token, the 48-hour window) is bot/channels/wechat_api.py.
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.parsers import expat

import structlog
from redis import Redis as SyncRedis
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.channels.base import ChannelLimits, Deliver, Handle
from bot.channels.passive import PassiveReplies
from bot.channels.replay import Replays
from bot.channels.wechat_api import StableTokenClient, WeChatOutbound
from bot.channels.wechat_format import (
    MAX_BODY,
    MAX_REPLY_BYTES,
    cdata_safe,
    check_xml,
    render_text,
)
from bot.channels.wechat_inbound import MAX_ID_CHARS, MENU_KEYS, to_inbound
from bot.messages import InboundMessage
from bot.runtime import Runtime
from bot.settings import Settings, WeChatSettings
from handlers import texts
from handlers.base import Reply
from storage.db import AsyncSession
from storage.uow import UnitOfWork

__all__ = [
    "MAX_REPLY_BYTES",
    "MENU_KEYS",
    "Push",
    "WeChatChannel",
    "menu_definition",
    "open_outbound",
    "open_wechat",
    "outbound_for",
    "render_text",
]

log = structlog.get_logger("yinling.wechat")

CHANNEL = "wechat"
SUCCESS = "success"

Report = Callable[[str, str], Awaitable[None]]


def menu_definition() -> dict[str, Any]:
    """The custom menu pushed by ``yinling wechat menu`` (one-item menus are plain buttons)."""
    buttons: list[dict[str, Any]] = []
    for title, items in texts.CHANNEL_MENU:
        if len(items) == 1:
            label, intent = items[0]
            buttons.append({"type": "click", "name": label, "key": intent.upper()})
        else:
            subs = [
                {"type": "click", "name": label, "key": intent.upper()} for label, intent in items
            ]
            buttons.append({"name": title, "sub_button": subs})
    return {"button": buttons}


@dataclass(frozen=True, slots=True)
class Push:
    """A verified push: the parsed message, and what its passive reply is sealed with."""

    message: Any  # wechatpy's parsed message
    crypto: WeChatCrypto | None  # the key that opened it (safe mode), else None
    nonce: str
    timestamp: str


class WeChatChannel:
    """The ``/wechat`` endpoint."""

    def __init__(
        self,
        settings: WeChatSettings,
        handle: Handle,
        *,
        deliver: Deliver[str] | None = None,
        report: Report | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        replays: Replays | None = None,
    ) -> None:
        if settings.token is None:
            raise ValueError("WeChat needs YINLING_WECHAT__TOKEN")
        self.settings = settings
        self.replays = replays or Replays(None, "", settings.replay_seconds, CHANNEL)
        self.token = settings.token.get_secret_value()
        self.report = report
        self.clock = clock
        self.limits = ChannelLimits(MAX_BODY, MAX_REPLY_BYTES, "byte", settings.answer_within)
        self.replies = PassiveReplies(CHANNEL, handle, self.render, deliver, settings.answer_within)
        keys = [k for k in (settings.aes_key, settings.previous_aes_key) if k is not None]
        self._cryptos = [
            WeChatCrypto(self.token, key.get_secret_value(), settings.app_id or "") for key in keys
        ]

    # ------------------------------------------------------------ checks
    def _signed(self, query: Any) -> bool:
        signature = str(query.get("signature", ""))
        try:
            check_signature(
                self.token, signature, query.get("timestamp", ""), query.get("nonce", "")
            )
        except InvalidSignatureException:
            return False
        return True

    def _decrypt(self, body: bytes, query: Any) -> tuple[str, WeChatCrypto] | None:
        """The decrypted XML and the crypto that opened it (current key first, then previous)."""
        for crypto in self._cryptos:
            try:
                plain = crypto.decrypt_message(
                    body,
                    query.get("msg_signature", ""),
                    query.get("timestamp", ""),
                    query.get("nonce", ""),
                )
            except (
                InvalidSignatureException,
                InvalidAppIdException,
                UnicodeDecodeError,
                KeyError,
                ValueError,
                TypeError,
                struct.error,  # a bad padding under a valid msg_signature
                IndexError,  # an empty Encrypt under a valid msg_signature
                binascii.Error,
            ):
                continue
            return str(plain), crypto
        return None

    async def verify(self, request: Request) -> Push | Response:
        """A push that is signed, recent, not a replay (bot/channels/replay.py), encrypted
        when an AES key is set, and well-formed; else the refusal (403, 400). GET (URL
        verification) is answered here with the echostr."""
        query = request.query_params
        if not self._signed(query):
            log.warning("wechat_bad_signature", method=request.method)
            return PlainTextResponse("forbidden", status_code=403)
        if request.method == "GET":
            return PlainTextResponse(query.get("echostr", ""))
        timestamp, nonce = str(query.get("timestamp", "")), str(query.get("nonce", ""))
        if not self.replays.fresh(timestamp, self.clock().timestamp()):
            log.warning("wechat_stale_push")
            return PlainTextResponse("forbidden", status_code=403)
        encrypted = query.get("encrypt_type") == "aes"
        if self._cryptos and not encrypted and not self.settings.plain_allowed:
            log.warning("wechat_plain_push_refused")
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        if not await self.replays.first_body(timestamp, nonce, body):
            log.warning("wechat_replayed_push")
            return PlainTextResponse("forbidden", status_code=403)
        crypto: WeChatCrypto | None = None
        try:
            check_xml(body)
            xml: str | bytes = body
            if encrypted:
                opened = self._decrypt(body, query)
                if opened is None:
                    log.warning("wechat_bad_msg_signature")
                    return PlainTextResponse("forbidden", status_code=403)
                xml, crypto = opened
                check_xml(xml)
            message = parse_message(xml)
        except (ValueError, TypeError, KeyError, AttributeError, expat.ExpatError) as e:
            log.warning("wechat_bad_body", error=type(e).__name__)
            return PlainTextResponse("bad request", status_code=400)
        sender = str(getattr(message, "source", "") or "")
        if not sender or len(sender) > MAX_ID_CHARS:  # an OpenID has 28 characters
            log.warning("wechat_push_without_sender", length=len(sender))
            return PlainTextResponse("bad request", status_code=400)
        return Push(message, crypto, nonce, timestamp)

    # ---------------------------------------------------------- endpoint
    async def endpoint(self, request: Request) -> Response:
        """GET: URL verification. POST: a push, answered within ``answer_within`` seconds.

        A malformed push is logged with the reason and refused (400) or, if WeChat could
        only send it again, answered ``success``: never a 5xx."""
        checked = await self.verify(request)
        if isinstance(checked, Response):
            return checked
        message = checked.message
        try:
            if getattr(message, "event", None) == "templatesendjobfinish":
                # A delivery report for a template message we sent: not a user message.
                if self.report is not None:
                    await self.report(str(message.id), str(message.status))
                return PlainTextResponse(SUCCESS)
            inbound = self.to_inbound(message)
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as e:
            # Signed by WeChat but not what its documentation says: nothing to act on, and
            # nothing WeChat could fix by sending it again.
            log.warning("wechat_malformed_push", error=type(e).__name__)
            return PlainTextResponse(SUCCESS)
        if inbound is None:
            return PlainTextResponse(SUCCESS)
        text = await self.replies.answer(inbound)
        if text is None:
            return PlainTextResponse(SUCCESS)
        reply = TextReply(message=message, content=cdata_safe(text)).render()
        if checked.crypto is not None:
            reply = checked.crypto.encrypt_message(reply, checked.nonce, checked.timestamp)
        return Response(reply, media_type="application/xml")

    def render(self, replies: Sequence[Reply]) -> list[str]:
        """Replies as WeChat texts (numbered options, 2,048 bytes each)."""
        return render_text(replies)

    async def send(self, user_id: str, messages: Sequence[str]) -> None:
        """Send texts through the customer-service (or template) API."""
        await self.replies.send(user_id, messages)

    async def drain(self) -> None:
        """Wait for replies still being delivered (at shutdown, and in tests)."""
        await self.replies.drain()

    async def close(self) -> None:
        """Finish what is being delivered."""
        await self.drain()

    def to_inbound(self, message: Any) -> InboundMessage | None:
        """A parsed push as the pipeline's message, or None for pushes that need no answer.
        Raises ValueError (and the like) for a push whose fields are not as documented."""
        return to_inbound(message, self.clock())


def open_outbound(runtime: Runtime) -> WeChatOutbound | None:
    """The outbound sender, when the AppID and AppSecret are configured."""
    return outbound_for(runtime.settings, runtime.sessions)


def outbound_for(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> WeChatOutbound | None:
    """The outbound sender for a process without a pipeline (the worker)."""
    wechat = settings.wechat
    if wechat.app_id is None or wechat.app_secret is None:
        return None
    redis = SyncRedis.from_url(settings.redis_url) if settings.redis_url else None
    client = StableTokenClient(wechat, redis, settings.redis_prefix)
    return WeChatOutbound(wechat, sessions, client)


async def open_wechat(runtime: Runtime) -> WeChatChannel:
    """The ``/wechat`` endpoint wired to the pipeline, the outbound API and the delivery log."""
    outbound = open_outbound(runtime)

    async def report(msg_id: str, status: str) -> None:
        async with UnitOfWork(runtime.sessions) as uow:
            known = await uow.deliveries.report(CHANNEL, msg_id, status, datetime.now(UTC))
            await uow.commit()
        log.info("wechat_delivery_report", msg_id=msg_id, status=status, known=known)

    settings = runtime.settings
    replays = Replays(runtime.redis, settings.redis_prefix, settings.wechat.replay_seconds, CHANNEL)
    return WeChatChannel(
        settings.wechat,
        runtime.pipeline.handle,
        deliver=outbound.late_reply if outbound is not None else None,
        report=report,
        replays=replays,
    )
