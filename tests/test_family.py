"""A retiree lets a daughter act for them: a family code from the bot, typed by the daughter."""

from __future__ import annotations

import re
from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.pipeline import Pipeline
from handlers.base import ServiceConfig
from nlu.engine import EmbeddedEngine
from storage.db import AsyncSession
from storage.demo import seed_demo
from storage.models import BindingCode, ChannelAccount, ServiceRequest
from storage.state import MemoryStore
from storage.uow import UnitOfWork
from tests.harness import Harness, texts_of


@pytest.fixture
async def bot(
    sessions: async_sessionmaker[AsyncSession], engine_nlu: EmbeddedEngine, now: datetime
) -> Harness:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    pipeline = Pipeline(sessions, MemoryStore(), engine_nlu, ServiceConfig())
    await pipeline.refresh_lookups(now)
    return Harness(pipeline, sessions, now)


async def test_a_retiree_invites_a_daughter_who_then_books_for_him(bot: Harness) -> None:
    father = await bot.bind("dad", 1)
    said = texts_of(await bot.say("dad", "我想绑定我女儿"))
    code = re.search(r"绑定码 (\d{8})", said)
    assert code is not None, said
    async with UnitOfWork(bot.sessions) as uow:
        issued = await uow.session.scalar(select(BindingCode))
    assert issued is not None
    assert (issued.role, issued.person_id) == ("family", father)

    notice = texts_of(await bot.say("daughter", f"绑定 {code[1]}", unbound=True))
    assert "同意" in notice  # the privacy notice first; the code is kept meanwhile
    welcome = texts_of(await bot.say("daughter", "1", unbound=True))
    assert "替" in welcome
    async with UnitOfWork(bot.sessions) as uow:
        account = await uow.accounts.find("test", "daughter")
    assert account is not None
    assert (account.role, account.person_id) == ("family", father)

    bot.bound["daughter"] = father
    await bot.say("daughter", "想给我爸约个助浴 后天下午")
    await bot.say("daughter", "确认")
    [booked] = await bot.requests("eldercare")
    assert booked.person_id == father
    assert booked.requested_by_account_id == account.id

    # The code is used up: a second person typing it is not bound.
    again = texts_of(await bot.say("stranger", f"绑定 {code[1]}", unbound=True))
    assert "用过或过期" in again
    async with UnitOfWork(bot.sessions) as uow:
        stranger = await uow.accounts.find("test", "stranger")
    assert stranger is None or stranger.person_id is None


async def test_only_a_retiree_can_invite_family(bot: Harness) -> None:
    await bot.bind("son", 1, role="family", relation="儿子")
    said = texts_of(await bot.say("son", "绑定家属"))
    assert "本人" in said
    assert await bot.count(BindingCode) == 0


async def test_a_wrong_typed_code_is_told_so(bot: Harness) -> None:
    requests = await bot.count(ServiceRequest)
    said = texts_of(await bot.say("someone", "绑定 00000000", unbound=True))
    assert "不对" in said
    assert "还可以试" in said
    assert await bot.count(ChannelAccount, role="family") == 0
    assert await bot.count(ServiceRequest) == requests
