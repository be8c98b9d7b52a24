"""How things are said: forms of address, dates, the main menu, the apology."""

from __future__ import annotations

from datetime import date, datetime

from handlers import phrases, texts
from handlers.base import Ctx, Option, Reply, ServiceConfig, payload
from storage.models import Person

__all__ = [
    "address",
    "apology",
    "format_date",
    "format_when",
    "greeting",
    "mask_phone",
    "menu_options",
    "menu_reply",
    "status_name",
]


def surname(name: str) -> str:
    """The family name of a Chinese name."""
    return next((s for s in phrases.COMPOUND_SURNAMES if name.startswith(s)), name[:1])


def address(person: Person | None, config: ServiceConfig) -> str:
    """How to address a retiree: 张老 or 张建国同志, as the bureau configures."""
    if person is None:
        return texts.ADDRESS_UNKNOWN
    if config.honorific == "tongzhi":
        return texts.ADDRESS_TONGZHI.format(name=person.name)
    return texts.ADDRESS_LAO.format(surname=surname(person.name))


def greeting(local_now: datetime) -> str:
    """Good morning / hello / good evening by the hour."""
    if local_now.hour < 11:  # noqa: PLR2004
        return texts.GREETING_MORNING
    if local_now.hour >= 18:  # noqa: PLR2004
        return texts.GREETING_EVENING
    return texts.GREETING_DAY


def format_date(day: date) -> str:
    """11月25日（周三）."""
    return texts.DATE_FORMAT.format(
        month=day.month, day=day.day, weekday=texts.WEEKDAYS[day.weekday()]
    )


def format_when(day: date | None, time_value: str | None) -> str:
    """11月25日（周三）上午 / 11月25日（周三）15:00."""
    parts = [format_date(day)] if day else []
    if time_value:
        parts.append(texts.PARTS_OF_DAY.get(time_value, time_value))
    return "".join(parts)


def status_name(status: str) -> str:
    """A request's or sign-up's state in plain words, never the stored name."""
    for names in (texts.REQUEST_STATUSES, texts.ACT_STATUS, texts.CLAIM_STATUSES):
        if status in names:
            return names[status]
    return texts.STATUS_OTHER


def mask_phone(phone: str) -> str:
    """139****5678 — phones are never shown or logged in full."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****"  # noqa: PLR2004


def menu_options() -> tuple[Option, ...]:
    """The numbered main menu."""
    return tuple(Option(label, payload(intent)) for label, intent in texts.MENU_ITEMS)


def menu_reply(text: str, config: ServiceConfig) -> Reply:
    """A reply that ends with the main menu and the emergency hint."""
    hint = texts.SOS_HINT.format(hotline=config.hotline)
    return Reply(f"{text}\n{hint}" if hint not in text else text, menu_options())


def apology(config: ServiceConfig) -> Reply:
    """What the user sees when something failed: never a stack trace."""
    return Reply(texts.SORRY.format(hotline=config.hotline))


def ctx_address(ctx: Ctx) -> str:
    """Address the writer: the retiree by honorific, a family member simply as 您."""
    if ctx.account is not None and ctx.account.role != "retiree":
        return texts.ADDRESS_UNKNOWN
    return address(ctx.person, ctx.config)
