"""A live deployment for the console's browser tests: real ``yinling serve`` and ``yinling
worker`` processes on a PostgreSQL database of their own and real Redis, with WeChat and
Telegram configured against the local doubles of their API servers (tests/channels), the
demo roster, and staff who sign in to the console.

Retirees write through the real endpoints: ``wechat()`` posts a signed push to /wechat and
returns the bot's passive reply; ``telegram()`` posts an update to the webhook.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import httpx

from bot.console.auth import hash_password
from storage.db import make_engine, make_sessions, upgrade
from storage.demo import seed_demo
from storage.models import Staff
from storage.uow import UnitOfWork
from tests.channels.botapi_double import TOKEN as TELEGRAM_TOKEN
from tests.channels.botapi_double import BotApiDouble, serve
from tests.channels.wechat_double import WeChatDouble, running_double
from tests.processes import WECHAT_TOKEN, YinlingProcess, wechat_text

__all__ = ["Live", "live_deployment", "run_async", "wait_for"]

T = TypeVar("T")

PASSWORD = "console-test-pw-1"  # every console user of the live deployment
TELEGRAM_SECRET = "console-browser-secret"
WECHAT_RETIREE = "o_console_retiree_1"  # bound to demo person 1 on WeChat
TELEGRAM_RETIREE = 70001  # bound to demo person 2 on Telegram
TELEGRAM_DUTY = 90001  # the duty officer's Telegram (pages arrive there)
GROUP_TAG = "浏览器群发"  # the tag of the ``group`` people (a broadcast segment of their own)
GROUP_CHATS = 70101  # their Telegram chats: 70101, 70102, …


@dataclass
class Live:
    """The running deployment, its doubles, and who is who in it."""

    url: str
    database_url: str
    wechat_api: WeChatDouble
    telegram_api: BotApiDouble
    people: dict[str, int] = field(default_factory=dict)  # wechat / telegram -> person id
    users: dict[str, str] = field(default_factory=dict)  # role -> console user name
    staff: dict[str, int] = field(default_factory=dict)  # role -> staff id
    group: dict[int, int] = field(default_factory=dict)  # Telegram chat -> person (GROUP_TAG)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(int(time.time())))

    def wechat(self, text: str, openid: str = WECHAT_RETIREE) -> str:
        """A retiree writes on WeChat; the bot's passive reply (its text)."""
        query, body = wechat_text(text, openid, str(next(self._ids)))
        response = httpx.post(f"{self.url}/wechat", params=query, content=body, timeout=30)
        response.raise_for_status()
        found = re.search(r"<Content><!\[CDATA\[(.*?)\]\]></Content>", response.text, re.S)
        return found[1] if found else ""

    def telegram(self, text: str, chat: int = TELEGRAM_RETIREE) -> None:
        """A retiree writes on Telegram (an update posted to the webhook)."""
        who = {"id": chat, "is_bot": False, "first_name": "老李", "language_code": "zh-hans"}
        message = {
            "message_id": next(self._ids) % 10**9,
            "from": who,
            "chat": {"id": chat, "first_name": "老李", "type": "private"},
            "date": int(time.time()),
            "text": text,
        }
        update = {"update_id": next(self._ids) % 10**9, "message": message}
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
        response = httpx.post(f"{self.url}/telegram", json=update, headers=headers, timeout=30)
        response.raise_for_status()

    def wechat_sent(self, openid: str = WECHAT_RETIREE) -> list[str]:
        """What was sent to a WeChat user outside replies (customer-service messages)."""
        return [
            str(body["text"]["content"])
            for body in self.wechat_api.called("message/custom/send")
            if body.get("touser") == openid and "text" in body
        ]

    def telegram_sent(self, chat: int = TELEGRAM_RETIREE) -> list[str]:
        """What the bot sent to a Telegram chat."""
        return self.telegram_api.texts(chat)


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end on a loop of its own (in a thread: the test's own loop
    may be running)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def wait_for(check: Any, seconds: float = 15.0, what: str = "it") -> Any:
    """Poll ``check()`` until it returns something truthy."""
    deadline = time.monotonic() + seconds
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen in {seconds} s")
        time.sleep(0.1)


def _dsn(url: str, database: str | None = None) -> str:
    base, _, current = url.rpartition("/")
    return f"{base}/{database or current}".replace("postgresql+asyncpg://", "postgresql://")


async def _seed(
    database_url: str, group: int = 0
) -> tuple[dict[str, int], dict[str, str], dict[str, int], dict[int, int]]:
    engine = make_engine(database_url)
    await upgrade(engine)
    now = datetime.now(UTC)
    people: dict[str, int] = {}
    users: dict[str, str] = {}
    staff: dict[str, int] = {}
    tagged: dict[int, int] = {}
    try:
        async with UnitOfWork(make_sessions(engine)) as uow:
            await seed_demo(uow, now)
            digest = await hash_password(PASSWORD)
            # The demo's duty officer (on call at level 1) signs in and is paged on Telegram.
            members = await uow.workbench.all_staff()
            for member in members:
                member.username = f"{member.role}-{member.id}"
                member.password_hash = digest
                users.setdefault(member.role, member.username)
                staff.setdefault(member.role, member.id)
            for role in ("clerk", "admin"):
                added = await uow.staff.add(
                    Staff(name=f"测试{role}", role=role, active=True, created_at=now,
                          username=f"{role}-console", password_hash=digest)
                )  # fmt: skip
                users[role], staff[role] = added.username or "", added.id
            await uow.accounts.bind(
                "telegram", str(TELEGRAM_DUTY), 0, now, role="staff", staff_id=staff["duty"]
            )
            ids = await uow.people.all_ids()
            people["wechat"], people["telegram"] = ids[0], ids[1]
            await uow.accounts.bind("wechat", WECHAT_RETIREE, ids[0], now)
            await uow.accounts.bind("telegram", str(TELEGRAM_RETIREE), ids[1], now)
            for chat, person_id in zip(
                range(GROUP_CHATS, GROUP_CHATS + group), ids[2 : 2 + group], strict=True
            ):
                await uow.accounts.bind("telegram", str(chat), person_id, now)
                await uow.people.tag(person_id, GROUP_TAG, now)
                tagged[chat] = person_id
            await uow.commit()
    finally:
        await engine.dispose()
    return people, users, staff, tagged


@contextmanager
def live_deployment(server: str, redis_url: str, logs: Path, group: int = 0) -> Iterator[Live]:
    """Start everything; stop it and drop its database at the end. ``group``: that many
    more demo people bound on Telegram and tagged ``GROUP_TAG`` (for broadcasts)."""
    name = f"yinling_console_{uuid.uuid4().hex[:8]}"
    database_url = server.rpartition("/")[0] + "/" + name

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(_dsn(server))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    run_async(admin(f'CREATE DATABASE "{name}"'))
    processes: list[YinlingProcess] = []
    try:
        people, users, staff, tagged = run_async(_seed(database_url, group))
        with running_double() as (wechat_api, wechat_base), serve(BotApiDouble()) as telegram_api:
            env = {
                "YINLING_DATABASE_URL": database_url,
                "YINLING_REDIS_URL": redis_url,
                "YINLING_REDIS_PREFIX": f"ylconsole:{uuid.uuid4().hex[:6]}:",
                "YINLING_ADMIN_LISTEN": "",
                "YINLING_LOG_FORMAT": "json",
                "YINLING_RECONCILE_SECONDS": "2",
                "YINLING_SPOOL_DIR": str(logs / "spool"),
                "YINLING_WECHAT__TOKEN": WECHAT_TOKEN,
                "YINLING_WECHAT__APP_ID": "wxconsoletest",
                "YINLING_WECHAT__APP_SECRET": "secret",
                "YINLING_WECHAT__API_BASE": wechat_base,
                "YINLING_TELEGRAM__TOKEN": TELEGRAM_TOKEN,
                "YINLING_TELEGRAM__WEBHOOK_SECRET": TELEGRAM_SECRET,
                "YINLING_TELEGRAM__WEBHOOK_URL": "https://bot.example.org/telegram",
                "YINLING_TELEGRAM__API_BASE": telegram_api.url,
            }
            web = YinlingProcess(env, "serve", log=logs / "serve.log")
            worker = YinlingProcess(env, "worker", log=logs / "worker.log")
            processes += [web, worker]
            worker.start()
            web.start()
            yield Live(
                web.url, database_url, wechat_api, telegram_api, people, users, staff, tagged
            )
    finally:
        for process in processes:
            process.terminate(10)
        run_async(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def soon(minutes: int = 0) -> datetime:
    """Now, or a little later (aware)."""
    return datetime.now(UTC) + timedelta(minutes=minutes)
