"""What every channel is: one module that turns a platform's webhook into neutral messages.

A channel stands between a platform (WeChat, WeCom, Telegram …) and the pipeline, which
knows nothing of platforms: it takes an ``InboundMessage`` and returns replies as data
(``handlers.base.Reply``). Each channel does four things, in this order, and nothing else:

1. **verify** a request: signature or secret, freshness, size, decryption, parsing. A
   request that fails gets its refusal (403 / 400 …) and nothing is processed.
2. **to_inbound**: the platform's message as an ``InboundMessage`` (or None: nothing to
   answer). Menu keys and buttons become payloads (``/sos``), so the NLU is skipped.
3. **render** the pipeline's replies in the platform's terms (numbered lines within 2,048
   bytes on WeChat; inline keyboards within 4,096 UTF-16 units on Telegram).
4. **send** rendered messages outside a passive reply (late replies, the rest of a long one).

Its **limits** (``ChannelLimits``) say how much a request and a message may carry, and how
long the platform waits for a passive reply. Platforms that take the reply in the webhook's
own response and give up after a few seconds (WeChat, WeCom) answer through
``bot/channels/passive.py``: inside the deadline when the pipeline is quick, else an
acknowledgement now and the reply through the send API later. Platforms that answer by
API anyway (Telegram) acknowledge at once and handle the update in the background. Either
way the work still in flight is tracked (``bot/channels/tasks.py``) and drained at shutdown.

Adding a channel (say a web chat widget) is one new module, ``bot/channels/widget.py``:

* a class that satisfies ``Channel`` below (``verify``, ``to_inbound``, ``render``,
  ``send``, ``endpoint``, ``drain``, ``close`` and ``limits``) — copy the shape of
  ``wecom.py``, the smallest one; use ``PassiveReplies`` if the platform wants the answer
  inside its request, ``Tasks`` if it is answered in the background;
* an ``open_widget(runtime)`` that builds it from the settings;
* one line in ``bot/app.py``'s channel table (the path, and the setting that enables it).

Keep the SDK behind the module: hold its client (composition, as ``wechat_api.py`` and
``wecom_api.py`` hold wechatpy's), never inherit from it, and import only public names of
the shared modules here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from bot.messages import InboundMessage
from bot.messages import Response as PipelineResponse
from handlers.base import Reply

__all__ = ["Channel", "ChannelLimits", "Deliver", "Handle"]

Checked = TypeVar("Checked")  # what ``verify`` hands on: the platform's parsed message
Rendered = TypeVar("Rendered")  # one message in the platform's terms

# The pipeline, as a channel sees it.
Handle = Callable[[InboundMessage], Coroutine[Any, Any, PipelineResponse]]
# Sending rendered messages to a user outside a passive reply.
Deliver = Callable[[str, Sequence[Rendered]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """What a platform accepts and how long it waits."""

    max_body: int  # bytes of one webhook request
    max_text: int  # one message, in ``text_unit``s
    text_unit: str  # "byte" (UTF-8) | "utf-16" (code units)
    answer_within: float | None = None  # seconds for a passive reply; None: none is taken


class Channel(Protocol[Checked, Rendered]):
    """One platform behind the pipeline. ``Checked`` is the verified, parsed request,
    ``Rendered`` one outgoing message in the platform's terms."""

    @property
    def limits(self) -> ChannelLimits:
        """Sizes and the passive-reply deadline."""
        ...

    async def verify(self, request: Request) -> Checked | Response:
        """The request checked and parsed, or the refusal to answer with."""
        ...

    def to_inbound(self, message: Checked) -> Any:
        """The neutral message(s) for the pipeline; None when there is nothing to answer."""
        ...

    def render(self, replies: Sequence[Reply]) -> list[Rendered]:
        """The pipeline's replies as the platform's messages, within its limits."""
        ...

    async def send(self, user_id: str, messages: Sequence[Rendered]) -> None:
        """Deliver messages outside a passive reply."""
        ...

    async def endpoint(self, request: Request) -> Response:
        """The webhook: verify, translate, answer (passively, or acknowledge and send)."""
        ...

    async def drain(self) -> None:
        """Wait for the work still in flight (replies being sent, updates being handled)."""
        ...

    async def close(self) -> None:
        """Finish what is in flight and let go of what the channel holds."""
        ...
