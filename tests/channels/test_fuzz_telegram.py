"""Generated Telegram updates, with the webhook secret: never a 5xx, and every well-formed
private text message is in the message log (tests/channels/fuzzing.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import MessageRecord
from tests.channels.fuzzing import FUZZ, SERVER_ERROR, Tally, clean_words, serial, words
from tests.channels.test_telegram import SECRET, Telegram, api, botapi, runtime, telegram  # noqa: F401 - fixtures

OK = 200
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | words,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(words, inner, max_size=4),
    max_leaves=20,
)
FIELDS = ["from", "chat", "text", "location", "contact", "voice", "photo", "entities",
          "caption", "sticker", "reply_to_message"]  # fmt: skip
KINDS = ["message", "edited_message", "callback_query", "my_chat_member"]


@pytest.fixture
async def db(pg: AsyncEngine) -> AsyncEngine:
    """PostgreSQL only: it is the one that enforces lengths and refuses NaN in JSON."""
    return pg


@st.composite
def updates(draw: st.DrawFn) -> tuple[str, str | None]:
    """(the body, "user upd:id" of a well-formed private text message, else None)."""
    update_id = 900_000_000 + next(serial)
    user = draw(st.integers(1, 2**40))
    who = {"id": user, "is_bot": False, "first_name": draw(words)}
    chat = {"id": user, "type": "private"}
    kind = draw(st.integers(0, 9))
    if kind < 3:
        text = draw(clean_words)
        message = {"message_id": 1, "from": who, "chat": chat, "date": 1795000000, "text": text}
        body = {"update_id": update_id, "message": message}
        return json.dumps(body, ensure_ascii=False), f"{user} upd:{update_id}"
    if kind < 7:
        odd: dict[str, Any] = {"message_id": draw(json_values), "date": draw(json_values)}
        for name in draw(st.lists(st.sampled_from(FIELDS), max_size=6)):
            odd[name] = draw(json_values | st.just(who) | st.just(chat))
        if draw(st.booleans()):
            odd["from"], odd["chat"] = who, chat
        key = draw(st.sampled_from(KINDS))
        body = {"update_id": draw(st.just(update_id) | json_values), key: odd}
        return json.dumps(body, ensure_ascii=False), None
    if kind < 9:
        return json.dumps(draw(st.dictionaries(words, json_values, max_size=6))), None
    depth = draw(st.integers(100, 5000))
    return "[" * depth + "]" * depth, None  # deep nesting


@pytest.fixture
async def tally(telegram: Telegram) -> AsyncIterator[Tally]:  # noqa: F811
    counted = Tally()
    yield counted
    counted.check("telegram")
    async with telegram.runtime.sessions() as session:
        rows = await session.execute(
            select(MessageRecord.external_user_id, MessageRecord.message_id).where(
                MessageRecord.channel == "telegram", MessageRecord.direction == "in"
            )
        )
        found = {f"{u} {m}" for u, m in rows}
    missing = [e for e, _ in counted.expected if e not in found]
    assert not missing, f"{len(missing)} accepted updates not logged"


@FUZZ
@given(generated=updates())
async def test_telegram_updates_never_5xx(
    telegram: Telegram,  # noqa: F811
    tally: Tally,
    generated: tuple[str, str | None],
) -> None:
    body, expected = generated
    response = await telegram.client.post(
        "/telegram",
        content=body.encode(),
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"},
    )
    await telegram.channel.drain()
    tally.statuses.append(response.status_code)
    assert response.status_code < SERVER_ERROR, body[:300]
    if expected:
        assert response.status_code == OK
        tally.expected.append((expected, ""))
