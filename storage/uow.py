"""Unit of work: one database transaction, rolled back unless committed."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.ext.asyncio import async_sessionmaker

from storage.activities import ActivityRepo
from storage.alerts import AlertRepo
from storage.broadcasts import BroadcastRepo
from storage.catalog import CatalogRepo
from storage.db import AsyncSession
from storage.reminders import ReminderRepo
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

__all__ = ["UnitOfWork"]


class UnitOfWork:
    """``async with UnitOfWork(sessions) as uow: …; await uow.commit()``."""

    session: AsyncSession
    people: PeopleRepo
    staff: StaffRepo
    accounts: AccountRepo
    requests: RequestRepo
    activities: ActivityRepo
    alerts: AlertRepo
    broadcasts: BroadcastRepo
    reminders: ReminderRepo
    catalog: CatalogRepo
    messages: MessageRepo
    audit: AuditRepo
    codes: CodeRepo
    deliveries: DeliveryRepo

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._committed = False

    async def __aenter__(self) -> Self:
        self.session = self._sessions()
        self.people = PeopleRepo(self.session)
        self.staff = StaffRepo(self.session)
        self.accounts = AccountRepo(self.session)
        self.requests = RequestRepo(self.session)
        self.activities = ActivityRepo(self.session)
        self.alerts = AlertRepo(self.session)
        self.broadcasts = BroadcastRepo(self.session)
        self.reminders = ReminderRepo(self.session)
        self.catalog = CatalogRepo(self.session)
        self.messages = MessageRepo(self.session)
        self.audit = AuditRepo(self.session)
        self.codes = CodeRepo(self.session)
        self.deliveries = DeliveryRepo(self.session)
        self._committed = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if not self._committed:
                # Detach first, so objects read in a read-only unit stay readable afterwards.
                self.session.expunge_all()
                await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        """Make everything written in this unit permanent."""
        await self.session.commit()
        self._committed = True

    async def rollback(self) -> None:
        """Throw away everything written since the last commit."""
        await self.session.rollback()
