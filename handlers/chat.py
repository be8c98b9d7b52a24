"""Small talk: greetings, thanks, the menu, and a kind answer to everything else."""

from __future__ import annotations

from handlers import texts
from handlers.base import Ctx, Reply
from handlers.wording import ctx_address, greeting, menu_reply

__all__ = ["greet", "menu", "out_of_scope", "thanks_bye"]


async def greet(ctx: Ctx) -> list[Reply]:
    """Greeting and the numbered main menu."""
    hello = texts.GREET.format(
        greeting=greeting(ctx.local_now), address=ctx_address(ctx), bureau=ctx.config.bureau
    )
    return [menu_reply(f"{hello}\n{texts.MENU_PROMPT}", ctx.config)]


async def menu(ctx: Ctx) -> list[Reply]:
    """The main menu again."""
    return [menu_reply(texts.MENU_AGAIN, ctx.config)]


async def thanks_bye(ctx: Ctx) -> list[Reply]:
    """You are welcome; we are here."""
    return [Reply(texts.THANKS_BYE.format(address=ctx_address(ctx)))]


async def out_of_scope(ctx: Ctx) -> list[Reply]:
    """A kind sentence and what we can do."""
    return [menu_reply(texts.OUT_OF_SCOPE, ctx.config)]
