"""Personal data stays where it belongs: not in log lines, not readable at rest."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime

import pytest
import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot import pipeline as pipeline_module
from bot.logs import configure_logging
from bot.pipeline import Pipeline
from handlers.base import Ctx, Reply, ServiceConfig
from nlu.engine import EmbeddedEngine
from storage.db import AsyncSession
from storage.demo import seed_demo
from storage.models import Person
from storage.state import MemoryStore
from storage.uow import UnitOfWork
from tests.harness import Harness

WORDS = [
    "你好",
    "明天下午来理发",
    "1",
    "我老伴昨天住进市一院了 住在心内科3床",
    "救命 我在卫生间摔倒了起不来",
]


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    """Every log line of the test, as production writes them (JSON), in a buffer."""
    buffer = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("json", "DEBUG", stream=buffer)
    try:
        yield buffer
    finally:
        structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)


async def test_json_logs_hold_no_name_address_or_words_of_the_people(
    sessions: async_sessionmaker[AsyncSession],
    engine_nlu: EmbeddedEngine,
    config: ServiceConfig,
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
    json_logs: io.StringIO,
) -> None:
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
        people = list(await uow.session.scalars(select(Person)))
    bot = Harness(Pipeline(sessions, MemoryStore(), engine_nlu, config), sessions, now)
    await bot.bind("u1")
    for text in WORDS:
        await bot.say("u1", text)
    await bot.say("stranger", f"我叫{people[1].name} {people[1].phone}", unbound=True)

    async def failing(ctx: Ctx) -> list[Reply]:  # a library error quoting what it was given
        who = ctx.person.name if ctx.person else ""
        raise ValueError(f"cannot route {ctx.turn.text!r} for {who} at {ctx.person.address}")

    monkeypatch.setattr(pipeline_module, "route", failing)
    await bot.say("u1", "帮我约下礼拜三去省人民医院看眼科")
    logged = json_logs.getvalue()
    lines = [json.loads(line) for line in logged.splitlines() if line.strip()]
    assert any(line["event"] == "message_failed" for line in lines)  # the error was logged
    assert any("exception" in line for line in lines)
    secrets = [p.name for p in people] + [p.address for p in people if p.address]
    secrets += [p.phone for p in people if p.phone]
    secrets += [w for w in WORDS if len(w) > 1] + ["省人民医院看眼科"]
    leaked = [s for s in secrets if s and s in logged]
    assert leaked == []
