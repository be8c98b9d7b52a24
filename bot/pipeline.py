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

Reading a message is bot/reading.py; the message log, bot/message_log.py; what a message
came to, and how it is counted and logged, bot/outcome.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.message_log import answered, log_failure, log_turn
from bot.messages import InboundMessage, Response
from bot.metrics import Metrics
from bot.outcome import Outcome
from bot.reading import (
    bad_input,
    clean,
    is_emergency,
    is_sos,
    read_alone,
    read_in_conversation,
    teach_names,
    turn_from_payload,
)
from bot.routing import FLOWS, route
from bot.spool import Spool
from handlers import sos, texts
from handlers.base import Ctx, Reply, ServiceConfig, Turn
from handlers.choices import option_by_label, option_number
from handlers.wording import apology
from nlu.engine import Parser
from storage.db import AsyncSession
from storage.identity import IdentityCache
from storage.models import ChannelAccount, Person
from storage.repos import is_duplicate_message
from storage.state import Conversation, LockTimeout, MessageKey, StateStore, StoreUnavailable
from storage.uow import UnitOfWork

__all__ = ["Pipeline", "option_by_label", "option_number", "turn_from_payload"]

log = structlog.get_logger("yinling.pipeline")

LOOKUP_SECONDS = 600  # how often the NLU relearns hospital and activity names
LOOKUP_RETRY_SECONDS = 30  # …and how soon it tries again when the database was away
DISPATCH_SECONDS = 1.0  # kicking a message's jobs (the reconciler is the fallback)


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
        await teach_names(self.parser, self.sessions, now)
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
        text = clean(msg.text)
        read = await self._read(msg, text)
        if not is_emergency(text, read):
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
                response = outcome.response()
                try:
                    await turn.finish(outcome.conv, response.to_json(), self.state_seconds)
                except StoreUnavailable as e:
                    # Written and answered; a retry is de-duplicated by the message log.
                    log.error("state_not_saved", channel=msg.channel, error=str(e))  # noqa: TRY400
        except (LockTimeout, StoreUnavailable) as e:
            stage = "busy" if isinstance(e, LockTimeout) else "store"
            self.metrics.errors.labels(msg.channel, stage).inc()
            if not (emergency or is_emergency(text, read, unsure_too=True)):
                # Nothing was handled or written; the store forgot the message, so that a
                # resend (or the platform's retry) is handled.
                log.warning("message_not_handled", channel=msg.channel, stage=stage)
                busy = texts.BUSY if stage == "busy" else texts.STORE_AWAY
                return Response((Reply(busy.format(hotline=self.config.hotline)),))
            outcome = await self._alone(msg, text, read, stage)
        return await self._respond(msg, outcome, started)

    async def _respond(self, msg: InboundMessage, outcome: Outcome, started: float) -> Response:
        """Hand out the events of what was committed, count and log the message."""
        await self._dispatch(outcome.events)
        outcome.report(self.metrics, msg, time.perf_counter() - started)
        return outcome.response()

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
        """The message understood on its own, without the conversation (bot/reading.py)."""
        return await read_alone(self.parser, msg, text)

    async def _handle_locked(
        self,
        msg: InboundMessage,
        conv: Conversation,
        text: str,
        read: Turn | None,
        emergency: bool,
    ) -> Outcome:
        now = msg.received_at
        notes: list[str] = []
        if conv.expired(now):
            flow = FLOWS.get(conv.flow or "")
            notes.append(texts.FLOW_EXPIRED.format(flow=flow.title if flow else ""))
            conv.end_flow()
        if msg.location:
            conv.location = dict(msg.location)
        before = conv.to_json()
        turn = await read_in_conversation(self.parser, msg, conv, text, read)
        try:
            async with UnitOfWork(self.sessions) as uow:
                account, person = await self._identify(uow, msg)
                ctx = Ctx(
                    now, turn, uow, conv, msg.channel, msg.user_id, account, person, self.config,
                    tokenize=self.parser.tokenize,
                )  # fmt: skip
                replies = bad_input(self.config, msg, text, turn) or await route(ctx)
                # "2" next time picks option 2 of the last options shown.
                shown = [r for r in replies if r.options]
                conv.options = [o.payload for o in shown[-1].options] if shown else []
                conv.labels = [o.label for o in shown[-1].options] if shown else []
                if notes:
                    replies = [Reply("\n".join(notes)), *replies]
                if not ctx.forget:
                    await log_turn(uow, msg, text, ctx, replies)
                await uow.commit()
            if any(e.type == "account_bound" for e in ctx.events):
                self.identities.forget(msg.channel, msg.user_id)
            person_id = person.id if person else None
            return Outcome(replies, [e.to_dict() for e in ctx.events], conv, turn, person_id)
        except Exception as e:
            if is_duplicate_message(e):
                log.info("message_handled_before", channel=msg.channel, message_id=msg.message_id)
                replies = await answered(self.sessions, self.config, msg, turn)
                previous = Conversation.from_json(before)
                return Outcome(replies, [], previous, turn, None, duplicate=True)
            self.metrics.errors.labels(msg.channel, "handler").inc()
            previous = Conversation.from_json(before)
            failed = {"channel": msg.channel, "message_id": msg.message_id, "intent": turn.intent}
            if emergency or is_sos(turn):
                outcome = await self._alone(msg, text, turn, "handler")  # first: it is urgent
                outcome.conv = previous
                log.exception("message_failed", **failed)
                return outcome
            log.exception("message_failed", **failed)
            await log_failure(self.sessions, msg, text, turn)
            return Outcome([apology(self.config)], [], previous, turn, None, True)

    # ------------------------------------------------------------- emergencies
    async def _alone(self, msg: InboundMessage, text: str, read: Turn | None, why: str) -> Outcome:
        """An emergency written on its own: no state store, no lock, a fresh transaction, in
        time — else spooled. Always answered with the hotline."""
        turn = read or Turn(text, msg.kind, None, "sos", 1.0)
        log.critical("sos_alone", reason=why, channel=msg.channel, message_id=msg.message_id)
        try:
            async with asyncio.timeout(self.sos_write_seconds):
                return await self._write_emergency(msg, text, turn)
        except Exception as e:
            if is_duplicate_message(e):
                replies = await answered(self.sessions, self.config, msg, turn)
                return Outcome(replies, [], Conversation(), turn, None, duplicate=True)
            log.critical("sos_not_written", reason=why, error=type(e).__name__)
        self._spool(msg, why)
        sos_ack = Reply(texts.SOS_ACK.format(hotline=self.config.hotline))
        return Outcome([sos_ack], [], Conversation(), turn, None, error=True)

    async def _write_emergency(self, msg: InboundMessage, text: str, turn: Turn) -> Outcome:
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
            await log_turn(uow, msg, text, ctx, replies)
            await uow.commit()
        person_id = person.id if person else None
        return Outcome(replies, [e.to_dict() for e in ctx.events], conv, turn, person_id)

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
        text = clean(msg.text)
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
