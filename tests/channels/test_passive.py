"""The shared channel pieces on their own: passive replies within a deadline, and tracked
background work. The pipeline here is a coroutine that answers after a given delay; the
channels' own tests (test_wechat.py, test_wecom.py) drive the same code end to end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from structlog.testing import capture_logs

from bot.channels.passive import PassiveReplies
from bot.channels.tasks import Tasks
from bot.messages import InboundMessage, Response
from handlers.base import Reply

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def inbound(n: int = 1) -> InboundMessage:
    return InboundMessage("test", "u1", f"m{n}", NOW, text="你好")


class Rig:
    """A pipeline that answers ``texts`` after ``delay`` seconds, and what was delivered."""

    def __init__(self, texts: Sequence[str], delay: float = 0.0, duplicate: bool = False) -> None:
        self.texts = texts
        self.delay = delay
        self.duplicate = duplicate
        self.finished = 0
        self.delivered: list[tuple[str, list[str]]] = []

    async def handle(self, message: InboundMessage) -> Response:
        await asyncio.sleep(self.delay)
        self.finished += 1
        return Response(tuple(Reply(t) for t in self.texts), duplicate=self.duplicate)

    async def deliver(self, user: str, messages: Sequence[str]) -> None:
        self.delivered.append((user, list(messages)))


def render(replies: Sequence[Reply]) -> list[str]:
    return [f"<{r.text}>" for r in replies]


async def test_an_answer_in_time_goes_back_passively_and_the_rest_by_the_send_api() -> None:
    rig = Rig(["一", "二", "三"])
    replies = PassiveReplies("test", rig.handle, render, rig.deliver, answer_within=1.0)
    assert await replies.answer(inbound()) == "<一>"
    await replies.drain()
    assert rig.delivered == [("u1", ["<二>", "<三>"])]


async def test_a_single_answer_sends_nothing_more() -> None:
    rig = Rig(["一"])
    replies = PassiveReplies("test", rig.handle, render, rig.deliver, answer_within=1.0)
    assert await replies.answer(inbound()) == "<一>"
    await replies.drain()
    assert rig.delivered == []


async def test_no_replies_is_an_acknowledgement_only() -> None:
    rig = Rig([])
    replies = PassiveReplies("test", rig.handle, render, rig.deliver, answer_within=1.0)
    assert await replies.answer(inbound()) is None
    await replies.drain()
    assert rig.delivered == []


async def test_a_late_answer_is_acknowledged_at_the_deadline_and_sent_whole_later() -> None:
    rig = Rig(["一", "二"], delay=0.3)
    replies = PassiveReplies("test", rig.handle, render, rig.deliver, answer_within=0.05)
    started = time.monotonic()
    with capture_logs() as logs:
        assert await replies.answer(inbound(7)) is None
    assert time.monotonic() - started < 0.25  # not waiting for the pipeline
    assert rig.finished == 0
    assert rig.delivered == []
    assert [e["event"] for e in logs] == ["test_reply_late"]
    assert logs[0]["message_id"] == "m7"
    await replies.drain()
    assert rig.finished == 1  # the pipeline was not cancelled by the deadline
    assert rig.delivered == [("u1", ["<一>", "<二>"])]


async def test_without_a_send_api_the_rest_is_logged_not_lost_silently() -> None:
    rig = Rig(["一", "二"])
    replies = PassiveReplies("test", rig.handle, render, None, answer_within=1.0)
    with capture_logs() as logs:
        assert await replies.answer(inbound()) == "<一>"
        await replies.drain()
    assert [(e["event"], e.get("chunks")) for e in logs] == [("test_undelivered", 1)]


async def test_a_failed_send_is_logged_and_does_not_reach_the_webhook() -> None:
    rig = Rig(["一", "二"])

    async def broken(user: str, messages: Sequence[str]) -> None:
        raise ConnectionError("down")

    replies = PassiveReplies("test", rig.handle, render, broken, answer_within=1.0)
    with capture_logs() as logs:
        assert await replies.answer(inbound()) == "<一>"
        await replies.drain()
    assert [e["event"] for e in logs] == ["test_delivery_failed"]
    assert "down" in logs[0]["error"]


async def test_drain_waits_for_work_started_by_work() -> None:
    tasks = Tasks("yinling.test", "test_failed")
    done: list[str] = []

    async def second() -> None:
        await asyncio.sleep(0.02)
        done.append("second")

    async def first() -> None:
        await asyncio.sleep(0.01)
        tasks.track(second())
        done.append("first")

    tasks.track(first())
    assert len(tasks) == 1
    await tasks.drain()
    assert done == ["first", "second"]
    assert len(tasks) == 0


@pytest.mark.parametrize("grace", [0.01, 0.5])
async def test_stop_waits_its_grace_then_cancels(grace: float) -> None:
    tasks = Tasks("yinling.test", "test_failed")
    finished: list[str] = []

    async def work(seconds: float, name: str) -> None:
        await asyncio.sleep(seconds)
        finished.append(name)

    tasks.track(work(0.1, "slow"))
    tasks.track(work(0.0, "quick"))
    await tasks.stop(grace)
    assert finished == (["quick"] if grace < 0.1 else ["quick", "slow"])
    assert len(tasks) == 0


async def test_a_late_retry_leaves_the_answer_to_the_first_handler() -> None:
    # A push and its retry (on another process) both late: the retry's stored answer is the
    # first handler's, which sends it itself; sending it here too sent every answer twice.
    first = Rig(["一", "二"], delay=0.2)
    retry = Rig(["一", "二"], delay=0.2, duplicate=True)
    for rig in (first, retry):
        replies = PassiveReplies("test", rig.handle, render, rig.deliver, answer_within=0.05)
        assert await replies.answer(inbound(9)) is None
        await replies.drain()
    assert first.delivered == [("u1", ["<一>", "<二>"])]
    assert retry.delivered == []
