"""The message log as the pipeline keeps it: a message and its replies written in the
message's own transaction (the log takes each platform message once, which is what makes a
second handling roll back), the replies logged when a message was handled before, and a
message whose handler failed, kept with a hand-off to a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.messages import InboundMessage
from bot.reading import is_sos
from handlers import texts
from handlers.base import Ctx, Reply, ServiceConfig, Turn
from storage.db import AsyncSession
from storage.models import MessageRecord
from storage.repos import is_duplicate_message
from storage.uow import UnitOfWork

__all__ = ["answered", "log_failure", "log_turn"]

log = structlog.get_logger("yinling.pipeline")

KIND_CHARS = 12  # message_log.kind (a channel maps types it does not know to "other")
MEDIA_CHARS = 200  # message_log.media_id (channels refuse longer ones; this is the backstop)


async def answered(
    sessions: async_sessionmaker[AsyncSession],
    config: ServiceConfig,
    msg: InboundMessage,
    turn: Turn,
) -> list[Reply]:
    """What was answered when this message was handled before (from the log)."""
    try:
        async with UnitOfWork(sessions) as uow:
            logged = await uow.messages.replies_to(msg.channel, msg.user_id, msg.message_id)
    except Exception:  # the database is away: say it was received
        log.warning("replies_not_read", channel=msg.channel)
        logged = []
    if logged:
        return [Reply(m.text or "") for m in logged if m.text]
    if is_sos(turn):
        return [Reply(texts.SOS_ACK.format(hotline=config.hotline))]
    return [Reply(texts.RECEIVED_BEFORE)]


async def log_turn(
    uow: UnitOfWork, msg: InboundMessage, text: str, ctx: Ctx, replies: Sequence[Reply]
) -> None:
    """The message and its replies, in one statement, in the message's transaction."""
    common: dict[str, Any] = {
        "channel": msg.channel,
        "external_user_id": msg.user_id,
        "account_id": ctx.account.id if ctx.account else None,
        "person_id": ctx.person.id if ctx.person else None,
        "created_at": ctx.now,
        "message_id": msg.message_id,  # replies carry the id of the message they answer
        "media_id": None,
        "intent": None,
        "confidence": None,
        "error": False,
    }
    rows = [
        {
            **common,
            "direction": "in",
            "kind": msg.kind[:KIND_CHARS],
            "text": text or msg.payload,
            "media_id": msg.media_id[:MEDIA_CHARS] if msg.media_id else None,
            "intent": ctx.turn.intent or None,
            "confidence": ctx.turn.confidence,
        }
    ]
    for reply in replies:
        options = "".join(f"\n{i}. {o.label}" for i, o in enumerate(reply.options, 1))
        out = {"direction": "out", "kind": "text", "text": reply.text + options}
        rows.append({**common, **out})
    await uow.messages.add_many(rows)


async def log_failure(
    sessions: async_sessionmaker[AsyncSession], msg: InboundMessage, text: str, turn: Turn
) -> None:
    """Keep the message and put a person on the conversation; the handler wrote nothing."""
    try:
        async with UnitOfWork(sessions) as uow:
            account, person = await uow.accounts.identify(msg.channel, msg.user_id)
            recent = await uow.messages.recent(msg.channel, msg.user_id, limit=10)
            transcript = [
                {"at": m.created_at.isoformat(), "direction": m.direction, "text": m.text}
                for m in recent
            ]
            transcript.append({"at": msg.received_at.isoformat(), "direction": "in", "text": text})
            await uow.requests.create(
                "handoff",
                now=msg.received_at,
                actor="system",
                person_id=person.id if person else None,
                status="open",
                account_id=account.id if account else None,
                details={
                    "reason": "error",
                    "channel": msg.channel,
                    "external_id": msg.user_id,
                    "transcript": transcript,
                },
            )
            uow.messages.add(
                MessageRecord(
                    channel=msg.channel,
                    external_user_id=msg.user_id,
                    message_id=msg.message_id,
                    direction="in",
                    kind=msg.kind[:KIND_CHARS],
                    text=text or msg.payload,
                    intent=turn.intent or None,
                    confidence=turn.confidence,
                    error=True,
                    created_at=msg.received_at,
                )
            )
            await uow.commit()
    except Exception as e:
        if is_duplicate_message(e):  # handled before after all: nothing to add
            return
        log.critical("message_lost", channel=msg.channel, message_id=msg.message_id, exc_info=True)
