"""The WeChat endpoint, driven by the real pushes in tests/fixtures/wechat as the client.

Each fixture goes through the whole app (signature → decryption → pipeline on a real
database and Redis → reply XML). The fixtures reuse WeChat's placeholder ids, so every
test gets a fresh de-duplication store (see tests/fixtures/README.md, rule 5).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import xmltodict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from wechatpy.crypto import WeChatCrypto

from bot.app import create_app
from bot.channels.wechat import MAX_REPLY_BYTES, menu_definition, open_outbound, render_text
from bot.metrics import Metrics
from bot.notify import Notifier
from bot.pipeline import Pipeline
from bot.runtime import Runtime
from bot.settings import Settings, WeChatSettings
from handlers import texts
from handlers.base import Option, Reply, ServiceConfig, payload
from nlu.engine import EmbeddedEngine
from storage.db import make_sessions
from storage.models import ChannelAccount, Delivery, MessageRecord, Person, ServiceRequest
from storage.state import Conversation, RedisStore
from storage.uow import UnitOfWork
from tests.channels.wechat_double import running_double
from tests.conftest import REDIS_URL, REPO
from tests.processes import bad_padding

FIXTURES = REPO / "tests" / "fixtures" / "wechat"
TOKEN = "yinling-test-token"
APP_ID = "wx2c2769f8efd9abc2"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def vector(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(fixture(name))
    return data


def sign(token: str, timestamp: str | None = None, nonce: str | None = None) -> dict[str, str]:
    """A query as WeChat signs it: now, with a fresh nonce, unless given."""
    timestamp = timestamp or str(int(time.time()))
    nonce = nonce or str(next(_nonces))
    signature = hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()  # noqa: S324 - WeChat's scheme
    return {"signature": signature, "timestamp": timestamp, "nonce": nonce}


_nonces = itertools.count(1320562132)


def reply_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    document: dict[str, Any] = xmltodict.parse(response.text)["xml"]
    return document


def make_runtime(
    db: AsyncEngine, nlu: EmbeddedEngine, store: RedisStore, wechat: WeChatSettings
) -> Runtime:
    settings = Settings(wechat=wechat, redis_url=REDIS_URL, redis_prefix=store.keys.prefix)
    sessions = make_sessions(db)
    pipeline = Pipeline(sessions, store, nlu, ServiceConfig(), Metrics())
    return Runtime(settings, db, sessions, store.redis, store, nlu, Metrics(), pipeline)


@pytest.fixture
async def app_for(
    db: AsyncEngine, engine_nlu: EmbeddedEngine, redis_store: RedisStore
) -> AsyncIterator[Callable[[WeChatSettings], Any]]:
    """Open the app with given WeChat settings; yields (client, runtime, app)."""
    opened: list[Any] = []

    async def open_app(wechat: WeChatSettings) -> tuple[httpx.AsyncClient, Runtime, Any]:
        runtime = make_runtime(db, engine_nlu, redis_store, wechat)
        app = create_app(runtime=runtime)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        opened.append((lifespan, client))
        return client, runtime, app

    yield open_app
    for lifespan, client in opened:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def plain(
    app_for: Callable[[WeChatSettings], Any],
) -> tuple[httpx.AsyncClient, Runtime, Any]:
    """The app with a plain-mode Official Account."""
    result: tuple[httpx.AsyncClient, Runtime, Any] = await app_for(WeChatSettings(token=TOKEN))
    return result


async def post(client: httpx.AsyncClient, body: str, **query: str) -> httpx.Response:
    return await client.post("/wechat", params=sign(TOKEN) | query, content=body.encode())


async def count(runtime: Runtime, model: Any, *where: Any) -> int:
    async with runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


# ------------------------------------------------------------------ verification
async def test_url_verification_echoes_echostr(app_for: Callable[..., Any]) -> None:
    v = vector("url_verification_vector.json")
    client, _, _ = await app_for(WeChatSettings(token=v["token"]))
    response = await client.get("/wechat", params=v["query"])
    assert response.status_code == 200
    assert response.text == v["expected"]["response_body"]
    forged = v["query"] | {"signature": "0" * 40}
    assert (await client.get("/wechat", params=forged)).status_code == 403


@pytest.mark.parametrize("case", vector("signature_vectors.json")["vectors"])
async def test_signature_vectors(app_for: Callable[..., Any], case: dict[str, Any]) -> None:
    client, _, _ = await app_for(WeChatSettings(token=case["token"]))
    query = {k: case[k] for k in ("signature", "timestamp", "nonce")} | {"echostr": "ok"}
    response = await client.get("/wechat", params=query)
    assert response.status_code == (200 if case["expected_valid"] else 403)


async def test_forged_push_is_refused_and_not_processed(plain: Any) -> None:
    client, runtime, _ = plain
    query = sign(TOKEN) | {"signature": "f" * 40}
    response = await client.post("/wechat", params=query, content=fixture("text.xml").encode())
    assert response.status_code == 403
    assert await count(runtime, MessageRecord) == 0


async def test_unconfigured_endpoint_is_404(app_for: Callable[..., Any]) -> None:
    client, _, _ = await app_for(WeChatSettings())
    assert (await client.get("/wechat", params=sign(TOKEN))).status_code == 404


# ------------------------------------------------------------------ pushes
async def test_text_gets_a_passive_text_reply(plain: Any) -> None:
    client, runtime, _ = plain
    reply = reply_of(await post(client, fixture("text.xml")))
    assert reply["ToUserName"] == "fromUser"
    assert reply["FromUserName"] == "toUser"
    assert reply["MsgType"] == "text"
    assert int(reply["CreateTime"]) > 0
    assert "姓名" in reply["Content"]  # an unknown user is led into binding
    assert await count(runtime, MessageRecord, MessageRecord.direction == "in") == 1


@pytest.mark.parametrize("name", ["image.xml", "video.xml", "link.xml"])
async def test_media_is_acknowledged(plain: Any, name: str) -> None:
    client, _, _ = plain
    reply = reply_of(await post(client, fixture(name)))
    assert reply["MsgType"] == "text"
    assert reply["Content"]


async def test_voice_without_recognition_says_so_kindly_and_keeps_the_media_id(plain: Any) -> None:
    client, runtime, _ = plain
    reply = reply_of(await post(client, fixture("voice.xml")))
    assert "语音" in reply["Content"]
    async with runtime.sessions() as session:
        logged = await session.scalar(select(MessageRecord).where(MessageRecord.kind == "voice"))
    assert logged is not None
    assert logged.media_id == "media_id"


async def test_voice_recognition_is_the_utterance(plain: Any) -> None:
    client, runtime, _ = plain
    reply_of(await post(client, fixture("voice_recognition.xml")))
    async with runtime.sessions() as session:
        logged = await session.scalar(select(MessageRecord).where(MessageRecord.direction == "in"))
    assert logged is not None
    assert logged.text == "Meow~"


async def test_location_is_kept_for_sos(plain: Any) -> None:
    client, runtime, _ = plain
    assert (await post(client, fixture("location.xml"))).status_code == 200
    store = runtime.store
    assert isinstance(store, RedisStore)
    conv = Conversation.from_json(await store.redis.get(store.keys.state("wechat:fromUser")))
    assert conv.location is not None
    assert conv.location["latitude"] == pytest.approx(23.134521)


async def test_subscribe_welcomes_and_starts_binding(plain: Any) -> None:
    client, _, _ = plain
    reply = reply_of(await post(client, fixture("event_subscribe.xml")))
    assert "银龄通" in reply["Content"]
    assert "姓名" in reply["Content"]


async def test_subscribe_with_a_staff_issued_code_binds_after_the_notice(plain: Any) -> None:
    client, runtime, _ = plain
    now = datetime.now(UTC)
    async with UnitOfWork(runtime.sessions) as uow:
        person = await uow.people.add(
            Person(
                name="王建国", category="lixiu", phone="13900000001", created_at=now, updated_at=now
            )
        )
        code = await uow.codes.issue(now, "staff:1", role="retiree", person_id=person.id)
        await uow.commit()
    body = fixture("event_subscribe_qrscene.xml").replace("123123", code.code)
    notice = reply_of(await post(client, body))
    assert "您同意吗" in notice["Content"]  # the privacy notice first; the code is kept
    agree = (
        fixture("text.xml")
        .replace("fromUser", "FromUser")
        .replace("this is a test", "1")
        .replace("1234567890123456", "1234567890123457")
    )
    reply = reply_of(await post(client, agree))
    assert "王" in reply["Content"]
    async with runtime.sessions() as session:
        account = await session.scalar(select(ChannelAccount))
    assert account is not None
    assert account.person_id == person.id


async def test_an_unknown_scene_code_still_welcomes(plain: Any) -> None:
    client, _, _ = plain
    reply = reply_of(await post(client, fixture("event_subscribe_qrscene.xml")))
    assert reply["Content"]


async def test_unsubscribe_forgets_the_account_and_answers_success(plain: Any) -> None:
    client, runtime, _ = plain
    reply_of(await post(client, fixture("text.xml").replace("fromUser", "FromUser")))
    response = await post(client, fixture("event_unsubscribe.xml"))
    assert response.status_code == 200
    assert response.text == "success"
    async with runtime.sessions() as session:
        texts = (await session.scalars(select(MessageRecord.external_user_id))).all()
    assert "FromUser" not in texts


async def test_scan_of_an_unknown_code_is_answered(plain: Any) -> None:
    client, _, _ = plain
    assert reply_of(await post(client, fixture("event_scan.xml")))["Content"]


async def test_location_event_is_stored_silently(plain: Any) -> None:
    client, _, _ = plain
    response = await post(client, fixture("event_location.xml"))
    assert response.status_code == 200
    assert response.text == "success"


async def _bound(runtime: Runtime, openid: str) -> Person:
    now = datetime.now(UTC)
    async with UnitOfWork(runtime.sessions) as uow:
        person = await uow.people.add(
            Person(
                name="李秀英",
                category="tuixiu",
                phone="13900000002",
                created_at=now,
                updated_at=now,
            )
        )
        await uow.accounts.bind("wechat", openid, person.id, now)
        await uow.commit()
    return person


async def test_click_of_an_unknown_key_shows_the_menu(plain: Any) -> None:
    client, runtime, _ = plain
    await _bound(runtime, "FromUser")
    assert "回复 1" in reply_of(await post(client, fixture("event_click.xml")))["Content"]


async def test_a_service_key_starts_that_service(plain: Any) -> None:
    client, runtime, _ = plain
    await _bound(runtime, "FromUser")
    body = fixture("event_click.xml").replace("EVENTKEY", "ELDERCARE_BOOKING")
    assert "服务" in reply_of(await post(client, body))["Content"]


async def test_the_sos_key_goes_straight_to_help(plain: Any) -> None:
    client, runtime, _ = plain
    body = fixture("event_click.xml").replace("EVENTKEY", "SOS")
    reply = reply_of(await post(client, body))
    assert reply["Content"]
    assert await count(runtime, ServiceRequest, ServiceRequest.kind == "sos") == 1


async def test_view_is_answered_success(plain: Any) -> None:
    client, runtime, _ = plain
    response = await post(client, fixture("event_view.xml"))
    assert response.text == "success"
    assert await count(runtime, MessageRecord) == 0


async def test_template_delivery_report_is_recorded_not_answered(plain: Any) -> None:
    client, runtime, _ = plain
    now = datetime.now(UTC)
    async with UnitOfWork(runtime.sessions) as uow:
        await uow.deliveries.add(
            Delivery(
                channel="wechat",
                purpose="notice",
                method="template",
                status="pending",
                external_id="200163836",
                created_at=now,
            )
        )
        await uow.commit()
    response = await post(client, fixture("event_templatesendjobfinish.xml"))
    assert response.text == "success"
    assert await count(runtime, Delivery, Delivery.status == "sent") == 1
    assert await count(runtime, MessageRecord) == 0


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x "boom">]><xml><Content>&x;</Content></xml>',
        "<xml><MsgType>text</MsgType>" + "<Content>a</Content>" * 8000 + "</xml>",
        "not xml at all",
        "<json>{}</json>",
    ],
)
async def test_hostile_or_broken_bodies_are_refused(plain: Any, body: str) -> None:
    client, runtime, _ = plain
    response = await post(client, body)
    assert response.status_code == 400
    assert await count(runtime, MessageRecord) == 0


# ------------------------------------------------------------------ duplicates
async def test_three_concurrent_copies_run_once_and_get_the_same_reply(plain: Any) -> None:
    client, runtime, _ = plain
    body = fixture("text.xml").replace("this is a test", "我想预约上门理发")
    responses = await asyncio.gather(*(post(client, body) for _ in range(3)))
    contents = [reply_of(r)["Content"] for r in responses]
    assert len(set(contents)) == 1
    assert await count(runtime, MessageRecord, MessageRecord.direction == "in") == 1
    later = reply_of(await post(client, body))  # a retry after the answer: the same answer
    assert later["Content"] == contents[0]
    assert await count(runtime, MessageRecord, MessageRecord.direction == "in") == 1


async def test_repeated_events_are_handled_once(plain: Any) -> None:
    client, runtime, _ = plain
    body = fixture("event_click.xml").replace("EVENTKEY", "SOS")
    await asyncio.gather(*(post(client, body) for _ in range(3)))
    assert await count(runtime, ServiceRequest, ServiceRequest.kind == "sos") == 1


# ------------------------------------------------------------------ safe mode
def _safe(v: dict[str, Any], **changes: Any) -> WeChatSettings:
    base = {"token": v["token"], "aes_key": v["encoding_aes_key"], "app_id": v["app_id"]}
    return WeChatSettings(**(base | changes))


@pytest.mark.parametrize("shape", ["post_body_safe_mode", "post_body_compat_mode"])
async def test_safe_mode_push_is_decrypted_and_the_reply_encrypted(
    app_for: Callable[..., Any], shape: str
) -> None:
    v = vector("safe_mode_vector.json")
    client, _, app = await app_for(_safe(v))
    _at(app, v["query"]["timestamp"])
    response = await client.post("/wechat", params=v["query"], content=v[shape].encode())
    wrapped = reply_of(response)
    assert set(wrapped) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    crypto = WeChatCrypto(v["token"], v["encoding_aes_key"], v["app_id"])
    plain_reply = crypto.decrypt_message(
        response.text, wrapped["MsgSignature"], wrapped["TimeStamp"], wrapped["Nonce"]
    )
    reply = xmltodict.parse(plain_reply)["xml"]
    assert reply["ToUserName"] == v["expected"]["parsed"]["FromUserName"]
    assert reply["FromUserName"] == v["expected"]["parsed"]["ToUserName"]
    assert reply["Content"]


async def test_safe_mode_accepts_the_previous_key(app_for: Callable[..., Any]) -> None:
    v = vector("safe_mode_vector.json")
    rotated = _safe(v, aes_key="k" * 43, previous_aes_key=v["encoding_aes_key"])
    client, _, app = await app_for(rotated)
    _at(app, v["query"]["timestamp"])
    response = await client.post(
        "/wechat", params=v["query"], content=v["post_body_safe_mode"].encode()
    )
    assert set(reply_of(response)) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}


@pytest.mark.parametrize(
    ("change", "query_change"),
    [({}, {"msg_signature": "0" * 40}), ({"app_id": "wx0000000000000000"}, {})],
)
async def test_safe_mode_refuses_a_wrong_msg_signature_or_app_id(
    app_for: Callable[..., Any], change: dict[str, str], query_change: dict[str, str]
) -> None:
    v = vector("safe_mode_vector.json")
    client, runtime, _ = await app_for(_safe(v, **change))
    response = await client.post(
        "/wechat", params=v["query"] | query_change, content=v["post_body_safe_mode"].encode()
    )
    assert response.status_code == 403
    assert await count(runtime, MessageRecord) == 0


async def test_wechatpy_safe_mode_vector_decrypts(app_for: Callable[..., Any]) -> None:
    v = vector("safe_mode_vector_wechatpy.json")
    push = v["decrypt_push"]
    client, runtime, app = await app_for(_safe(v))
    _at(app, push["timestamp"])
    query = sign(v["token"], push["timestamp"], push["nonce"]) | {
        "encrypt_type": "aes",
        "msg_signature": push["msg_signature"],
    }
    response = await client.post("/wechat", params=query, content=push["post_body"].encode())
    assert response.status_code == 200
    async with runtime.sessions() as session:
        logged = await session.scalar(select(MessageRecord).where(MessageRecord.direction == "in"))
    assert logged is not None
    assert (logged.external_user_id, logged.text) == ("messense", "test")


# ------------------------------------------------------------------ replies
def test_long_replies_are_split_under_2048_bytes() -> None:
    text = "\n".join(f"第{i}行：请您明天上午九点到省人民医院门诊大厅" for i in range(200))
    chunks = render_text([Reply(text, (Option("好的", "/affirm"),))])
    assert len(chunks) > 1
    assert all(len(c.encode()) <= MAX_REPLY_BYTES for c in chunks)
    assert "".join(chunks).replace("\n", "") == (text + "回复 1 好的").replace("\n", "")


def test_options_become_reply_with_number_lines() -> None:
    chunks = render_text([Reply("请选择：", (Option("上午", "/a"), Option("下午", "/b")))])
    assert chunks == ["请选择：\n回复 1 上午\n回复 2 下午"]


def test_menu_definition_has_three_menus_of_at_most_five() -> None:
    menu = menu_definition()["button"]
    assert len(menu) == 3
    for button in menu:
        assert len(button.get("sub_button", [])) <= 5
        assert len(button["name"].encode()) <= 16  # WeChat: 4 Chinese characters
    keys = [b["key"] for m in menu for b in m.get("sub_button", [m])]
    assert "SOS" in keys


# ------------------------------------------------------------------ outbound
def _api(base: str, **more: Any) -> WeChatSettings:
    return WeChatSettings(token=TOKEN, app_id="wxtest", app_secret="secret", api_base=base, **more)


async def _wrote(runtime: Runtime, openid: str, at: datetime) -> None:
    """The user wrote to the account at ``at`` (opens the 48-hour window)."""
    async with UnitOfWork(runtime.sessions) as uow:
        account = await uow.accounts.create_unbound("wechat", openid, at)
        uow.messages.add(
            MessageRecord(
                channel="wechat",
                external_user_id=openid,
                account_id=account.id,
                direction="in",
                kind="text",
                text="你好",
                created_at=at,
            )
        )
        await uow.commit()


async def _deliveries(runtime: Runtime) -> list[tuple[str | None, str, str | None]]:
    async with runtime.sessions() as session:
        rows = await session.scalars(select(Delivery).order_by(Delivery.id))
        return [(d.method, d.status, d.error_code) for d in rows]


async def test_inside_the_window_a_customer_service_message_is_sent(
    app_for: Callable[..., Any],
) -> None:
    with running_double() as (double, base):
        _, runtime, _ = await app_for(_api(base))
        await _wrote(runtime, "u1", datetime.now(UTC) - timedelta(hours=47))
        outbound = open_outbound(runtime)
        assert outbound is not None
        await outbound.send("u1", ["您好，陪诊已安排。"], purpose="notice")
        sent = double.called("message/custom/send")
        assert [(b["touser"], b["text"]["content"]) for b in sent] == [("u1", "您好，陪诊已安排。")]
        assert sent[0]["_access_token"] == "TOKEN-1"
        assert await _deliveries(runtime) == [("customer_service", "sent", None)]


async def test_outside_the_window_the_template_is_used(app_for: Callable[..., Any]) -> None:
    with running_double() as (double, base):
        _, runtime, _ = await app_for(_api(base, template_id="TPL1"))
        await _wrote(runtime, "u1", datetime.now(UTC) - timedelta(hours=49))
        outbound = open_outbound(runtime)
        assert outbound is not None
        await outbound.send("u1", ["明天上午有活动。"], purpose="notice")
        assert double.called("message/custom/send") == []
        [template] = double.called("message/template/send")
        assert template["template_id"] == "TPL1"
        assert template["data"]["content"]["value"] == "明天上午有活动。"
        assert await _deliveries(runtime) == [("template", "sent", None)]


@pytest.mark.parametrize("code", [45015, 45047])
async def test_window_or_quota_errors_are_recorded_then_the_template_is_used(
    app_for: Callable[..., Any], code: int
) -> None:
    with running_double() as (double, base):
        _, runtime, _ = await app_for(_api(base, template_id="TPL1"))
        await _wrote(runtime, "u1", datetime.now(UTC) - timedelta(hours=1))
        double.fail("message/custom/send", code)
        outbound = open_outbound(runtime)
        assert outbound is not None
        await outbound.send("u1", ["一", "二"], purpose="notice")
        assert len(double.called("message/custom/send")) == 1  # no blind retry
        assert len(double.called("message/template/send")) == 2
        assert await _deliveries(runtime) == [
            ("customer_service", "failed", str(code)),
            ("template", "sent", None),
            ("template", "sent", None),
        ]


async def test_no_template_and_no_window_is_recorded_as_skipped(
    app_for: Callable[..., Any],
) -> None:
    with running_double() as (double, base):
        _, runtime, _ = await app_for(_api(base))
        outbound = open_outbound(runtime)
        assert outbound is not None
        await outbound.send("never-wrote", ["通知"], purpose="notice")
        assert double.calls == []
        assert await _deliveries(runtime) == [("template", "skipped", None)]


async def test_quota_is_counted_per_window(app_for: Callable[..., Any]) -> None:
    with running_double() as (double, base):
        _, runtime, _ = await app_for(_api(base, template_id="TPL1", cs_quota=2))
        await _wrote(runtime, "u1", datetime.now(UTC) - timedelta(minutes=5))
        outbound = open_outbound(runtime)
        assert outbound is not None
        await outbound.send("u1", ["一", "二", "三"], purpose="notice")
        assert len(double.called("message/custom/send")) == 2
        assert len(double.called("message/template/send")) == 1


async def test_one_token_for_many_processes_and_one_refresh_after_40001(
    app_for: Callable[..., Any],
) -> None:
    with running_double() as (double, base):
        _, runtime, _ = await app_for(_api(base))
        await _wrote(runtime, "u1", datetime.now(UTC))
        double.token_fetch_delay = 0.2
        # Four "processes": four clients sharing nothing but Redis.
        senders = [open_outbound(runtime) for _ in range(4)]
        await asyncio.gather(*(s.send("u1", ["好"], purpose="notice") for s in senders if s))
        assert double.tokens_issued == 1
        # The token is revoked behind our back: one coordinated refresh, one retry each.
        double.tokens_issued += 1
        await asyncio.gather(*(s.send("u1", ["好"], purpose="notice") for s in senders if s))
        assert len(double.called("stable_token")) == 2
        assert all(b["force_refresh"] is False for b in double.called("stable_token"))
        statuses = [status for _, status, _ in await _deliveries(runtime)]
        assert statuses == ["sent"] * 8


async def test_a_late_answer_is_success_now_and_a_customer_service_message_later(
    app_for: Callable[..., Any],
) -> None:
    with running_double() as (double, base):
        client, _, app = await app_for(_api(base, answer_within=0.0))
        response = await post(client, fixture("text.xml").replace("this is a test", "你好"))
        assert response.text == "success"
        await app.state.wechat.drain()
        [sent] = double.called("message/custom/send")
        assert sent["touser"] == "fromUser"
        assert "姓名" in sent["text"]["content"]


async def test_menu_push(app_for: Callable[..., Any]) -> None:
    with running_double() as (double, base):
        _, runtime, _ = await app_for(_api(base))
        outbound = open_outbound(runtime)
        assert outbound is not None
        await outbound.push_menu(menu_definition())
        [menu] = double.called("menu/create")
        assert menu["button"] == menu_definition()["button"]


async def test_a_page_pushed_to_wechat_says_what_to_type_not_a_number(
    app_for: Callable[..., Any],
) -> None:
    with running_double() as (double, base):
        _, runtime, _ = await app_for(_api(base))
        await _wrote(runtime, "staff-openid", datetime.now(UTC) - timedelta(hours=1))
        account = ChannelAccount(channel="wechat", external_id="staff-openid", role="staff")
        account.active = True
        option = Option(texts.ALERT_TAKE_LABEL, payload("alert_take", request=12))
        page = Reply("【紧急求助】张建国\n" + texts.ALERT_TAKE_HINT.format(id=12), (option,))
        notifier = Notifier(wechat=open_outbound(runtime))
        assert await notifier.send(account, [page], purpose="alert") == "sent"
        [sent] = double.called("message/custom/send")
        assert "回复“接 12”" in sent["text"]["content"]
        assert "回复 1" not in sent["text"]["content"]


# ------------------------------------------------------------------ hostile input
def _at(app: Any, timestamp: str) -> None:
    """Set the endpoint's clock to a signed vector's time (its signature cannot change)."""
    app.state.wechat.clock = lambda: datetime.fromtimestamp(int(timestamp), UTC)


async def test_a_replayed_push_with_a_ten_minute_old_timestamp_is_refused(plain: Any) -> None:
    client, runtime, _ = plain
    old = str(int(time.time()) - 600)
    response = await client.post(
        "/wechat", params=sign(TOKEN, old), content=fixture("text.xml").encode()
    )
    assert response.status_code == 403
    assert await count(runtime, MessageRecord) == 0


async def test_a_nonce_used_again_with_another_body_is_refused_a_retry_is_not(
    plain: Any,
) -> None:
    client, runtime, _ = plain
    query = sign(TOKEN)
    first = fixture("text.xml").replace("this is a test", "你好")
    assert (await client.post("/wechat", params=query, content=first.encode())).status_code == 200
    forged = first.replace("你好", "取消我所有的预约").replace("1234567890123456", "99")
    refused = await client.post("/wechat", params=query, content=forged.encode())
    assert refused.status_code == 403
    retry = await client.post("/wechat", params=query, content=first.encode())  # WeChat's own
    assert retry.status_code == 200
    assert await count(runtime, MessageRecord, MessageRecord.direction == "in") == 1


async def test_with_an_aes_key_a_plain_push_is_refused(app_for: Callable[..., Any]) -> None:
    v = vector("safe_mode_vector.json")
    client, runtime, _ = await app_for(_safe(v))
    response = await client.post(
        "/wechat", params=sign(v["token"]), content=fixture("text.xml").encode()
    )
    assert response.status_code == 403
    assert await count(runtime, MessageRecord) == 0
    # During a migration the bureau may allow both (WeChat's 兼容模式).
    client, runtime, _ = await app_for(_safe(v, plain_allowed=True))
    response = await client.post(
        "/wechat", params=sign(v["token"]), content=fixture("text.xml").encode()
    )
    assert response.status_code == 200


def _without(xml: str, tag: str) -> str:
    return "\n".join(line for line in xml.splitlines() if f"<{tag}>" not in line)


MALFORMED = {
    "no Content": _without(fixture("text.xml"), "Content"),
    "an empty Content": fixture("text.xml").replace("<![CDATA[this is a test]]>", ""),
    "a MsgId that is no number": fixture("text.xml").replace("1234567890123456", "abc"),
    "no Location_X": _without(fixture("location.xml"), "Location_X"),
    "a Location_X that is no number": fixture("location.xml").replace("23.134521", "abc"),
    "no Latitude": _without(fixture("event_location.xml"), "Latitude"),
    "a Latitude that is no number": fixture("event_location.xml").replace("23.137466", "北"),
    "two MsgType": fixture("text.xml").replace(
        "<MsgType>", "<MsgType><![CDATA[image]]></MsgType><MsgType>"
    ),
    "a type we do not know": fixture("text.xml").replace(
        "<![CDATA[text]]>", "<![CDATA[miniprogrampage]]>"
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
async def test_a_signed_but_malformed_push_is_never_a_5xx(plain: Any, case: str) -> None:
    client, runtime, _ = plain
    response = await post(client, MALFORMED[case])
    assert response.status_code in {200, 400}, response.text
    assert "Traceback" not in response.text
    assert await count(runtime, MessageRecord, MessageRecord.direction == "in") <= 1


async def test_a_type_we_do_not_know_is_logged_as_other(plain: Any) -> None:
    client, runtime, _ = plain
    assert (await post(client, MALFORMED["a type we do not know"])).status_code == 200
    async with runtime.sessions() as session:
        logged = await session.scalar(select(MessageRecord).where(MessageRecord.direction == "in"))
    assert logged is not None
    assert logged.kind == "other"
    assert "miniprogrampage" in (logged.text or "")


async def test_a_push_without_a_sender_is_refused(plain: Any) -> None:
    client, runtime, _ = plain
    response = await post(client, _without(fixture("text.xml"), "FromUserName"))
    assert response.status_code == 400
    assert await count(runtime, MessageRecord) == 0


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999", "91", "-181"])
async def test_an_impossible_location_is_ignored_and_the_next_sos_is_written(
    plain: Any, value: str
) -> None:
    client, runtime, _ = plain
    where = fixture("event_location.xml").replace("23.137466", value).replace("123456789", "1")
    where = where.replace("113.352425", value)
    assert (await post(client, where)).status_code == 200
    store = runtime.store
    assert isinstance(store, RedisStore)
    state = Conversation.from_json(await store.redis.get(store.keys.state("wechat:fromUser")))
    assert state.location is None  # never kept: it could not be written as JSON
    sos = fixture("text.xml").replace("this is a test", "救命 我摔倒了起不来")
    answer = reply_of(await post(client, sos))
    assert "已收到您的紧急求助" in answer["Content"]
    assert await count(runtime, ServiceRequest, ServiceRequest.kind == "sos") == 1


async def test_safe_mode_with_bad_padding_and_a_valid_signature_is_never_a_5xx(
    app_for: Callable[..., Any],
) -> None:
    v = vector("safe_mode_vector.json")
    client, runtime, _ = await app_for(_safe(v))
    encrypt = bad_padding(v["encoding_aes_key"])
    timestamp, nonce = str(int(time.time())), "55555"
    signature = hashlib.sha1(  # noqa: S324 - WeChat's scheme
        "".join(sorted([v["token"], timestamp, nonce, encrypt])).encode()
    ).hexdigest()
    query = sign(v["token"], timestamp, nonce) | {
        "encrypt_type": "aes",
        "msg_signature": signature,
    }
    body = (
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    )
    response = await client.post("/wechat", params=query, content=body.encode())
    assert 400 <= response.status_code < 500
    assert await count(runtime, MessageRecord) == 0
