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
import binascii
import math
import struct
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

from bot.channels.replay import Replays
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
MAX_ID_CHARS = 128  # OpenIDs (28) and MediaIds (64) are far shorter; longer is not WeChat
# Message types as WeChat documents them; anything else is logged as "other".
KNOWN_KINDS = frozenset({"text", "image", "voice", "video", "shortvideo", "location", "link"})
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


def _place(latitude: object, longitude: object, label: object) -> dict[str, Any] | None:
    """A shared location, if its coordinates are real ones (finite, on the globe); else
    None, with a log line: NaN or 1e999 could never be written as JSON."""
    try:
        lat, lon = float(str(latitude)), float(str(longitude))
    except ValueError:
        lat = lon = math.nan
    if not (math.isfinite(lat) and math.isfinite(lon) and abs(lat) <= 90 and abs(lon) <= 180):  # noqa: PLR2004
        log.warning("wechat_location_ignored")
        return None
    where: dict[str, Any] = {"latitude": lat, "longitude": lon}
    if label:
        where["label"] = str(label)[:100]
    return where


def _cdata_safe(text: str) -> str:
    # wechatpy does not escape "]]>" inside CDATA; split it so a reply cannot inject XML.
    return text.replace("]]>", "]]]]><![CDATA[>")


class WeChatChannel:
    """The ``/wechat`` endpoint."""

    def __init__(
        self,
        settings: WeChatSettings,
        handle: Callable[[InboundMessage], Coroutine[Any, Any, PipelineResponse]],
        *,
        deliver: Deliver | None = None,
        report: Report | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        replays: Replays | None = None,
    ) -> None:
        if settings.token is None:
            raise ValueError("WeChat needs YINLING_WECHAT__TOKEN")
        self.settings = settings
        self.replays = replays or Replays(None, "", settings.replay_seconds, CHANNEL)
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
                TypeError,
                struct.error,  # a bad padding under a valid msg_signature
                IndexError,  # an empty Encrypt under a valid msg_signature
                binascii.Error,
            ):
                continue
            return str(plain), crypto
        return None

    # ---------------------------------------------------------- endpoint
    async def endpoint(self, request: Request) -> Response:
        """GET: URL verification. POST: a push, answered within ``answer_within`` seconds.

        A push must be signed, recent, not a replay (bot/channels/replay.py) and, when an
        AES key is set, encrypted. A malformed one is logged with the reason and refused
        (400) or, if WeChat could only send it again, answered ``success``: never a 5xx."""
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
            _check_xml(body)
            xml: str | bytes = body
            if encrypted:
                opened = self._decrypt(body, query)
                if opened is None:
                    log.warning("wechat_bad_msg_signature")
                    return PlainTextResponse("forbidden", status_code=403)
                xml, crypto = opened
                _check_xml(xml)
            message = parse_message(xml)
        except (ValueError, TypeError, KeyError, AttributeError, expat.ExpatError) as e:
            log.warning("wechat_bad_body", error=type(e).__name__)
            return PlainTextResponse("bad request", status_code=400)
        sender = str(getattr(message, "source", "") or "")
        if not sender or len(sender) > MAX_ID_CHARS:  # an OpenID has 28 characters
            log.warning("wechat_push_without_sender", length=len(sender))
            return PlainTextResponse("bad request", status_code=400)
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
        chunks = await self._answer(inbound)
        if not chunks:
            return PlainTextResponse(SUCCESS)
        reply = TextReply(message=message, content=_cdata_safe(chunks[0])).render()
        if crypto is not None:
            reply = crypto.encrypt_message(reply, nonce, timestamp)
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
        """A parsed push as the pipeline's message, or None for pushes that need no answer.
        Raises ValueError (and the like) for a push whose fields are not as documented."""
        user = str(message.source)
        now = self.clock()
        if message.type == "event":
            return self._event(message, user, now)
        make = partial(InboundMessage, CHANNEL, user, f"msg:{int(message.id)}", now)
        kind = str(message.type)
        if kind == "text":
            content = message.content
            text = content if isinstance(content, str) else " ".join(map(str, content or []))
            return make(text=text)
        media_id = str(getattr(message, "media_id", None) or "") or None
        if media_id is not None and len(media_id) > MAX_ID_CHARS:
            log.warning("wechat_bad_media_id", length=len(media_id))
            media_id = None
        if kind == "voice":
            if message.recognition:
                return make(text=str(message.recognition), kind="voice", media_id=media_id)
            return make(kind="voice", payload=payload("media", kind="voice"), media_id=media_id)
        if kind == "location":
            latitude, longitude = message.location
            where = _place(latitude, longitude, message.label)
            if where is None:
                return make(kind="location", payload=payload("location", quiet=True))
            return make(kind="location", payload=payload("location"), location=where)
        if kind not in KNOWN_KINDS:  # a type WeChat added, or a mini-program card
            log.info("wechat_unknown_type", kind=kind[:40])
            return make(kind="other", payload=payload("media", kind=kind[:40]), media_id=media_id)
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
            where = _place(message.latitude, message.longitude, None)
            if where is None:
                return None
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

    settings = runtime.settings
    replays = Replays(runtime.redis, settings.redis_prefix, settings.wechat.replay_seconds, CHANNEL)
    return WeChatChannel(
        settings.wechat,
        runtime.pipeline.handle,
        deliver=outbound.late_reply if outbound is not None else None,
        report=report,
        replays=replays,
    )
