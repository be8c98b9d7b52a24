"""A local stand-in for WeCom's API servers (qyapi.weixin.qq.com), speaking their JSON.

Only what Yinling calls: ``gettoken`` and ``message/send``. Members are the userids in the
application's visible range; a message to anyone else is refused with 81013 and the userid
under ``invaliduser``, as the real server does. Every call is recorded; ``fail`` makes the
next calls of a path answer an error code (HTTP 200 with ``errcode``), ``expire`` makes the
current token stale (42001).
"""

from __future__ import annotations

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

__all__ = ["CORP_ID", "SECRET", "WeComDouble", "running_double"]

CORP_ID, SECRET = "ww0123456789abcdef", "app-secret-for-tests"

_ERRORS = {
    40001: "invalid credential",
    40014: "invalid access_token",
    42001: "access_token expired",
    60020: "not allow to access from your ip",
    81013: "user & party & tag all invalid",
}


@dataclass
class WeComDouble:
    """What the fake server was asked, and what it should answer next."""

    members: set[str] = field(default_factory=set)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    tokens_issued: int = 0
    expired: set[str] = field(default_factory=set)
    failures: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, path: str, *codes: int) -> None:
        """Answer the next calls of ``path`` with these error codes, in order."""
        with self.lock:
            self.failures.setdefault(path, []).extend(codes)

    def expire(self) -> None:
        """The token issued last is no longer valid."""
        with self.lock:
            self.expired.add(self.current_token())

    def called(self, path: str) -> list[dict[str, Any]]:
        """The bodies (with the query's access_token) of every call to ``path``."""
        with self.lock:
            return [body for p, body in self.calls if p == path]

    def texts(self, user: str) -> list[str]:
        """The text messages that reached ``user``."""
        return [
            m["text"]["content"]
            for m in self.called("message/send")
            if m.get("_delivered") and user in m["touser"].split("|")
        ]

    def current_token(self) -> str:
        return f"WECOM-TOKEN-{self.tokens_issued}"

    def _error(self, code: int, **more: Any) -> JSONResponse:
        return JSONResponse({"errcode": code, "errmsg": _ERRORS.get(code, "error"), **more})

    async def handle(self, request: Request) -> JSONResponse:
        path = request.url.path.removeprefix("/cgi-bin/")
        body: dict[str, Any] = await request.json() if await request.body() else {}
        query = dict(request.query_params)
        body["_access_token"] = query.get("access_token")
        with self.lock:
            self.calls.append((path, body))
            pending = self.failures.get(path)
            code = pending.pop(0) if pending else None
        if path == "gettoken":
            if query.get("corpid") != CORP_ID or query.get("corpsecret") != SECRET:
                return self._error(40001)
            if code is not None:
                return self._error(code)
            with self.lock:
                self.tokens_issued += 1
                token = self.current_token()
            return JSONResponse(
                {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
            )
        token = body["_access_token"]
        if token in self.expired:
            return self._error(42001)
        if token != self.current_token():
            return self._error(40014)
        if code is not None:
            return self._error(code)
        if path != "message/send":
            return self._error(404)
        users = [u for u in str(body.get("touser", "")).split("|") if u]
        invalid = [u for u in users if u not in self.members]
        if users and len(invalid) == len(users):
            return self._error(81013, invaliduser="|".join(invalid))
        body["_delivered"] = True
        result: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "msgid": f"msg{len(self.calls)}"}
        if invalid:
            result["invaliduser"] = "|".join(invalid)
        return JSONResponse(result)

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/cgi-bin/{path:path}", self.handle, methods=["GET", "POST"])]
        )


@contextmanager
def running_double() -> Iterator[tuple[WeComDouble, str]]:
    """Serve a fresh double on a loopback port in a thread; yields it and its base URL."""
    double = WeComDouble()
    with serve_app(double.app(), "WeCom") as base:
        yield double, base
