"""Prometheus metrics of the message pipeline, served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["Metrics"]


class Metrics:
    """The pipeline's counters and latency histogram, in their own registry."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.messages = Counter(
            "yinling_messages",
            "Messages handled, by channel and understood intent.",
            ["channel", "intent"],
            registry=self.registry,
        )
        self.duplicates = Counter(
            "yinling_duplicate_messages",
            "Repeated deliveries of a message already handled.",
            ["channel"],
            registry=self.registry,
        )
        self.errors = Counter(
            "yinling_errors",
            "Messages whose handling failed and were answered with an apology.",
            ["channel", "stage"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "yinling_message_seconds",
            "Time from receiving a message to having its replies.",
            ["channel"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
            registry=self.registry,
        )
