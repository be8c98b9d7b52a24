"""Messages to Telegram users through the Bot API (Telegram takes no passive reply).

* Messages go out in order; a 403 (the user blocked the bot, or their account is gone)
  stops the rest and makes their channel account inactive, so nothing more is tried.
* An inline-button press is shown under its question, and the question's buttons are
  taken away (no stale presses).

The Bot API's flood limits are kept by the bot's rate limiter (bot/limits.py).
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from telegram import Bot, CallbackQuery, Message
from telegram.error import Forbidden, TelegramError

from bot.channels.telegram_render import MAX_TEXT, Outgoing, chosen, units
from bot.runtime import Runtime
from handlers import texts
from storage.uow import UnitOfWork

__all__ = ["TelegramOutbound"]

log = structlog.get_logger("yinling.telegram")

CHANNEL = "telegram"


class TelegramOutbound:
    """Sends through ``bot``; deactivates blocked users in ``runtime``'s database."""

    def __init__(self, bot: Bot, runtime: Runtime) -> None:
        self.bot = bot
        self.runtime = runtime

    async def send(self, chat_id: int, user_id: str, messages: Sequence[Outgoing]) -> None:
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

    async def mark_choice(self, query: CallbackQuery) -> None:
        """Show the choice under the question and take its buttons away (no stale presses)."""
        shown = query.message
        if not isinstance(shown, Message):
            return
        label = chosen(query)
        text = shown.text or ""
        marked = f"{text}\n{texts.TELEGRAM_CHOSEN.format(label=label)}" if label else ""
        try:
            if label and text and units(marked) <= MAX_TEXT:
                await shown.edit_text(marked, reply_markup=None)
            else:
                await shown.edit_reply_markup(reply_markup=None)
        except TelegramError as e:
            log.info("telegram_mark_failed", message_id=shown.message_id, error=str(e))
