"""A test harness that talks to the real pipeline as channel users, with a controllable clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.messages import InboundMessage, Response
from bot.pipeline import Pipeline
from storage.db import AsyncSession
from storage.models import ServiceRequest
from storage.uow import UnitOfWork

_ids = count(1)


@dataclass
class Harness:
    """Sends messages through the pipeline; users bind to demo retirees on first use."""

    pipeline: Pipeline
    sessions: async_sessionmaker[AsyncSession]
    now: datetime
    channel: str = "test"
    bound: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    unbound: set[str] = field(default_factory=set)

    async def bind(
        self,
        user: str,
        person_id: int | None = None,
        role: str = "retiree",
        relation: str | None = None,
    ) -> int:
        async with UnitOfWork(self.sessions) as uow:
            pid = person_id or (await uow.people.all_ids())[len(self.bound)]
            account = await uow.accounts.bind(
                self.channel, user, pid, self.now, role=role, relation=relation
            )
            await uow.commit()
        self.bound[user] = pid
        self.accounts[user] = account.id
        return pid

    async def say(
        self, user: str, text: str = "", *, unbound: bool = False, **extra: Any
    ) -> Response:
        if not unbound and user not in self.bound:
            await self.bind(user)
        message = InboundMessage(
            channel=self.channel,
            user_id=user,
            message_id=str(extra.pop("message_id", f"m{next(_ids)}")),
            received_at=self.now,
            text=text,
            **extra,
        )
        return await self.pipeline.handle(message)

    def later(self, **delta: float) -> None:
        self.now = self.now + timedelta(**delta)

    async def requests(self, kind: str | None = None) -> list[ServiceRequest]:
        async with UnitOfWork(self.sessions) as uow:
            query = select(ServiceRequest).order_by(ServiceRequest.id)
            if kind:
                query = query.where(ServiceRequest.kind == kind)
            return list(await uow.session.scalars(query))

    async def count(self, model: Any, **where: Any) -> int:
        async with UnitOfWork(self.sessions) as uow:
            query = select(func.count()).select_from(model)
            for column, value in where.items():
                query = query.where(getattr(model, column) == value)
            return int(await uow.session.scalar(query) or 0)


def texts_of(response: Response) -> str:
    """All reply texts and option labels of a response, joined."""
    parts = []
    for reply in response.replies:
        parts.append(reply.text)
        parts.extend(o.label for o in reply.options)
    return "\n".join(parts)
