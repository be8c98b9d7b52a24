"""The values the NLU layer hands out: entities and Rasa-format parse results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NotRequired, TypedDict

__all__ = ["EmergencyDict", "Entity", "EntityDict", "IntentDict", "ParseDict", "parse_dict"]


class IntentDict(TypedDict):
    """One intent with its confidence, as in Rasa's parse JSON."""

    name: str
    confidence: float


class _EntityRequired(TypedDict):
    entity: str
    value: str
    start: int
    end: int


class EntityDict(_EntityRequired, total=False):
    """One entity as in Rasa's parse JSON (``text`` and ``extractor`` are optional)."""

    text: str
    extractor: str


class EmergencyDict(TypedDict):
    """What the emergency guard made of a message, and the classifier's own ``sos``
    confidence before the guard (a Yinling key beside Rasa's: a Rasa client ignores it)."""

    # danger now | past, plan, question, over | its only danger words denied | neither
    guard: Literal["force", "calm", "denied", "none"]
    classifier: float
    # The emergency model's probability that something is happening now that needs someone
    # to come (nlu/engine.py); absent when the engine has none.
    now: NotRequired[float]


class ParseDict(TypedDict):
    """Rasa's ``POST /model/parse`` response body."""

    text: str
    intent: IntentDict
    intent_ranking: list[IntentDict]
    entities: list[EntityDict]
    emergency: NotRequired[EmergencyDict]


@dataclass(frozen=True, slots=True)
class Entity:
    """A span of the message with the entity's normalised value."""

    entity: str
    value: str
    start: int
    end: int
    text: str
    extractor: str = "yinling"

    def to_dict(self) -> EntityDict:
        """Render as Rasa does."""
        return {
            "entity": self.entity,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "extractor": self.extractor,
        }


def parse_dict(
    text: str,
    ranking: list[IntentDict],
    entities: list[Entity] | list[EntityDict],
    emergency: EmergencyDict | None = None,
) -> ParseDict:
    """Assemble a Rasa-format parse result; ``ranking`` is sorted best first."""
    rendered: list[EntityDict] = [e.to_dict() if isinstance(e, Entity) else e for e in entities]
    top: IntentDict = ranking[0] if ranking else {"name": "out_of_scope", "confidence": 0.0}
    parsed: ParseDict = {
        "text": text,
        "intent": top,
        "intent_ranking": ranking,
        "entities": rendered,
    }
    if emergency is not None:
        parsed["emergency"] = emergency
    return parsed


def as_parse_dict(data: Any) -> ParseDict:
    """Check loosely that foreign JSON (a Rasa server's answer) has the parse shape."""
    if not isinstance(data, dict) or not isinstance(data.get("intent"), dict):
        raise TypeError("not a Rasa parse result")
    intent = data["intent"]
    ranking = data.get("intent_ranking") or [intent]
    entities = data.get("entities") or []
    return {
        "text": str(data.get("text", "")),
        "intent": {
            "name": str(intent.get("name")),
            "confidence": float(intent.get("confidence", 0)),
        },
        "intent_ranking": [
            {"name": str(r.get("name")), "confidence": float(r.get("confidence", 0))}
            for r in ranking
        ],
        "entities": list(entities),
    }
