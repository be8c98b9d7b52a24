"""The ASGI app (Starlette): channel webhooks, health, metrics, Rasa's ``POST /model/parse``.

The operations endpoints (``/metrics``, ``/model/parse``) answer only on the admin listener
(``YINLING_ADMIN_LISTEN``, 127.0.0.1:8001 by default: ``yinling serve`` opens it beside the
public port) or to ``Authorization: Bearer <YINLING_ADMIN_TOKEN>``.

Every long-lived object is opened in the lifespan and closed with it. ``/wechat``,
``/telegram`` and ``/wecom`` (staff answering pages in 企业微信) answer 404 until their
channel is configured (see README "Connecting").
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.telegram import TelegramChannel
from bot.channels.wechat import WeChatChannel, open_wechat
from bot.channels.wecom import WeComChannel, open_wecom
from bot.check import check_settings, log_findings
from bot.console.routes import console
from bot.runtime import Runtime, open_runtime
from bot.settings import Settings
from bot.worker import jobs_in_app

__all__ = ["create_app"]

MAX_PARSE_CHARS = 5000
MAX_PARSE_BYTES = 64 * 1024


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def healthz(request: Request) -> JSONResponse:
    """``ok``; ``degraded`` with the reasons when the database or Redis is away or
    emergencies wait in the spool — still 200 while an emergency can be answered and kept
    (a load balancer must not take the only instance away); 503 when it cannot."""
    runtime = _runtime(request)
    checks: dict[str, str | int] = {}
    reasons: list[str] = []
    try:
        async with asyncio.timeout(3), runtime.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unreachable"
        reasons.append("database unreachable: emergencies go to the spool")
    if runtime.redis is None:
        checks["redis"] = "not configured"
    elif await runtime.store.ping():
        checks["redis"] = "ok"
    else:
        checks["redis"] = "unreachable"
        reasons.append("redis unreachable: only emergencies are handled")
    spool = runtime.pipeline.spool
    if spool is not None:
        waiting = await asyncio.to_thread(len, spool)
        checks["spool"] = waiting
        if waiting:
            reasons.append(f"{waiting} emergencies wait in the spool for the database")
    can_keep = checks["database"] == "ok" or (spool is not None and spool.writable())
    status = "ok" if not reasons else "degraded" if can_keep else "down"
    body = {"status": status, **checks, **({"reasons": reasons} if reasons else {})}
    return JSONResponse(body, 200 if can_keep else 503)


def _admin_only(
    endpoint: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Operations endpoints answer only on the admin listener (YINLING_ADMIN_LISTEN) or
    to the admin token; anyone else gets a 404, as if they were not there."""

    async def guarded(request: Request) -> Response:
        settings = _runtime(request).settings
        token = settings.admin_token
        given = request.headers.get("authorization", "").encode("latin-1", "replace")
        if token is not None and hmac.compare_digest(
            given, f"Bearer {token.get_secret_value()}".encode()
        ):
            return await endpoint(request)
        address, server = settings.admin_address(), request.scope.get("server")
        if address is not None and server is not None and tuple(server)[1] == address[1]:
            return await endpoint(request)
        return JSONResponse({"error": "not found"}, 404)

    return guarded


async def _body(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than ``limit`` bytes (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


async def metrics(request: Request) -> Response:
    """Prometheus metrics of the pipeline."""
    registry = _runtime(request).metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


async def model_parse(request: Request) -> JSONResponse:
    """Rasa's parse endpoint: ``{"text": …}`` -> intent, intent_ranking, entities."""
    raw = await _body(request, MAX_PARSE_BYTES)
    if raw is None:
        return JSONResponse({"error": "the body is too large"}, 413)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        body = None
    message = body.get("text") if isinstance(body, dict) else None
    if not isinstance(message, str):
        return JSONResponse({"error": 'expected JSON {"text": "..."}'}, 400)
    now = datetime.now(UTC)
    if isinstance(body.get("time"), str):
        try:
            now = datetime.fromisoformat(body["time"])
        except ValueError:
            return JSONResponse({"error": "time must be ISO-8601"}, 400)
    result = await _runtime(request).parser.aparse(message[:MAX_PARSE_CHARS], now)
    return JSONResponse(result)


async def wechat(request: Request) -> Response:
    """The Official Account's server URL (GET verification, POST pushes)."""
    channel: WeChatChannel | None = request.app.state.wechat
    if channel is None:
        return JSONResponse({"error": "WeChat is not configured"}, 404)
    return await channel.endpoint(request)


async def wecom(request: Request) -> Response:
    """The WeCom application's callback URL (GET verification, POST encrypted messages)."""
    channel: WeComChannel | None = request.app.state.wecom
    if channel is None:
        return JSONResponse({"error": "the WeCom callback is not configured"}, 404)
    return await channel.endpoint(request)


async def telegram(request: Request) -> Response:
    """The bot's webhook (POST updates)."""
    channel: TelegramChannel | None = request.app.state.telegram
    if channel is None or not channel.webhook:
        return JSONResponse({"error": "the Telegram webhook is not configured"}, 404)
    return await channel.endpoint(request)


@asynccontextmanager
async def _channels(app: Starlette, runtime: Runtime) -> AsyncIterator[None]:
    """Open the configured channels for the app's lifetime."""
    settings = runtime.settings
    app.state.wechat = await open_wechat(runtime) if settings.wechat.enabled else None
    app.state.wecom = open_wecom(runtime) if settings.wecom.inbound else None
    app.state.telegram = None
    if settings.telegram.enabled and settings.telegram.webhook_url:
        app.state.telegram = TelegramChannel(settings.telegram, runtime, webhook=True)
        await app.state.telegram.start()
    try:
        bot = app.state.telegram.bot if app.state.telegram is not None else None
        async with jobs_in_app(runtime, bot) as jobs:
            app.state.jobs = jobs
            yield
    finally:
        if app.state.telegram is not None:
            await app.state.telegram.stop()
        if app.state.wechat is not None:
            await app.state.wechat.close()
        if app.state.wecom is not None:
            await app.state.wecom.close()


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Starlette:
    """Build the app; with ``runtime`` given, the caller owns its lifetime (tests)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if runtime is not None:
            app.state.runtime = runtime
            async with _channels(app, runtime):
                yield
            return
        opened = await open_runtime(settings or Settings())
        app.state.runtime = opened
        log_findings(await check_settings(opened.settings, opened.sessions, datetime.now(UTC)))
        try:
            async with _channels(app, opened):
                yield
        finally:
            await opened.close()

    routes = [
        Route("/wechat", wechat, methods=["GET", "POST"]),
        Route("/wecom", wecom, methods=["GET", "POST"]),
        Route("/telegram", telegram, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", _admin_only(metrics), methods=["GET"]),
        Route("/model/parse", _admin_only(model_parse), methods=["POST"]),
        console(),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
