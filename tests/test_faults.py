"""Faults where they happen, black-box: a real `yinling serve` process with Redis away, and
killed in the middle of an emergency. (benchmarks/sos_faults.py injects them by the
dozen, with the worker, PostgreSQL restarts and cancellations too.)"""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
import xmltodict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import make_sessions
from storage.models import Alert, MessageRecord, ServiceRequest
from tests.conftest import PG_SERVER, REDIS_URL, _dsn
from tests.processes import WECHAT_TOKEN, YinlingProcess, free_port, wechat_text

HOTLINE = "0512-65000000"


async def _written(pg: AsyncEngine, openid: str) -> tuple[int, int, int]:
    """(SOS requests, alerts, logged copies of the message) from one WeChat user."""
    async with make_sessions(pg)() as session:
        sos = await session.scalar(
            select(func.count())
            .select_from(ServiceRequest)
            .where(
                ServiceRequest.kind == "sos",
                ServiceRequest.details["external_id"].as_string() == openid,
            )
        )
        alerts = await session.scalar(
            select(func.count())
            .select_from(Alert)
            .join(ServiceRequest, ServiceRequest.id == Alert.request_id)
            .where(ServiceRequest.details["external_id"].as_string() == openid)
        )
        logged = await session.scalar(
            select(func.count())
            .select_from(MessageRecord)
            .where(MessageRecord.external_user_id == openid, MessageRecord.direction == "in")
        )
    return int(sos or 0), int(alerts or 0), int(logged or 0)


def _env(pg_url: str, spool: Path, redis_url: str) -> dict[str, str]:
    return {
        "YINLING_DATABASE_URL": pg_url,
        "YINLING_REDIS_URL": redis_url,
        "YINLING_WECHAT__TOKEN": WECHAT_TOKEN,
        "YINLING_SPOOL_DIR": str(spool),
        "YINLING_LOG_LEVEL": "WARNING",
        "YINLING_LOG_FORMAT": "json",
        "YINLING_ADMIN_LISTEN": "",  # several may run on one machine
    }


def _reply(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(xmltodict.parse(response.text)["xml"]["Content"])


async def test_with_redis_at_a_closed_port_a_wechat_emergency_is_answered_and_written(
    pg: AsyncEngine, pg_url: str, tmp_path: Path
) -> None:
    closed = f"redis://127.0.0.1:{free_port()}/0"
    serve = YinlingProcess(_env(pg_url, tmp_path, closed))
    await asyncio.to_thread(serve.start)
    try:
        query, body = wechat_text("救命 我老伴摔倒了", "o-redis-away", "7100000000000000001")
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(f"{serve.url}/wechat", params=query, content=body)
            elapsed = time.monotonic() - started
            health = (await client.get(f"{serve.url}/healthz")).json()
        assert elapsed < 5
        assert HOTLINE in _reply(response)
        assert "已收到您的紧急求助" in _reply(response)
        assert await _written(pg, "o-redis-away") == (1, 1, 1)
        assert (health["status"], health["redis"]) == ("degraded", "unreachable")
    finally:
        await asyncio.to_thread(serve.kill)


@pytest.mark.parametrize("kill_after", [0.5, 3.5])
async def test_serve_killed_mid_emergency_then_the_retry_is_written_once(
    pg: AsyncEngine, pg_url: str, tmp_path: Path, kill_after: float
) -> None:
    """The SOS write is stalled (a lock held on the alerts table); `yinling serve` is killed
    (before it could answer, or after it answered from the spool); the lock goes; the app
    restarts and WeChat retries the same push: one SOS, one alert, one logged message."""
    env = _env(pg_url, tmp_path / "spool", REDIS_URL)
    serve = YinlingProcess(env | {"YINLING_REDIS_PREFIX": f"ylfault:{uuid.uuid4().hex[:8]}:"})
    await asyncio.to_thread(serve.start)
    database = pg_url.rpartition("/")[2]
    lock = await asyncpg.connect(_dsn(PG_SERVER, database))
    openid = f"o-killed-{int(kill_after * 10)}"
    query, body = wechat_text("救命 我摔倒了起不来", openid, f"71000000000000002{int(kill_after)}")
    try:
        transaction = lock.transaction()
        await transaction.start()
        await lock.execute("LOCK TABLE alerts IN ACCESS EXCLUSIVE MODE")
        async with httpx.AsyncClient(timeout=10) as client:
            first = asyncio.create_task(
                client.post(f"{serve.url}/wechat", params=query, content=body)
            )
            await asyncio.sleep(kill_after)
            await asyncio.to_thread(serve.kill)
            await transaction.rollback()
            await asyncio.gather(first, return_exceptions=True)
            await asyncio.to_thread(serve.start)
            retry = await client.post(f"{serve.url}/wechat", params=query, content=body)
            assert retry.status_code == 200
            deadline = time.monotonic() + 30
            while await _written(pg, openid) != (1, 1, 1) and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        assert await _written(pg, openid) == (1, 1, 1)
    finally:
        await lock.close()
        await asyncio.to_thread(serve.kill)


async def test_yinling_serve_opens_the_admin_listener_beside_the_public_port(
    pg: AsyncEngine, pg_url: str, tmp_path: Path
) -> None:
    admin = free_port()
    env = _env(pg_url, tmp_path, f"redis://127.0.0.1:{free_port()}/0")
    serve = YinlingProcess(env | {"YINLING_ADMIN_LISTEN": f"127.0.0.1:{admin}"})
    await asyncio.to_thread(serve.start)
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            assert (await client.get(f"{serve.url}/metrics")).status_code == 404
            parse = await client.post(f"{serve.url}/model/parse", json={"text": "你好"})
            assert parse.status_code == 404
            listener = f"http://127.0.0.1:{admin}"
            # The listener opens once the app's runtime is up, a moment after the public
            # port answers: wait for it (as a scraper would retry), then ask.
            for _ in range(100):
                try:
                    metrics = await client.get(f"{listener}/metrics")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
            else:
                pytest.fail("the admin listener never opened")
            assert "yinling_messages" in metrics.text
            parsed = await client.post(f"{listener}/model/parse", json={"text": "你好"})
            assert parsed.json()["intent"]["name"] == "greet"
    finally:
        await asyncio.to_thread(serve.terminate)
    assert serve.process is None
