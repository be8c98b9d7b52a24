"""Paging staff through WeCom (企业微信) application messages.

* A staff member's WeCom account is a channel account ``("wecom", userid)`` with the role
  staff (``yinling staff wecom --staff ID --user USERID``); pages go to it as text messages
  from the configured self-built application (``/cgi-bin/message/send``).
* The access_token (``/cgi-bin/gettoken``) is cached in Redis when there is one, and fetched
  by one process at a time, as for the Official Account (bot/channels/wechat_api.py): a
  40014/42001 answer triggers one coordinated refresh and one retry.
* WeCom silently drops what an application sends one member beyond 30 messages a minute
  (and 1,000 an hour): a limit per member, shared by every process (bot/limits.py),
  makes the next one wait.
* A member outside the application's visible range, unknown or without a licence
  (81013, 60111 …, or named in ``invaliduser``) is ``unreachable``, so the caller pages
  someone else; any other error is ``failed``. Logs never carry the userid (some
  companies use phone numbers as userids), only the account's id.

wechatpy's client is synchronous (requests); its calls run in a worker thread.

Staff answer pages inside WeCom through the application's callback (``/wecom``,
应用管理 → 接收消息 → 设置API接收), which WeCom always encrypts:

* Every request's ``msg_signature`` is checked (a forged one gets 403 and nothing is
  processed); bodies are size-limited and parsed without DTDs or entities, before and
  after decryption.
* Only text messages reach the pipeline (the staff handlers take "接 12" and "办结 12 …");
  other messages and events get an empty answer. Repeats of a MsgId are handled once.
* WeCom gives up after 5 s: the pipeline gets ``answer_within`` seconds; in time, the
  reply goes back passively (encrypted), otherwise WeCom gets an empty answer and the
  reply follows as an application message.
"""

from __future__ import annotations

import asyncio
import binascii
import struct
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any
from xml.parsers import expat

import structlog
from redis import Redis as SyncRedis
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from wechatpy.enterprise import WeChatClient, parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.enterprise.replies import TextReply
from wechatpy.exceptions import InvalidSignatureException, WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage
from wechatpy.session.redisstorage import RedisStorage

from bot.channels.shared_token import SharedToken
from bot.channels.wechat import _cdata_safe, _check_xml, render_text
from bot.limits import URGENT, WECOM_MEMBER, Lane, Limits, LocalLimits, shared_limits
from bot.messages import InboundMessage
from bot.messages import Response as PipelineResponse
from bot.runtime import Runtime
from bot.settings import Settings, WeComSettings

__all__ = [
    "CHANNEL",
    "WeComChannel",
    "WeComClient",
    "WeComSender",
    "open_wecom",
    "wecom_sender",
]

log = structlog.get_logger("yinling.wecom")

CHANNEL = "wecom"
SENT, FAILED, UNREACHABLE = "sent", "failed", "unreachable"
TOKEN_ERRORS = frozenset({40014, 42001})  # invalid / expired access_token
# Invalid UserID, invalid UserID list, no privilege (outside the visible range), UserID
# not found, "user & party & tag all invalid".
NOT_REACHABLE = frozenset({40003, 40031, 60011, 60111, 81013})
ANSWER_WITHIN = 4.0  # seconds; WeCom gives up on a callback after 5
EMPTY = ""  # WeCom's "received, no passive reply"


class WeComClient(SharedToken, WeChatClient):  # type: ignore[misc]  # wechatpy is untyped
    """wechatpy's WeCom client with a shared token cache and no automatic retries."""

    token_errors = TOKEN_ERRORS
    log_name = "wecom"

    def __init__(self, settings: WeComSettings, redis: SyncRedis | None, prefix: str) -> None:
        if settings.corp_id is None or settings.secret is None or settings.agent_id is None:
            raise ValueError(
                "WeCom needs YINLING_WECOM__CORP_ID, YINLING_WECOM__SECRET and "
                "YINLING_WECOM__AGENT_ID"
            )
        self.agent_id = settings.agent_id
        storage = RedisStorage(redis, prefix=f"{prefix}wecom") if redis else MemoryStorage()
        super().__init__(
            settings.corp_id,
            settings.secret.get_secret_value(),
            session=storage,
            timeout=5,
            auto_retry=False,
        )
        self.API_BASE_URL = f"{settings.api_base.rstrip('/')}/cgi-bin/"
        self._share_token(redis, f"{prefix}wecom:token-lock:{settings.agent_id}")

    @property
    def access_token_key(self) -> str:
        """One token per application (wechatpy's own key holds part of the secret)."""
        return f"{self.corp_id}_{self.agent_id}_access_token"

    def fetch_access_token(self) -> dict[str, Any]:
        """``GET /cgi-bin/gettoken`` at the configured base (wechatpy's is fixed)."""
        log.info("wecom_token_fetch")
        response = self._http.get(
            f"{self.API_BASE_URL}gettoken",
            params={"corpid": self.corp_id, "corpsecret": self.secret},
            timeout=self.timeout,
        )
        response.raise_for_status()
        return self._keep(self._handle_result(response))


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


Deliver = Callable[[str, Sequence[str]], Awaitable[None]]


class WeComChannel:
    """The ``/wecom`` endpoint: the application's encrypted callback."""

    def __init__(
        self,
        settings: WeComSettings,
        handle: Callable[[InboundMessage], Coroutine[Any, Any, PipelineResponse]],
        deliver: Deliver | None = None,
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
        self.handle = handle
        self.deliver = deliver
        self.clock = clock
        self.answer_within = answer_within
        self._background: set[asyncio.Task[None]] = set()

    # ---------------------------------------------------------- endpoint
    async def endpoint(self, request: Request) -> Response:
        """GET: URL verification (answer the decrypted echostr). POST: a callback."""
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
            _check_xml(body)
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
            _check_xml(xml)
            message = parse_message(xml)  # two MsgTypes: a list, and AttributeError
        except (ValueError, TypeError, KeyError, AttributeError, expat.ExpatError) as e:
            log.warning("wecom_bad_body", error=type(e).__name__)
            return PlainTextResponse("bad request", status_code=400)
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
        chunks = await self._answer(inbound)
        if not chunks:
            return PlainTextResponse(EMPTY)
        reply = TextReply(message=message, content=_cdata_safe(chunks[0])).render()
        encrypted = self.crypto.encrypt_message(reply, nonce, timestamp or None)
        return Response(encrypted, media_type="application/xml")

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

    async def _answer(self, inbound: InboundMessage) -> list[str]:
        """The first text to answer passively; later ones (and late answers) go out on their own."""
        task = asyncio.create_task(self.handle(inbound))
        try:
            response = await asyncio.wait_for(asyncio.shield(task), self.answer_within)
        except TimeoutError:
            log.warning("wecom_reply_late", message_id=inbound.message_id)
            self._track(self._deliver_when_done(task, inbound.user_id))
            return []
        chunks = render_text(response.replies)
        if len(chunks) > 1:
            self._track(self._deliver(inbound.user_id, chunks[1:]))
        return chunks[:1]

    async def _deliver_when_done(self, task: asyncio.Task[PipelineResponse], user: str) -> None:
        response = await task
        await self._deliver(user, render_text(response.replies))

    async def _deliver(self, user: str, chunks: Sequence[str]) -> None:
        if not chunks:
            return
        if self.deliver is None:
            log.error("wecom_undelivered", chunks=len(chunks))
            return
        await self.deliver(user, chunks)

    def _track(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._background.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("wecom_delivery_failed", error=repr(task.exception()))

    async def drain(self) -> None:
        """Wait for replies still being delivered (at shutdown, and in tests)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def close(self) -> None:
        """Finish what is being delivered."""
        await self.drain()


def open_wecom(runtime: Runtime) -> WeComChannel:
    """The ``/wecom`` endpoint wired to the pipeline; late replies go out as application
    messages when the application can send."""
    settings = runtime.settings
    sender = wecom_sender(settings, shared_limits(settings.redis_url, settings.redis_prefix))
    deliver: Deliver | None = None
    if sender is not None:
        outbound = sender

        async def deliver_late(user: str, chunks: Sequence[str]) -> None:
            result = await outbound.send(user, chunks)
            if result != SENT:
                log.warning("wecom_late_reply_failed", result=result)

        deliver = deliver_late
    return WeComChannel(runtime.settings.wecom, runtime.pipeline.handle, deliver=deliver)
