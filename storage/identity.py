"""A short-lived, in-process cache of who is behind a channel account.

Every message needs its channel account and person. They change rarely (binding,
unbinding, a roster edit), so each worker keeps what it has looked up for a few seconds.
Only bound accounts are kept; a binding in this process forgets the entry at once, and
one made in another process is seen within ``seconds``.
"""

from __future__ import annotations

import time
from collections import OrderedDict

from storage.models import ChannelAccount, Person

__all__ = ["IdentityCache"]

Identity = tuple[ChannelAccount, Person]


class IdentityCache:
    """(channel, external id) -> (account, person), least recently used out first."""

    def __init__(self, seconds: float = 30.0, size: int = 10_000) -> None:
        self.seconds = seconds
        self.size = size
        self._entries: OrderedDict[tuple[str, str], tuple[float, Identity]] = OrderedDict()

    def get(self, channel: str, external_id: str) -> Identity | None:
        """The cached identity, if fresh."""
        key = (channel, external_id)
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, channel: str, external_id: str, identity: Identity) -> None:
        """Remember a bound account and its person."""
        self._entries[(channel, external_id)] = (time.monotonic() + self.seconds, identity)
        self._entries.move_to_end((channel, external_id))
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def forget(self, channel: str, external_id: str) -> None:
        """Drop an entry (after a binding changed it)."""
        self._entries.pop((channel, external_id), None)
