"""Volunteers and the time bank (时间银行): registering by chat, the balance, offers of
requests that fit (sent by staff), a volunteer's answer, the retiree's confirmation of the
hours, and the staff's actions on them (bot/console/volunteers.py)."""

from __future__ import annotations

from handlers.volunteers.bank import hours, time_bank
from handlers.volunteers.offers import (
    HOURS_KIND,
    MINUTES,
    answer,
    confirm_hours,
    fits,
    offer_request,
    redeem,
    typed_answer,
)
from handlers.volunteers.register import REGISTER, area_names, register, skill_names

__all__ = [
    "HOURS_KIND",
    "MINUTES",
    "REGISTER",
    "answer",
    "area_names",
    "confirm_hours",
    "fits",
    "hours",
    "offer_request",
    "redeem",
    "register",
    "skill_names",
    "time_bank",
    "typed_answer",
]
