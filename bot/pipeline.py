"""One message, end to end: understand → de-dup → lock → state → identity → route → commit.

* The same platform message id is handled once, also when two copies arrive at once (the
  copy waits for the first one's answer and returns it), after a crash (the state store's
  claim lapses and the retry is handled) and whatever the state store says: the message
  log takes each platform message once, so a second handling rolls back and answers with
  the replies logged the first time.
* A conversation's messages are handled one at a time (a lock per conversation).
* One database transaction per message: a handler error rolls back everything it
  wrote, the conversation state is left as it was, and the user gets an apology
  that carries the hotline. The message itself is still logged.
* An emergency needs only the database. If Redis is away, the conversation is locked,
  the handler fails or the whole turn is too slow to answer in time, it is written on
  its own (request + alert; the reconciler pages it) and answered with the hotline;
  if the database is away too, it goes to the spool (bot/spool.py) and is written when
  the database is back. A cancelled emergency is spooled too.
"""

from __future__ import annotations

import asyncio
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
from bot.routing import ASK, FLOWS, NOW, SOS_CONFIDENCE, route, urgency
from bot.spool import Spool
from handlers import sos, staff, texts
from handlers.base import Ctx, Reply, ServiceConfig, Turn
from handlers.choices import option_by_label, option_by_words, option_number, plain_yes
from handlers.wording import apology, menu_reply
from nlu.engine import Parser
from nlu.entities import short_names
from storage.db import AsyncSession
from storage.identity import IdentityCache
from storage.models import ChannelAccount, MessageRecord, Person
from storage.repos import is_duplicate_message
from storage.state import Conversation, LockTimeout, MessageKey, StateStore, StoreUnavailable
from storage.uow import UnitOfWork

__all__ = ["Pipeline", "option_by_label", "option_number", "turn_from_payload"]

log = structlog.get_logger("yinling.pipeline")

MAX_CHARS = 1000  # longer messages are answered with a request to be brief
LOOKUP_SECONDS = 600  # how often the NLU relearns hospital and activity names
LOOKUP_RETRY_SECONDS = 30  # …and how soon it tries again when the database was away
KIND_CHARS = 12  # message_log.kind (a channel maps types it does not know to "other")
MEDIA_CHARS = 200  # message_log.media_id (channels refuse longer ones; this is the backstop)
DISPATCH_SECONDS = 1.0  # kicking a message's jobs (the reconciler is the fallback)
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
    duplicate: bool = False  # handled before (the message log has it): nothing written now


def _is_sos(turn: Turn) -> bool:
    return turn.intent == "sos" and (turn.payload is not None or turn.confidence >= SOS_CONFIDENCE)


def _emergency(text: str, turn: Turn | None, *, unsure_too: bool = False) -> bool:
    """Whether a message, read on its own, is an emergency to answer whatever else fails
    (a staff member's typed command about someone else is not). ``unsure_too``: also one
    the bot would ask about first — when it cannot ask (no state store), it pages."""
    if turn is None:
        return False
    level = urgency(turn)
    return (level == NOW or (unsure_too and level == ASK)) and not staff.is_command(text)


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
        spool: Spool | None = None,
        sos_answer_seconds: float = 2.0,
        sos_write_seconds: float = 1.5,
    ) -> None:
        self.sessions = sessions
        self.store = store
        self.parser = parser
        self.config = config
        self.metrics = metrics or Metrics()
        self.dedup_seconds = dedup_seconds
        self.state_seconds = state_seconds
        self.duplicate_wait = duplicate_wait
        self.spool = spool
        # An emergency is answered within sos_answer_seconds + sos_write_seconds (WeChat
        # waits 5 s): the turn gets the first, a write on its own the second, then the spool.
        self.sos_answer_seconds = sos_answer_seconds
        self.sos_write_seconds = sos_write_seconds
        self.identities = IdentityCache()
        self._lookups_at = -float(LOOKUP_SECONDS)
        self._background: set[asyncio.Task[Any]] = set()
        self._spooled: set[MessageKey] = set()  # spooled by this process, not yet written
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
        activities = {short: title for title in titles for short in short_names(title)}
        activities.update({title: title for title in titles})
        self.parser.add_lookup("activity", activities)
        self._lookups_at = time.monotonic()

    async def _refresh(self, now: datetime) -> None:
        if time.monotonic() - self._lookups_at <= LOOKUP_SECONDS:
            return
        try:
            await self.refresh_lookups(now)
        except Exception as e:  # the database is away: the names known so far still serve
            log.warning("lookups_not_refreshed", error=type(e).__name__)
            self._lookups_at = time.monotonic() - LOOKUP_SECONDS + LOOKUP_RETRY_SECONDS

    # ------------------------------------------------------------------ a message
    async def handle(self, msg: InboundMessage) -> Response:
        """Handle one inbound message and return the replies to send."""
        started = time.perf_counter()
        await self._refresh(msg.received_at)
        text = _clean(msg.text)
        read = await self._read(msg, text)
        if not _emergency(text, read):
            return await self._turn(msg, text, read, started, emergency=False)
        # An emergency is answered in time, whatever the turn is waiting for.
        task = asyncio.ensure_future(self._turn(msg, text, read, started, emergency=True))
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.sos_answer_seconds)
        except TimeoutError:
            self._keep(task)  # it may still finish; what it writes then is written once
            log.critical("sos_turn_slow", channel=msg.channel, message_id=msg.message_id)
            return await self._respond(msg, await self._alone(msg, text, read, "slow"), started)
        except asyncio.CancelledError:
            if not task.done():
                task.cancel()
                self._spool(msg, "cancelled")
            raise

    async def _turn(
        self,
        msg: InboundMessage,
        text: str,
        read: Turn | None,
        started: float,
        *,
        emergency: bool,
    ) -> Response:
        """Claim the message, hold its conversation, handle it, save the state."""
        key = MessageKey(msg.channel, msg.user_id, msg.message_id)
        conversation = f"{msg.channel}:{msg.user_id}"
        try:
            async with self.store.turn(
                key, conversation, self.dedup_seconds, wait=self.duplicate_wait
            ) as turn:
                if not turn.first:
                    self.metrics.duplicates.labels(msg.channel).inc()
                    log.info("message_duplicate", channel=msg.channel, message_id=msg.message_id)
                    if turn.answer is None:
                        return Response((), duplicate=True)
                    return Response.from_json(turn.answer)
                outcome = await self._handle_locked(msg, turn.state, text, read, emergency)
                response = _response(outcome)
                try:
                    await turn.finish(outcome.conv, response.to_json(), self.state_seconds)
                except StoreUnavailable as e:
                    # Written and answered; a retry is de-duplicated by the message log.
                    log.error("state_not_saved", channel=msg.channel, error=str(e))  # noqa: TRY400
        except (LockTimeout, StoreUnavailable) as e:
            stage = "busy" if isinstance(e, LockTimeout) else "store"
            self.metrics.errors.labels(msg.channel, stage).inc()
            if not (emergency or _emergency(text, read, unsure_too=True)):
                # Nothing was handled or written; the store forgot the message, so that a
                # resend (or the platform's retry) is handled.
                log.warning("message_not_handled", channel=msg.channel, stage=stage)
                busy = texts.BUSY if stage == "busy" else texts.STORE_AWAY
                return Response((Reply(busy.format(hotline=self.config.hotline)),))
            outcome = await self._alone(msg, text, read, stage)
        return await self._respond(msg, outcome, started)

    async def _respond(self, msg: InboundMessage, outcome: _Outcome, started: float) -> Response:
        """Hand out the events of what was committed, count and log the message."""
        await self._dispatch(outcome.events)
        if outcome.duplicate:
            self.metrics.duplicates.labels(msg.channel).inc()
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
            duplicate=outcome.duplicate,
            duration_ms=round(elapsed * 1000, 1),
        )
        return _response(outcome)

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

    async def _read(self, msg: InboundMessage, text: str) -> Turn | None:
        """The message understood on its own, without the conversation (a button's payload
        as it says; None when there is no text to read, or only a number — an answer to
        options, read in the conversation)."""
        if msg.payload:
            return turn_from_payload(msg.payload, text, msg.kind)
        if not _usable(text) or option_number(text) is not None:
            return None
        return await self._parse(msg, text)

    async def _parse(self, msg: InboundMessage, text: str) -> Turn:
        parsed = await self.parser.aparse(text[:NLU_CHARS], msg.received_at)
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

    async def _understand(
        self, msg: InboundMessage, conv: Conversation, text: str, read: Turn | None
    ) -> Turn:
        """The message in its conversation: an answer to the options last shown, else as read."""
        if not msg.payload and conv.options:
            number = option_number(text)
            if number is None:
                number = option_by_label(text, conv.labels)
            if number is None and len(text) <= WORDS_PICK_CHARS:
                number = option_by_words(text, conv.labels)
            offered = [
                o for o in conv.options if o != "/human_agent" and not o.startswith("/inform")
            ]
            if number is None and len(offered) == 1 and plain_yes(text):
                number = conv.options.index(offered[0]) + 1  # a yes to the one thing offered
            if number is not None and 1 <= number <= len(conv.options):
                return turn_from_payload(conv.options[number - 1], text, msg.kind)
        if read is None and not msg.payload and _usable(text):  # a number, no options shown
            return await self._parse(msg, text)
        return read if read is not None else Turn(text, msg.kind)

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

    async def _handle_locked(
        self,
        msg: InboundMessage,
        conv: Conversation,
        text: str,
        read: Turn | None,
        emergency: bool,
    ) -> _Outcome:
        now = msg.received_at
        notes: list[str] = []
        if conv.expired(now):
            flow = FLOWS.get(conv.flow or "")
            notes.append(texts.FLOW_EXPIRED.format(flow=flow.title if flow else ""))
            conv.end_flow()
        if msg.location:
            conv.location = dict(msg.location)
        before = conv.to_json()
        turn = await self._understand(msg, conv, text, read)
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
        except Exception as e:
            if is_duplicate_message(e):
                log.info("message_handled_before", channel=msg.channel, message_id=msg.message_id)
                replies = await self._answered(msg, turn)
                previous = Conversation.from_json(before)
                return _Outcome(replies, [], previous, turn, None, duplicate=True)
            self.metrics.errors.labels(msg.channel, "handler").inc()
            previous = Conversation.from_json(before)
            failed = {"channel": msg.channel, "message_id": msg.message_id, "intent": turn.intent}
            if emergency or _is_sos(turn):
                outcome = await self._alone(msg, text, turn, "handler")  # first: it is urgent
                outcome.conv = previous
                log.exception("message_failed", **failed)
                return outcome
            log.exception("message_failed", **failed)
            await self._log_failure(msg, text, turn)
            return _Outcome([apology(self.config)], [], previous, turn, None, True)

    # ------------------------------------------------------------- emergencies
    async def _alone(self, msg: InboundMessage, text: str, read: Turn | None, why: str) -> _Outcome:
        """An emergency written on its own: no state store, no lock, a fresh transaction, in
        time — else spooled. Always answered with the hotline."""
        turn = read or Turn(text, msg.kind, None, "sos", 1.0)
        log.critical("sos_alone", reason=why, channel=msg.channel, message_id=msg.message_id)
        try:
            async with asyncio.timeout(self.sos_write_seconds):
                return await self._write_emergency(msg, text, turn)
        except Exception as e:
            if is_duplicate_message(e):
                replies = await self._answered(msg, turn)
                return _Outcome(replies, [], Conversation(), turn, None, duplicate=True)
            log.critical("sos_not_written", reason=why, error=type(e).__name__)
        self._spool(msg, why)
        sos_ack = Reply(texts.SOS_ACK.format(hotline=self.config.hotline))
        return _Outcome([sos_ack], [], Conversation(), turn, None, error=True)

    async def _write_emergency(self, msg: InboundMessage, text: str, turn: Turn) -> _Outcome:
        """The emergency handler in a transaction of its own (and the message logged in it,
        which makes the write happen once)."""
        location = dict(msg.location) if msg.location else None
        conv = Conversation(location=location)
        async with UnitOfWork(self.sessions) as uow:
            account, person = await uow.accounts.identify(msg.channel, msg.user_id)
            ctx = Ctx(
                msg.received_at, turn, uow, conv, msg.channel, msg.user_id, account, person,
                self.config, tokenize=self.parser.tokenize,
            )  # fmt: skip
            replies = await sos.sos(ctx)
            await self._log(uow, msg, text, ctx, replies)
            await uow.commit()
        person_id = person.id if person else None
        return _Outcome(replies, [e.to_dict() for e in ctx.events], conv, turn, person_id)

    def _spool(self, msg: InboundMessage, why: str) -> None:
        key = MessageKey(msg.channel, msg.user_id, msg.message_id)
        if key in self._spooled:  # a slow turn and its own fallback: kept once is enough
            return
        if self.spool is None:
            log.critical("sos_not_kept", reason=why, channel=msg.channel, message_id=msg.message_id)
            return
        try:
            self.spool.append(msg, why)
        except OSError as e:
            log.critical("sos_not_kept", reason=why, error=type(e).__name__)
            return
        self._spooled.add(key)

    async def replay(self, msg: InboundMessage) -> bool:
        """Write a spooled emergency; True once it is in the database (now or before)."""
        text = _clean(msg.text)
        turn = await self._read(msg, text) or Turn(text, msg.kind, None, "sos", 1.0)
        try:
            outcome = await self._write_emergency(msg, text, turn)
        except Exception as e:
            if is_duplicate_message(e):
                return True
            log.warning("spool_replay_failed", error=type(e).__name__)
            return False
        log.warning("spool_replayed", channel=msg.channel, message_id=msg.message_id)
        await self._dispatch(outcome.events)
        return True

    async def _dispatch(self, events: Sequence[dict[str, Any]]) -> None:
        """Kick the jobs of committed events; briefly: the reconciler does what is not kicked
        (pages an alert whose job never came), so a job queue that is away delays nothing."""
        if not events or self.on_events is None:
            return
        try:
            async with asyncio.timeout(DISPATCH_SECONDS):
                await self.on_events(events)
        except Exception as e:
            log.warning("events_not_dispatched", error=type(e).__name__)

    async def replay_spool(self) -> int:
        """Write what the spool holds (while the database answers); how many were written."""
        if self.spool is None:
            return 0
        entries = await asyncio.to_thread(self.spool.pending)
        written = set()
        for entry in entries:
            if not await self.replay(entry.message):
                break  # the database is still away: try again later
            written.add(entry.id)
            m = entry.message
            self._spooled.discard(MessageKey(m.channel, m.user_id, m.message_id))
        await asyncio.to_thread(self.spool.remove, written)
        return len(written)

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self, seconds: float = 10.0) -> None:
        """Let turns still running in the background finish (at shutdown)."""
        if self._background:
            _, late = await asyncio.wait(list(self._background), timeout=seconds)
            for task in late:
                task.cancel()

    # ------------------------------------------------------------------ the log
    async def _answered(self, msg: InboundMessage, turn: Turn) -> list[Reply]:
        """What was answered when this message was handled before (from the log)."""
        try:
            async with UnitOfWork(self.sessions) as uow:
                logged = await uow.messages.replies_to(msg.channel, msg.user_id, msg.message_id)
        except Exception:  # the database is away: say it was received
            log.warning("replies_not_read", channel=msg.channel)
            logged = []
        if logged:
            return [Reply(m.text or "") for m in logged if m.text]
        if _is_sos(turn):
            return [Reply(texts.SOS_ACK.format(hotline=self.config.hotline))]
        return [Reply(texts.RECEIVED_BEFORE)]

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
            log.critical(
                "message_lost", channel=msg.channel, message_id=msg.message_id, exc_info=True
            )


def _response(outcome: _Outcome) -> Response:
    return Response(
        tuple(outcome.replies),
        tuple(outcome.events),
        outcome.turn.intent or None,
        duplicate=outcome.duplicate,
    )
