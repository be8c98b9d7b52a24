"""The small lists the staff queue's page offers as filters and labels (the roster's
districts, the home services' names), kept in this process for a short while.

Every 待办 page showed them, and asking for them took two of the page's five round trips
(benchmarks/province.py). They change seldom: a district appears with a person of a new
district, a service is renamed in the catalogue. A flush in this process that adds,
changes or removes a person or a home service forgets them at once (a listener on every
ORM session); what other processes change, or what a statement writes past the ORM, is
seen within ``TTL`` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from storage.models import EldercareService, Person

__all__ = ["TTL", "Lists", "cached_lists", "forget_lists"]

TTL = 30.0  # seconds

_WATCHED = (Person, EldercareService)


@dataclass(frozen=True, slots=True)
class Lists:
    """The roster's districts, in order, and the home services' names by code."""

    districts: list[str]
    services: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Kept:
    lists: Lists
    generation: int
    until: float


_kept: dict[str, _Kept] = {}  # by database (its URL)
_generation = 0  # moved on by every flush that touches a watched row in this process


def forget_lists() -> None:
    """Forget what is kept, for every database."""
    global _generation  # noqa: PLW0603 - the process's one counter
    _generation += 1


@event.listens_for(Session, "after_flush")
def _watch(session: Session, _context: Any) -> None:
    # new/dirty/deleted still list what was flushed here.
    for item in chain(session.new, session.dirty, session.deleted):
        if isinstance(item, _WATCHED):
            forget_lists()
            return


async def cached_lists(database: str, load: Callable[[], Awaitable[Lists]]) -> Lists:
    """The lists of ``database``: kept ones if still fresh, else ``load()``'s."""
    now = time.monotonic()
    kept = _kept.get(database)
    if kept is not None and kept.generation == _generation and now < kept.until:
        return kept.lists
    generation = _generation
    lists = await load()
    _kept[database] = _Kept(lists, generation, now + TTL)
    return lists
