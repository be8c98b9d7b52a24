"""Generated WeCom callbacks, signed correctly (most of them encrypted correctly too): never
a 5xx, and every well-formed text from the staff member is in the message log
(tests/channels/fuzzing.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.channels.fuzzing import (
    FUZZ,
    SERVER_ERROR,
    Tally,
    clean_words,
    not_logged,
    numbers,
    serial,
    text_message,
    words,
    xml_messages,
)
from tests.channels.test_wecom import (  # noqa: F401 - fixtures
    AGENT_ID,
    MEMBER,
    WeComServer,
    _signed_encrypt,
    callback_app,
    double,
    runtime,
    served,
)

OK = 200


@pytest.fixture
async def db(pg: AsyncEngine) -> AsyncEngine:
    """PostgreSQL only: it is the one that enforces lengths and refuses NaN in JSON."""
    return pg


@st.composite
def callbacks(draw: st.DrawFn) -> tuple[str, str, str | None]:
    """(how: sealed | raw, the message XML or the raw Encrypt, message id of a well-formed
    text from the member, else None). Sealing happens in the test (it draws random bytes)."""
    kind = draw(st.integers(0, 9))
    if kind < 3:
        msg_id = str(8_000_000_000 + next(serial))  # one member: ids must differ
        inner = text_message(
            MEMBER, draw(clean_words), msg_id, cdata=True, extra=f"<AgentID>{AGENT_ID}</AgentID>"
        )
        return "sealed", inner, msg_id
    if kind < 7:
        xml, _, _ = draw(xml_messages())
        agent = draw(st.just(str(AGENT_ID)) | numbers)
        return "sealed", xml.replace("</xml>", f"<AgentID>{escape(agent)}</AgentID></xml>", 1), None
    encrypt = draw(st.sampled_from(["", "!!", "QUJD", "这不是base64"]) | words)
    return "raw", encrypt, None


@pytest.fixture
async def tally(callback_app: Any) -> AsyncIterator[Tally]:  # noqa: F811
    counted = Tally()
    yield counted
    counted.check("wecom")
    missing = await not_logged(callback_app[1], "wecom", counted.expected)
    assert not missing, f"{len(missing)} accepted callbacks not logged"


@FUZZ
@given(generated=callbacks())
async def test_wecom_callbacks_never_5xx(
    callback_app: Any,  # noqa: F811
    tally: Tally,
    generated: tuple[str, str, str | None],
) -> None:
    client, _, _ = callback_app
    how, content, msg_id = generated
    if how == "sealed":
        body, query = WeComServer().callback(content)
    else:
        body, query = _signed_encrypt(escape(content))
    response = await client.post("/wecom", params=query, content=body.encode())
    tally.statuses.append(response.status_code)
    assert response.status_code < SERVER_ERROR, (how, content[:300])
    if msg_id:
        assert response.status_code == OK
        tally.expected.append((MEMBER, msg_id))
