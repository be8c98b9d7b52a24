"""The in-process state store, for the console demo and single-process use."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from storage.state.base import Conversation, MessageKey

__all__ = ["MemoryStore"]


@dataclass(slots=True)
class _MemoryClaim:
    expires: float
    done: bool = False
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # done or given back


@dataclass(slots=True)
class _MemoryTurn:
    store: MemoryStore
    message: MessageKey
    conversation: str
    first: bool
    state: Conversation
    answer: str | None = None
    claim_ttl: int = 0
    finished: bool = False

    async def finish(self, state: Conversation, answer: str, ttl: int) -> None:
        self.store.put(self.conversation, state, ttl)
        self.store.answer(self.message, answer, ttl, self.claim_ttl)
        self.finished = True


class MemoryStore:
    """In-process store for the console demo and single-process use."""

    def __init__(self) -> None:
        self._states: dict[str, tuple[float, str]] = {}
        self._claims: dict[MessageKey, _MemoryClaim] = {}
        self._answers: dict[MessageKey, tuple[float, str]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def turn(
        self, message: MessageKey, conversation: str, claim_ttl: int, wait: float = 0.0
    ) -> AsyncIterator[_MemoryTurn]:
        """Claim, lock, load; give the claim back if the turn ends without finishing."""
        deadline = time.monotonic() + wait
        while True:
            claim = self._claims.get(message)
            if claim is None or claim.expires <= time.monotonic():
                break
            left = deadline - time.monotonic()
            if not claim.done and left > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(claim.settled.wait(), left)
                if self._claims.get(message) is not claim:
                    continue  # given back (the first handling failed): handle it here
            yield _MemoryTurn(
                self, message, conversation, False, Conversation(), self._answer(message)
            )
            return
        claim = self._claims[message] = _MemoryClaim(time.monotonic() + claim_ttl)
        turn = _MemoryTurn(self, message, conversation, True, Conversation(), claim_ttl=claim_ttl)
        lock = self._locks.setdefault(conversation, asyncio.Lock())
        try:
            async with lock:
                turn.state = self.get(conversation)
                yield turn
        finally:
            if not turn.finished and self._claims.get(message) is claim:
                del self._claims[message]
            claim.settled.set()
            if not lock.locked() and self._locks.get(conversation) is lock:
                del self._locks[conversation]

    def get(self, conversation: str) -> Conversation:
        """The stored state, or a fresh one."""
        item = self._states.get(conversation)
        if item is None or item[0] < time.monotonic():
            return Conversation()
        return Conversation.from_json(item[1])

    def put(self, conversation: str, state: Conversation, ttl: int) -> None:
        """Store the state for ``ttl`` seconds."""
        self._states[conversation] = (time.monotonic() + ttl, state.to_json())

    def answer(self, message: MessageKey, answer: str, ttl: int, claim_ttl: int) -> None:
        """Keep the answer and mark the message done."""
        self._answers[message] = (time.monotonic() + ttl, answer)
        claim = self._claims.get(message)
        if claim is not None:
            claim.done = True
            claim.expires = time.monotonic() + claim_ttl

    def _answer(self, message: MessageKey) -> str | None:
        item = self._answers.get(message)
        return item[1] if item and item[0] > time.monotonic() else None

    async def ping(self) -> bool:
        """Always reachable."""
        return True
