"""Passive replies within the platform's deadline, for WeChat and WeCom.

Both take the answer in the HTTP response to their push, and give up after 5 s (WeChat
then sends the push again, up to three times). So the pipeline gets ``answer_within``
seconds (4 by default):

* done in time — nearly always — the first rendered message goes back passively, and any
  further ones go out through the send API right after;
* not done in time, the platform gets its acknowledgement at once (an empty answer), the
  pipeline carries on, and its whole answer goes out through the send API when ready --
  unless the push was a retry of one already handled: its first handler sends the answer.

The pipeline is shielded from the deadline (it is never cancelled half-way: a request it
registered must get its reply), and everything sent after the response is tracked
(``bot/channels/tasks.py``) so that ``drain`` can wait for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import structlog

from bot.channels.base import Handle
from bot.channels.tasks import Tasks
from bot.messages import InboundMessage
from bot.messages import Response as PipelineResponse
from handlers.base import Reply

__all__ = ["PassiveReplies"]

Rendered = TypeVar("Rendered")


class PassiveReplies(Generic[Rendered]):
    """Answers for one channel named ``name`` (its log events are ``{name}_reply_late`` …)."""

    def __init__(
        self,
        name: str,
        handle: Handle,
        render: Callable[[Sequence[Reply]], list[Rendered]],
        deliver: Callable[[str, Sequence[Rendered]], Awaitable[None]] | None,
        answer_within: float,
    ) -> None:
        self.name = name
        self.handle = handle
        self.render = render
        self.deliver = deliver
        self.answer_within = answer_within
        self._log = structlog.get_logger(f"yinling.{name}")
        self.tasks = Tasks(f"yinling.{name}", f"{name}_delivery_failed")

    async def answer(self, inbound: InboundMessage) -> Rendered | None:
        """The message to answer passively, or None (acknowledge only). Later messages,
        and the whole answer when it comes late, go out on their own."""
        task = asyncio.create_task(self.handle(inbound))
        try:
            response = await asyncio.wait_for(asyncio.shield(task), self.answer_within)
        except TimeoutError:
            self._log.warning(f"{self.name}_reply_late", message_id=inbound.message_id)
            self.tasks.track(self._send_when_done(task, inbound.user_id))
            return None
        messages = self.render(response.replies)
        if len(messages) > 1:
            self.tasks.track(self.send(inbound.user_id, messages[1:]))
        return messages[0] if messages else None

    async def _send_when_done(self, task: asyncio.Task[PipelineResponse], user: str) -> None:
        response = await task
        if response.duplicate:
            # A retry of a push that was handled (or is being handled) elsewhere, late too:
            # the process that handled it sends its own answer, so this one sends nothing
            # (both sent it, and the user got every answer twice: benchmarks/scaleout.py).
            self._log.info(f"{self.name}_late_retry_not_sent")
            return
        await self.send(user, self.render(response.replies))

    async def send(self, user: str, messages: Sequence[Rendered]) -> None:
        """Send messages through the send API (logged when there is none)."""
        if not messages:
            return
        if self.deliver is None:
            self._log.error(f"{self.name}_undelivered", chunks=len(messages))
            return
        await self.deliver(user, messages)

    async def drain(self) -> None:
        """Wait for replies still being sent (at shutdown, and in tests)."""
        await self.tasks.drain()
