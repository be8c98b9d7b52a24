"""Paging staff on WeCom (企业微信): wechatpy's WeCom client against a local double of the
WeCom API (tests/channels/wecom_double.py), the per-member limit with a controllable
clock, binding a staff member from the command line, and an SOS raised through the
pipeline that reaches the duty officer, bound only on WeCom; and the application's
callback (``/wecom``), with wechatpy's WeCom crypto playing WeCom's servers, through which
that duty officer takes the alert.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmltodict
from pydantic import SecretStr
from redis import Redis as SyncRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.app import create_app
from bot.channels.wecom import WeComClient, WeComSender, wecom_sender
from bot.jobs import build_registry
from bot.messages import InboundMessage
from bot.metrics import Metrics
from bot.notify import Notifier
from bot.pipeline import Pipeline
from bot.runtime import Runtime
from bot.settings import Settings, WeComSettings
from bot.worker import jobs_in_app
from handlers.base import Option, Reply, ServiceConfig
from nlu.engine import EmbeddedEngine
from storage.alerts import ON_DUTY
from storage.db import make_engine, make_sessions
from storage.demo import seed_demo
from storage.models import Alert, AlertStep, AuditEntry, ChannelAccount, MessageRecord
from storage.state import MemoryStore
from storage.uow import UnitOfWork
from tests.channels.wecom_double import CORP_ID, SECRET, WeComDouble, running_double
from tests.conftest import REDIS_URL
from tests.processes import bad_padding
from tests.test_cli import yinling

AGENT_ID = 1000002
MEMBER = "WangXiaoMing"
RETIREE = "5101"
FALL = "我摔倒了起不来，快来人"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[WeComDouble, str]]:
    with running_double() as served:
        yield served


@pytest.fixture
def double(served: tuple[WeComDouble, str]) -> WeComDouble:
    """The double, forgotten what it was asked; only ``MEMBER`` is in the visible range."""
    double = served[0]
    with double.lock:
        double.calls.clear()
        double.failures.clear()
        double.expired.clear()
        double.members = {MEMBER}
    return double


def wecom_settings(served: tuple[WeComDouble, str]) -> WeComSettings:
    return WeComSettings(corp_id=CORP_ID, secret=SECRET, agent_id=AGENT_ID, api_base=served[1])


def account(user: str = MEMBER) -> ChannelAccount:
    return ChannelAccount(id=7, channel="wecom", external_id=user, role="staff", active=True)


@pytest.fixture
def sender(served: tuple[WeComDouble, str], double: WeComDouble) -> WeComSender:
    return WeComSender(WeComClient(wecom_settings(served), None, "yltest:"))


# ------------------------------------------------------------------ sending
async def test_a_page_arrives_as_a_text_from_the_app_to_the_member(
    sender: WeComSender, double: WeComDouble
) -> None:
    page = Reply("【紧急求助】张建国 …\n回复“接 12”接手", (Option("我来处理", "/take"),))
    assert await Notifier(wecom=sender).send(account(), [page], "alert") == "sent"
    [sent] = double.called("message/send")
    assert (sent["agentid"], sent["touser"], sent["msgtype"]) == (AGENT_ID, MEMBER, "text")
    assert sent["text"]["content"] == page.text  # plain text: the page says what to type
    assert sent["_access_token"] == double.current_token()
    assert len(double.called("gettoken")) == 1


async def test_a_member_outside_the_visible_range_is_unreachable(
    sender: WeComSender, double: WeComDouble
) -> None:
    notifier = Notifier(wecom=sender)
    assert await notifier.send(account("nobody"), [Reply("测试")], "alert") == "unreachable"
    double.fail("message/send", 60111)  # UserID not found
    assert await notifier.send(account(), [Reply("测试")], "alert") == "unreachable"
    double.fail("message/send", 60020)  # our server's IP is not on the list: a failure
    assert await notifier.send(account(), [Reply("测试")], "alert") == "failed"
    inactive = account()
    inactive.active = False
    assert await notifier.send(inactive, [Reply("测试")], "alert") == "unreachable"
    assert await Notifier().send(account(), [Reply("测试")], "alert") == "unreachable"
    assert len(double.texts(MEMBER)) == 0


async def test_an_expired_token_is_refreshed_once_and_the_message_sent(
    sender: WeComSender, double: WeComDouble
) -> None:
    assert await sender.send(MEMBER, ["一"]) == "sent"
    double.expire()
    assert await sender.send(MEMBER, ["二"]) == "sent"
    assert double.texts(MEMBER) == ["一", "二"]
    assert len(double.called("gettoken")) == 2


async def test_processes_share_the_token_through_redis(
    served: tuple[WeComDouble, str], double: WeComDouble
) -> None:
    prefix = f"yltest:{uuid.uuid4().hex[:8]}:"
    redis = SyncRedis.from_url(REDIS_URL)
    try:
        for _ in range(2):  # two processes, one token
            client = WeComClient(wecom_settings(served), redis, prefix)
            assert await WeComSender(client).send(MEMBER, ["早"]) == "sent"
        assert len(double.called("gettoken")) == 1
        assert redis.ttl(f"{prefix}wecom:{CORP_ID}_{AGENT_ID}_access_token") > 6000
    finally:
        keys = list(redis.scan_iter(match=prefix + "*"))
        if keys:
            redis.delete(*keys)
        redis.close()


# ---------------------------------------------------------------- the CLI
async def test_the_cli_binds_a_staff_member_to_a_wecom_userid(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'y.db'}"
    env = {"YINLING_DATABASE_URL": url}
    assert yinling("db", "seed", env=env).returncode == 0
    bound = yinling("staff", "wecom", "--staff", "1", "--user", MEMBER, env=env)
    assert bound.returncode == 0, bound.stderr
    assert MEMBER in bound.stdout
    assert "YINLING_WECOM__CORP_ID" in bound.stderr  # not configured yet: says what to set
    refused = yinling("staff", "wecom", "--staff", "99", "--user", "x", env=env)
    assert refused.returncode == 2
    assert "no staff member 99" in refused.stderr
    moved = yinling("staff", "wecom", "--staff", "2", "--user", MEMBER, "--by", "admin", env=env)
    assert moved.returncode == 0, moved.stderr
    engine = make_engine(url)
    try:
        async with UnitOfWork(make_sessions(engine)) as uow:
            found = await uow.accounts.find("wecom", MEMBER)
            entries = list(
                await uow.session.scalars(
                    select(AuditEntry).where(AuditEntry.action == "staff_wecom_bound")
                )
            )
            assert found is not None
            accounts = list(
                await uow.session.scalars(
                    select(ChannelAccount).where(ChannelAccount.channel == "wecom")
                )
            )
    finally:
        await engine.dispose()
    assert (found.role, found.staff_id, found.person_id, found.active) == ("staff", 2, None, True)
    assert len(accounts) == 1  # re-pointed, not duplicated
    assert [(e.actor, e.target_id, e.details) for e in entries] == [
        ("cli", str(found.id), {"staff": 1}),
        ("admin", str(found.id), {"staff": 2}),
    ]


# --------------------------------------------------------------- end to end
@pytest.fixture
async def runtime(
    db: AsyncEngine,
    engine_nlu: EmbeddedEngine,
    served: tuple[WeComDouble, str],
    now: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> Runtime:
    """The pipeline on the test database with the demo roster; the retiree writes on
    Telegram (not configured: nothing is sent there), the duty officer (staff 1) is bound
    only on WeCom, the backup and leader nowhere."""
    # Only the alerts' own reconciling: none of the registry's periodic checks.
    monkeypatch.setattr("bot.worker.build_registry", lambda: build_registry().without_checks())
    sessions = make_sessions(db)
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        person_id = (await uow.people.all_ids())[0]
        await uow.accounts.bind("telegram", RETIREE, person_id, now)
        await uow.accounts.bind("wecom", MEMBER, 0, now, role="staff", staff_id=1)
        await uow.commit()
    settings = Settings(wecom=wecom_settings(served), reconcile_seconds=3600)
    store = MemoryStore()
    metrics = Metrics()
    pipeline = Pipeline(sessions, store, engine_nlu, ServiceConfig(), metrics)
    await pipeline.refresh_lookups(now)
    return Runtime(settings, db, sessions, None, store, engine_nlu, metrics, pipeline)


async def test_an_sos_pages_the_duty_officer_on_wecom(
    runtime: Runtime, double: WeComDouble, now: datetime
) -> None:
    async with UnitOfWork(runtime.sessions) as uow:
        person = await uow.people.get((await uow.people.all_ids())[0])
        wecom = await uow.accounts.find("wecom", MEMBER)
    assert person is not None
    assert wecom is not None
    async with jobs_in_app(runtime) as jobs:  # the worker's wiring builds the WeCom sender
        assert jobs.notifier.wecom is not None
        jobs.clock = lambda: now
        response = await runtime.pipeline.handle(
            InboundMessage("telegram", RETIREE, "m1", now, FALL)
        )
        assert "已收到您的紧急求助" in response.replies[0].text
        await jobs.broker.wait_all()  # type: ignore[attr-defined]
    [page] = double.texts(MEMBER)
    for fact in (person.name, person.address, "紧急求助", FALL):
        assert fact
        assert fact in page
    [sent] = double.called("message/send")
    assert sent["agentid"] == AGENT_ID
    async with UnitOfWork(runtime.sessions) as uow:
        alert = await uow.session.scalar(select(Alert))
        assert alert is not None
        steps = await uow.alerts.steps(alert.id)
    assert [(s.kind, s.level, s.result, s.account_id) for s in steps] == [
        ("raised", 0, None, None),
        ("paged", ON_DUTY, "sent", wecom.id),
    ]


def test_no_sender_without_the_settings() -> None:
    assert wecom_sender(Settings(wecom=WeComSettings())) is None
    assert not WeComSettings(corp_id=CORP_ID, secret=SECRET).enabled


# ------------------------------------------------------------- the callback
TOKEN = "wecom-callback-token"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeCom makes
TIMESTAMP, NONCE = "1409659813", "1372623149"


class WeComServer:
    """What WeCom's servers send to the callback URL (wechatpy's crypto on their side)."""

    def __init__(self, token: str = TOKEN) -> None:
        self.crypto = WeChatCrypto(token, AES_KEY, CORP_ID)

    def seal(self, plain: str) -> tuple[str, dict[str, str]]:
        """``plain`` encrypted: the Encrypt field and the signed query."""
        sealed = xmltodict.parse(self.crypto.encrypt_message(plain, NONCE, TIMESTAMP))["xml"]
        query = {"msg_signature": sealed["MsgSignature"], "timestamp": TIMESTAMP, "nonce": NONCE}
        return str(sealed["Encrypt"]), query

    def verification(self, echo: str) -> dict[str, str]:
        """The GET query WeCom sends when the URL is saved in the admin console."""
        encrypted, query = self.seal(echo)
        return query | {"echostr": encrypted}

    def callback(self, inner: str) -> tuple[str, dict[str, str]]:
        """A POST body and query carrying ``inner`` (the message's own XML)."""
        encrypted, query = self.seal(inner)
        body = (
            f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
        )
        return body, query

    def opened(self, response: httpx.Response) -> dict[str, str]:
        """The passive reply, decrypted (its signature checked as WeCom does)."""
        assert response.status_code == 200, response.text
        sealed = xmltodict.parse(response.text)["xml"]
        plain = self.crypto.decrypt_message(
            response.text, sealed["MsgSignature"], sealed["TimeStamp"], sealed["Nonce"]
        )
        reply: dict[str, str] = xmltodict.parse(plain)["xml"]
        return reply


def text_message(content: str, msg_id: str, user: str = MEMBER, agent: int = AGENT_ID) -> str:
    return (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{user}]]></FromUserName>"
        f"<CreateTime>{TIMESTAMP}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>"
        f"<AgentID>{agent}</AgentID></xml>"
    )


@pytest.fixture
async def callback_app(
    runtime: Runtime, served: tuple[WeComDouble, str], now: datetime
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime, Any]]:
    """The app with the callback configured (and the sender, for pages)."""
    wecom = wecom_settings(served).model_copy(
        update={"token": SecretStr(TOKEN), "aes_key": SecretStr(AES_KEY)}
    )
    opened = replace(runtime, settings=Settings(wecom=wecom, reconcile_seconds=3600))
    app = create_app(runtime=opened)
    async with app.router.lifespan_context(app):
        app.state.wecom.clock = lambda: now
        app.state.jobs.clock = lambda: now
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client, opened, app


async def logged(runtime: Runtime) -> int:
    async with runtime.sessions() as session:
        where = MessageRecord.channel == "wecom"
        return int(
            await session.scalar(select(func.count()).select_from(MessageRecord).where(where)) or 0
        )


async def test_url_verification_echoes_the_decrypted_echostr(callback_app: Any) -> None:
    client, _, _ = callback_app
    query = WeComServer().verification("8136543215867530829")
    response = await client.get("/wecom", params=query)
    assert (response.status_code, response.text) == (200, "8136543215867530829")
    forged = query | {"msg_signature": "0" * 40}
    assert (await client.get("/wecom", params=forged)).status_code == 403


async def test_a_forged_callback_is_refused_and_not_processed(
    callback_app: Any, double: WeComDouble
) -> None:
    client, runtime, _ = callback_app
    body, query = WeComServer().callback(text_message("接 1", "7001"))
    forged = query | {"msg_signature": "f" * 40}
    assert (await client.post("/wecom", params=forged, content=body)).status_code == 403
    # Signed with another token: the signature does not match ours either.
    body, query = WeComServer(token="someone-else").callback(text_message("接 1", "7002"))
    assert (await client.post("/wecom", params=query, content=body)).status_code == 403
    assert await logged(runtime) == 0


async def test_a_callback_for_another_application_is_ignored(callback_app: Any) -> None:
    client, runtime, _ = callback_app
    body, query = WeComServer().callback(text_message("待办", "7003", agent=AGENT_ID + 1))
    response = await client.post("/wecom", params=query, content=body)
    assert (response.status_code, response.text) == (200, "")
    assert await logged(runtime) == 0
    body, query = WeComServer().callback(text_message("待办", "7004"))
    assert WeComServer().opened(await client.post("/wecom", params=query, content=body))
    assert await logged(runtime) == 2  # ours: the message and its answer


async def test_the_duty_officer_takes_the_alert_by_replying_in_wecom(
    callback_app: Any, double: WeComDouble, now: datetime
) -> None:
    client, runtime, app = callback_app
    await runtime.pipeline.handle(InboundMessage("telegram", RETIREE, "m1", now, FALL))
    await app.state.jobs.broker.wait_all()
    async with UnitOfWork(runtime.sessions) as uow:
        alert = await uow.session.scalar(select(Alert))
    assert alert is not None
    [page] = double.texts(MEMBER)
    number = alert.request_id  # the one number staff see everywhere
    assert f"接 {number}" in page  # what the page asks for is what the member types
    server = WeComServer()
    body, query = server.callback(text_message(f"接 {number}", "7100000000000000001"))
    first = await client.post("/wecom", params=query, content=body)
    reply = server.opened(first)
    assert reply["MsgType"] == "text"
    assert (reply["ToUserName"], reply["FromUserName"]) == (MEMBER, CORP_ID)
    assert reply["Content"].startswith("您已接手")
    assert f"编号 {number}" in reply["Content"]
    # WeCom retries a callback it thinks went unanswered: handled once, answered alike.
    again = await client.post("/wecom", params=query, content=body)
    assert server.opened(again)["Content"] == reply["Content"]
    await app.state.jobs.broker.wait_all()
    await app.state.wecom.drain()
    async with UnitOfWork(runtime.sessions) as uow:
        taken = await uow.session.get(Alert, alert.id)
        steps = list(
            await uow.session.scalars(select(AlertStep).where(AlertStep.alert_id == alert.id))
        )
    assert taken is not None
    assert (taken.status, taken.acknowledged_by) == ("acknowledged", 1)
    assert [s.kind for s in steps].count("acknowledged") == 1
    async with runtime.sessions() as session:
        inbound = await session.scalar(
            select(func.count())
            .select_from(MessageRecord)
            .where(MessageRecord.channel == "wecom", MessageRecord.direction == "in")
        )
    assert inbound == 1


async def test_other_messages_and_events_get_an_empty_answer(callback_app: Any) -> None:
    client, runtime, _ = callback_app
    server = WeComServer()
    event = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{MEMBER}]]></FromUserName><CreateTime>{TIMESTAMP}</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event>"
        f"<EventKey><![CDATA[]]></EventKey><AgentID>{AGENT_ID}</AgentID></xml>"
    )
    image = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<FromUserName><![CDATA[{MEMBER}]]></FromUserName><CreateTime>{TIMESTAMP}</CreateTime>"
        "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/y]]></PicUrl>"
        f"<MediaId><![CDATA[m]]></MediaId><MsgId>7200</MsgId><AgentID>{AGENT_ID}</AgentID></xml>"
    )
    for inner in (event, image):
        body, query = server.callback(inner)
        response = await client.post("/wecom", params=query, content=body)
        assert (response.status_code, response.text) == (200, "")
    assert await logged(runtime) == 0


async def test_a_callback_with_a_dtd_is_refused(callback_app: Any) -> None:
    client, runtime, _ = callback_app
    body, query = WeComServer().callback(text_message("接 1", "7300"))
    evil = '<!DOCTYPE xml [<!ENTITY a "aaaa">]>' + body
    assert (await client.post("/wecom", params=query, content=evil)).status_code == 400
    huge = body.replace("</xml>", "<Pad>" + "x" * 70_000 + "</Pad></xml>")
    assert (await client.post("/wecom", params=query, content=huge)).status_code == 400
    assert await logged(runtime) == 0


async def test_wecom_answers_404_until_the_callback_is_configured(runtime: Runtime) -> None:
    app = create_app(runtime=runtime)  # the sender is configured, the callback is not
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post("/wecom", content=b"<xml/>")
    assert response.status_code == 404
    assert not runtime.settings.wecom.inbound


def _signed_encrypt(encrypt: str) -> tuple[str, dict[str, str]]:
    """A callback body whose Encrypt is ``encrypt``, with a valid msg_signature over it."""
    signature = hashlib.sha1(  # noqa: S324 - WeCom's scheme
        "".join(sorted([TOKEN, TIMESTAMP, NONCE, encrypt])).encode()
    ).hexdigest()
    body = (
        f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt><AgentID><![CDATA[{AGENT_ID}]]></AgentID></xml>"
    )
    return body, {"msg_signature": signature, "timestamp": TIMESTAMP, "nonce": NONCE}


@pytest.mark.parametrize(
    "encrypt",
    [
        bad_padding(AES_KEY),  # decrypts, but to a bad padding
        "这不是base64!!",
        base64.b64encode(b"short").decode(),
    ],
)
async def test_a_signed_callback_that_does_not_decrypt_is_never_a_5xx(
    callback_app: Any, encrypt: str
) -> None:
    client, runtime, _ = callback_app
    body, query = _signed_encrypt(encrypt)
    response = await client.post("/wecom", params=query, content=body)
    assert 400 <= response.status_code < 500
    assert await logged(runtime) == 0


async def test_a_callback_with_an_agent_id_that_is_no_number_is_never_a_5xx(
    callback_app: Any,
) -> None:
    client, runtime, _ = callback_app
    body, query = WeComServer().callback(
        text_message("接 1", "7301").replace(
            f"<AgentID>{AGENT_ID}</AgentID>", "<AgentID>abc</AgentID>"
        )
    )
    response = await client.post("/wecom", params=query, content=body)
    assert response.status_code < 500
    assert await logged(runtime) == 0
