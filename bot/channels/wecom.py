"""The WeCom (企业微信) channel: staff answer pages through the application's callback.

The callback (``/wecom``, 应用管理 → 接收消息 → 设置API接收) is always encrypted:

* Every request's ``msg_signature`` is checked (a forged one gets 403 and nothing is
  processed); bodies are size-limited and parsed without DTDs or entities, before and
  after decryption (bot/channels/wechat_format.py).
* Only text messages reach the pipeline (the staff handlers take "接 12" and "办结 12 …");
  other messages and events get an empty answer. Repeats of a MsgId are handled once.
* WeCom gives up after 5 s: the pipeline gets ``answer_within`` seconds; in time, the
  reply goes back passively (encrypted), otherwise WeCom gets an empty answer and the
  reply follows as an application message (bot/channels/passive.py).

Sending (the token, the per-member limit, who is unreachable) is bot/channels/wecom_api.py.
"""

from __future__ import annotations

import binascii
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.parsers import expat

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.enterprise.replies import TextReply
from wechatpy.exceptions import InvalidSignatureException

from bot.channels.base import ChannelLimits, Deliver, Handle
from bot.channels.passive import PassiveReplies
from bot.channels.wechat_format import (
    MAX_BODY,
    MAX_REPLY_BYTES,
    cdata_safe,
    check_xml,
    render_text,
)
from bot.channels.wecom_api import SENT, WeComClient, WeComSender, wecom_sender
from bot.limits import shared_limits
from bot.messages import InboundMessage
from bot.runtime import Runtime
from bot.settings import WeComSettings
from handlers.base import Reply

__all__ = [
    "CHANNEL",
    "Callback",
    "WeComChannel",
    "WeComClient",
    "WeComSender",
    "open_wecom",
    "wecom_sender",
]

log = structlog.get_logger("yinling.wecom")

CHANNEL = "wecom"
ANSWER_WITHIN = 4.0  # seconds; WeCom gives up on a callback after 5
EMPTY = ""  # WeCom's "received, no passive reply"


@dataclass(frozen=True, slots=True)
class Callback:
    """A verified, decrypted callback: the parsed message and what its reply is sealed with."""

    message: Any  # wechatpy's parsed message
    nonce: str
    timestamp: str


class WeComChannel:
    """The ``/wecom`` endpoint: the application's encrypted callback."""

    def __init__(
        self,
        settings: WeComSettings,
        handle: Handle,
        deliver: Deliver[str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        answer_within: float = ANSWER_WITHIN,
    ) -> None:
        if settings.corp_id is None or settings.token is None or settings.aes_key is None:
            raise ValueError(
                "the WeCom callback needs YINLING_WECOM__CORP_ID, YINLING_WECOM__TOKEN and "
                "YINLING_WECOM__AES_KEY"
            )
        self.crypto = WeChatCrypto(
            settings.token.get_secret_value(),
            settings.aes_key.get_secret_value(),
            settings.corp_id,
        )
        self.agent_id = settings.agent_id  # callbacks for another application are ignored
        self.clock = clock
        self.limits = ChannelLimits(MAX_BODY, MAX_REPLY_BYTES, "byte", answer_within)
        self.replies = PassiveReplies(CHANNEL, handle, self.render, deliver, answer_within)

    # ------------------------------------------------------------ checks
    async def verify(self, request: Request) -> Callback | Response:
        """A signed, decrypted, well-formed callback, or the refusal. GET (URL
        verification) is answered here with the decrypted echostr."""
        query = request.query_params
        signature = query.get("msg_signature", "")
        timestamp = query.get("timestamp", "")
        nonce = query.get("nonce", "")
        if request.method == "GET":
            try:
                echo = self.crypto.check_signature(
                    signature, timestamp, nonce, query.get("echostr", "")
                )
            except (InvalidSignatureException, InvalidCorpIdException, ValueError, TypeError):
                log.warning("wecom_bad_signature", method="GET")
                return PlainTextResponse("forbidden", status_code=403)
            return PlainTextResponse(str(echo))
        body = await request.body()
        try:
            check_xml(body)
        except (ValueError, TypeError, KeyError, expat.ExpatError) as e:
            log.warning("wecom_bad_body", error=type(e).__name__)
            return PlainTextResponse("bad request", status_code=400)
        try:
            xml = str(self.crypto.decrypt_message(body, signature, timestamp, nonce))
        except (
            InvalidSignatureException,
            InvalidCorpIdException,
            UnicodeDecodeError,
            binascii.Error,
            struct.error,  # a bad padding under a valid msg_signature
            IndexError,  # an empty Encrypt under a valid msg_signature
            KeyError,
            ValueError,
            TypeError,
        ):
            log.warning("wecom_bad_signature", method="POST")
            return PlainTextResponse("forbidden", status_code=403)
        try:
            check_xml(xml)
            message = parse_message(xml)  # two MsgTypes: a list, and AttributeError
        except (ValueError, TypeError, KeyError, AttributeError, expat.ExpatError) as e:
            log.warning("wecom_bad_body", error=type(e).__name__)
            return PlainTextResponse("bad request", status_code=400)
        return Callback(message, nonce, timestamp)

    # ---------------------------------------------------------- endpoint
    async def endpoint(self, request: Request) -> Response:
        """GET: URL verification (answer the decrypted echostr). POST: a callback."""
        checked = await self.verify(request)
        if isinstance(checked, Response):
            return checked
        message = checked.message
        try:
            agent = int(message.agent or 0)
            inbound = self.to_inbound(message)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            log.warning("wecom_malformed_callback", error=type(e).__name__)
            return PlainTextResponse(EMPTY)
        if self.agent_id is not None and agent != self.agent_id:
            # Same corp and keys, another application of it: not ours to answer.
            log.warning("wecom_other_agent", agent=agent)
            return PlainTextResponse(EMPTY)
        if inbound is None:
            return PlainTextResponse(EMPTY)
        text = await self.replies.answer(inbound)
        if text is None:
            return PlainTextResponse(EMPTY)
        reply = TextReply(message=message, content=cdata_safe(text)).render()
        encrypted = self.crypto.encrypt_message(reply, checked.nonce, checked.timestamp or None)
        return Response(encrypted, media_type="application/xml")

    # ------------------------------------------------------ translation
    def to_inbound(self, message: Any) -> InboundMessage | None:
        """A text message as the pipeline's message; None for anything else."""
        if message.type != "text":
            return None
        content = message.content
        return InboundMessage(
            CHANNEL,
            str(message.source),
            str(message.id),
            self.clock(),
            text=content if isinstance(content, str) else " ".join(content or ()),
        )

    def render(self, replies: Sequence[Reply]) -> list[str]:
        """Replies as texts, as on WeChat (numbered options, 2,048 bytes each)."""
        return render_text(replies)

    async def send(self, user_id: str, messages: Sequence[str]) -> None:
        """Send texts as application messages (when the application can send)."""
        await self.replies.send(user_id, messages)

    async def drain(self) -> None:
        """Wait for replies still being delivered (at shutdown, and in tests)."""
        await self.replies.drain()

    async def close(self) -> None:
        """Finish what is being delivered."""
        await self.drain()


async def open_wecom(runtime: Runtime) -> WeComChannel:
    """The ``/wecom`` endpoint wired to the pipeline; late replies go out as application
    messages when the application can send."""
    settings = runtime.settings
    sender = wecom_sender(settings, shared_limits(settings.redis_url, settings.redis_prefix))
    deliver: Deliver[str] | None = None
    if sender is not None:
        outbound = sender

        async def deliver_late(user: str, chunks: Sequence[str]) -> None:
            result = await outbound.send(user, chunks)
            if result != SENT:
                log.warning("wecom_late_reply_failed", result=result)

        deliver = deliver_late
    return WeComChannel(runtime.settings.wecom, runtime.pipeline.handle, deliver=deliver)
