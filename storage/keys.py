"""Every Redis key Yinling uses, built in one place (``yl:{kind}:{id}``)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Keys"]


@dataclass(frozen=True, slots=True)
class Keys:
    """Key builder; ``prefix`` lets tests and deployments share one Redis."""

    prefix: str = "yl:"

    def seen(self, channel: str, sender: str, message_id: str) -> str:
        """Claimed by the first worker that handles a platform message."""
        return f"{self.prefix}seen:{channel}:{sender}:{message_id}"

    def answer(self, channel: str, sender: str, message_id: str) -> str:
        """The replies to a platform message, for its retries."""
        return f"{self.prefix}answer:{channel}:{sender}:{message_id}"

    def state(self, conversation: str) -> str:
        """A conversation's state (active flow, slots, options)."""
        return f"{self.prefix}state:{conversation}"

    def lock(self, conversation: str) -> str:
        """Held while one message of a conversation is handled."""
        return f"{self.prefix}lock:{conversation}"
