"""The WeChat Official Account channel: URL verification, pushes, passive replies.

* Every request's signature is checked (a forged one gets 403 and nothing is processed);
  safe mode (AES) accepts the current and the previous EncodingAESKey.
* Bodies are size-limited and parsed without DTDs or entities.
* WeChat drops a push after 5 s and retries it three times: the pipeline gets
  ``answer_within`` seconds (4 by default). When it is done in time — nearly always — the
  reply goes back passively; otherwise WeChat gets ``success`` and the reply follows
  through the customer-service API. Repeats of a push (same MsgId, or for events the same
  FromUserName + CreateTime + Event) are handled once and answered with the first answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any
from xml.parsers import expat

import structlog
import xmltodict
from redis import Redis as SyncRedis
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from bot.channels.wechat_api import StableTokenClient, WeChatOutbound
from bot.messages import InboundMessage
from bot.messages import Response as PipelineResponse
from bot.runtime import Runtime
from bot.settings import Settings, WeChatSettings
from handlers import texts
from handlers.base import Reply, payload
from storage.db import AsyncSession
from storage.uow import UnitOfWork

__all__ = [
    "MENU_KEYS",
    "WeChatChannel",
    "menu_definition",
    "open_outbound",
    "open_wechat",
    "outbound_for",
    "render_text",
]

log = structlog.get_logger("yinling.wechat")

CHANNEL = "wechat"
MAX_BODY = 64 * 1024  # pushes are a few hundred bytes
MAX_REPLY_BYTES = 2048  # WeChat's limit for one text message
SUCCESS = "success"
# CLICK menu keys -> payloads: a key goes straight to its intent, no NLU in between.
MENU_KEYS = {
    intent.upper(): payload(intent) for _, items in texts.CHANNEL_MENU for _, intent in items
}

Deliver = Callable[[str, Sequence[str]], Awaitable[None]]
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


def render_text(replies: Sequence[Reply]) -> list[str]:
    """Replies as WeChat texts: options become "回复 1 …" lines; each text at most 2,048 bytes."""
    blocks = []
    for reply in replies:
        lines = [reply.text]
        lines += [
            texts.REPLY_WITH_NUMBER.format(n=n, label=option.label)
            for n, option in enumerate(reply.options, 1)
        ]
        blocks.append("\n".join(lines))
    chunks: list[str] = []
    current = ""
    for line in "\n\n".join(blocks).split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode()) <= MAX_REPLY_BYTES:
            current = candidate
            continue
        if current:
            chunks.append(current)
        rest = line
        while len(rest.encode()) > MAX_REPLY_BYTES:  # one very long line: cut it
            cut = len(rest.encode()[:MAX_REPLY_BYTES].decode(errors="ignore"))
            chunks.append(rest[:cut])
            rest = rest[cut:]
        current = rest
    if current.strip():
        chunks.append(current)
    return chunks


def _forbid(*_args: Any) -> Any:
    raise ValueError("DTDs and entities are not allowed")


class _NoDTDExpat:
    """An expat for xmltodict that refuses any DOCTYPE or entity declaration."""

    @staticmethod
    def ParserCreate(*args: Any, **kwargs: Any) -> Any:  # noqa: N802 - expat's name
        parser = expat.ParserCreate(*args, **kwargs)
        parser.StartDoctypeDeclHandler = _forbid
        parser.EntityDeclHandler = _forbid
        parser.ExternalEntityRefHandler = _forbid
        return parser


def _check_xml(body: bytes | str) -> None:
    """Refuse oversized, DTD-carrying or non-<xml> bodies before wechatpy parses them."""
    if len(body) > MAX_BODY:
        raise ValueError("body too large")
    document = xmltodict.parse(body, expat=_NoDTDExpat)
    if not isinstance(document.get("xml"), dict):
        raise TypeError("the root element must be <xml>")


def _cdata_safe(text: str) -> str:
    # wechatpy does not escape "]]>" inside CDATA; split it so a reply cannot inject XML.
    return text.replace("]]>", "]]]]><![CDATA[>")


class WeChatChannel:
    """The ``/wechat`` endpoint."""

    def __init__(
        self,
        settings: WeChatSettings,
        handle: Callable[[InboundMessage], Coroutine[Any, Any, PipelineResponse]],
        deliver: Deliver | None = None,
        report: Report | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if settings.token is None:
            raise ValueError("WeChat needs YINLING_WECHAT__TOKEN")
        self.settings = settings
        self.token = settings.token.get_secret_value()
        self.handle = handle
        self.deliver = deliver
        self.report = report
        self.clock = clock
        self._background: set[asyncio.Task[None]] = set()
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
            ):
                continue
            return str(plain), crypto
        return None

    # ---------------------------------------------------------- endpoint
    async def endpoint(self, request: Request) -> Response:
        """GET: URL verification. POST: a push, answered within ``answer_within`` seconds."""
        query = request.query_params
        if not self._signed(query):
            log.warning("wechat_bad_signature", method=request.method)
            return PlainTextResponse("forbidden", status_code=403)
        if request.method == "GET":
            return PlainTextResponse(query.get("echostr", ""))
        body = await request.body()
        crypto: WeChatCrypto | None = None
        try:
            _check_xml(body)
            xml: str | bytes = body
            if query.get("encrypt_type") == "aes":
                opened = self._decrypt(body, query)
                if opened is None:
                    log.warning("wechat_bad_msg_signature")
                    return PlainTextResponse("forbidden", status_code=403)
                xml, crypto = opened
                _check_xml(xml)
            message = parse_message(xml)
        except (ValueError, TypeError, KeyError, expat.ExpatError) as e:
            log.warning("wechat_bad_body", error=type(e).__name__)
            return PlainTextResponse("bad request", status_code=400)
        if getattr(message, "event", None) == "templatesendjobfinish":
            # A delivery report for a template message we sent: not a user message.
            if self.report is not None:
                await self.report(str(message.id), str(message.status))
            return PlainTextResponse(SUCCESS)
        inbound = self.to_inbound(message)
        if inbound is None:
            return PlainTextResponse(SUCCESS)
        chunks = await self._answer(inbound)
        if not chunks:
            return PlainTextResponse(SUCCESS)
        reply = TextReply(message=message, content=_cdata_safe(chunks[0])).render()
        if crypto is not None:
            reply = crypto.encrypt_message(reply, query.get("nonce", ""), query.get("timestamp"))
        return Response(reply, media_type="application/xml")

    async def _answer(self, inbound: InboundMessage) -> list[str]:
        """The first text to answer passively; later ones (and late answers) go out on their own."""
        task = asyncio.create_task(self.handle(inbound))
        try:
            response = await asyncio.wait_for(asyncio.shield(task), self.settings.answer_within)
        except TimeoutError:
            log.warning("wechat_reply_late", message_id=inbound.message_id)
            self._send_when_done(task, inbound.user_id)
            return []
        chunks = render_text(response.replies)
        if len(chunks) > 1:
            self._send_later(inbound.user_id, chunks[1:])
        return chunks[:1]

    def _send_when_done(self, task: asyncio.Task[PipelineResponse], user: str) -> None:
        async def send_when_done() -> None:
            response = await task
            await self._deliver(user, render_text(response.replies))

        self._track(send_when_done())

    def _send_later(self, user: str, chunks: Sequence[str]) -> None:
        self._track(self._deliver(user, chunks))

    async def _deliver(self, user: str, chunks: Sequence[str]) -> None:
        if not chunks:
            return
        if self.deliver is None:
            log.error("wechat_undelivered", chunks=len(chunks))
            return
        await self.deliver(user, chunks)

    def _track(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("wechat_delivery_failed", error=repr(task.exception()))

    async def drain(self) -> None:
        """Wait for replies still being delivered (at shutdown, and in tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        """Finish what is being delivered."""
        await self.drain()

    # ------------------------------------------------------ translation
    def to_inbound(self, message: Any) -> InboundMessage | None:
        """A parsed push as the pipeline's message, or None for pushes that need no answer."""
        user = str(message.source)
        now = self.clock()
        if message.type == "event":
            return self._event(message, user, now)
        make = partial(InboundMessage, CHANNEL, user, f"msg:{message.id}", now)
        kind = str(message.type)
        if kind == "text":
            content = message.content
            return make(text=content if isinstance(content, str) else " ".join(content))
        media_id = getattr(message, "media_id", None)
        if kind == "voice":
            if message.recognition:
                return make(text=str(message.recognition), kind="voice", media_id=media_id)
            return make(kind="voice", payload=payload("media", kind="voice"), media_id=media_id)
        if kind == "location":
            latitude, longitude = message.location
            where = {
                "latitude": float(latitude),
                "longitude": float(longitude),
                "label": message.label,
            }
            return make(kind="location", payload=payload("location"), location=where)
        media = payload("media", kind=kind, media_id=media_id or "")
        return make(kind=kind, payload=media, media_id=media_id)

    def _event(self, message: Any, user: str, now: datetime) -> InboundMessage | None:
        event = str(message.event)
        # Events have no MsgId: WeChat's advice is FromUserName + CreateTime (+ Event).
        make = partial(
            InboundMessage, CHANNEL, user, f"evt:{message.time}:{event}", now, kind="event"
        )
        if event == "subscribe":
            return make(payload=payload("subscribe"))
        if event == "subscribe_scan":
            return make(payload=payload("subscribe", code=str(message.scene_id)))
        if event == "scan":
            return make(payload=payload("bind", code=str(message.scene_id)))
        if event == "unsubscribe":
            return make(payload=payload("unsubscribe"))
        if event == "click":
            return make(payload=MENU_KEYS.get(str(message.key), payload("menu")))
        if event == "location":
            where = {"latitude": float(message.latitude), "longitude": float(message.longitude)}
            return make(payload=payload("location", quiet=True), location=where)
        return None  # VIEW, delivery reports and anything new: nothing to say


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

    return WeChatChannel(
        runtime.settings.wechat,
        runtime.pipeline.handle,
        deliver=outbound.late_reply if outbound is not None else None,
        report=report,
    )
