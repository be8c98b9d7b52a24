"""The ASGI app: health, metrics and Rasa's parse endpoint; the Rasa adapter over real HTTP."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.metrics import Metrics
from bot.pipeline import Pipeline
from bot.runtime import Runtime
from bot.settings import Settings
from bot.spool import Spool
from handlers.base import ServiceConfig
from nlu.engine import EmbeddedEngine
from nlu.rasa import RasaParser
from storage.db import make_engine, make_sessions
from storage.keys import Keys
from storage.state import MemoryStore, RedisStore, StateStore
from tests.channels.serving import free_port

ADMIN_TOKEN = "admin-token-for-tests"


def _runtime(
    db: AsyncEngine, engine_nlu: EmbeddedEngine, redis: Redis | None, store: StateStore
) -> Runtime:
    sessions = make_sessions(db)
    metrics = Metrics()
    pipeline = Pipeline(sessions, store, engine_nlu, ServiceConfig(), metrics)
    settings = Settings(admin_token=ADMIN_TOKEN)
    return Runtime(settings, db, sessions, redis, store, engine_nlu, metrics, pipeline)


@pytest.fixture
async def client(
    db: AsyncEngine, engine_nlu: EmbeddedEngine, redis_store: RedisStore
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=_runtime(db, engine_nlu, redis_store.redis, redis_store))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://test", headers=admin
        ) as client:
            yield client


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


async def test_healthz_reports_redis_down(db: AsyncEngine, engine_nlu: EmbeddedEngine) -> None:
    dead = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    app = create_app(runtime=_runtime(db, engine_nlu, dead, RedisStore(dead, Keys("x:"))))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            response = await client.get("/healthz")
    await dead.aclose()
    # Still serving emergencies (they need only the database): degraded, not down.
    assert response.status_code == 200
    health = response.json()
    assert (health["status"], health["database"], health["redis"]) == (
        "degraded",
        "ok",
        "unreachable",
    )
    assert health["reasons"] == ["redis unreachable: only emergencies are handled"]


async def test_healthz_with_the_database_away(engine_nlu: EmbeddedEngine, tmp_path: Path) -> None:
    """Degraded while a spool can keep emergencies; down (503) when nothing can."""
    dead = make_engine("postgresql+asyncpg://postgres@127.0.0.1:1/none")
    store = MemoryStore()
    for spool, status, code in ((Spool(tmp_path), "degraded", 200), (None, "down", 503)):
        sessions = make_sessions(dead)
        pipeline = Pipeline(sessions, store, engine_nlu, ServiceConfig(), spool=spool)
        runtime = Runtime(Settings(), dead, sessions, None, store, engine_nlu, Metrics(), pipeline)
        app = create_app(runtime=runtime)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                response = await client.get("/healthz")
        assert response.status_code == code
        health = response.json()
        assert (health["status"], health["database"]) == (status, "unreachable")
        assert "Error" not in response.text  # no exception class names
    await dead.dispose()


async def test_metrics_count_messages(client: httpx.AsyncClient) -> None:
    text = (await client.get("/metrics")).text
    assert "yinling_message_seconds" in text


async def test_model_parse_speaks_rasa(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/model/parse",
        json={"text": "下礼拜三想去省人民医院看看心内科", "time": "2026-11-22T10:00:00+08:00"},
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"text", "intent", "intent_ranking", "entities", "emergency"}
    assert body["intent"]["name"] == "medical_escort"
    assert {"entity": "date", "value": "2026-11-25"}.items() <= next(
        e for e in body["entities"] if e["entity"] == "date"
    ).items()


@pytest.mark.parametrize("body", [b"not json", b'{"txt": "x"}', b'{"text": 5}'])
async def test_model_parse_rejects_bad_requests(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/model/parse", content=body)
    assert response.status_code == 400


# ------------------------------------------------------------ Rasa adapter
@pytest.fixture(scope="module")
def parse_server(
    engine_nlu: EmbeddedEngine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Our own app serving /model/parse on a real port, standing in for a Rasa server."""
    from storage.db import make_engine, upgrade

    port = free_port()
    ready = threading.Event()
    server: list[uvicorn.Server] = []

    async def serve() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('rasa') / 'x.db'}")
        await upgrade(engine)
        app = create_app(runtime=_runtime(engine, engine_nlu, None, MemoryStore()))
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        server.append(uvicorn.Server(config))
        task = asyncio.create_task(server[0].serve())
        while not server[0].started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
            await asyncio.sleep(0.01)
        ready.set()
        await task
        await engine.dispose()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    assert ready.wait(20)
    yield f"http://127.0.0.1:{port}"
    server[0].should_exit = True
    thread.join(10)


NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")


async def test_rasa_adapter_against_the_same_wire_format(
    parse_server: str, engine_nlu: EmbeddedEngine
) -> None:
    parser = RasaParser(parse_server, engine_nlu)
    for text in ("下礼拜三想去省人民医院看看心内科", "救命", "我报了哪些活动"):
        remote = await parser.aparse(text, NOW)
        local = engine_nlu.parse(text, NOW)
        assert remote["intent"]["name"] == local["intent"]["name"]
        assert {(e["entity"], e["value"]) for e in remote["entities"]} == {
            (e["entity"], e["value"]) for e in local["entities"]
        }
    assert parser.parse("你好", NOW)["intent"]["name"] == "greet"


async def test_rasa_adapter_falls_back_when_the_server_is_down(
    engine_nlu: EmbeddedEngine, caplog: pytest.LogCaptureFixture
) -> None:
    parser = RasaParser(f"http://127.0.0.1:{free_port()}", engine_nlu, timeout=0.5)
    result = await parser.aparse("我老伴摔倒了起不来", NOW)
    assert result["intent"]["name"] == "sos"
    assert "rasa_unavailable" in caplog.text


async def test_operations_endpoints_are_not_public(client: httpx.AsyncClient) -> None:
    """Without the admin token (and not on the admin listener): as if they were not there."""
    for token in (None, "Bearer wrong"):
        headers = {"Authorization": token} if token else {}
        client.headers.pop("Authorization", None)
        assert (await client.get("/metrics", headers=headers)).status_code == 404
        parse = await client.post("/model/parse", json={"text": "你好"}, headers=headers)
        assert parse.status_code == 404
    assert (await client.get("/healthz")).status_code == 200  # health stays public


async def test_a_huge_parse_body_is_refused_unread(client: httpx.AsyncClient) -> None:
    response = await client.post("/model/parse", content=b'{"text": "' + b"a" * 200_000 + b'"}')
    assert response.status_code == 413
