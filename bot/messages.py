"""Channel-neutral messages: what a channel hands the pipeline, and what it gets back."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from handlers.base import Option, Reply

__all__ = ["InboundMessage", "Response"]


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """One update from a channel, already verified and parsed by its adapter."""

    channel: str  # wechat | telegram | console | simulate
    user_id: str  # the platform's id of the sender
    message_id: str  # the platform's id of this message (for de-duplication)
    received_at: datetime  # aware
    text: str = ""
    kind: str = "text"  # text | voice | button | location | event | image | sticker
    payload: str | None = None  # a button or menu key: "/sos", '/inform{"date": "…"}'
    location: dict[str, Any] | None = None  # latitude, longitude, label
    media_id: str | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """The pipeline's answer: replies to render, events that happened, what was understood."""

    replies: tuple[Reply, ...]
    events: tuple[dict[str, Any], ...] = ()
    intent: str | None = None
    duplicate: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """Serialise the replies and intent (kept for retries of the same message)."""
        return json.dumps(
            {
                "intent": self.intent,
                "replies": [
                    {"text": r.text, "options": [[o.label, o.payload] for o in r.options]}
                    for r in self.replies
                ],
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: str, duplicate: bool = True) -> Response:
        """The answer given the first time, for a repeat of the same message."""
        data = json.loads(raw)
        replies = tuple(
            Reply(r["text"], tuple(Option(label, p) for label, p in r["options"]))
            for r in data["replies"]
        )
        return cls(replies, (), data.get("intent"), duplicate)
