"""``yinling check``: settings that would let an emergency page into the void.

Checked: the hotline (set, and not the demo's number outside the demo); the database
answers; Redis is configured for a deployment of more than one process; someone is on
duty (level 1) at every moment of the next seven days, with backup and leader levels
covered too; everyone on call can be reached (an active bound account); every channel a
staff member is bound on has the credentials to send on it; the emergency spool can be
written. ``yinling serve`` logs the same findings when it starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.settings import Settings
from bot.sms import make_sms
from bot.spool import Spool, default_spool_dir
from storage.alerts import BACKUP, LEADER, ON_DUTY
from storage.db import AsyncSession
from storage.models import DutyShift
from storage.uow import UnitOfWork

__all__ = ["DEMO_HOTLINE", "Finding", "check_settings", "log_findings"]

log = structlog.get_logger("yinling.check")

DEMO_HOTLINE = "0512-65000000"  # the placeholder of the demo data and .env.example
HORIZON = timedelta(days=7)
LEVEL_WORDS = {ON_DUTY: "on duty (level 1)", BACKUP: "backup (level 2)", LEADER: "leader (level 3)"}


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong (``error``: paging can fail) or worth a look (``warning``)."""

    level: Literal["error", "warning"]
    text: str


def _gaps(
    shifts: Sequence[DutyShift], start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The stretches of [start, end) that no shift covers."""
    gaps, covered = [], start
    for shift in sorted(shifts, key=lambda s: s.starts_at):
        if shift.starts_at > covered:
            gaps.append((covered, min(shift.starts_at, end)))
        covered = max(covered, shift.ends_at)
        if covered >= end:
            break
    if covered < end:
        gaps.append((covered, end))
    return [(a, b) for a, b in gaps if a < b]


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def _static(settings: Settings, demo: bool) -> list[Finding]:
    found = []
    hotline = settings.hotline.strip()
    if not hotline:
        found.append(Finding("error", "YINLING_HOTLINE is empty: emergencies are answered with it"))
    elif hotline == DEMO_HOTLINE and not demo:
        found.append(
            Finding(
                "error",
                f"YINLING_HOTLINE is the demo number {DEMO_HOTLINE}: set the bureau's duty phone",
            )
        )
    if not settings.redis_url and not demo:
        found.append(
            Finding(
                "warning",
                "YINLING_REDIS_URL is not set: conversations live in this one process and no "
                "`yinling worker` can run (fine for a trial, not for a bureau)",
            )
        )
    if settings.database.startswith("sqlite") and not demo:
        found.append(Finding("warning", "YINLING_DATABASE_URL is SQLite: use PostgreSQL to deploy"))
    if not (settings.wechat.enabled or settings.telegram.enabled) and not demo:
        found.append(
            Finding("warning", "no channel for retirees is configured (WeChat or Telegram)")
        )
    try:
        development = settings.keyring().development
    except ValueError as e:
        found.append(Finding("error", str(e)))
        development = False
    if development and not demo:
        found.append(
            Finding(
                "error",
                "YINLING_DATA_KEYS / YINLING_INDEX_KEY are not set: phone numbers are "
                "sealed with the public development key (yinling keys generate)",
            )
        )
    sms = settings.sms.provider
    if sms == "console" and not demo:
        found.append(
            Finding("error", "YINLING_SMS__PROVIDER=console shows binding codes on the terminal")
        )
    elif sms == "none" and not demo:
        found.append(
            Finding(
                "warning",
                "YINLING_SMS__PROVIDER is not set: a new user's binding waits for staff (核实 N "
                "in 待办) or the person's own account; set aliyun or tencent to send codes",
            )
        )
    else:
        try:
            make_sms(settings.sms)
        except ValueError as e:
            found.append(Finding("error", str(e)))
    spool = Spool(settings.spool_dir or default_spool_dir())
    if not spool.writable():
        found.append(
            Finding(
                "error",
                f"the emergency spool {spool.folder} cannot be written (YINLING_SPOOL_DIR): "
                "with the database away, an emergency could not be kept",
            )
        )
    return found


def _can_send(settings: Settings, channel: str) -> bool:
    if channel == "telegram":
        return settings.telegram.token is not None
    if channel == "wechat":
        return settings.wechat.app_id is not None and settings.wechat.app_secret is not None
    if channel == "wecom":
        return settings.wecom.enabled
    return False


SEND_SETTINGS = {
    "telegram": "YINLING_TELEGRAM__TOKEN",
    "wechat": "YINLING_WECHAT__APP_ID and YINLING_WECHAT__APP_SECRET",
    "wecom": "YINLING_WECOM__CORP_ID, YINLING_WECOM__SECRET and YINLING_WECOM__AGENT_ID",
}


async def _roster(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> list[Finding]:
    found: list[Finding] = []
    end = now + HORIZON
    async with UnitOfWork(sessions) as uow:
        shifts = await uow.alerts.shifts_between(now, end)
        accounts = await uow.accounts.staff_accounts()
        on_call = {shift.staff_id: member for shift, member in shifts}
    for level, words in LEVEL_WORDS.items():
        gaps = _gaps([s for s, _ in shifts if s.level == level], now, end)
        for start, stop in gaps[:5]:
            found.append(
                Finding(
                    "error" if level == ON_DUTY else "warning",
                    f"nobody {words} from {_when(start)} to {_when(stop)} "
                    "(yinling duty add --level …)",
                )
            )
    reachable = {a.staff_id for a in accounts if a.active and _can_send(settings, a.channel)}
    for staff_id, member in sorted(on_call.items()):
        if staff_id not in reachable:
            found.append(
                Finding(
                    "error",
                    f"{member.name} (staff {staff_id}) is on call in the next 7 days but has no "
                    "account pages can reach (bind one: yinling code --staff …, or yinling staff "
                    "wecom …)",
                )
            )
    for channel in sorted({a.channel for a in accounts if a.active}):
        if channel in SEND_SETTINGS and not _can_send(settings, channel):
            found.append(
                Finding(
                    "error",
                    f"staff are bound on {channel} but it cannot send: "
                    f"set {SEND_SETTINGS[channel]}",
                )
            )
    if (
        any(a.channel == "wechat" and a.active for a in accounts)
        and not settings.wechat.template_id
    ):
        found.append(
            Finding(
                "warning",
                "no YINLING_WECHAT__TEMPLATE_ID: a page to a staff member on WeChat who has not "
                "written in 48 hours cannot be sent",
            )
        )
    return found


async def check_settings(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    demo: bool = False,
) -> list[Finding]:
    """Everything found, errors first."""
    found = _static(settings, demo)
    try:
        found += await _roster(settings, sessions, now)
    except Exception as e:  # the database does not answer (or is not migrated)
        found.append(Finding("error", f"the database cannot be read: {type(e).__name__}"))
    return sorted(found, key=lambda f: f.level != "error")


def log_findings(found: Sequence[Finding]) -> None:
    """What ``yinling serve`` says at start."""
    for finding in found:
        if finding.level == "error":
            log.error("config_check", problem=finding.text)
        else:
            log.warning("config_check", problem=finding.text)
