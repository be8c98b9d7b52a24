"""我的时间银行: the balance and the latest lines of the ledger, in plain words."""

from __future__ import annotations

from handlers import texts
from handlers.base import TZ, Ctx, Option, Reply, payload
from handlers.wording import ctx_address, format_date
from storage.models import TimeBankEntry

__all__ = ["hours", "time_bank"]

SHOWN = 2  # ledger lines shown (three lines a reply at most)
HOUR = 60


def hours(minutes: int) -> str:
    """120 -> 2小时; 90 -> 1小时30分钟; 30 -> 30分钟."""
    minutes = abs(minutes)
    h, m = divmod(minutes, HOUR)
    if h and m:
        return texts.BANK_HOURS_MINUTES.format(h=h, m=m)
    if m:
        return texts.BANK_MINUTES.format(m=m)
    return texts.BANK_HOURS.format(h=h)


async def _line(ctx: Ctx, entry: TimeBankEntry) -> str:
    day = format_date(entry.created_at.astimezone(TZ).date())
    if entry.kind == "redeem":
        return texts.BANK_REDEEM.format(day=day, hours=hours(entry.minutes))
    task = await ctx.uow.volunteers.task(entry.task_id) if entry.task_id else None
    what = texts.VOL_WHAT.get(task.skill, texts.BANK_OTHER) if task else texts.BANK_OTHER
    return texts.BANK_EARN.format(day=day, what=what, hours=hours(entry.minutes))


async def time_bank(ctx: Ctx) -> list[Reply]:
    """``time_bank``: how many hours one has, and the latest lines."""
    if ctx.person is None:
        return [Reply(texts.NOT_UNDERSTOOD)]
    history = await ctx.uow.volunteers.history(ctx.person.id, SHOWN)
    who = ctx_address(ctx)
    person_agent = Option(texts.INTENT_LABELS["human_agent"], payload("human_agent"))
    if not history:
        join = Option(texts.BANK_JOIN, payload("volunteer_register"))
        volunteer = await ctx.uow.volunteers.of_person(ctx.person.id)
        options = (person_agent,) if volunteer else (join, person_agent)
        return [Reply(texts.BANK_EMPTY.format(address=who), options)]
    balance = await ctx.uow.volunteers.balance(ctx.person.id)
    lines = "\n".join([await _line(ctx, e) for e in history])
    redeem = Option(texts.BANK_REDEEM_ASK, payload("human_agent"))
    text = texts.BANK_BALANCE.format(address=who, hours=hours(balance), lines=lines)
    return [Reply(text, (redeem, person_agent))]
