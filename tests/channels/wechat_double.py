"""A local stand-in for WeChat's API servers (api.weixin.qq.com), speaking their JSON.

Only what Yinling calls: ``stable_token``, customer-service and template messages, and
the custom menu. Every call is recorded; ``fail`` makes the next calls of a path answer
a WeChat error code, as the real server does (HTTP 200 with ``errcode``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.channels.serving import serve_app

__all__ = ["WeChatDouble", "running_double"]

_ERRORS = {
    40001: "invalid credential, access_token is invalid or not latest",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
}


@dataclass
class WeChatDouble:
    """What the fake server was asked, and what it should answer next."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tokens_issued: int = 0
    failures: dict[str, list[int]] = field(default_factory=dict)
    token_fetch_delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, path: str, *codes: int) -> None:
        """Answer the next calls of ``path`` with these error codes, in order."""
        self.failures.setdefault(path, []).extend(codes)

    def called(self, path: str) -> list[dict[str, Any]]:
        """The bodies (with the query's access_token) of every call to ``path``."""
        return [body for p, body in self.calls if p == path]

    def current_token(self) -> str:
        return f"TOKEN-{self.tokens_issued}"

    async def handle(self, request: Request) -> JSONResponse:
        path = request.url.path.removeprefix("/cgi-bin/")
        body = await request.json() if await request.body() else {}
        body["_access_token"] = request.query_params.get("access_token")
        with self.lock:
            self.calls.append((path, body))
            pending = self.failures.get(path)
            code = pending.pop(0) if pending else None
        if path == "stable_token":
            if self.token_fetch_delay:
                await asyncio.sleep(self.token_fetch_delay)
            with self.lock:
                self.tokens_issued += 1
                token = self.current_token()
            return JSONResponse({"access_token": token, "expires_in": 7200})
        if body["_access_token"] != self.current_token():
            code = 40001
        if code is not None:
            return JSONResponse({"errcode": code, "errmsg": _ERRORS.get(code, "error")})
        result: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        if path == "message/template/send":
            result["msgid"] = 200163836 + len(self.calls)
        return JSONResponse(result)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/cgi-bin/{path:path}", self.handle, methods=["POST"])])


@contextmanager
def running_double() -> Iterator[tuple[WeChatDouble, str]]:
    """Serve a fresh double on a loopback port in a thread; yields it and its base URL."""
    double = WeChatDouble()
    with serve_app(double.app(), "WeChat") as base:
        yield double, base
