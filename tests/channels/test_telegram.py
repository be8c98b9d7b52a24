"""The Telegram channel through the real python-telegram-bot, against a local Bot API double.

Updates go in as Telegram sends them (POST /telegram with the secret header, through the
whole app); everything the bot says comes out as Bot API calls the double records. The
pipeline, the database and Redis are the real ones. Several fixtures share one update_id
(see tests/fixtures/README.md 2.1), so every test gets a fresh de-duplication store.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.channels.telegram import (
    MENU_PAYLOADS,
    TelegramChannel,
    callback_data,
    render,
    reply_keyboard,
    split_text,
)
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.runtime import Runtime
from bot.settings import Settings, TelegramSettings
from handlers import texts
from handlers.base import Option, Reply, ServiceConfig, payload
from nlu.engine import EmbeddedEngine
from storage.db import make_sessions
from storage.demo import demo_phone, seed_demo
from storage.models import MessageRecord, Person, ServiceRequest
from storage.state import RedisStore
from storage.uow import UnitOfWork
from tests.channels.botapi_double import TOKEN, BotApiDouble, serve
from tests.conftest import REDIS_URL, REPO

FIXTURES = REPO / "tests" / "fixtures" / "telegram"
SECRET = "s3cret-Token_for-tests"
WEBHOOK_URL = "https://bot.example.org/telegram"
SQLITE = pytest.mark.parametrize("db", ["sqlite"], indirect=True)  # enough for the wire format


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return data


def telegram_settings(api: BotApiDouble, **changes: Any) -> TelegramSettings:
    values: dict[str, Any] = {
        "token": TOKEN,
        "webhook_secret": SECRET,
        "webhook_url": WEBHOOK_URL,
        "api_base": api.url,
    }
    return TelegramSettings(**(values | changes))


@pytest.fixture(scope="module")
def botapi() -> Iterator[BotApiDouble]:
    with serve(BotApiDouble()) as double:
        yield double


@pytest.fixture
def api(botapi: BotApiDouble) -> BotApiDouble:
    """The double, with no calls recorded yet."""
    botapi.reset()
    return botapi


@pytest.fixture
async def runtime(
    db: AsyncEngine,
    engine_nlu: EmbeddedEngine,
    redis_store: RedisStore,
    api: BotApiDouble,
    now: datetime,
) -> Runtime:
    """The demo data on the test database; state and de-duplication in Redis."""
    sessions = make_sessions(db)
    async with UnitOfWork(sessions) as uow:
        await seed_demo(uow, now)
        await uow.commit()
    settings = Settings(
        telegram=telegram_settings(api), redis_url=REDIS_URL, redis_prefix=redis_store.keys.prefix
    )
    metrics = Metrics()
    pipeline = Pipeline(sessions, redis_store, engine_nlu, ServiceConfig(), metrics)
    await pipeline.refresh_lookups(now)
    return Runtime(
        settings, db, sessions, redis_store.redis, redis_store, engine_nlu, metrics, pipeline
    )


@dataclass
class Telegram:
    """Plays Telegram's side: posts updates to the webhook, reads what the bot sent."""

    client: httpx.AsyncClient
    channel: TelegramChannel
    api: BotApiDouble
    runtime: Runtime
    update_ids: Iterator[int] = field(default_factory=lambda: count(500_000_001))
    message_ids: Iterator[int] = field(default_factory=lambda: count(1))

    async def post(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        """POST one update as Telegram does, then wait until the bot has handled it."""
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        response = await self.client.post("/telegram", json=update, headers=headers)
        await self.channel.drain()
        return response

    def message(self, user: int, **content: Any) -> dict[str, Any]:
        """A private-chat message update from ``user``."""
        who = {"id": user, "is_bot": False, "first_name": "老张", "language_code": "zh-hans"}
        chat = {"id": user, "first_name": "老张", "type": "private"}
        message = {"message_id": next(self.message_ids), "from": who, "chat": chat}
        return {
            "update_id": next(self.update_ids),
            "message": message | {"date": 1795000000} | content,
        }

    def command(self, user: int, text: str) -> dict[str, Any]:
        """A command as Telegram sends it (with its bot_command entity)."""
        length = len(text.split(" ", 1)[0])
        entity = {"offset": 0, "length": length, "type": "bot_command"}
        return self.message(user, text=text, entities=[entity])

    def press(self, user: int, sent: dict[str, Any], label: str) -> dict[str, Any]:
        """The update for pressing the inline button containing ``label`` under ``sent``."""
        keyboard = sent["reply_markup"]["inline_keyboard"]
        [button] = [b for row in keyboard for b in row if label in b["text"]]
        who = {"id": user, "is_bot": False, "first_name": "老张"}
        shown = {
            "message_id": next(self.message_ids),
            "from": {"id": 111111111, "is_bot": True, "first_name": "银龄通"},
            "chat": {"id": user, "type": "private"},
            "date": 1795000000,
            "text": sent["text"],
            "reply_markup": sent["reply_markup"],
        }
        query = {
            "id": str(next(self.update_ids)),
            "from": who,
            "message": shown,
            "chat_instance": "42",
            "data": button["callback_data"],
        }
        return {"update_id": next(self.update_ids), "callback_query": query}


@pytest.fixture
async def telegram(runtime: Runtime, api: BotApiDouble, now: datetime) -> AsyncIterator[Telegram]:
    """The whole app with the Telegram webhook on; the channel's clock is the tests' clock."""
    app = create_app(runtime=runtime)
    async with app.router.lifespan_context(app):
        channel: TelegramChannel = app.state.telegram
        channel.clock = lambda: now
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Telegram(client, channel, api, runtime)


def keyboard_of(sent: dict[str, Any]) -> list[dict[str, Any]]:
    """The reply-keyboard buttons of a sendMessage (empty if it has none)."""
    markup = sent.get("reply_markup") or {}
    return [b for row in markup.get("keyboard", []) for b in row]


async def logged(runtime: Runtime, message_id: str) -> MessageRecord | None:
    async with UnitOfWork(runtime.sessions) as uow:
        record: MessageRecord | None = await uow.session.scalar(
            select(MessageRecord).where(MessageRecord.message_id == message_id)
        )
        return record


async def bind(runtime: Runtime, user: int, now: datetime, index: int = 0) -> Person:
    """Bind a Telegram user to a demo retiree, as staff would."""
    async with UnitOfWork(runtime.sessions) as uow:
        person_id = (await uow.people.all_ids())[index]
        await uow.accounts.bind("telegram", str(user), person_id, now)
        person = await uow.people.get(person_id)
        await uow.commit()
    assert person is not None
    return person


# ------------------------------------------------------------------ the fixtures
@SQLITE
async def test_private_text_is_answered_in_its_chat(telegram: Telegram) -> None:
    assert (await telegram.post(fixture("private_text.json"))).status_code == 200
    sent = telegram.api.sent(12345678)
    assert sent
    notice = texts.CONSENT_NOTICE.format(bureau=ServiceConfig().bureau)
    assert notice in "\n".join(telegram.api.texts(12345678))  # unknown: binding, notice first
    # Before binding, the keyboard offers to share the phone number, and the red SOS button.
    buttons = keyboard_of(sent[-1])
    assert {"text": texts.SHARE_PHONE_BUTTON, "request_contact": True} in buttons
    assert any(b["text"] == texts.SOS_BUTTON and b.get("style") == "danger" for b in buttons)


@SQLITE
async def test_start_without_entity_is_text_and_still_welcomes(telegram: Telegram) -> None:
    await telegram.post(fixture("start_command.json"))
    said = "\n".join(telegram.api.texts(456))
    assert texts.CONSENT_NOTICE.format(bureau=ServiceConfig().bureau) in said
    record = await logged(telegram.runtime, "upd:3")
    assert record is not None
    assert record.intent != "subscribe"  # no entity: not a command, read as text


@SQLITE
async def test_start_command_welcomes_and_offers_the_phone_button(telegram: Telegram) -> None:
    update = fixture("start_command.json")
    update["message"]["entities"] = [{"offset": 0, "length": 6, "type": "bot_command"}]
    await telegram.post(update)
    said = telegram.api.texts(456)
    assert texts.CONSENT_NOTICE.format(bureau=ServiceConfig().bureau) in "\n".join(said)
    assert said[-1] == texts.TELEGRAM_SHARE_PHONE
    record = await logged(telegram.runtime, "upd:3")
    assert record is not None
    assert record.intent == "subscribe"


@SQLITE
async def test_unknown_command_gets_a_polite_answer_not_the_nlu(telegram: Telegram) -> None:
    await telegram.post(fixture("command_with_entity.json"))
    said = telegram.api.texts(10081232)
    assert said[0] == texts.TELEGRAM_UNKNOWN_COMMAND
    record = await logged(telegram.runtime, "upd:144064961")
    assert record is not None
    assert record.intent == "menu"
    assert record.confidence == 1.0


@SQLITE
async def test_someone_elses_contact_card_does_not_bind(telegram: Telegram) -> None:
    await telegram.post(fixture("contact.json"))  # no contact.user_id
    assert telegram.api.texts(12345)[0] == texts.CONTACT_NOT_OWN
    async with UnitOfWork(telegram.runtime.sessions) as uow:
        _, person = await uow.accounts.identify("telegram", "12345")
    assert person is None


@SQLITE
async def test_an_own_contact_with_an_unknown_number_asks_for_the_name(telegram: Telegram) -> None:
    update = fixture("contact.json")
    update["message"]["contact"]["user_id"] = 12345
    await telegram.post(update)
    said = "\n".join(telegram.api.texts(12345))
    assert "没有找到手机号" in said
    assert "911" not in said.replace("****", "")  # shown masked, never in full


@SQLITE
async def test_location_is_acknowledged_and_kept(telegram: Telegram) -> None:
    await telegram.post(fixture("location.json"))
    assert telegram.api.texts(12345) == [texts.LOCATION_NOTED]
    record = await logged(telegram.runtime, "upd:123456789")
    assert record is not None
    assert record.kind == "location"


@SQLITE
async def test_voice_is_acknowledged_and_its_file_id_kept(telegram: Telegram) -> None:
    await telegram.post(fixture("voice.json"))
    said = telegram.api.texts(12345)
    assert said
    assert "语音" in said[0]
    record = await logged(telegram.runtime, "upd:123456789")
    assert record is not None
    assert (record.kind, record.media_id) == ("voice", "dfghjjghdjhgd")


@SQLITE
async def test_a_button_with_unknown_data_is_answered_and_otherwise_ignored(
    telegram: Telegram,
) -> None:
    response = await telegram.post(fixture("callback_query.json"))
    assert response.status_code == 200
    answered = telegram.api.calls_to("answerCallbackQuery")
    assert [a["callback_query_id"] for a in answered] == ["666728699048485871"]
    assert telegram.api.sent() == []


@SQLITE
@pytest.mark.parametrize("name", ["edited_message.json", "group_message.json"])
async def test_edits_and_groups_get_no_reply(telegram: Telegram, name: str) -> None:
    before = len(telegram.api.calls)
    assert (await telegram.post(fixture(name))).status_code == 200
    assert telegram.api.calls[before:] == []
    async with UnitOfWork(telegram.runtime.sessions) as uow:
        assert await uow.session.scalar(select(MessageRecord)) is None


# ------------------------------------------------------------------ the webhook
@SQLITE
@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x"])
async def test_a_wrong_or_missing_secret_is_refused(telegram: Telegram, secret: str | None) -> None:
    before = len(telegram.api.calls)
    response = await telegram.post(fixture("private_text.json"), secret=secret)
    assert response.status_code == 403
    await asyncio.sleep(0.05)
    assert telegram.api.calls[before:] == []
    assert await logged(telegram.runtime, "upd:123456789") is None


@SQLITE
@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"message": {}}',
        b'{"update_id": 1, "message": {"message_id": 1}}',
        b'{"update_id": 1, "message": {"message_id": 1, "date": 1e20, '
        b'"chat": {"id": 1, "type": "private"}}}',
        b'{"update_id": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",  # nested 100k deep
        b'{"update_id": 1, "message": ' + b'{"a": ' * 200 + b"1" + b"}" * 200 + b"}",
    ],
)
async def test_an_unreadable_body_is_a_bad_request(telegram: Telegram, body: bytes) -> None:
    response = await telegram.client.post(
        "/telegram", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
    )
    assert response.status_code == 400


@SQLITE
async def test_the_same_update_twice_at_once_is_answered_once(telegram: Telegram) -> None:
    update = fixture("private_text.json")
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    first, second = await asyncio.gather(
        telegram.client.post("/telegram", json=update, headers=headers),
        telegram.client.post("/telegram", json=update, headers=headers),
    )
    assert (first.status_code, second.status_code) == (200, 200)
    await telegram.channel.drain()
    once = telegram.api.texts(12345678)
    assert once
    await telegram.post(update)  # and a later retry changes nothing either
    assert telegram.api.texts(12345678) == once


@SQLITE
async def test_webhook_mode_refuses_to_start_without_a_secret(
    runtime: Runtime, api: BotApiDouble
) -> None:
    channel = TelegramChannel(telegram_settings(api, webhook_secret=None), runtime, webhook=True)
    with pytest.raises(ValueError, match="WEBHOOK_SECRET"):
        await channel.start()
    await channel.stop()
    assert api.calls == []


@SQLITE
async def test_a_user_who_blocked_the_bot_is_marked_inactive(
    telegram: Telegram, now: datetime
) -> None:
    await bind(telegram.runtime, 5550001, now)
    telegram.api.block(5550001)
    await telegram.post(telegram.message(5550001, text="你好"))
    assert len(telegram.api.sent(5550001)) == 1  # tried once, then stopped
    async with UnitOfWork(telegram.runtime.sessions) as uow:
        account = await uow.accounts.find("telegram", "5550001")
    assert account is not None
    assert account.active is False
    # Unblocked, the user writes again: known at once, no second binding.
    telegram.api.unblock(5550001)
    await telegram.post(telegram.message(5550001, text="你好"))
    assert "姓名" not in telegram.api.texts(5550001)[-1]
    async with UnitOfWork(telegram.runtime.sessions) as uow:
        account = await uow.accounts.find("telegram", "5550001")
    assert account is not None
    assert account.active is True


# ------------------------------------------------------------------ buttons and keyboards
@SQLITE
async def test_the_sos_button_raises_an_sos_and_asks_for_the_location(
    telegram: Telegram, now: datetime
) -> None:
    await bind(telegram.runtime, 5550002, now)
    await telegram.post(telegram.message(5550002, text=texts.SOS_BUTTON))
    sent = telegram.api.sent(5550002)
    assert "紧急求助" in sent[0]["text"]
    assert sent[-1]["text"] == texts.ASK_LOCATION
    assert {"text": texts.SHARE_LOCATION_BUTTON, "request_location": True} in keyboard_of(sent[-1])
    [sos] = [r for r in await requests_of(telegram.runtime) if r.kind == "sos"]
    assert sos.details["text"] == texts.SOS_BUTTON
    # The location that follows goes to the duty officer with the SOS.
    location = fixture("location.json")["message"]["location"]
    await telegram.post(telegram.message(5550002, location=location))
    assert telegram.api.texts(5550002)[-1] == texts.LOCATION_TO_DUTY
    [sos] = [r for r in await requests_of(telegram.runtime) if r.kind == "sos"]
    assert sos.details["location"]["latitude"] == pytest.approx(41.899977)
    # …and the keyboard is the main menu again.
    assert any(b["text"] == "上门服务" for b in keyboard_of(telegram.api.sent(5550002)[-1]))


@SQLITE
async def test_help_and_menu_show_the_menu_keyboard(telegram: Telegram, now: datetime) -> None:
    await bind(telegram.runtime, 5550003, now)
    await telegram.post(telegram.command(5550003, "/help"))
    sent = telegram.api.sent(5550003)
    assert sent[0]["text"] == texts.TELEGRAM_HELP
    labels = {b["text"] for b in keyboard_of(sent[0])}
    assert labels >= {"预约陪诊", "上门服务", "找工作人员", texts.SOS_BUTTON}
    assert sent[0]["reply_markup"]["resize_keyboard"] is True
    await telegram.post(telegram.command(5550003, "/menu"))
    menu = telegram.api.sent(5550003)[len(sent) :]
    assert menu[0]["reply_markup"]["inline_keyboard"][0][0]["text"].startswith("1. ")
    assert menu[-1]["text"] == texts.TELEGRAM_KEYBOARD_HINT  # the keyboard rides on a hint


@SQLITE
async def test_a_deep_link_code_binds_at_once(telegram: Telegram, now: datetime) -> None:
    async with UnitOfWork(telegram.runtime.sessions) as uow:
        person_id = (await uow.people.all_ids())[1]
        issued = await uow.codes.issue(now, "test", role="retiree", person_id=person_id)
        await uow.commit()
    await telegram.post(telegram.command(5550004, f"/start {issued.code}"))
    assert "同意" in telegram.api.texts(5550004)[0]  # the privacy notice, the code kept
    await telegram.post(telegram.message(5550004, text="同意"))
    async with UnitOfWork(telegram.runtime.sessions) as uow:
        _, person = await uow.accounts.identify("telegram", "5550004")
    assert person is not None
    assert person.id == person_id
    assert any(b["text"] == "上门服务" for b in keyboard_of(telegram.api.sent(5550004)[-1]))


async def requests_of(runtime: Runtime) -> list[ServiceRequest]:
    async with UnitOfWork(runtime.sessions) as uow:
        return list(await uow.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)))


# ------------------------------------------------------------------ done when
async def test_a_new_user_binds_by_contact_and_books_eldercare_with_buttons(
    telegram: Telegram,
) -> None:
    """/start → own contact → bound → 上门服务 → service, day, part of day, confirm."""
    user = 7000001
    tg, api = telegram, telegram.api

    await tg.post(tg.command(user, "/start"))
    phone_button = {"text": texts.SHARE_PHONE_BUTTON, "request_contact": True}
    assert phone_button in keyboard_of(api.sent(user)[-1])

    contact = {"phone_number": "+86" + demo_phone(0), "first_name": "建国", "user_id": user}
    await tg.post(tg.message(user, contact=contact))
    assert "已经认出您了" in api.texts(user)[-2]
    assert any(b["text"] == "上门服务" for b in keyboard_of(api.sent(user)[-1]))  # menu now
    async with UnitOfWork(tg.runtime.sessions) as uow:
        _, person = await uow.accounts.identify("telegram", str(user))
    assert person is not None
    assert person.phone == demo_phone(0)

    await tg.post(tg.message(user, text="上门服务"))  # the reply-keyboard button
    question = api.sent(user)[-1]
    assert texts.CARE_ASK_SERVICE in question["text"]
    await tg.post(tg.press(user, question, "理发"))
    question = api.sent(user)[-1]
    assert "哪一天" in question["text"]
    await tg.post(tg.press(user, question, "11月24日"))
    question = api.sent(user)[-1]
    assert question["text"] == texts.ASK_PART
    await tg.post(tg.press(user, question, "下午"))
    question = api.sent(user)[-1]
    assert "请核对" in question["text"]
    await tg.post(tg.press(user, question, texts.CONFIRM_YES))

    assert "已约好上门理发" in api.texts(user)[-1]
    [booked] = [r for r in await requests_of(tg.runtime) if r.kind == "eldercare"]
    assert (booked.person_id, booked.status) == (person.id, "booked")
    assert (booked.scheduled_date.isoformat(), booked.scheduled_time) == (
        "2026-11-24",
        "afternoon",
    )
    # Every press was answered, and each question now shows what was chosen.
    assert len(api.calls_to("answerCallbackQuery")) == 4
    marks = [e["text"] for e in api.calls_to("editMessageText")]
    assert any(m.startswith(texts.ASK_PART) and "您选了：" in m and "下午" in m for m in marks)


# ------------------------------------------------------------------ polling
@SQLITE
async def test_polling_deletes_the_webhook_then_handles_updates(
    runtime: Runtime, api: BotApiDouble, now: datetime
) -> None:
    channel = TelegramChannel(runtime.settings.telegram, runtime, webhook=False, clock=lambda: now)
    await channel.start()
    api.queue_update(fixture("private_text.json"))
    stop = asyncio.Event()
    polling = asyncio.create_task(channel.poll(stop))
    try:
        for _ in range(400):
            if api.sent(12345678):
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await polling
        await channel.stop()
    assert texts.CONSENT_NOTICE.format(bureau=ServiceConfig().bureau) in "\n".join(
        api.texts(12345678)
    )
    methods = [c.method for c in api.calls]
    assert "setWebhook" not in methods
    assert methods.index("deleteWebhook") < methods.index("getUpdates")


# ------------------------------------------------------------------ the CLI
def yinling(api: BotApiDouble, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {
        "YINLING_TELEGRAM__TOKEN": TOKEN,
        "YINLING_TELEGRAM__API_BASE": api.url,
        "YINLING_TELEGRAM__WEBHOOK_URL": WEBHOOK_URL,
        "YINLING_TELEGRAM__WEBHOOK_SECRET": SECRET,
    }
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "bot.cli", "telegram", *args],
        env={**os.environ, **variables, **env},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )


def test_cli_registers_the_webhook_with_its_secret(api: BotApiDouble) -> None:
    result = yinling(api, "webhook")
    assert result.returncode == 0, result.stderr
    [registered] = api.calls_to("setWebhook")
    assert registered["url"] == WEBHOOK_URL
    assert registered["secret_token"] == SECRET
    assert registered["allowed_updates"] == ["message", "callback_query"]
    [commands] = api.calls_to("setMyCommands")
    assert [c["command"] for c in commands["commands"]] == ["start", "menu", "help", "sos"]


def test_cli_webhook_needs_a_secret(api: BotApiDouble) -> None:
    result = yinling(api, "webhook", YINLING_TELEGRAM__WEBHOOK_SECRET="")
    assert result.returncode == 2
    assert "WEBHOOK_SECRET" in result.stderr
    assert api.calls_to("setWebhook") == []


# ------------------------------------------------------------------ rendering
def test_long_replies_are_split_within_telegrams_limit() -> None:
    text = "\n".join(["一二三四五六七八九十" * 30] * 20)  # 6,019 characters
    chunks = split_text(text)
    assert len(chunks) == 2
    assert all(len(c) <= 4096 for c in chunks)
    assert "\n".join(chunks) == text
    emoji = "🆘" * 3000  # two UTF-16 units each, one line
    cut = split_text(emoji)
    assert [len(c) for c in cut] == [2048, 952]


def test_options_become_numbered_buttons_with_short_callback_data() -> None:
    short = Option("上午", payload("inform", time="morning"))
    long = Option("很长", payload("inform", hospital="苏州大学附属第一医院" * 3))
    [message] = render([Reply("上午还是下午？", (short, long))])
    assert message.markup is not None
    rows = message.markup.to_dict()["inline_keyboard"]
    assert [r[0]["text"] for r in rows] == ["1. 上午", "2. 很长"]
    assert [r[0]["callback_data"] for r in rows] == [short.payload, "2"]
    assert callback_data(long, 2) == "2"


def test_the_reply_keyboard_rides_on_the_last_message_without_options() -> None:
    keyboard = reply_keyboard(bound=True)
    options = (Option("确认", "/affirm"),)
    plain, _ = render([Reply("好的"), Reply("对吗？", options)], keyboard)
    assert plain.markup is keyboard
    [only, hint] = render([Reply("对吗？", options)], keyboard, carrier="👇")
    assert hint.markup is keyboard
    assert render([Reply("对吗？", options)], keyboard) == [only]  # no carrier: unchanged


def test_menu_buttons_go_straight_to_their_intents() -> None:
    assert MENU_PAYLOADS["上门服务"] == "/eldercare_booking"
    assert MENU_PAYLOADS[texts.SOS_BUTTON] == "/sos"
    labels = {b.text for row in reply_keyboard(bound=True).keyboard for b in row}
    assert labels == set(MENU_PAYLOADS) - {"一键求助"}


@SQLITE
async def test_stop_lets_updates_in_flight_finish(runtime: Runtime, api: BotApiDouble) -> None:
    app = create_app(runtime=runtime)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            response = await client.post(
                "/telegram", json=fixture("private_text.json"), headers=headers
            )
            assert response.status_code == 200
            assert api.texts(12345678) == []  # 200 at once, before the answer
    # The lifespan ended right after the 200; the answer still went out.
    assert api.texts(12345678)


@SQLITE
async def test_an_option_number_as_button_data_picks_that_option(
    telegram: Telegram, now: datetime
) -> None:
    """Payloads over 64 bytes go on buttons as their number; the pipeline takes it."""
    await bind(telegram.runtime, 5550005, now)
    await telegram.post(telegram.command(5550005, "/menu"))
    menu = telegram.api.sent(5550005)[0]
    press = telegram.press(5550005, menu, "上门服务")
    press["callback_query"]["data"] = "4"  # as if its payload had been too long
    await telegram.post(press)
    assert texts.CARE_ASK_SERVICE in telegram.api.texts(5550005)[-1]


@SQLITE
async def test_a_photo_is_kept_with_its_file_id(telegram: Telegram, now: datetime) -> None:
    await bind(telegram.runtime, 5550006, now)
    sizes = [
        {"file_id": f"photo-{w}", "file_unique_id": f"u{w}", "width": w, "height": w}
        for w in (90, 320, 1280)
    ]
    update = telegram.message(5550006, photo=sizes, caption="我的病历")
    await telegram.post(update)
    [said] = telegram.api.texts(5550006)
    assert said.startswith("收到您的图片")  # attached to the demo retiree's open claim
    record = await logged(telegram.runtime, f"upd:{update['update_id']}")
    assert record is not None
    assert (record.kind, record.media_id, record.text) == ("image", "photo-1280", "我的病历")
