"""Processes for background work: ``yinling worker`` (taskiq jobs + the alert reconciler),
and the same wiring inside ``yinling serve`` / ``yinling chat``.

Start-up composes the background work: the senders (bot/notify.py), the job registry
(``bot.jobs.build_registry``: the services' jobs, events and periodic checks) and the
broker.

With Redis, the app only kicks jobs and any number of ``yinling worker`` processes run
them; without Redis (the demo), the app runs them itself on taskiq's in-memory broker,
and runs the reconciler too.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from signal import SIGINT, SIGTERM
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker
from taskiq import AsyncBroker, InMemoryBroker
from taskiq.receiver import Receiver
from telegram.ext import ExtBot

from bot.channels.wechat import outbound_for
from bot.channels.wecom import wecom_sender
from bot.jobs import Jobs, build_registry, start_jobs, stop_jobs
from bot.limits import shared_limits
from bot.notify import Notifier, telegram_sender
from bot.runtime import Runtime
from bot.settings import Settings
from handlers.base import Reply
from storage.db import AsyncSession, make_sessions

__all__ = ["jobs_in_app", "run_worker", "telegram_sender"]  # telegram_sender: bot/notify.py

log = structlog.get_logger("yinling.worker")

# On SIGTERM a worker takes no new job and gives those in hand this long to finish (a page
# half sent, a broadcast slice); docker-compose.yml's stop_grace_period leaves room for it.
# A job still running after it is cancelled, and Redis hands it on (``idle_timeout``).
JOB_GRACE_SECONDS = 20.0
SPOOL_SECONDS = 3.0  # how often an app process looks for spooled emergencies to write


@asynccontextmanager
async def _notifier(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    telegram: ExtBot[Any] | None,
    console: list[tuple[str, list[Reply]]] | None = None,
) -> AsyncIterator[Notifier]:
    own = telegram is None
    bot = telegram_sender(settings) if own else telegram
    if own and bot is not None:
        await bot.initialize()
    limits = shared_limits(settings.redis_url, settings.redis_prefix)
    try:
        yield Notifier(
            telegram=bot,
            wechat=outbound_for(settings, sessions),
            wecom=wecom_sender(settings, limits),
            console=console,
        )
    finally:
        if own and bot is not None:
            await bot.shutdown()


@asynccontextmanager
async def jobs_in_app(
    runtime: Runtime,
    telegram: ExtBot[Any] | None = None,
    console: list[tuple[str, list[Reply]]] | None = None,
) -> AsyncIterator[Jobs]:
    """Jobs for a process that runs the pipeline: its events are kicked as jobs; on the
    in-memory broker the jobs (and the reconciler) run right here. ``console``: keep what
    would go to the demo's users (yinling chat, simulate)."""
    settings = runtime.settings
    async with _notifier(settings, runtime.sessions, telegram, console) as notifier:
        jobs = await start_jobs(settings, runtime.sessions, notifier, registry=build_registry())
        runtime.pipeline.on_events = jobs.dispatch
        stop = asyncio.Event()
        local = isinstance(jobs.broker, InMemoryBroker)
        reconciler = asyncio.create_task(jobs.reconcile_forever(stop)) if local else None
        replayer = asyncio.create_task(_replay_forever(runtime, stop))
        try:
            yield jobs
        finally:
            runtime.pipeline.on_events = None
            stop.set()
            await replayer
            if reconciler is not None:
                await reconciler
            await stop_jobs(jobs)


async def _replay_forever(runtime: Runtime, stop: asyncio.Event) -> None:
    """Write the emergencies the spool holds once the database answers (at start, then
    every ``SPOOL_SECONDS`` while anything waits)."""
    spool = runtime.pipeline.spool
    while spool is not None and not stop.is_set():
        if spool.waiting():
            try:
                written = await runtime.pipeline.replay_spool()
                if written:
                    log.warning("spool_written", count=written)
            except Exception:
                log.exception("spool_replay_failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), SPOOL_SECONDS)


async def _receive(broker: AsyncBroker, stop: asyncio.Event) -> None:
    """Run jobs from the broker until ``stop``; then take no more and wait for those in hand
    (taskiq's own drain, for up to JOB_GRACE_SECONDS). A broker error starts over."""
    broker.is_worker_process = True
    while not stop.is_set():
        receiver = Receiver(
            broker,
            run_startup=False,
            max_async_tasks=50,
            wait_tasks_timeout=JOB_GRACE_SECONDS,
        )
        try:
            await receiver.listen(stop)
        except Exception:
            log.exception("job_receiver_failed")
        with contextlib.suppress(TimeoutError):  # not a tight loop if the broker is away
            await asyncio.wait_for(stop.wait(), 1.0)


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run jobs from the Redis stream and the reconciler until ``stop`` (or Ctrl-C)."""
    if not settings.redis_url:
        raise ValueError("yinling worker needs YINLING_REDIS_URL (without it the app runs jobs)")
    if stop is None:
        stop = asyncio.Event()
        for signal in (SIGINT, SIGTERM):  # finish the jobs in hand, then leave
            asyncio.get_running_loop().add_signal_handler(signal, stop.set)
    engine = settings.open_engine()
    sessions = make_sessions(engine)
    try:
        async with _notifier(settings, sessions, None) as notifier:
            jobs = await start_jobs(settings, sessions, notifier, registry=build_registry())
            receiver = asyncio.create_task(_receive(jobs.broker, stop))
            reconciler = asyncio.create_task(jobs.reconcile_forever(stop))
            log.info("worker_started", reconcile_every=jobs.reconcile_every)
            try:
                await stop.wait()
                log.info("worker_stopping", grace_seconds=JOB_GRACE_SECONDS)
                await receiver  # the jobs in hand finish
            finally:
                stop.set()
                if not receiver.done():
                    receiver.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await receiver
                await reconciler
                await stop_jobs(jobs)
                log.info("worker_stopped")
    finally:
        await engine.dispose()
