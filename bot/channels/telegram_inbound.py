"""Telegram updates as the pipeline's messages: the webhook body read safely, then translated.

* A body must be a JSON object with an integer ``update_id``, at most 256 KiB and nested
  at most 32 levels; a message without its chat or date, or a button press without its
  sender, is refused (Telegram always sends them).
* Only private chats count; edited messages, groups and channels get no answer.
* Commands, reply-keyboard buttons (and the same words typed) and inline buttons become
  payloads, so the NLU is skipped; the ``/start`` argument of a deep link binds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import structlog
from telegram import Bot, Message, MessageEntity, Update
from telegram.constants import ChatType

from bot.messages import InboundMessage
from handlers import texts
from handlers.base import payload

__all__ = ["MAX_BODY", "MENU_PAYLOADS", "Incoming", "parse_update", "to_inbound"]

log = structlog.get_logger("yinling.telegram")

CHANNEL = "telegram"
MAX_BODY = 256 * 1024  # an update is a few kilobytes at most
MAX_DEPTH = 32  # …and nested a few levels deep
MAX_CODE = 64  # a deep-link argument is at most 64 characters

# Reply-keyboard buttons (and the same words typed) -> payloads: straight to the intent.
MENU_PAYLOADS = {
    label: payload(intent) for _, items in texts.CHANNEL_MENU for label, intent in items
} | {texts.SOS_BUTTON: payload("sos")}

# Commands and what they send; anything else gets texts.TELEGRAM_UNKNOWN_COMMAND and the menu.
_COMMANDS = {"menu": payload("menu"), "help": payload("menu"), "sos": payload("sos")}


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


def parse_update(body: bytes, bot: Bot) -> Update:
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
