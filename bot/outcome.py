"""What one message came to in the pipeline (bot/pipeline.py), the response made of it, and
how it is counted (metrics) and logged once handled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from bot.messages import InboundMessage, Response
from bot.metrics import Metrics
from handlers.base import Reply, Turn
from storage.state import Conversation

__all__ = ["Outcome"]

log = structlog.get_logger("yinling.pipeline")


@dataclass(slots=True)
class Outcome:
    """What a message came to: the replies, the events committed, the conversation state to
    save, the turn as understood; an error or a repeat of a message handled before."""

    replies: list[Reply]
    events: list[dict[str, Any]]
    conv: Conversation
    turn: Turn
    person_id: int | None
    error: bool = False
    duplicate: bool = False  # handled before (the message log has it): nothing written now

    def response(self) -> Response:
        """The replies to send (and the events, for the caller)."""
        return Response(
            tuple(self.replies),
            tuple(self.events),
            self.turn.intent or None,
            duplicate=self.duplicate,
        )

    def report(self, metrics: Metrics, msg: InboundMessage, elapsed: float) -> None:
        """Count the message and log it as handled."""
        if self.duplicate:
            metrics.duplicates.labels(msg.channel).inc()
        metrics.messages.labels(msg.channel, self.turn.intent or "none").inc()
        metrics.latency.labels(msg.channel).observe(elapsed)
        log.info(
            "message_handled",
            channel=msg.channel,
            message_id=msg.message_id,
            person_id=self.person_id,
            intent=self.turn.intent,
            confidence=round(self.turn.confidence, 3),
            flow=self.conv.flow,
            events=[e["type"] for e in self.events],
            error=self.error,
            duplicate=self.duplicate,
            duration_ms=round(elapsed * 1000, 1),
        )
