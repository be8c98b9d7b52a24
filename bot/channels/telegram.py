"""The Telegram channel (python-telegram-bot v22): the webhook, and long polling for development.

* Webhook requests must carry the secret registered with ``setWebhook`` in the
  ``X-Telegram-Bot-Api-Secret-Token`` header (else 403 and nothing is processed). Telegram
  gets its 200 at once; the update is handled in a tracked background task that ``stop``
  waits for.
* Only private chats count; edited messages, groups and channels get no answer.
* A repeat of an update (same ``update_id``) is handled once: the pipeline de-duplicates
  by message id, and a repeat's answer is not sent again.
* Replies become messages of at most 4,096 characters; options become an inline keyboard
  (one numbered button per row); the main menu is a big reply keyboard with a red
  one-key-help button, and unbound users get a "share my phone" button instead.
* A user who blocked the bot (403 on sending) has their channel account made inactive.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from telegram import (
    Bot,
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatType, KeyboardButtonStyle
from telegram.error import Forbidden, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)

from bot.limits import TelegramRateLimiter
from bot.messages import InboundMessage
from bot.messages import Response as PipelineResponse
from bot.runtime import Runtime
from bot.settings import TelegramSettings
from handlers import texts
from handlers.base import Option, Reply, payload
from handlers.wording import apology
from storage.uow import UnitOfWork

__all__ = [
    "ALLOWED_UPDATES",
    "MENU_PAYLOADS",
    "Incoming",
    "Outgoing",
    "TelegramChannel",
    "callback_data",
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
MAX_BODY = 256 * 1024  # an update is a few kilobytes at most
MAX_DEPTH = 32  # …and nested a few levels deep
MAX_TEXT = 4096  # Telegram's limit for one message, in UTF-16 code units
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data
MAX_CODE = 64  # a deep-link argument is at most 64 characters
MAX_PENDING = 32  # updates handled at once; more wait for a turn
STOP_SECONDS = 10.0  # how long ``stop`` waits for updates still being handled
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as a secret_token

# Reply-keyboard buttons (and the same words typed) -> payloads: straight to the intent.
MENU_PAYLOADS = {
    label: payload(intent) for _, items in texts.CHANNEL_MENU for label, intent in items
} | {texts.SOS_BUTTON: payload("sos")}
_MENU_ROWS = tuple(
    tuple(row[i : i + 2])
    for row in (
        [label for label, intent in items if intent != "sos"] for _, items in texts.CHANNEL_MENU
    )
    for i in range(0, len(row), 2)
)
# Commands and what they send; anything else gets texts.TELEGRAM_UNKNOWN_COMMAND and the menu.
_COMMANDS = {"menu": payload("menu"), "help": payload("menu"), "sos": payload("sos")}


# ------------------------------------------------------------------ inbound
@dataclass(frozen=True, slots=True)
class Incoming:
    """An update as the pipeline's message, and where and how to answer it."""

    message: InboundMessage
    chat_id: int
    note: str | None = None  # a channel text sent before the answer (help, unknown command)
    command: bool = False  # a command: show the reply keyboard again


def _command(message: Message) -> tuple[str, str] | None:
    """(name, argument) of a message that starts with a bot command entity."""
    entity = next(iter(message.entities), None)
    if entity is None or entity.type != MessageEntity.BOT_COMMAND or entity.offset != 0:
        return None
    token = message.parse_entity(entity)
    name = token[1:].partition("@")[0].lower()
    return name, (message.text or "")[len(token) :].strip()


def _text(message: Message, make: Callable[..., InboundMessage], chat_id: int) -> Incoming:
    """A text: a command, a reply-keyboard button, or words for the NLU."""
    text = message.text or ""
    command = _command(message)
    if command is not None:
        name, argument = command
        if name == "start":
            start = payload("bind", code=argument[:MAX_CODE]) if argument else payload("subscribe")
            return Incoming(make(text=text, payload=start), chat_id, command=True)
        if name not in _COMMANDS:  # not free text for the NLU: a polite word and the menu
            note: str | None = texts.TELEGRAM_UNKNOWN_COMMAND
        else:
            note = texts.TELEGRAM_HELP if name == "help" else None
        sent = _COMMANDS.get(name, payload("menu"))
        return Incoming(make(text=text, payload=sent), chat_id, note, command=True)
    button = MENU_PAYLOADS.get(text.strip())
    return Incoming(make(text=text, payload=button), chat_id)


def _attachment(message: Message) -> tuple[str, str] | None:
    """(kind, file_id) of a picture, video, audio or document."""
    if message.photo:
        return "image", message.photo[-1].file_id
    for kind, media in (
        ("video", message.video or message.video_note or message.animation),
        ("audio", message.audio),
        ("file", message.document),
    ):
        if media is not None:
            return kind, media.file_id
    return None


def _message(update: Update, now: datetime) -> Incoming | None:
    """A new message in a private chat (text, contact, location, voice, media)."""
    message = update.message
    if message is None or message.from_user is None or message.chat.type != ChatType.PRIVATE:
        return None  # edits, channel posts, groups: no answer
    user = message.from_user
    make = partial(InboundMessage, CHANNEL, str(user.id), f"upd:{update.update_id}", now)
    chat_id = message.chat.id
    if message.text is not None:
        return _text(message, make, chat_id)
    caption = message.caption or ""
    if message.contact is not None:
        contact = message.contact
        # Only the sender's own card (shared with the request_contact button) binds.
        own = contact.user_id is not None and contact.user_id == user.id
        shared = payload("contact", phone=contact.phone_number, own=True) if own else None
        return Incoming(make(kind="contact", payload=shared or payload("contact")), chat_id)
    if message.location is not None:
        where: dict[str, Any] = {
            "latitude": message.location.latitude,
            "longitude": message.location.longitude,
        }
        if message.venue is not None:
            where["label"] = f"{message.venue.title} {message.venue.address}".strip()
        return Incoming(make(kind="location", payload=payload("location"), location=where), chat_id)
    if message.voice is not None:
        voice = make(
            kind="voice", payload=payload("media", kind="voice"), media_id=message.voice.file_id
        )
        return Incoming(voice, chat_id)
    attachment = _attachment(message)
    if attachment is not None:
        kind, file_id = attachment
        media = payload("media", kind=kind, media_id=file_id)
        return Incoming(make(text=caption, kind=kind, payload=media, media_id=file_id), chat_id)
    if message.sticker is not None:
        return Incoming(make(kind="sticker"), chat_id)  # answered as unreadable, with the menu
    return None  # service messages, polls, dice and the like


def _callback(update: Update, now: datetime) -> Incoming | None:
    """An inline-button press: a payload, or an option number; None for data not ours."""
    query = update.callback_query
    if query is None:
        return None
    data = query.data or ""
    shown = query.message
    if shown is not None and shown.chat.type != ChatType.PRIVATE:
        return None
    make = partial(InboundMessage, CHANNEL, str(query.from_user.id), f"upd:{update.update_id}", now)
    chat_id = shown.chat.id if shown is not None else query.from_user.id
    if data.startswith("/"):
        return Incoming(make(kind="button", payload=data), chat_id)
    if data.isdigit() and len(data) <= 2:  # noqa: PLR2004 - an option number (payload too long)
        return Incoming(make(text=data, kind="button"), chat_id)
    return None  # not data we put on a button


def to_inbound(update: Update, now: datetime) -> Incoming | None:
    """A parsed update as the pipeline's message, or None for updates that get no answer
    (including one missing what Telegram always sends, e.g. a message without its chat)."""
    try:
        if update.callback_query is not None:
            return _callback(update, now)
        return _message(update, now)
    except (AttributeError, TypeError, ValueError) as e:
        log.warning("telegram_bad_update", update_id=update.update_id, error=type(e).__name__)
        return None


# ----------------------------------------------------------------- outbound
@dataclass(frozen=True, slots=True)
class Outgoing:
    """One ``sendMessage``: plain text and its keyboard."""

    text: str
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None


def _units(text: str) -> int:
    """Telegram measures text in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def _cut(line: str, limit: int) -> int:
    """How many characters of ``line`` fit in ``limit`` UTF-16 units."""
    used = 0
    for i, ch in enumerate(line):
        used += 2 if ord(ch) > 0xFFFF else 1  # noqa: PLR2004 - outside the BMP: a surrogate pair
        if used > limit:
            return max(i, 1)
    return len(line)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """A text as messages of at most ``limit`` UTF-16 units, cut at line ends where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if _units(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        rest = line
        while _units(rest) > limit:  # one very long line: cut it
            cut = _cut(rest, limit)
            chunks.append(rest[:cut])
            rest = rest[cut:]
        current = rest
    if current.strip():
        chunks.append(current)
    return chunks


def callback_data(option: Option, number: int) -> str:
    """The option's payload if it fits Telegram's 64 bytes, else its number (the pipeline
    reads "2" as option 2 of the last question)."""
    return option.payload if len(option.payload.encode()) <= MAX_CALLBACK_BYTES else str(number)


def inline_keyboard(options: Sequence[Option]) -> InlineKeyboardMarkup:
    """One numbered button per row: "1. 上午"."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(f"{n}. {o.label}", callback_data=callback_data(o, n))]
            for n, o in enumerate(options, 1)
        ]
    )


def reply_keyboard(*, bound: bool, ask_location: bool = False) -> ReplyKeyboardMarkup:
    """The big keyboard under the input field: the menu (or "share my phone" before binding),
    "send my location" after an emergency, and always the red one-key-help button."""
    rows: list[list[KeyboardButton]] = []
    if ask_location:
        rows.append([KeyboardButton(texts.SHARE_LOCATION_BUTTON, request_location=True)])
    if bound:
        rows += [[KeyboardButton(label) for label in row] for row in _MENU_ROWS]
    else:
        rows.append([KeyboardButton(texts.SHARE_PHONE_BUTTON, request_contact=True)])
    rows.append([KeyboardButton(texts.SOS_BUTTON, style=KeyboardButtonStyle.DANGER)])
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


def render(
    replies: Sequence[Reply],
    keyboard: ReplyKeyboardMarkup | None = None,
    carrier: str | None = None,
) -> list[Outgoing]:
    """The messages to send. Options become an inline keyboard on the reply's last message;
    the reply keyboard rides on the last message without one, or on ``carrier`` (a short
    text appended for it) when every message has options."""
    messages: list[Outgoing] = []
    for reply in replies:
        text = reply.text if reply.text.strip() or not reply.options else texts.TELEGRAM_CHOOSE
        chunks = split_text(text)
        if not chunks:
            continue
        messages += [Outgoing(chunk) for chunk in chunks[:-1]]
        markup = inline_keyboard(reply.options) if reply.options else None
        messages.append(Outgoing(chunks[-1], markup))
    if keyboard is None:
        return messages
    plain = [i for i, m in enumerate(messages) if m.markup is None]
    if plain:
        messages[plain[-1]] = replace(messages[plain[-1]], markup=keyboard)
    elif carrier:
        messages.append(Outgoing(carrier, keyboard))
    return messages


def _chosen(query: CallbackQuery) -> str | None:
    """The label of the inline button that was pressed, if the message is still readable."""
    shown = query.message
    if not isinstance(shown, Message) or shown.reply_markup is None:
        return None
    for row in shown.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None


# ------------------------------------------------------------------ channel
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


def _depth(data: object) -> int:
    """How deeply JSON values are nested (an update is about five levels deep)."""
    deepest, level = 0, [(data, 1)]
    while level:
        value, depth = level.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        if isinstance(value, dict):
            level.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            level.extend((v, depth + 1) for v in value)
    return deepest


def _parse_update(body: bytes, bot: Bot) -> Update:
    """A webhook body as an Update bound to our bot; ValueError when it is not one."""
    try:
        data = json.loads(body)
    except RecursionError:  # nested deeper than the parser goes
        raise ValueError("nested too deeply") from None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise TypeError("not an Update")
    if _depth(data) > MAX_DEPTH:
        raise ValueError("nested too deeply")
    update = Update.de_json(data, bot)
    for message in (update.message, update.edited_message, update.channel_post):
        if message is not None and (message.chat is None or message.date is None):
            raise TypeError("a message without its chat or date")  # Telegram always sends them
    query = update.callback_query
    if query is not None and query.from_user is None:
        raise TypeError("a button press without its sender")
    return update


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
        self._secret: bytes | None = None
        self._tasks: set[asyncio.Task[None]] = set()
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
        if self._tasks:
            _, late = await asyncio.wait(list(self._tasks), timeout=STOP_SECONDS)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        updater = self.application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    # ---------------------------------------------------------- webhook
    async def endpoint(self, request: Request) -> Response:
        """One webhook update: 403 without the secret, 400 if unreadable, else 200 at once."""
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if self._secret is None or not hmac.compare_digest(given, self._secret):
            log.warning("telegram_bad_secret", given=bool(given))
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        if len(body) > MAX_BODY:
            return PlainTextResponse("too large", status_code=413)
        try:
            update = _parse_update(body, self.bot)
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError) as e:
            log.warning("telegram_bad_update", error=type(e).__name__)
            return PlainTextResponse("bad request", status_code=400)
        self._track(self._process(update))
        return Response(status_code=200)

    async def _process(self, update: Update) -> None:
        """Handle one update in the background, a bounded number at a time."""
        async with self._pending:
            await self.application.process_update(update)

    def _track(self, coro: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("telegram_update_lost", error=repr(task.exception()))

    async def drain(self) -> None:
        """Wait until every update received so far is handled (at shutdown, and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

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
        incoming = to_inbound(update, self.clock())
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
        incoming = to_inbound(update, self.clock())
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
            await self._send(incoming.chat_id, msg.user_id, [Outgoing(self._apology())])
            return
        if response.duplicate:
            return  # the first copy was (or is being) answered
        if query is not None:
            await self._mark_choice(query)
        await self._send(incoming.chat_id, msg.user_id, await self._messages(incoming, response))

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

    async def _mark_choice(self, query: CallbackQuery) -> None:
        """Show the choice under the question and take its buttons away (no stale presses)."""
        shown = query.message
        if not isinstance(shown, Message):
            return
        label = _chosen(query)
        text = shown.text or ""
        marked = f"{text}\n{texts.TELEGRAM_CHOSEN.format(label=label)}" if label else ""
        try:
            if label and text and _units(marked) <= MAX_TEXT:
                await shown.edit_text(marked, reply_markup=None)
            else:
                await shown.edit_reply_markup(reply_markup=None)
        except TelegramError as e:
            log.info("telegram_mark_failed", message_id=shown.message_id, error=str(e))

    async def _send(self, chat_id: int, user_id: str, messages: Sequence[Outgoing]) -> None:
        """Send in order; a 403 (blocked) stops and deactivates the account."""
        for message in messages:
            try:
                await self.bot.send_message(chat_id, message.text, reply_markup=message.markup)
            except Forbidden as e:
                # Blocked by the user (or their account is gone): stop writing to them.
                log.warning("telegram_blocked", chat_id=chat_id, error=str(e))
                await self._deactivate(user_id)
                return
            except TelegramError:
                log.exception("telegram_send_failed", chat_id=chat_id)

    async def _deactivate(self, user_id: str) -> None:
        """The user blocked the bot: their account goes inactive."""
        async with UnitOfWork(self.runtime.sessions) as uow:
            await uow.accounts.deactivate(CHANNEL, user_id)
            await uow.commit()
        self.runtime.pipeline.identities.forget(CHANNEL, user_id)


# ---------------------------------------------------------------- set-up
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
