"""Messages we start (pages, notices): one ``send`` for any channel account.

Telegram goes through python-telegram-bot's bot, rate-limited on the flood limits every
process shares (bot/limits.py: pages go ahead of broadcasts); WeChat through the outbound
API that picks a customer-service or a template message by the 48-hour window; WeCom (staff
only) through the application's text messages, at most 30 a minute to one member. A channel
that is not configured, or an account we cannot write to (console, unknown channel),
is reported as ``unreachable`` so the caller can page someone else.

``Notifier`` is the services' ``Sender`` (services/ports.py); ``telegram_sender`` builds the
bot it sends Telegram messages with.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from telegram.error import Forbidden, TelegramError
from telegram.ext import ExtBot

from bot.channels.telegram import render as render_telegram
from bot.channels.wechat import render_text as render_wechat
from bot.channels.wechat_api import WeChatOutbound
from bot.channels.wecom import WeComSender
from bot.limits import TELEGRAM, URGENT, Lane, Limits, LocalLimits, TelegramRateLimiter
from bot.settings import Settings
from handlers.base import Reply
from services.ports import BLOCKED, FAILED, SENT, UNREACHABLE
from storage.models import ChannelAccount

__all__ = ["BLOCKED", "FAILED", "SENT", "UNREACHABLE", "Notifier", "telegram_sender"]

log = structlog.get_logger("yinling.notify")

CONSOLE_CHANNELS = frozenset({"console", "simulate"})


@dataclass(slots=True)
class Notifier:
    """Sends replies to accounts outside a conversation."""

    telegram: ExtBot[Any] | None = None
    wechat: WeChatOutbound | None = None
    wecom: WeComSender | None = None
    # The flood limits the bots share (bot/limits.py); by default those of the Telegram bot.
    limits: Limits = field(default_factory=LocalLimits)
    # The demo's channels (yinling chat / simulate): what would be sent to their users is
    # kept here as (user, replies) when a list is given.
    console: list[tuple[str, list[Reply]]] | None = None

    def __post_init__(self) -> None:
        limiter = self.telegram.rate_limiter if self.telegram is not None else None
        if isinstance(limiter, TelegramRateLimiter):
            self.limits = limiter.limits

    async def send(
        self,
        account: ChannelAccount,
        replies: Sequence[Reply],
        purpose: str,
        *,
        lane: Lane = URGENT,
    ) -> str:
        """Send, and say how it went: sent | failed | unreachable | blocked. ``lane``: pages
        and notices are urgent; broadcasts and reminders bulk (bot/limits.py)."""
        if not account.active:
            return UNREACHABLE
        if account.channel == "telegram" and self.telegram is not None:
            return await self._telegram(account, replies, lane)
        if account.channel == "wechat" and self.wechat is not None:
            return await self._wechat(account, replies, purpose)
        if account.channel == "wecom" and self.wecom is not None:
            return await self._wecom(account, replies, lane)
        if account.channel in CONSOLE_CHANNELS and self.console is not None:
            self.console.append((account.external_id, list(replies)))
            return SENT
        return UNREACHABLE

    def turn(
        self, account: ChannelAccount, replies: Sequence[Reply], lane: Lane
    ) -> contextlib.AbstractAsyncContextManager[None]:
        """The turn under Telegram's flood limit a send of ``replies`` to a Telegram account
        needs (one place per message), for the caller to hold around a ``send`` on the
        ``HELD`` lane; nothing to wait for on the other channels."""
        if account.channel == "telegram" and account.active:
            return self.limits.turn(TELEGRAM.name, TELEGRAM, lane, len(render_telegram(replies)))
        return contextlib.nullcontext()

    async def _telegram(self, account: ChannelAccount, replies: Sequence[Reply], lane: Lane) -> str:
        bot = self.telegram
        assert bot is not None  # noqa: S101 - checked by the caller
        try:
            chat_id: Any = int(account.external_id)
        except ValueError:
            return UNREACHABLE
        try:
            for message in render_telegram(replies):
                await bot.send_message(
                    chat_id, message.text, reply_markup=message.markup, rate_limit_args=lane
                )
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

    async def _wecom(self, account: ChannelAccount, replies: Sequence[Reply], lane: Lane) -> str:
        sender = self.wecom
        assert sender is not None  # noqa: S101 - checked by the caller
        # Plain text, options left out as on WeChat: the text says what to type.
        chunks = render_wechat([Reply(r.text) for r in replies])
        return await sender.send(account.external_id, chunks, ref=account.id, lane=lane)


def telegram_sender(settings: Settings) -> ExtBot[Any] | None:
    """A bot for sending outside conversations (pages, notices, broadcasts), on the flood
    limits all processes share."""
    if settings.telegram.token is None:
        return None
    api = settings.telegram.api_base.rstrip("/")
    return ExtBot(
        settings.telegram.token.get_secret_value(),
        base_url=f"{api}/bot",
        base_file_url=f"{api}/file/bot",
        rate_limiter=TelegramRateLimiter(settings.redis_url, settings.redis_prefix, max_retries=3),
    )
