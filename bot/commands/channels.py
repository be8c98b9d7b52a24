"""``yinling wechat | telegram``: the Official Account's menu, and the Telegram bot's webhook
or long polling."""

from __future__ import annotations

import argparse
import sys

from bot.commands.common import run_async
from bot.settings import Settings

__all__ = ["add_arguments", "run"]


def add_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``yinling wechat`` and ``yinling telegram``."""
    wechat = sub.add_parser("wechat", help="the Official Account: menu")
    wechat_sub = wechat.add_subparsers(dest="action", required=True)
    wechat_sub.add_parser("menu", help="push the custom menu (or --print it)").add_argument(
        "--print", action="store_true", help="print the menu JSON instead of pushing it"
    )

    telegram = sub.add_parser("telegram", help="the Telegram bot: poll | webhook")
    telegram_sub = telegram.add_subparsers(dest="action", required=True)
    telegram_sub.add_parser("poll", help="long polling for development (deletes the webhook first)")
    telegram_sub.add_parser(
        "webhook", help="register YINLING_TELEGRAM__WEBHOOK_URL and its secret with Telegram"
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run one of them; the exit status."""
    if args.command == "wechat":
        return _wechat_menu(args, settings)
    try:
        return int(run_async(_telegram(args, settings)))
    except KeyboardInterrupt:  # Ctrl-C ends `telegram poll`
        return 0


def _wechat_menu(args: argparse.Namespace, settings: Settings) -> int:
    import json  # noqa: PLC0415

    from redis import Redis  # noqa: PLC0415

    from bot.channels.wechat import menu_definition  # noqa: PLC0415
    from bot.channels.wechat_api import StableTokenClient  # noqa: PLC0415

    menu = menu_definition()
    if args.print:
        print(json.dumps(menu, ensure_ascii=False, indent=2))
        return 0
    if settings.wechat.app_id is None or settings.wechat.app_secret is None:
        print("set YINLING_WECHAT__APP_ID and YINLING_WECHAT__APP_SECRET first", file=sys.stderr)
        return 2
    redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    client = StableTokenClient(settings.wechat, redis, settings.redis_prefix)
    client.call(lambda: client.menu.create(menu))
    print(f"menu pushed: {len(menu['button'])} menus")
    return 0


async def _telegram(args: argparse.Namespace, settings: Settings) -> int:
    from telegram.error import TelegramError  # noqa: PLC0415

    from bot.channels.telegram import TelegramChannel, register_webhook  # noqa: PLC0415
    from bot.runtime import open_runtime  # noqa: PLC0415
    from bot.worker import jobs_in_app  # noqa: PLC0415

    if not settings.telegram.enabled:
        print("set YINLING_TELEGRAM__TOKEN first (from @BotFather)", file=sys.stderr)
        return 2
    try:
        if args.action == "webhook":
            print(f"webhook set: {await register_webhook(settings.telegram)}")
            return 0
        runtime = await open_runtime(settings)
        channel = TelegramChannel(settings.telegram, runtime, webhook=False)
        try:
            await channel.start()
            print("polling Telegram; stop with Ctrl-C", file=sys.stderr)
            async with jobs_in_app(runtime, channel.bot):
                await channel.poll()  # until Ctrl-C cancels it
        finally:
            await channel.stop()
            await runtime.close()
    except (ValueError, TelegramError) as e:  # a setting Telegram (or we) refused
        print(f"Telegram: {e}", file=sys.stderr)
        return 2
    return 0
