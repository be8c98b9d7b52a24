"""The ASGI app (Starlette): channel webhooks, health, metrics, Rasa's ``POST /model/parse``.

The operations endpoints (``/metrics``, ``/model/parse``) answer only on the admin listener
(``YINLING_ADMIN_LISTEN``, 127.0.0.1:8001 by default: ``yinling serve`` opens it beside the
public port) or to ``Authorization: Bearer <YINLING_ADMIN_TOKEN>``.

Every long-lived object is opened in the lifespan and closed with it. The channels are
the ``CHANNELS`` table: ``/wechat``, ``/wecom`` (staff answering pages in 企业微信) and
``/telegram`` answer 404 until their channel is configured (see README "Connecting").
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels.base import Channel
from bot.channels.telegram import TelegramChannel, open_telegram
from bot.channels.wechat import open_wechat
from bot.channels.wecom import open_wecom
from bot.check import check_settings, log_findings
from bot.console.routes import console
from bot.feeds import admission_feed
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


@dataclass(frozen=True, slots=True)
class Mount:
    """Where a channel answers, the setting that enables it, and how it is opened."""

    path: str
    methods: tuple[str, ...]
    enabled: Callable[[Settings], bool]
    open: Callable[[Runtime], Awaitable[Channel[Any, Any]]]
    absent: str  # the 404's words while it is not configured

    @property
    def name(self) -> str:
        """The channel's name (``app.state.<name>`` holds it, or None)."""
        return self.path.strip("/")


# The channels, one entry each (bot/channels/base.py says how to add one).
CHANNELS = (
    # The Official Account's server URL (GET verification, POST pushes).
    Mount(
        "/wechat",
        ("GET", "POST"),
        enabled=lambda s: s.wechat.enabled,
        open=open_wechat,
        absent="WeChat is not configured",
    ),
    # The WeCom application's callback URL (GET verification, POST encrypted messages).
    Mount(
        "/wecom",
        ("GET", "POST"),
        enabled=lambda s: s.wecom.inbound,
        open=open_wecom,
        absent="the WeCom callback is not configured",
    ),
    # The bot's webhook (POST updates); ``yinling telegram poll`` polls instead.
    Mount(
        "/telegram",
        ("POST",),
        enabled=lambda s: bool(s.telegram.enabled and s.telegram.webhook_url),
        open=open_telegram,
        absent="the Telegram webhook is not configured",
    ),
)


def _endpoint(mount: Mount) -> Callable[[Request], Awaitable[Response]]:
    """The route of one channel: its endpoint, or 404 while it is not configured."""

    async def endpoint(request: Request) -> Response:
        channel: Channel[Any, Any] | None = getattr(request.app.state, mount.name)
        if channel is None:
            return JSONResponse({"error": mount.absent}, 404)
        return await channel.endpoint(request)

    return endpoint


@asynccontextmanager
async def _channels(app: Starlette, runtime: Runtime) -> AsyncIterator[None]:
    """Open the configured channels for the app's lifetime (closed in reverse order)."""
    async with AsyncExitStack() as opened:
        for mount in CHANNELS:
            channel = None
            if mount.enabled(runtime.settings):
                channel = await mount.open(runtime)
                opened.push_async_callback(channel.close)
            setattr(app.state, mount.name, channel)
        telegram: TelegramChannel | None = app.state.telegram
        async with jobs_in_app(runtime, telegram.bot if telegram is not None else None) as jobs:
            app.state.jobs = jobs
            yield


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
        *(Route(m.path, _endpoint(m), methods=list(m.methods)) for m in CHANNELS),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", _admin_only(metrics), methods=["GET"]),
        Route("/model/parse", _admin_only(model_parse), methods=["POST"]),
        # Hospitals' admission and discharge events (bot/feeds.py; YINLING_FEED_KEYS).
        Route("/feeds/admissions", admission_feed, methods=["POST"]),
        console(),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
