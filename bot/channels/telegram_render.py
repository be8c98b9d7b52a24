"""Replies as Telegram messages: texts within 4,096 UTF-16 units, and their keyboards.

Options become an inline keyboard (one numbered button per row); the main menu is a big
reply keyboard with a red one-key-help button, and unbound users get a "share my phone"
button instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from telegram.constants import KeyboardButtonStyle

from handlers import texts
from handlers.base import Option, Reply

__all__ = [
    "MAX_TEXT",
    "Outgoing",
    "callback_data",
    "chosen",
    "inline_keyboard",
    "render",
    "reply_keyboard",
    "split_text",
    "units",
]

MAX_TEXT = 4096  # Telegram's limit for one message, in UTF-16 code units
MAX_CALLBACK_BYTES = 64  # Telegram's limit for callback_data

_MENU_ROWS = tuple(
    tuple(row[i : i + 2])
    for row in (
        [label for label, intent in items if intent != "sos"] for _, items in texts.CHANNEL_MENU
    )
    for i in range(0, len(row), 2)
)


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One ``sendMessage``: plain text and its keyboard."""

    text: str
    markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None


def units(text: str) -> int:
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
        if units(candidate) <= limit:
            current = candidate
            continue
        if current:
            chunks.append(current)
        rest = line
        while units(rest) > limit:  # one very long line: cut it
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


def chosen(query: CallbackQuery) -> str | None:
    """The label of the inline button that was pressed, if the message is still readable."""
    shown = query.message
    if not isinstance(shown, Message) or shown.reply_markup is None:
        return None
    for row in shown.reply_markup.inline_keyboard:
        for button in row:
            if button.callback_data == query.data:
                return button.text
    return None
