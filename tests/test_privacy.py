"""Personal data stays where it belongs: not in log lines, not readable at rest."""

from __future__ import annotations

import base64
import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import structlog
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot import pipeline as pipeline_module
from bot.logs import configure_logging
from bot.pipeline import Pipeline
from handlers.base import Ctx, Reply, ServiceConfig
from nlu.engine import EmbeddedEngine
from storage.crypto import keyring, parse_keys, use_keys
from storage.db import AsyncSession, make_engine, make_sessions, upgrade
from storage.demo import demo_phone, seed_demo
from storage.models import Person
from storage.rekey import rotate, sealed_under
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
    for words in WORDS:
        await bot.say("u1", words)
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


# ------------------------------------------------------------------ at rest
async def test_phone_numbers_in_the_database_file_are_not_readable_as_digits(
    tmp_path: Path, now: datetime
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'yinling.db'}"
    engine = make_engine(url)
    try:
        await upgrade(engine)
        async with UnitOfWork(make_sessions(engine)) as uow:
            await seed_demo(uow, now)
            await uow.commit()
            found = await uow.people.find_by_phone("+86 139-0000-0001")  # still found by it
            assert found is not None
            assert found.phone == demo_phone(0)
    finally:
        await engine.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # noqa: ASYNC240 - a test
    for index in range(12):
        assert demo_phone(index).encode() not in stored
    assert "张建国".encode() in stored  # the file is the database (names are not encrypted)


async def test_on_postgresql_the_column_holds_ciphertext(pg: AsyncEngine, now: datetime) -> None:
    sessions = make_sessions(pg)
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    async with pg.connect() as conn:
        raw = (await conn.execute(text("SELECT phone, phone_index FROM people"))).all()
    assert raw
    for sealed, index in raw:
        assert isinstance(sealed, bytes)
        assert not re.search(rb"1[3-9]\d{9}", sealed)
        assert len(index) == 32


async def test_keys_rotate_seals_everything_again_and_phones_are_still_found(
    sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    original = keyring()
    first = parse_keys(f"1:{base64.b64encode(b'1' * 32).decode()}", _INDEX)
    second = parse_keys(
        f"2:{base64.b64encode(b'2' * 32).decode()},1:{base64.b64encode(b'1' * 32).decode()}",
        _INDEX,
    )
    try:
        use_keys(first)
        async with UnitOfWork(sessions) as uow:
            await seed_demo(uow, now)
            await uow.commit()
        assert set(await sealed_under(sessions)) == {1}
        use_keys(second)
        changed = await rotate(sessions)
        assert changed > 12
        assert set(await sealed_under(sessions)) == {2}
        assert await rotate(sessions) == 0  # again: nothing left to do
        use_keys(parse_keys(f"2:{base64.b64encode(b'2' * 32).decode()}", _INDEX))  # key 1 gone
        async with UnitOfWork(sessions) as uow:
            person = await uow.people.find_by_name_and_phone("张建国", demo_phone(0))
            assert person is not None
            assert person.phone == demo_phone(0)
    finally:
        use_keys(original)


_INDEX = base64.b64encode(b"i" * 32).decode()


def test_the_database_url_is_a_secret() -> None:
    from bot.settings import Settings

    settings = Settings(database_url="postgresql+asyncpg://yinling:hunter2-secret@db/yinling")
    assert "hunter2-secret" not in repr(settings)
    assert "hunter2-secret" not in str(settings.model_dump())
    assert settings.database.endswith("hunter2-secret@db/yinling")


async def test_a_failed_statement_does_not_print_its_parameters(db: AsyncEngine) -> None:
    from sqlalchemy.exc import DBAPIError, StatementError

    from storage.models import ChannelAccount

    engine = make_engine(db.url.render_as_string(hide_password=False))
    sessions = make_sessions(engine)
    secret = "李秀英住在示范路8号"
    try:
        async with sessions() as session:
            session.add(
                ChannelAccount(channel="x", external_id="y", role="retiree", created_at=None)
            )
            session.add(ChannelAccount(channel="x", external_id=secret, role="r" * 50))
            with pytest.raises((DBAPIError, StatementError)) as caught:
                await session.flush()
    finally:
        await engine.dispose()
    assert secret not in str(caught.value)
