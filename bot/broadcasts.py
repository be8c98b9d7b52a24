"""Broadcasts from the command line.

The service itself (composing, sending by a job, never twice, the reconciler's check) is
services/broadcasts.py; this module composes it for ``yinling broadcast``: with Redis the
broadcast is kicked to the workers, without it sent from this process with senders built
here.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.channels.wechat import outbound_for
from bot.jobs import Jobs, current, start_jobs, stop_jobs
from bot.notify import Notifier, telegram_sender
from bot.settings import Settings
from services.broadcasts import SEND, TUNING, BroadcastSender
from storage.db import AsyncSession

__all__ = ["kick", "start_sending"]


async def kick(broadcast_ids: Sequence[int], jobs: Jobs | None = None) -> None:
    """Send a job for each broadcast (through ``jobs``, else this process's jobs)."""
    jobs = jobs or current()
    for broadcast_id in broadcast_ids:
        await jobs.kick(SEND, broadcast_id)


async def start_sending(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], broadcast_id: int
) -> str:
    """Get a new broadcast going from the command line: kicked to the workers when Redis
    is configured, else sent right here (until done). Says what happened, in English."""
    if settings.redis_url:
        jobs = await start_jobs(settings, sessions, Notifier())
        try:
            await kick([broadcast_id], jobs)
        except Exception as e:  # any broker failure: the reconciler takes over
            return (
                f"queued in the database, but the job queue is unavailable ({e}); "
                f"a worker starts it within {TUNING.stall.total_seconds():.0f} s"
            )
        finally:
            await stop_jobs(jobs)
        return "sending: a yinling worker delivers it (see --show)"
    bot = telegram_sender(settings)
    if bot is not None:
        await bot.initialize()
    try:
        notifier = Notifier(telegram=bot, wechat=outbound_for(settings, sessions))
        jobs = await start_jobs(settings, sessions, notifier)
        try:
            sender = BroadcastSender(jobs)
            while await sender.send(broadcast_id):
                pass
        finally:
            await stop_jobs(jobs)
    finally:
        if bot is not None:
            await bot.shutdown()
    return "sent from this process (no YINLING_REDIS_URL)"
