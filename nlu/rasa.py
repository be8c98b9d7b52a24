"""An external Rasa server as the intent engine, behind the same interface as the embedded one.

The server answers ``POST /model/parse``. Its intent ranking is used; our emergency
guard still applies, and entities come from our extractor (Rasa has no resolver for
Chinese dates), topped up by Rasa's for the name-like types. If the server is down or
slow, the embedded engine answers and a warning is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from nlu.engine import EmbeddedEngine, apply_guard
from nlu.normalize import normalize
from nlu.result import EntityDict, ParseDict, as_parse_dict, parse_dict

__all__ = ["RasaParser"]

log = logging.getLogger(__name__)

_NAME_TYPES = {"hospital", "department", "activity"}


class RasaParser:
    """Parse with a Rasa server; fall back to the embedded engine when it fails."""

    def __init__(self, url: str, fallback: EmbeddedEngine, timeout: float = 1.5) -> None:
        self.url = url.rstrip("/") + "/model/parse"
        self.fallback = fallback
        self.timeout = timeout

    def add_lookup(self, entity: str, table: Mapping[str, str]) -> None:
        """Names known at run time go to our own extractor, which Rasa's answer is merged with."""
        self.fallback.add_lookup(entity, table)

    def tokenize(self, text: str) -> list[str]:
        """Words as the embedded engine segments them."""
        return self.fallback.tokenize(text)

    def _merge(self, text: str, remote: dict[str, Any], now: datetime) -> ParseDict:
        answer = as_parse_dict(remote)
        clean = normalize(text)
        ranking, emergency = apply_guard(clean, answer["intent_ranking"] or [answer["intent"]])
        ours: list[EntityDict] = [e.to_dict() for e in self.fallback.extractor.extract(clean, now)]
        have = {e["entity"] for e in ours}
        extra: list[EntityDict] = [
            e for e in answer["entities"] if e.get("entity") in _NAME_TYPES - have
        ]
        entities = sorted(ours + extra, key=lambda e: e["start"])
        return parse_dict(text, ranking, entities, emergency)

    def _fallback(self, text: str, now: datetime, error: Exception) -> ParseDict:
        log.warning("rasa_unavailable url=%s error=%s; using the embedded engine", self.url, error)
        return self.fallback.parse(text, now)

    def parse(self, text: str, now: datetime | None = None) -> ParseDict:
        """Parse synchronously (CLI, evaluation)."""
        now = now or datetime.now(UTC)
        try:
            response = httpx.post(self.url, json={"text": text}, timeout=self.timeout)
            response.raise_for_status()
            return self._merge(text, response.json(), now)
        except (httpx.HTTPError, ValueError, TypeError) as e:
            return self._fallback(text, now, e)

    async def aparse(self, text: str, now: datetime | None = None) -> ParseDict:
        """Parse without blocking the event loop (the message pipeline)."""
        now = now or datetime.now(UTC)
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(self.url, json={"text": text})
                response.raise_for_status()
                return self._merge(text, response.json(), now)
        except (httpx.HTTPError, ValueError, TypeError) as e:
            return self._fallback(text, now, e)
