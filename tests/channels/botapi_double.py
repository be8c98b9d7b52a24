"""A local stand-in for the Telegram Bot API: a real HTTP server on 127.0.0.1 that speaks
the wire format (``POST /bot<token>/<method>``, JSON or form bodies, ``{"ok": …}`` answers),
records every call, and can play a user who blocked the bot. With ``rate_limit`` it also
enforces Telegram's flood limit: more than that many messages accepted within any second
are answered 429 with ``parameters.retry_after``, as Telegram does."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.channels.serving import serve_app

TOKEN = "123456789:TEST-token_for-the-double"
BOT_USER = {
    "id": 111111111,
    "is_bot": True,
    "first_name": "银龄通",
    "username": "yinling_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
LONG_POLL_SECONDS = 1.0  # getUpdates waits at most this long for an update (Telegram: timeout)


@dataclass(frozen=True)
class Delivered:
    """One sendMessage the double accepted, and when (``time.monotonic()``)."""

    at: float
    chat_id: int
    text: str


@dataclass(frozen=True)
class Call:
    """One Bot API request the double received."""

    method: str
    params: dict[str, Any]


def _decode(value: str) -> Any:
    """Form values: PTB JSON-encodes everything that is not a string."""
    if value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error_code": code, "description": description}, code)


class BotApiDouble:
    """The Bot API for one bot token; ``url`` is what goes into ``api_base``."""

    def __init__(
        self, token: str = TOKEN, rate_limit: int | None = None, retry_after: int = 1
    ) -> None:
        self.token = token
        self.url = ""
        self.rate_limit = rate_limit  # messages per second over all chats (None: no limit)
        self.retry_after = retry_after
        self.too_many: list[float] = []  # when sendMessage calls were answered 429
        self._lock = threading.Lock()
        self._calls: list[Call] = []
        self._delivered: list[Delivered] = []
        self._last_second: deque[float] = deque()
        self._blocked: set[int] = set()
        self._updates: list[dict[str, Any]] = []
        self._message_ids = iter(range(1000, 10**9))
        self.app = Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]
        )

    # ------------------------------------------------------------ control
    def reset(self) -> None:
        """Forget calls, blocked chats and queued updates (between tests)."""
        with self._lock:
            self._calls.clear()
            self._blocked.clear()
            self._updates.clear()
            self._delivered.clear()
            self._last_second.clear()
            self.too_many.clear()

    def block(self, chat_id: int) -> None:
        """From now on, sending to this chat answers 403 (the user blocked the bot)."""
        with self._lock:
            self._blocked.add(int(chat_id))

    def unblock(self, chat_id: int) -> None:
        """The user unblocked the bot again."""
        with self._lock:
            self._blocked.discard(int(chat_id))

    def queue_update(self, update: dict[str, Any]) -> None:
        """An update for the next getUpdates."""
        with self._lock:
            self._updates.append(update)

    @property
    def calls(self) -> list[Call]:
        """Every call so far, in order."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call to one method."""
        return [c.params for c in self.calls if c.method.lower() == method.lower()]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Every sendMessage (to one chat)."""
        return [
            p
            for p in self.calls_to("sendMessage")
            if chat_id is None or int(p["chat_id"]) == chat_id
        ]

    @property
    def delivered(self) -> list[Delivered]:
        """Every message accepted (answered ok), in order."""
        with self._lock:
            return list(self._delivered)

    def texts(self, chat_id: int | None = None) -> list[str]:
        """The texts sent (to one chat)."""
        return [str(p["text"]) for p in self.sent(chat_id)]

    # ------------------------------------------------------------ the API
    async def _params(self, request: Request) -> dict[str, Any]:
        """JSON bodies, or the URL-encoded forms PTB sends (no file uploads here)."""
        body = (await request.body()).decode()
        if request.headers.get("content-type", "").startswith("application/json"):
            return dict(json.loads(body)) if body else {}
        return {k: _decode(v) for k, v in parse_qsl(body, keep_blank_values=True)}

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return _error(401, "Unauthorized")
        method = str(request.path_params["method"])
        params = await self._params(request)
        with self._lock:
            self._calls.append(Call(method, params))
        handler = getattr(self, "_" + method.lower(), None)
        if handler is None:
            return _error(404, "Not Found")
        result = await handler(params)
        if isinstance(result, JSONResponse):
            return result
        return JSONResponse({"ok": True, "result": result})

    def _message(self, chat_id: int, text: str, markup: Any = None) -> dict[str, Any]:
        with self._lock:
            message_id = next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
            "date": int(time.time()),
            "text": text,
        }
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram echoes inline keyboards only
        return message

    async def _getme(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _sendmessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        markup = params.get("reply_markup")
        with self._lock:
            blocked = chat_id in self._blocked
        if blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        if not text.strip():
            return _error(400, "Bad Request: message text is empty")
        if _units(text) > MAX_TEXT:
            return _error(400, "Bad Request: message is too long")
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > MAX_CALLBACK_BYTES:
                    return _error(400, "Bad Request: BUTTON_DATA_INVALID")
        with self._lock:
            now = time.monotonic()
            if self.rate_limit is not None:
                while self._last_second and self._last_second[0] <= now - 1.0:
                    self._last_second.popleft()
                if len(self._last_second) >= self.rate_limit:
                    self.too_many.append(now)
                    return JSONResponse(
                        {
                            "ok": False,
                            "error_code": 429,
                            "description": f"Too Many Requests: retry after {self.retry_after}",
                            "parameters": {"retry_after": self.retry_after},
                        },
                        429,
                    )
                self._last_second.append(now)
            self._delivered.append(Delivered(now, chat_id, text))
        return self._message(chat_id, text, markup)

    async def _editmessagetext(self, params: dict[str, Any]) -> Any:
        return self._message(
            int(params["chat_id"]), str(params["text"]), params.get("reply_markup")
        )

    async def _editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        return self._message(int(params["chat_id"]), "…", params.get("reply_markup"))

    async def _answercallbackquery(self, params: dict[str, Any]) -> Any:
        return True

    async def _setwebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _deletewebhook(self, params: dict[str, Any]) -> Any:
        return True

    async def _setmycommands(self, params: dict[str, Any]) -> Any:
        return True

    async def _getwebhookinfo(self, params: dict[str, Any]) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    async def _getupdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        wait = min(float(params.get("timeout") or 0), LONG_POLL_SECONDS)
        deadline = time.monotonic() + wait
        while True:
            with self._lock:
                # An offset confirms every update before it.
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)


@contextmanager
def serve(double: BotApiDouble) -> Iterator[BotApiDouble]:
    """Run the double on a free port in a thread of its own; sets ``double.url``."""
    with serve_app(double.app, "Bot API") as base:
        double.url = base
        yield double
