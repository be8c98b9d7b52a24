"""Reading a message: its text cleaned, a button's payload as a sure turn, the NLU's parse,
an answer to the options last shown, input that cannot be acted on, and whether the message,
read on its own, is an emergency (bot/pipeline.py answers that one whatever else fails);
and the names of hospitals and activities the NLU is taught from the database.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.messages import InboundMessage
from bot.urgency import ASK, NOW, SOS_CONFIDENCE, urgency
from handlers import chat, staff, texts
from handlers.base import Reply, ServiceConfig, Turn
from handlers.choices import option_by_label, option_by_words, option_number, plain_yes
from handlers.wording import menu_reply
from nlu.engine import Parser
from nlu.entities import short_names
from storage.db import AsyncSession
from storage.state import Conversation
from storage.uow import UnitOfWork

__all__ = [
    "bad_input",
    "clean",
    "is_emergency",
    "is_sos",
    "parse",
    "read_alone",
    "read_in_conversation",
    "teach_names",
    "turn_from_payload",
    "usable",
]

MAX_CHARS = 1000  # longer messages are answered with a request to be brief
NLU_CHARS = 2000  # …but the first 2,000 characters are still checked for an emergency
WORDS_PICK_CHARS = 16  # a longer reply is read as a message of its own, not a pick


def turn_from_payload(raw: str, text: str, kind: str) -> Turn:
    """A button payload in Rasa's form (``/intent`` or ``/intent{json}``) as a sure turn."""
    body = raw.strip().lstrip("/")
    name, brace, rest = body.partition("{")
    entities: list[Any] = []
    if brace:
        try:
            values = json.loads("{" + rest)
        except json.JSONDecodeError:
            values = {}
        if isinstance(values, dict):
            entities = [
                {"entity": str(k), "value": v, "start": 0, "end": 0} for k, v in values.items()
            ]
    intent = name.strip() or "out_of_scope"
    return Turn(text, kind, raw, intent, 1.0, tuple(entities), ((intent, 1.0),))


def usable(text: str) -> bool:
    """True when text has a letter, digit or Chinese character (not only emoji or symbols)."""
    return any(ch.isalnum() for ch in text)


def clean(text: str) -> str:
    """Drop control characters (keep line breaks) before logging or parsing."""
    return "".join(
        ch for ch in text if ch in "\n\t" or not unicodedata.category(ch).startswith("C")
    ).strip()


def is_sos(turn: Turn) -> bool:
    return turn.intent == "sos" and (turn.payload is not None or turn.confidence >= SOS_CONFIDENCE)


def is_emergency(text: str, turn: Turn | None, *, unsure_too: bool = False) -> bool:
    """Whether a message, read on its own, is an emergency to answer whatever else fails
    (a staff member's typed command about someone else is not). ``unsure_too``: also one
    the bot would ask about first — when it cannot ask (no state store), it pages."""
    if turn is None:
        return False
    level = urgency(turn)
    return (level == NOW or (unsure_too and level == ASK)) and not staff.is_command(text)


async def read_alone(parser: Parser, msg: InboundMessage, text: str) -> Turn | None:
    """The message understood on its own, without the conversation (a button's payload
    as it says; None when there is no text to read, or only a number — an answer to
    options, read in the conversation)."""
    if msg.payload:
        return turn_from_payload(msg.payload, text, msg.kind)
    if not usable(text) or option_number(text) is not None:
        return None
    return await parse(parser, msg, text)


async def parse(parser: Parser, msg: InboundMessage, text: str) -> Turn:
    """The NLU's reading of the text (its first NLU_CHARS characters) as a turn."""
    parsed = await parser.aparse(text[:NLU_CHARS], msg.received_at)
    ranking = tuple((r["name"], float(r["confidence"])) for r in parsed["intent_ranking"][:5])
    emergency = parsed.get("emergency") or {"guard": "none", "classifier": 0.0}
    return Turn(
        text,
        msg.kind,
        None,
        parsed["intent"]["name"],
        float(parsed["intent"]["confidence"]),
        tuple(parsed["entities"]),
        ranking,
        emergency["guard"],
        float(emergency["classifier"]),
        emergency.get("now"),
    )


async def read_in_conversation(
    parser: Parser, msg: InboundMessage, conv: Conversation, text: str, read: Turn | None
) -> Turn:
    """The message in its conversation: an answer to the options last shown, else as read."""
    if not msg.payload and conv.options:
        number = option_number(text)
        if number is None:
            number = option_by_label(text, conv.labels)
        if number is None and len(text) <= WORDS_PICK_CHARS:
            number = option_by_words(text, conv.labels)
        offered = [o for o in conv.options if o != "/human_agent" and not o.startswith("/inform")]
        if number is None and len(offered) == 1 and plain_yes(text):
            number = conv.options.index(offered[0]) + 1  # a yes to the one thing offered
        if number is not None and 1 <= number <= len(conv.options):
            return turn_from_payload(conv.options[number - 1], text, msg.kind)
    if read is None and not msg.payload and usable(text):  # a number, no options shown
        return await parse(parser, msg, text)
    if read is not None and read.payload is None and conv.options:
        return with_offered_details(read, conv.options)
    return read if read is not None else Turn(text, msg.kind)


def with_offered_details(turn: Turn, options: list[str]) -> Turn:
    """A request answering our "which did you mean?" without its number ("后天下午" after
    "预约上门服务" was offered): the details of the unclear message, kept in the offer's
    payload, join what this message says (what it says itself wins)."""
    prefix = "/" + turn.intent + "{"
    offered = next((o for o in options if o.startswith(prefix)), None)
    if offered is None:
        return turn
    have = {e["entity"] for e in turn.entities}
    said = turn_from_payload(offered, "", "").entities
    if not any(e["entity"] == chat.KEPT for e in said):
        return turn  # an offer of its own (a list's items), not a message's details
    kept = [e for e in said if e["entity"] not in have and e["entity"] != chat.KEPT]
    return replace(turn, entities=(*turn.entities, *kept)) if kept else turn


def bad_input(
    config: ServiceConfig, msg: InboundMessage, text: str, turn: Turn
) -> list[Reply] | None:
    """A polite answer for input we cannot act on; None when the input is fine."""
    if turn.payload is not None or turn.intent == "sos":
        return None
    if len(text) > MAX_CHARS:
        return [Reply(texts.TOO_LONG)]
    if not text:
        return [menu_reply(texts.EMPTY if msg.kind == "text" else texts.UNREADABLE, config)]
    if not usable(text):
        return [menu_reply(texts.UNREADABLE, config)]
    return None


async def teach_names(
    parser: Parser, sessions: async_sessionmaker[AsyncSession], now: datetime
) -> None:
    """Teach the NLU the hospitals and activities currently in the database."""
    async with UnitOfWork(sessions) as uow:
        hospitals = await uow.catalog.hospitals()
        titles = await uow.activities.titles(now)
    table = {h.name: h.name for h in hospitals}
    table.update({alias: h.name for h in hospitals for alias in h.aliases})
    parser.add_lookup("hospital", table)
    activities = {short: title for title in titles for short in short_names(title)}
    activities.update({title: title for title in titles})
    parser.add_lookup("activity", activities)
