"""The Telegram channel (python-telegram-bot v22): webhook and long polling. Being written."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from bot.runtime import Runtime
from bot.settings import TelegramSettings

__all__ = ["TelegramChannel"]


class TelegramChannel:
    """The bot: ``endpoint`` for the webhook, ``poll`` for development."""

    def __init__(self, settings: TelegramSettings, runtime: Runtime, *, webhook: bool) -> None:
        self.settings = settings
        self.runtime = runtime
        self.webhook = webhook

    async def start(self) -> None:
        """Initialise the bot."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Shut the bot down."""
        raise NotImplementedError

    async def endpoint(self, request: Request) -> Response:
        """One webhook update."""
        raise NotImplementedError
