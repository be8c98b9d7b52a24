"""The Telegram channel (python-telegram-bot v22): the webhook, and long polling for development.

* Webhook requests must carry the secret registered with ``setWebhook`` in the
  ``X-Telegram-Bot-Api-Secret-Token`` header (else 403 and nothing is processed). Telegram
  gets its 200 at once; the update is handled in a tracked background task
  (bot/channels/tasks.py) that ``stop`` waits for — Telegram takes no passive reply, so
  every answer goes out through the Bot API.
* Reading an update is bot/channels/telegram_inbound.py (only private chats count; edited
  messages, groups and channels get no answer); rendering replies and keyboards is
  bot/channels/telegram_render.py.
* A repeat of an update (same ``update_id``) is handled once: the pipeline de-duplicates
  by message id, and a repeat's answer is not sent again.
* Sending (in order; a user who blocked the bot has their channel account made inactive)
  is bot/channels/telegram_send.py.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from telegram import BotCommand, CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.channels.base import ChannelLimits
from bot.channels.tasks import Tasks
from bot.channels.telegram_inbound import (
    MAX_BODY,
    MENU_PAYLOADS,
    Incoming,
    parse_update,
    to_inbound,
)
from bot.channels.telegram_render import (
    MAX_TEXT,
    Outgoing,
    callback_data,
    render,
    reply_keyboard,
    split_text,
)
from bot.channels.telegram_send import TelegramOutbound
from bot.limits import TelegramRateLimiter
from bot.messages import Response as PipelineResponse
from bot.runtime import Runtime
from bot.settings import TelegramSettings
from handlers import texts
from handlers.base import Reply
from handlers.wording import apology
from storage.uow import UnitOfWork

__all__ = [
    "ALLOWED_UPDATES",
    "MENU_PAYLOADS",
    "Incoming",
    "Outgoing",
    "TelegramChannel",
    "callback_data",
    "open_telegram",
    "register_webhook",
    "render",
    "reply_keyboard",
    "split_text",
    "to_inbound",
]

log = structlog.get_logger("yinling.telegram")

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = (Update.MESSAGE, Update.CALLBACK_QUERY)
MAX_PENDING = 32  # updates handled at once; more wait for a turn
STOP_SECONDS = 10.0  # how long ``stop`` waits for updates still being handled
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as a secret_token
LIMITS = ChannelLimits(MAX_BODY, MAX_TEXT, "utf-16", answer_within=None)


def _application(
    settings: TelegramSettings, *, webhook: bool, limiter: TelegramRateLimiter | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """PTB's application on ``api_base``, on the flood limits every process shares (replies
    are urgent: they go ahead of broadcasts); without an updater for the webhook."""
    if settings.token is None:
        raise ValueError("Telegram needs YINLING_TELEGRAM__TOKEN (from @BotFather)")
    api = settings.api_base.rstrip("/")
    builder = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .rate_limiter(limiter or TelegramRateLimiter(None))
    )
    if webhook:
        builder = builder.updater(None)
    return builder.build()


def _secret(settings: TelegramSettings) -> str:
    """The webhook secret, or a clear error when it is missing or Telegram would refuse it."""
    if settings.webhook_secret is None:
        raise ValueError(
            "the Telegram webhook needs YINLING_TELEGRAM__WEBHOOK_SECRET "
            "(Telegram sends it back with every update; without it anyone could post updates)"
        )
    secret = settings.webhook_secret.get_secret_value()
    if not _SECRET.fullmatch(secret):
        raise ValueError(
            "YINLING_TELEGRAM__WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
        )
    return secret


class TelegramChannel:
    """The bot: ``endpoint`` for the webhook, ``poll`` for development."""

    def __init__(
        self,
        settings: TelegramSettings,
        runtime: Runtime,
        *,
        webhook: bool,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.webhook = webhook
        self.clock = clock
        shared = runtime.settings
        limiter = TelegramRateLimiter(shared.redis_url, shared.redis_prefix)
        self.application = _application(settings, webhook=webhook, limiter=limiter)
        self.application.add_handler(CallbackQueryHandler(self._on_callback))
        self.application.add_handler(
            MessageHandler(filters.UpdateType.MESSAGE & filters.ChatType.PRIVATE, self._on_message)
        )
        self.application.add_error_handler(self._on_error)
        self.outbound = TelegramOutbound(self.application.bot, runtime)
        self._secret: bytes | None = None
        self.limits = LIMITS
        self.tasks = Tasks("yinling.telegram", "telegram_update_lost")
        self._pending = asyncio.Semaphore(MAX_PENDING)

    @property
    def bot(self) -> ExtBot[Any]:
        """The bot that talks to the Bot API."""
        bot: ExtBot[Any] = self.application.bot
        return bot

    async def start(self) -> None:
        """Check the settings, then initialise the bot (``getMe``) and the application."""
        if self.webhook:
            self._secret = _secret(self.settings).encode()
        await self.application.initialize()
        await self.application.start()
        log.info("telegram_started", mode="webhook" if self.webhook else "polling")

    async def stop(self) -> None:
        """Let updates still being handled finish (up to ``STOP_SECONDS``), then shut down."""
        await self.tasks.stop(STOP_SECONDS)
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def close(self) -> None:
        """The channel's end (as every channel's): ``stop``."""
        await self.stop()

    # ---------------------------------------------------------- webhook
    async def verify(self, request: Request) -> Update | Response:
        """The update, or the refusal: 403 without the secret, 413 too large, 400 unreadable."""
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if self._secret is None or not hmac.compare_digest(given, self._secret):
            log.warning("telegram_bad_secret", given=bool(given))
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("too large", status_code=413)
        try:
            return parse_update(body, self.bot)
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as e:
            log.warning("telegram_bad_update", error=type(e).__name__)
            return PlainTextResponse("bad request", status_code=400)

    async def endpoint(self, request: Request) -> Response:
        """One webhook update: the refusal, or 200 at once and the update handled after."""
        checked = await self.verify(request)
        if isinstance(checked, Response):
            return checked
        self.tasks.track(self._process(checked))
        return Response(status_code=200)

    async def _process(self, update: Update) -> None:
        """Handle one update in the background, a bounded number at a time."""
        async with self._pending:
            await self.application.process_update(update)

    async def drain(self) -> None:
        """Wait until every update received so far is handled (at shutdown, and in tests)."""
        await self.tasks.drain()

    def to_inbound(self, update: Update) -> Incoming | None:
        """The update as the pipeline's message and where to answer it; None: no answer."""
        return to_inbound(update, self.clock())

    def render(self, replies: Sequence[Reply]) -> list[Outgoing]:
        """Replies as messages with inline keyboards (no reply keyboard)."""
        return render(replies)

    async def send(self, user_id: str, messages: Sequence[Outgoing]) -> None:
        """Send to a user's private chat (its id is the user's id)."""
        await self.outbound.send(int(user_id), user_id, messages)

    # ---------------------------------------------------------- polling
    async def poll(self, stop: asyncio.Event | None = None) -> None:
        """Long polling for development, until ``stop`` is set (or the task is cancelled).

        The webhook is deleted first (Telegram refuses ``getUpdates`` while one is set), so
        never run this with the production bot's token.
        """
        updater = self.application.updater
        if self.webhook or updater is None:
            raise RuntimeError(
                "this channel was opened for the webhook; open it with webhook=False"
            )
        info = await self.bot.get_webhook_info()
        if info.url:
            log.warning("telegram_webhook_replaced_by_polling", url=info.url)
        # start_polling deletes the webhook before its first getUpdates.
        await updater.start_polling(allowed_updates=list(ALLOWED_UPDATES))
        log.info("telegram_polling")
        try:
            await (stop or asyncio.Event()).wait()
        finally:
            await updater.stop()

    # --------------------------------------------------------- handling
    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A new message in a private chat."""
        incoming = self.to_inbound(update)
        if incoming is None:
            return
        await self._answer(incoming)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An inline-button press: answered first, whatever its data."""
        query = update.callback_query
        if query is None:
            return
        try:
            await query.answer()  # always: the client shows a progress bar until then
        except TelegramError as e:
            log.info("telegram_answer_failed", update_id=update.update_id, error=str(e))
        incoming = self.to_inbound(update)
        if incoming is None:
            log.info("telegram_unknown_button", update_id=update.update_id)
            return
        await self._answer(incoming, query)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB's error handler: log with the update id (never its content)."""
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("telegram_update_failed", update_id=update_id, error=repr(context.error))

    async def _answer(self, incoming: Incoming, query: CallbackQuery | None = None) -> None:
        """Run the pipeline and send its replies with the right keyboards."""
        msg = incoming.message
        try:
            response = await self.runtime.pipeline.handle(msg)
        except Exception:
            log.exception("telegram_pipeline_failed", message_id=msg.message_id)
            await self.outbound.send(incoming.chat_id, msg.user_id, [Outgoing(self._apology())])
            return
        if response.duplicate:
            return  # the first copy was (or is being) answered
        if query is not None:
            await self.outbound.mark_choice(query)
        await self.outbound.send(
            incoming.chat_id, msg.user_id, await self._messages(incoming, response)
        )

    def _apology(self) -> str:
        """The apology with the hotline, for when the pipeline itself failed."""
        return apology(self.runtime.pipeline.config).text

    async def _messages(self, incoming: Incoming, response: PipelineResponse) -> list[Outgoing]:
        """The replies plus the channel's own words, with the keyboard this user should see."""
        replies = list(response.replies)
        if incoming.note:
            replies.insert(0, Reply(incoming.note))
        events = {str(e.get("type")) for e in response.events}
        sos = any(
            e.get("type") == "sos_raised" and e.get("for_sender", True) for e in response.events
        )
        if sos:
            replies.append(Reply(texts.ASK_LOCATION))
        bound = await self._bound(incoming.message.user_id)
        if not bound and incoming.command:
            replies.append(Reply(texts.TELEGRAM_SHARE_PHONE))
        # The keyboard changes after binding and is shown again on a command; before
        # binding it comes with every answer (its "share my phone" button binds at once).
        show = incoming.command or "account_bound" in events or not bound
        keyboard = reply_keyboard(bound=bound, ask_location=sos)
        return render(replies, keyboard, texts.TELEGRAM_KEYBOARD_HINT if show else None)

    async def _bound(self, user_id: str) -> bool:
        """True when the user is on the roster (or staff): they get the menu keyboard."""
        if self.runtime.pipeline.identities.get(CHANNEL, user_id) is not None:
            return True
        try:
            async with UnitOfWork(self.runtime.sessions) as uow:
                account, person = await uow.accounts.identify(CHANNEL, user_id)
        except Exception:  # the answer still goes out, with the binding keyboard
            log.exception("telegram_identify_failed", user_id=user_id)
            return False
        staff = account is not None and account.active and account.role == "staff"
        return person is not None or staff


# ---------------------------------------------------------------- set-up
async def open_telegram(runtime: Runtime) -> TelegramChannel:
    """The webhook channel, started (the bot checked with ``getMe``)."""
    channel = TelegramChannel(runtime.settings.telegram, runtime, webhook=True)
    await channel.start()
    return channel


async def register_webhook(settings: TelegramSettings) -> str:
    """Point Telegram at ``webhook_url`` with the secret, and publish the command list."""
    if not settings.webhook_url:
        raise ValueError(
            "set YINLING_TELEGRAM__WEBHOOK_URL (e.g. https://bot.example.org/telegram)"
        )
    secret = _secret(settings)
    application = _application(settings, webhook=True)
    async with application.bot as bot:
        await bot.set_webhook(
            settings.webhook_url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)
        )
        await bot.set_my_commands(
            [BotCommand(name, text) for name, text in texts.TELEGRAM_COMMANDS]
        )
    return settings.webhook_url
