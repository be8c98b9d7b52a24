"""One message, end to end: de-dup → lock → state → understand → identity → route → commit.

* The same platform message id is handled once, also when two copies arrive at once;
  the copy waits for the first one's answer and returns it.
* A conversation's messages are handled one at a time (a lock per conversation).
* One database transaction per message: a handler error rolls back everything it
  wrote, the conversation state is left as it was, and the user gets an apology
  that carries the hotline. The message itself is still logged.
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.messages import InboundMessage, Response
from bot.metrics import Metrics
from bot.routing import FLOWS, route
from handlers import texts
from handlers.base import Ctx, Reply, ServiceConfig, Turn
from handlers.wording import apology, menu_reply
from nlu.engine import Parser
from storage.db import AsyncSession
from storage.identity import IdentityCache
from storage.models import ChannelAccount, MessageRecord, Person
from storage.state import Conversation, LockTimeout, MessageKey, StateStore
from storage.uow import UnitOfWork

__all__ = ["Pipeline", "option_by_label", "option_number", "turn_from_payload"]

log = structlog.get_logger("yinling.pipeline")

MAX_CHARS = 1000  # longer messages are answered with a request to be brief
LOOKUP_SECONDS = 600  # how often the NLU relearns hospital and activity names
NLU_CHARS = 2000  # …but the first 2,000 characters are still checked for an emergency
_NUMERALS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "十": 10,
}
_OPTION_TRIM = "第个项条。.,，、!！ 　"


def option_number(text: str) -> int | None:
    """Read a reply like "2", "２", "二", "第二个" as an option number."""
    core = unicodedata.normalize("NFKC", text).strip().strip(_OPTION_TRIM)
    if core.isdigit() and len(core) <= 2:  # noqa: PLR2004
        return int(core)
    return _NUMERALS.get(core)


def option_by_label(text: str, labels: list[str]) -> int | None:
    """The option whose label was typed out instead of its number ("医院", "上午")."""
    typed = unicodedata.normalize("NFKC", text).strip().strip(_OPTION_TRIM)
    if len(typed) < 2:  # noqa: PLR2004 - one character is too little to go on
        return None
    shown = [unicodedata.normalize("NFKC", label) for label in labels]
    exact = [i for i, label in enumerate(shown, 1) if label == typed]
    if exact:
        return exact[0]
    # A label typed in part: its beginning ("太极拳班" for "太极拳班 11月26日…"), or most of it.
    close = [
        i
        for i, label in enumerate(shown, 1)
        if label.startswith(typed) or (typed in label and 2 * len(typed) >= len(label))
    ]
    return close[0] if len(close) == 1 else None


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


def _usable(text: str) -> bool:
    """True when text has a letter, digit or Chinese character (not only emoji or symbols)."""
    return any(ch.isalnum() for ch in text)


def _clean(text: str) -> str:
    """Drop control characters (keep line breaks) before logging or parsing."""
    return "".join(
        ch for ch in text if ch in "\n\t" or not unicodedata.category(ch).startswith("C")
    ).strip()


@dataclass(slots=True)
class _Outcome:
    replies: list[Reply]
    events: list[dict[str, Any]]
    conv: Conversation
    turn: Turn
    person_id: int | None
    error: bool = False


class Pipeline:
    """The channel-agnostic message pipeline."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        store: StateStore,
        parser: Parser,
        config: ServiceConfig,
        metrics: Metrics | None = None,
        *,
        dedup_seconds: int = 86_400,
        state_seconds: int = 86_400,
        duplicate_wait: float = 4.5,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.parser = parser
        self.config = config
        self.metrics = metrics or Metrics()
        self.dedup_seconds = dedup_seconds
        self.state_seconds = state_seconds
        self.duplicate_wait = duplicate_wait
        self.identities = IdentityCache()
        self._lookups_at = -float(LOOKUP_SECONDS)
        # Called with a message's events once its transaction has committed (bot/jobs.py).
        self.on_events: Callable[[Sequence[dict[str, Any]]], Awaitable[None]] | None = None

    async def refresh_lookups(self, now: datetime) -> None:
        """Teach the NLU the hospitals and activities currently in the database."""
        async with UnitOfWork(self.sessions) as uow:
            hospitals = await uow.catalog.hospitals()
            titles = await uow.activities.titles(now)
        table = {h.name: h.name for h in hospitals}
        table.update({alias: h.name for h in hospitals for alias in h.aliases})
        self.parser.add_lookup("hospital", table)
        self.parser.add_lookup("activity", {title: title for title in titles})
        self._lookups_at = time.monotonic()

    async def handle(self, msg: InboundMessage) -> Response:
        """Handle one inbound message and return the replies to send."""
        started = time.perf_counter()
        if time.monotonic() - self._lookups_at > LOOKUP_SECONDS:
            await self.refresh_lookups(msg.received_at)
        key = MessageKey(msg.channel, msg.user_id, msg.message_id)
        conversation = f"{msg.channel}:{msg.user_id}"
        try:
            async with self.store.turn(key, conversation, self.dedup_seconds) as turn:
                if turn.first:
                    outcome = await self._handle_locked(msg, turn.state)
                    response = Response(
                        tuple(outcome.replies), tuple(outcome.events), outcome.turn.intent or None
                    )
                    await turn.finish(outcome.conv, response.to_json(), self.state_seconds)
        except LockTimeout:
            # The conversation stayed locked (its previous message is stuck): nothing was
            # handled or written; the store forgot the message so that a resend is handled.
            log.warning("message_busy", channel=msg.channel, message_id=msg.message_id)
            self.metrics.errors.labels(msg.channel, "busy").inc()
            return Response((Reply(texts.BUSY.format(hotline=self.config.hotline)),))
        if turn.first and outcome.events and self.on_events is not None:
            try:
                await self.on_events(outcome.events)
            except Exception:  # the reconciler finds what was not kicked
                log.exception("events_dispatch_failed", channel=msg.channel)
        if not turn.first:
            self.metrics.duplicates.labels(msg.channel).inc()
            cached = await self.store.wait_answer(key, self.duplicate_wait)
            log.info("message_duplicate", channel=msg.channel, message_id=msg.message_id)
            return Response.from_json(cached) if cached else Response((), duplicate=True)
        elapsed = time.perf_counter() - started
        self.metrics.messages.labels(msg.channel, outcome.turn.intent or "none").inc()
        self.metrics.latency.labels(msg.channel).observe(elapsed)
        log.info(
            "message_handled",
            channel=msg.channel,
            message_id=msg.message_id,
            person_id=outcome.person_id,
            intent=outcome.turn.intent,
            confidence=round(outcome.turn.confidence, 3),
            flow=outcome.conv.flow,
            events=[e["type"] for e in outcome.events],
            error=outcome.error,
            duration_ms=round(elapsed * 1000, 1),
        )
        return response

    async def _identify(
        self, uow: UnitOfWork, msg: InboundMessage
    ) -> tuple[ChannelAccount | None, Person | None]:
        cached = self.identities.get(msg.channel, msg.user_id)
        if cached is not None:
            return cached
        account, person = await uow.accounts.identify(msg.channel, msg.user_id)
        if account is not None and not account.active and account.person_id is not None:
            # Marked inactive when a send failed (the user had blocked the bot); a user who
            # writes again is evidently back. (An unfollow on WeChat renames the account.)
            person_id = account.person_id
            account = await uow.accounts.get(account.id) or account  # in the session, to change
            account.active = True
            person = await uow.people.get(person_id)
            uow.audit.record(
                msg.received_at, "system", "account_reactivated", "channel_account", account.id
            )
        if account is not None and person is not None:
            self.identities.put(msg.channel, msg.user_id, (account, person))
        return account, person

    async def _understand(self, msg: InboundMessage, conv: Conversation, text: str) -> Turn:
        if msg.payload:
            return turn_from_payload(msg.payload, text, msg.kind)
        number = option_number(text) if conv.options else None
        if number is None and conv.options:
            number = option_by_label(text, conv.labels)
        if number is not None and 1 <= number <= len(conv.options):
            return turn_from_payload(conv.options[number - 1], text, msg.kind)
        if not _usable(text):
            return Turn(text, msg.kind)
        parsed = await self.parser.aparse(text[:NLU_CHARS], msg.received_at)
        ranking = tuple((r["name"], float(r["confidence"])) for r in parsed["intent_ranking"][:5])
        return Turn(
            text,
            msg.kind,
            None,
            parsed["intent"]["name"],
            float(parsed["intent"]["confidence"]),
            tuple(parsed["entities"]),
            ranking,
        )

    def _bad_input(self, msg: InboundMessage, text: str, turn: Turn) -> list[Reply] | None:
        """A polite answer for input we cannot act on; None when the input is fine."""
        if turn.payload is not None or turn.intent == "sos":
            return None
        if len(text) > MAX_CHARS:
            return [Reply(texts.TOO_LONG)]
        if not text:
            return [
                menu_reply(texts.EMPTY if msg.kind == "text" else texts.UNREADABLE, self.config)
            ]
        if not _usable(text):
            return [menu_reply(texts.UNREADABLE, self.config)]
        return None

    async def _handle_locked(self, msg: InboundMessage, conv: Conversation) -> _Outcome:
        now = msg.received_at
        text = _clean(msg.text)
        notes: list[str] = []
        if conv.expired(now):
            flow = FLOWS.get(conv.flow or "")
            notes.append(texts.FLOW_EXPIRED.format(flow=flow.title if flow else ""))
            conv.end_flow()
        if msg.location:
            conv.location = dict(msg.location)
        before = conv.to_json()
        turn = await self._understand(msg, conv, text)
        try:
            async with UnitOfWork(self.sessions) as uow:
                account, person = await self._identify(uow, msg)
                ctx = Ctx(
                    now, turn, uow, conv, msg.channel, msg.user_id, account, person, self.config,
                    tokenize=self.parser.tokenize,
                )  # fmt: skip
                replies = self._bad_input(msg, text, turn) or await route(ctx)
                # "2" next time picks option 2 of the last options shown.
                shown = [r for r in replies if r.options]
                conv.options = [o.payload for o in shown[-1].options] if shown else []
                conv.labels = [o.label for o in shown[-1].options] if shown else []
                if notes:
                    replies = [Reply("\n".join(notes)), *replies]
                if not ctx.forget:
                    await self._log(uow, msg, text, ctx, replies)
                await uow.commit()
            if any(e.type == "account_bound" for e in ctx.events):
                self.identities.forget(msg.channel, msg.user_id)
            person_id = person.id if person else None
            return _Outcome(replies, [e.to_dict() for e in ctx.events], conv, turn, person_id)
        except Exception:
            log.exception(
                "message_failed", channel=msg.channel, message_id=msg.message_id, intent=turn.intent
            )
            self.metrics.errors.labels(msg.channel, "handler").inc()
            await self._log_failure(msg, text, turn)
            return _Outcome(
                [apology(self.config)], [], Conversation.from_json(before), turn, None, True
            )

    async def _log(
        self, uow: UnitOfWork, msg: InboundMessage, text: str, ctx: Ctx, replies: Sequence[Reply]
    ) -> None:
        """The message and its replies, in one statement, in the message's transaction."""
        common: dict[str, Any] = {
            "channel": msg.channel,
            "external_user_id": msg.user_id,
            "account_id": ctx.account.id if ctx.account else None,
            "person_id": ctx.person.id if ctx.person else None,
            "created_at": ctx.now,
            "message_id": None,
            "media_id": None,
            "intent": None,
            "confidence": None,
            "error": False,
        }
        rows = [
            {
                **common,
                "message_id": msg.message_id,
                "direction": "in",
                "kind": msg.kind,
                "text": text or msg.payload,
                "media_id": msg.media_id,
                "intent": ctx.turn.intent or None,
                "confidence": ctx.turn.confidence,
            }
        ]
        for reply in replies:
            options = "".join(f"\n{i}. {o.label}" for i, o in enumerate(reply.options, 1))
            out = {"direction": "out", "kind": "text", "text": reply.text + options}
            rows.append({**common, **out})
        await uow.messages.add_many(rows)

    async def _log_failure(self, msg: InboundMessage, text: str, turn: Turn) -> None:
        """Keep the message and put a person on the conversation; the handler wrote nothing."""
        try:
            async with UnitOfWork(self.sessions) as uow:
                account, person = await uow.accounts.identify(msg.channel, msg.user_id)
                recent = await uow.messages.recent(msg.channel, msg.user_id, limit=10)
                transcript = [
                    {"at": m.created_at.isoformat(), "direction": m.direction, "text": m.text}
                    for m in recent
                ]
                transcript.append(
                    {"at": msg.received_at.isoformat(), "direction": "in", "text": text}
                )
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
                        kind=msg.kind,
                        text=text or msg.payload,
                        intent=turn.intent or None,
                        confidence=turn.confidence,
                        error=True,
                        created_at=msg.received_at,
                    )
                )
                await uow.commit()
        except Exception:
            log.critical(
                "message_lost", channel=msg.channel, message_id=msg.message_id, exc_info=True
            )
