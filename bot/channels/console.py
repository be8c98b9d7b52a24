"""The console channel: ``yinling chat`` (a REPL as a demo retiree) and ``yinling simulate``
(JSON lines in, JSON lines out) — the newcomer's front door and the scriptable one."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import count
from typing import Any, TextIO

from taskiq import InMemoryBroker

from bot.jobs import Jobs
from bot.messages import InboundMessage, Response
from bot.runtime import Runtime
from handlers.base import Reply
from storage.demo import seed_roster
from storage.uow import UnitOfWork

__all__ = ["ConsoleSession", "render_reply", "run_chat", "run_simulation"]

Clock = Callable[[], datetime]


def render_reply(reply: Reply) -> dict[str, Any]:
    """A reply as JSON: text and numbered options ("1. 看病陪诊")."""
    return {
        "text": reply.text,
        "options": [f"{i}. {o.label}" for i, o in enumerate(reply.options, 1)],
    }


class ConsoleSession:
    """Talks to the pipeline as console users, each bound to a distinct demo retiree."""

    def __init__(self, runtime: Runtime, clock: Clock, channel: str = "console") -> None:
        self.runtime = runtime
        self.clock = clock
        self.channel = channel
        self._ids = count(1)
        self._run = uuid.uuid4().hex[:8]  # message ids stay unique across runs on one database
        self._bound: dict[str, int | None] = {}

    async def bind(self, user: str) -> int:
        """Bind a new console user to the next demo retiree (adding one if all are taken)."""
        async with UnitOfWork(self.runtime.sessions) as uow:
            people = await uow.people.all_ids()
            taken = {pid for pid in self._bound.values() if pid is not None}
            free = [pid for pid in people if pid not in taken]
            if not free:
                free = await seed_roster(uow, 1, self.clock(), start=len(people))
            account = await uow.accounts.bind(self.channel, user, free[0], self.clock())
            uow.audit.record(self.clock(), "console", "demo_binding", "channel_account", account.id)
            await uow.commit()
        self._bound[user] = free[0]
        return free[0]

    async def say(self, user: str, text: str, unbound: bool = False) -> Response:
        """Send one message as ``user``."""
        if user not in self._bound:
            if unbound:
                self._bound[user] = None
            else:
                await self.bind(user)
        message = InboundMessage(
            channel=self.channel,
            user_id=user,
            message_id=f"{self.channel}-{self._run}-{next(self._ids)}",
            received_at=self.clock(),
            text=text,
        )
        return await self.runtime.pipeline.handle(message)


async def run_simulation(
    runtime: Runtime,
    clock: Clock,
    lines: TextIO,
    out: TextIO,
    *,
    jobs: Jobs | None = None,
    outbox: list[tuple[str, list[Reply]]] | None = None,
) -> int:
    """``{"user", "text"[, "unbound"]}`` per line in; one result line out per line. With
    ``jobs`` (on the in-memory broker) and their ``outbox``, each line's jobs finish before
    its result is written, and what they sent to the simulated users is in it as
    ``notices``: ``[{"to": user, "replies": […]}]``."""
    session = ConsoleSession(runtime, clock, channel="simulate")
    handled = 0
    for raw in lines:
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
            user, text = str(item["user"]), str(item.get("text", ""))
        except (ValueError, KeyError, TypeError) as e:
            out.write(json.dumps({"error": f"bad input line: {e}"}, ensure_ascii=False) + "\n")
            continue
        response = await session.say(user, text, unbound=bool(item.get("unbound")))
        result = {
            "user": user,
            "text": text,
            "intent": response.intent,
            "replies": [render_reply(r) for r in response.replies],
            "events": list(response.events),
        }
        if jobs is not None and isinstance(jobs.broker, InMemoryBroker):
            await jobs.broker.wait_all()
        if outbox is not None:
            result["notices"] = [
                {"to": to, "replies": [render_reply(r) for r in replies]} for to, replies in outbox
            ]
            outbox.clear()
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
        handled += 1
    return handled


def _print_response(response: Response, out: TextIO) -> None:
    for reply in response.replies:
        out.write("\n银龄通：" + reply.text.replace("\n", "\n        ") + "\n")
        for i, option in enumerate(reply.options, 1):
            out.write(f"        {i}. {option.label}\n")
    for event in response.events:
        out.write(f"        [事件] {json.dumps(event, ensure_ascii=False)}\n")


async def run_chat(runtime: Runtime, clock: Clock, out: TextIO = sys.stdout) -> None:
    """An interactive chat in the terminal as the first demo retiree."""
    session = ConsoleSession(runtime, clock)
    person_id = await session.bind("demo")
    async with UnitOfWork(runtime.sessions) as uow:
        person = await uow.people.get(person_id)
    name = person.name if person else ""
    out.write(
        f"银龄通 演示 —— 您是演示老同志“{name}”。输入文字回车发送，回复数字选择选项。\n"
        "试试：你好 / 下礼拜三陪我老伴去省人民医院看心内科 / 报名书法班 / 救命\n"
        "退出：Ctrl-D\n"
    )
    loop = asyncio.get_running_loop()
    while True:
        out.write("\n您：")
        out.flush()
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            out.write("\n再见！\n")
            return
        response = await session.say("demo", line.rstrip("\n"))
        _print_response(response, out)


def system_clock() -> datetime:
    """The real time."""
    return datetime.now(UTC)
