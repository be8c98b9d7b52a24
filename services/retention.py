"""Retention (PIPL: kept no longer than needed): what people wrote is blanked from the
message log after ``YINLING_RETENTION_DAYS`` (180 by default); the log lines (kind,
intent, times) and every service record stay. Wrong-code counts go after two days.

A periodic check on the reconciler (every worker; put in the job registry by bot/jobs.py),
looking at most once an hour; each
look blanks in batches until nothing older is left, one short transaction per batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from services.ports import Context
from storage.admissions import AdmissionRepo
from storage.uow import UnitOfWork

__all__ = ["Retention", "expire"]

log = structlog.get_logger("yinling.retention")

BATCH = 1000
MISSES_KEPT = timedelta(days=2)


async def expire(jobs: Context, now: datetime, batch: int = BATCH) -> int:
    """Blank every message text older than the retention; the number of lines blanked."""
    before = now - timedelta(days=jobs.retention_days)
    total = 0
    while True:
        async with UnitOfWork(jobs.sessions) as uow:
            done = await uow.messages.expire_text(before, batch)
            if done < batch:
                await uow.verification.forget_misses(now - MISSES_KEPT)
                # Hospitals' admission events: their ID numbers and names (the stays stay).
                await AdmissionRepo(uow.session).forget_before(before)
            await uow.commit()
        total += done
        if done < batch:
            break
    if total:
        log.info("message_text_expired", lines=total, days=jobs.retention_days)
    return total


@dataclass(slots=True)
class Retention:
    """The reconciler's hook: ``expire`` at most once per ``every`` (per process)."""

    every: timedelta = timedelta(hours=1)
    last: datetime | None = None

    async def __call__(self, jobs: Context, now: datetime) -> int:
        """Returns 0: nothing lost was re-started (what was blanked is logged)."""
        if self.last is not None and timedelta(0) <= now - self.last < self.every:
            return 0
        self.last = now
        await expire(jobs, now)
        return 0
