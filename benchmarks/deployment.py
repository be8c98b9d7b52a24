"""Pieces the benchmarks that run real processes share: free ports, waiting for a port to
listen, the API doubles each in a process of its own (with ``GET /stats`` for the results),
the busiest 1-second window of what a double accepted, and clearing a Redis key prefix.

Used by benchmarks/broadcast.py and benchmarks/scaleout.py. The doubles' entry points are
plain functions, so a ``multiprocessing`` spawn context can start them.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections import Counter


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on {port}")
        time.sleep(0.05)


def busiest_second(times: list[float]) -> int:
    """The most messages accepted within any 1-second window (``times`` sorted)."""
    best, first = 0, 0
    for last, at in enumerate(times):
        while times[first] <= at - 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def run_wechat_double(port: int) -> None:
    """The WeChat API double in a process of its own, with ``GET /stats``."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from tests.channels.wechat_double import WeChatDouble

    double = WeChatDouble()

    async def stats(request: Request) -> JSONResponse:
        with double.lock:
            calls = list(double.calls)
            issued = double.tokens_issued
        sends = [
            [body.get("touser"), body.get("_access_token"), (body.get("text") or {}).get("content")]
            for path, body in calls
            if path == "message/custom/send"
        ]
        return JSONResponse({
            "tokens_issued": issued,
            "token_requests": sum(path == "stable_token" for path, _ in calls),
            "sends": sends,
            "other": Counter(path for path, _ in calls if path != "message/custom/send"),
        })  # fmt: skip

    app = Starlette(routes=[Route("/stats", stats), *double.app().routes])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def run_telegram_double(port: int, limit: int | None = None) -> None:
    """The Bot API double in a process of its own, accepting at most ``limit`` messages in
    any second (None: no limit, it records what the workers sent), with ``GET /stats``:
    every message delivered as ``[at, chat_id, text]`` and the 429 answers."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from tests.channels.botapi_double import BotApiDouble

    double = BotApiDouble(rate_limit=limit)

    async def stats(request: Request) -> JSONResponse:
        if request.query_params.get("first"):
            return JSONResponse({"delivered": bool(double.delivered)})
        delivered = [[d.at, d.chat_id, d.text] for d in double.delivered]
        return JSONResponse({"delivered": delivered, "too_many": len(double.too_many)})

    app = Starlette(routes=[Route("/stats", stats), *double.app.routes])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


async def clean_redis(url: str, prefix: str) -> None:
    """Delete a run's keys (and the job queue's autoclaim keys) from Redis."""
    from redis.asyncio import Redis

    redis = Redis.from_url(url)
    try:
        keys = [k async for k in redis.scan_iter(match=prefix + "*")]
        keys += [k async for k in redis.scan_iter(match=f"autoclaim:{prefix}*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()
