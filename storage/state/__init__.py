"""Conversation state and message de-duplication: in Redis, or in-process for the demo.

Both stores have the same interface and are tested against the same contract. Handling
one message is one *turn*: the platform message id is claimed, the conversation is locked,
and only then is its state loaded; at the end the new state and the answer (kept for
retries) are saved and the lock released.

A message id goes through two delivery states. While a turn handles it, it is
*processing* under a short lease that the turn keeps renewing; only ``finish`` (called
after the database commit) makes it *done*, with its answer, for a day. A turn that ends
without finishing — an exception, a cancellation — gives the claim back at once, and a
process killed mid-message stops renewing, so its lease lapses within seconds: either way
the platform's retry of that message is handled, not swallowed. A repeat that arrives
while the first copy is still processing waits a moment for its answer (or for the claim
to come free, and then handles the message itself).

On Redis that is two round trips per message, pipelined: claim + lock + load, and
save + answer + release. Redis errors are raised as :class:`StoreUnavailable`.
"""

from __future__ import annotations

from storage.state.base import (
    Conversation,
    LockTimeout,
    MessageKey,
    StateStore,
    StoreUnavailable,
    Turn,
)
from storage.state.memory import MemoryStore
from storage.state.redis_store import RedisStore

__all__ = [
    "Conversation",
    "LockTimeout",
    "MemoryStore",
    "MessageKey",
    "RedisStore",
    "StateStore",
    "StoreUnavailable",
    "Turn",
]
