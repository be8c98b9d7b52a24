"""Unit of work: one database transaction, rolled back unless committed.

The unit opens its ORM session on first use: a message whose handler reads and writes
nothing through the repositories (a greeting, a cached policy answer) never checks out a
session, and its message log goes to the database in a short transaction of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, overload

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from storage.activities import ActivityRepo
from storage.alerts import AlertRepo
from storage.broadcasts import BroadcastRepo
from storage.care import CareRepo
from storage.catalog import CatalogRepo
from storage.db import AsyncSession
from storage.reminders import ReminderRepo
from storage.reports import ReportRepo
from storage.repos import (
    AccountRepo,
    AuditRepo,
    CodeRepo,
    DeliveryRepo,
    MessageRepo,
    PeopleRepo,
    RequestRepo,
    StaffRepo,
)
from storage.verification import VerificationRepo
from storage.volunteers import VolunteerRepo
from storage.workbench import WorkbenchRepo

__all__ = ["UnitOfWork"]

R = TypeVar("R")


class _Repo(Generic[R]):
    """A repository of the unit (repositories keep no state: each access makes one; the
    session opens when one first uses it)."""

    def __init__(self, make: Callable[[UnitOfWork], R]) -> None:
        self.make = make

    @overload
    def __get__(self, unit: None, owner: type) -> Self: ...
    @overload
    def __get__(self, unit: UnitOfWork, owner: type) -> R: ...
    def __get__(self, unit: UnitOfWork | None, owner: type) -> R | Self:
        return self if unit is None else self.make(unit)


class UnitOfWork:
    """``async with UnitOfWork(sessions) as uow: …; await uow.commit()``."""

    people = _Repo(lambda u: PeopleRepo(u.session))
    staff = _Repo(lambda u: StaffRepo(u.session))
    accounts = _Repo(lambda u: AccountRepo(u.session))
    requests = _Repo(lambda u: RequestRepo(u.session))
    activities = _Repo(lambda u: ActivityRepo(u.session))
    alerts = _Repo(lambda u: AlertRepo(u.session))
    broadcasts = _Repo(lambda u: BroadcastRepo(u.session))
    reminders = _Repo(lambda u: ReminderRepo(u.session))
    catalog = _Repo(lambda u: CatalogRepo(u.session))
    messages = _Repo(MessageRepo)
    audit = _Repo(lambda u: AuditRepo(u.session))
    codes = _Repo(lambda u: CodeRepo(u.session))
    deliveries = _Repo(lambda u: DeliveryRepo(u.session))
    verification = _Repo(lambda u: VerificationRepo(u.session))
    workbench = _Repo(lambda u: WorkbenchRepo(u.session))
    reports = _Repo(lambda u: ReportRepo(u.session))
    care = _Repo(lambda u: CareRepo(u.session))
    volunteers = _Repo(lambda u: VolunteerRepo(u.session))

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self._committed = False

    @property
    def session(self) -> AsyncSession:
        """The unit's ORM session, opened on first use."""
        if self._session is None:
            self._session = self._sessions()
        return self._session

    @property
    def opened(self) -> bool:
        """Whether anything has used the session (read, written or begun) in this unit."""
        return self._session is not None

    @property
    def engine(self) -> AsyncEngine:
        """The engine the unit's sessions are bound to."""
        bind: Any = self._sessions.kw["bind"]
        return bind  # type: ignore[no-any-return]

    async def __aenter__(self) -> Self:
        self._session = None
        self._committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        if session is None:
            return
        try:
            if not self._committed:
                # Detach first, so objects read in a read-only unit stay readable afterwards.
                session.expunge_all()
                await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        """Make everything written in this unit permanent."""
        if self._session is not None:
            await self._session.commit()
        self._committed = True

    async def rollback(self) -> None:
        """Throw away everything written since the last commit."""
        if self._session is not None:
            await self._session.rollback()
