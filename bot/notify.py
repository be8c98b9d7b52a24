"""Messages we start (pages, notices): one ``send`` for any channel account.

Telegram goes through python-telegram-bot's rate-limited bot; WeChat through the outbound
API that picks a customer-service or a template message by the 48-hour window; WeCom (staff
only) through the application's text messages, at most 30 a minute to one member. A channel
that is not configured, or an account we cannot write to (console, unknown channel),
is reported as ``unreachable`` so the caller can page someone else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from telegram import Bot
from telegram.error import Forbidden, TelegramError

from bot.channels.telegram import render as render_telegram
from bot.channels.wechat import render_text as render_wechat
from bot.channels.wechat_api import WeChatOutbound
from bot.channels.wecom import WeComSender
from handlers.base import Reply
from storage.models import ChannelAccount

__all__ = ["BLOCKED", "FAILED", "SENT", "UNREACHABLE", "Notifier"]

log = structlog.get_logger("yinling.notify")

SENT, FAILED, UNREACHABLE, BLOCKED = "sent", "failed", "unreachable", "blocked"


@dataclass(slots=True)
class Notifier:
    """Sends replies to accounts outside a conversation."""

    telegram: Bot | None = None
    wechat: WeChatOutbound | None = None
    wecom: WeComSender | None = None

    async def send(self, account: ChannelAccount, replies: Sequence[Reply], purpose: str) -> str:
        """Send, and say how it went: sent | failed | unreachable | blocked."""
        if not account.active:
            return UNREACHABLE
        if account.channel == "telegram" and self.telegram is not None:
            return await self._telegram(account, replies)
        if account.channel == "wechat" and self.wechat is not None:
            return await self._wechat(account, replies, purpose)
        if account.channel == "wecom" and self.wecom is not None:
            return await self._wecom(account, replies)
        return UNREACHABLE

    async def _telegram(self, account: ChannelAccount, replies: Sequence[Reply]) -> str:
        bot = self.telegram
        assert bot is not None  # noqa: S101 - checked by the caller
        try:
            chat_id: Any = int(account.external_id)
        except ValueError:
            return UNREACHABLE
        try:
            for message in render_telegram(replies):
                await bot.send_message(chat_id, message.text, reply_markup=message.markup)
        except Forbidden as e:
            log.warning("notify_blocked", channel="telegram", account_id=account.id, error=str(e))
            return BLOCKED
        except TelegramError as e:
            log.warning("notify_failed", channel="telegram", account_id=account.id, error=str(e))
            return FAILED
        return SENT

    async def _wechat(self, account: ChannelAccount, replies: Sequence[Reply], purpose: str) -> str:
        outbound = self.wechat
        assert outbound is not None  # noqa: S101 - checked by the caller
        # A pushed message is outside any conversation: "回复 1" could not be answered, so
        # options are left out (the text says what to type, e.g. "回复“接 12”").
        chunks = render_wechat([Reply(r.text) for r in replies])
        deliveries = await outbound.send(account.external_id, chunks, purpose=purpose)
        return SENT if deliveries and all(d.status == "sent" for d in deliveries) else FAILED

    async def _wecom(self, account: ChannelAccount, replies: Sequence[Reply]) -> str:
        sender = self.wecom
        assert sender is not None  # noqa: S101 - checked by the caller
        # Plain text, options left out as on WeChat: the text says what to type.
        chunks = render_wechat([Reply(r.text) for r in replies])
        return await sender.send(account.external_id, chunks, ref=account.id)
