"""The private rig of benchmarks/sos_faults.py and the five faults it injects.

Each fault sends one emergency from a new sender through a fault of its kind and returns
what was injected (see benchmarks/sos_faults.py for the kinds).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from storage.db import make_engine, make_sessions, upgrade
from storage.demo import seed_demo
from storage.uow import UnitOfWork
from tests.channels.botapi_double import TOKEN, BotApiDouble
from tests.processes import (
    WECHAT_TOKEN,
    PrivatePostgres,
    PrivateRedis,
    YinlingProcess,
    wechat_text,
)

DUTY = 7_001
SECRET = "fault-webhook-secret"  # noqa: S105 - the double's
TEXTS = ("救命 我老伴摔倒了起不来", "快来人 我胸口疼得厉害喘不上气", "救命 家里着火了")


class HoldingDouble(BotApiDouble):
    """The Bot API double, able to hold the pages to the duty officer (a slow network)."""

    def __init__(self) -> None:
        super().__init__()
        self.hold = threading.Event()

    async def _sendmessage(self, params: dict[str, Any]) -> Any:
        while self.hold.is_set() and int(params["chat_id"]) == DUTY:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        return await super()._sendmessage(params)


@dataclass
class Injected:
    """One fault and the emergency sent through it."""

    kind: str
    sender: str
    answered: bool | None = None  # the hotline came back (for pushes answered in the fault)
    seconds: float | None = None


class Rig:
    """The private servers and processes."""

    def __init__(self, log: Path) -> None:
        self.pg = PrivatePostgres()
        self.redis = PrivateRedis()
        self.spool = Path(tempfile.mkdtemp(prefix="yinling-fault-spool-"))
        self.log = log
        self.api: HoldingDouble | None = None
        self.serve: YinlingProcess | None = None
        self.worker: YinlingProcess | None = None

    def env(self, api: str) -> dict[str, str]:
        return {
            "YINLING_DATABASE_URL": self.pg.url,
            "YINLING_REDIS_URL": self.redis.url,
            "YINLING_WECHAT__TOKEN": WECHAT_TOKEN,
            "YINLING_TELEGRAM__TOKEN": TOKEN,
            "YINLING_TELEGRAM__API_BASE": api,
            "YINLING_TELEGRAM__WEBHOOK_URL": "https://example.invalid/telegram",
            "YINLING_TELEGRAM__WEBHOOK_SECRET": SECRET,
            "YINLING_SPOOL_DIR": str(self.spool),
            "YINLING_RECONCILE_SECONDS": "1",
            "YINLING_LOG_LEVEL": "WARNING",
            "YINLING_LOG_FORMAT": "json",
            "YINLING_ADMIN_LISTEN": "",
        }


async def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        await upgrade(engine)
        now = datetime.now(UTC)
        async with UnitOfWork(make_sessions(engine)) as uow:
            await seed_demo(uow, now)  # staff on the duty roster for four weeks
            await uow.accounts.bind("telegram", str(DUTY), 0, now, role="staff", staff_id=1)
            await uow.commit()
    finally:
        await engine.dispose()


async def _lock_alerts(url: str) -> tuple[asyncpg.Connection, Any]:
    """Hold the alerts table locked: every SOS write waits."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    transaction = conn.transaction()
    await transaction.start()
    await conn.execute("LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE")
    return conn, transaction


async def _push(client: httpx.AsyncClient, url: str, text: str, sender: str, msg: str) -> Any:
    query, body = wechat_text(text, sender, msg)
    return await client.post(f"{url}/wechat", params=query, content=body)


def _answered(response: Any) -> bool:
    return (
        isinstance(response, httpx.Response)
        and response.status_code == 200
        and "65000000" in response.text
    )


async def _wechat_with_retries(
    client: httpx.AsyncClient, rig: Rig, text: str, sender: str, msg: str
) -> tuple[bool, float]:
    """As WeChat sends a push: tries again (up to three times, 5 s apart) while it gets no
    answer; whether the hotline came back, and after how long."""
    started = time.monotonic()
    for _ in range(4):
        try:
            assert rig.serve is not None
            response = await _push(client, rig.serve.url, text, sender, msg)
        except httpx.HTTPError:
            response = None
        if response is not None and response.status_code == 200:
            return _answered(response), time.monotonic() - started
        await asyncio.sleep(5)
    return False, time.monotonic() - started


async def serve_killed(rig: Rig, client: httpx.AsyncClient, n: int) -> Injected:
    sender, msg = f"o-killed-{n}", f"81{n:016d}"
    conn, transaction = await _lock_alerts(rig.pg.url)
    assert rig.serve is not None
    first = asyncio.create_task(_push(client, rig.serve.url, TEXTS[n % 3], sender, msg))
    await asyncio.sleep(random.uniform(0.3, 4.0))
    await asyncio.to_thread(rig.serve.kill)
    await transaction.rollback()
    await conn.close()
    await asyncio.gather(first, return_exceptions=True)
    await asyncio.to_thread(rig.serve.start)
    answered, seconds = await _wechat_with_retries(client, rig, TEXTS[n % 3], sender, msg)
    return Injected("serve-killed", sender, answered, seconds)


async def redis_stopped(rig: Rig, client: httpx.AsyncClient, n: int) -> Injected:
    sender, msg = f"o-redis-{n}", f"82{n:016d}"
    await asyncio.to_thread(rig.redis.stop)
    try:
        started = time.monotonic()
        assert rig.serve is not None
        response = await _push(client, rig.serve.url, TEXTS[n % 3], sender, msg)
        seconds = time.monotonic() - started
    finally:
        await asyncio.to_thread(rig.redis.start)
    return Injected("redis-stopped", sender, _answered(response) and seconds < 5, seconds)


async def pg_restarted(rig: Rig, client: httpx.AsyncClient, n: int) -> Injected:
    sender, msg = f"o-pg-{n}", f"83{n:016d}"
    restart = asyncio.create_task(asyncio.to_thread(rig.pg.restart))
    await asyncio.sleep(random.uniform(0.0, 0.8))
    answered, seconds = await _wechat_with_retries(client, rig, TEXTS[n % 3], sender, msg)
    await restart
    return Injected("pg-restarted", sender, answered, seconds)


async def worker_killed(rig: Rig, client: httpx.AsyncClient, n: int) -> Injected:
    sender, msg = f"o-worker-{n}", f"84{n:016d}"
    assert rig.api is not None
    assert rig.worker is not None
    assert rig.serve is not None
    before = len(rig.api.calls_to("sendMessage"))
    rig.api.hold.set()
    try:
        response = await _push(client, rig.serve.url, TEXTS[n % 3], sender, msg)
        deadline = time.monotonic() + 30
        while not any(int(p["chat_id"]) == DUTY for p in rig.api.calls_to("sendMessage")[before:]):
            if time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        await asyncio.to_thread(rig.worker.kill)
    finally:
        rig.api.hold.clear()
    await asyncio.to_thread(rig.worker.start)
    return Injected("worker-killed", sender, _answered(response), None)


async def terminated(rig: Rig, client: httpx.AsyncClient, n: int) -> Injected:
    sender = str(9_100_000 + n)
    conn, transaction = await _lock_alerts(rig.pg.url)
    update = {
        "update_id": 900_000_000 + n,
        "message": {
            "message_id": n + 1,
            "date": int(time.time()),
            "from": {"id": int(sender), "is_bot": False, "first_name": "老张"},
            "chat": {"id": int(sender), "type": "private", "first_name": "老张"},
            "text": TEXTS[n % 3],
        },
    }
    assert rig.serve is not None
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    await client.post(f"{rig.serve.url}/telegram", json=update, headers=headers)
    await asyncio.sleep(random.uniform(0.2, 2.0))
    stopping = asyncio.create_task(asyncio.to_thread(rig.serve.terminate))
    await asyncio.sleep(0.5)
    await transaction.rollback()
    await conn.close()
    await stopping
    await asyncio.to_thread(rig.serve.start)
    return Injected("terminated", sender)


FAULTS = {
    "serve-killed": serve_killed,
    "redis-stopped": redis_stopped,
    "pg-restarted": pg_restarted,
    "worker-killed": worker_killed,
    "terminated": terminated,
}
