"""Generated WeChat pushes, signed correctly, in plain and in safe (AES) mode: never a 5xx,
and every well-formed text message is in the message log (tests/channels/fuzzing.py)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import xmltodict
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine
from wechatpy.crypto import WeChatCrypto

from bot.settings import WeChatSettings
from tests.channels.fuzzing import FUZZ, SERVER_ERROR, Tally, nonces, not_logged, xml_messages
from tests.channels.test_wechat import TOKEN, app_for, plain, sign  # noqa: F401 - fixtures
from tests.processes import bad_padding

AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx2c2769f8efd9abc2"
OK = 200
crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)


@pytest.fixture
async def db(pg: AsyncEngine) -> AsyncEngine:
    """PostgreSQL only: it is the one that enforces lengths and refuses NaN in JSON."""
    return pg


@pytest.fixture
async def plain_tally(plain: Any) -> AsyncIterator[Tally]:  # noqa: F811
    tally = Tally()
    yield tally
    tally.check("wechat plain")
    missing = await not_logged(plain[1], "wechat", tally.expected)
    assert not missing, f"{len(missing)} accepted messages not logged"


@FUZZ
@given(message=xml_messages())
async def test_wechat_plain_pushes_never_5xx(
    plain: Any,  # noqa: F811
    plain_tally: Tally,
    message: tuple[str, str | None, str | None],
) -> None:
    client, _, _ = plain
    xml, user, msg_id = message
    query = sign(TOKEN, nonce=str(next(nonces)))
    response = await client.post("/wechat", params=query, content=xml.encode())
    plain_tally.statuses.append(response.status_code)
    assert response.status_code < SERVER_ERROR, xml[:300]
    if user and msg_id:
        assert response.status_code == OK
        plain_tally.expected.append((user, f"msg:{msg_id}"))


@pytest.fixture
async def safe(app_for: Callable[..., Any]) -> tuple[httpx.AsyncClient, Any, Any]:  # noqa: F811
    opened: tuple[httpx.AsyncClient, Any, Any] = await app_for(
        WeChatSettings(token=TOKEN, aes_key=AES_KEY, app_id=APP_ID)
    )
    return opened


@pytest.fixture
async def safe_tally(safe: Any) -> AsyncIterator[Tally]:
    tally = Tally()
    yield tally
    tally.check("wechat safe mode")
    missing = await not_logged(safe[1], "wechat", tally.expected)
    assert not missing, f"{len(missing)} accepted messages not logged"


def sealed(xml: str, nonce: str, timestamp: str) -> str:
    """The Encrypt field wechatpy (WeChat's side) makes of a message."""
    return str(xmltodict.parse(crypto.encrypt_message(xml, nonce, timestamp))["xml"]["Encrypt"])


@FUZZ
@given(
    message=xml_messages(),
    broken=st.sampled_from(["", "", "", "", "", "garbage", "padding", "empty"]),
)
async def test_wechat_safe_mode_pushes_never_5xx(
    safe: Any, safe_tally: Tally, message: tuple[str, str | None, str | None], broken: str
) -> None:
    client, _, _ = safe
    xml, user, msg_id = message
    timestamp, nonce = str(int(time.time())), str(next(nonces))
    if broken == "garbage":  # a signed Encrypt that is no ciphertext at all
        encrypt = hashlib.sha256(xml.encode()).hexdigest() + "!!"
    elif broken == "padding":
        encrypt = bad_padding(AES_KEY)
    elif broken == "empty":
        encrypt = ""
    else:
        encrypt = sealed(xml, nonce, timestamp)
    signature = hashlib.sha1(  # noqa: S324 - WeChat's scheme
        "".join(sorted([TOKEN, timestamp, nonce, encrypt])).encode()
    ).hexdigest()
    query = sign(TOKEN, timestamp, nonce) | {"msg_signature": signature, "encrypt_type": "aes"}
    body = (
        "<xml><ToUserName><![CDATA[gh_fuzz]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
    response = await client.post("/wechat", params=query, content=body.encode())
    safe_tally.statuses.append(response.status_code)
    assert response.status_code < SERVER_ERROR, xml[:300]
    if user and msg_id and not broken:
        assert response.status_code == OK
        safe_tally.expected.append((user, f"msg:{msg_id}"))
