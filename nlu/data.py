"""Reading training data in Rasa's NLU YAML format (``nlu/data/*.yml``).

Supported: ``intent`` examples with entity markup (``[text](entity)``,
``[text](entity:value)`` and ``[text]{"entity": …, "value": …}``), ``synonym``,
``lookup`` and ``regex`` blocks — the same files a Rasa 3.x server trains on.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

__all__ = [
    "DATA_DIR",
    "Example",
    "TrainingData",
    "data_files",
    "emergency_files",
    "load_emergency_examples",
    "load_training_data",
    "parse_example",
]

DATA_DIR = Path(str(resources.files("nlu") / "data"))

# Rasa's own entity markup grammar: [text](entity), [text](entity:value), [text]{json}.
_ENTITY = re.compile(
    r"\[(?P<text>[^\]]+?)\]"
    r"(?:\((?P<name>[^\):]+)(?::(?P<value>[^\)]+))?\)|(?P<json>\{[^\}]+\}))"
)


@dataclass(frozen=True, slots=True)
class AnnotatedEntity:
    """An entity annotated in a training example."""

    entity: str
    value: str
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Example:
    """One training utterance with its intent and annotated entities."""

    text: str
    intent: str
    entities: tuple[AnnotatedEntity, ...] = ()


@dataclass(slots=True)
class TrainingData:
    """Everything read from the NLU YAML files."""

    examples: list[Example] = field(default_factory=list)
    synonyms: dict[str, str] = field(default_factory=dict)  # surface form -> value
    lookups: dict[str, list[str]] = field(default_factory=dict)  # entity -> names
    regexes: dict[str, list[str]] = field(default_factory=dict)  # name -> patterns

    @property
    def intents(self) -> list[str]:
        """Intent names in sorted order."""
        return sorted({e.intent for e in self.examples})

    def entity_values(self, entity: str, values: Iterable[str] = ()) -> dict[str, str]:
        """Surface form -> value for one entity type.

        Known values are the entity's lookup names plus ``values``; a synonym
        belongs to the entity when its value is known; annotated surfaces keep
        their (synonym-mapped) value.
        """
        known = set(self.lookups.get(entity, [])) | set(values)
        table = {name: name for name in self.lookups.get(entity, [])}
        for surface, value in self.synonyms.items():
            if value in known:
                table[surface] = value
        for example in self.examples:
            for a in example.entities:
                # Annotated spellings of two characters match too much ("里发" in 心里发慌);
                # short ones belong in the curated synonyms instead.
                if a.entity == entity and len(a.text) >= 3:  # noqa: PLR2004
                    table.setdefault(a.text, self.synonyms.get(a.text, a.value))
        return table


def parse_example(line: str, intent: str) -> Example:
    """Strip Rasa entity markup from one example, keeping the entities' offsets."""
    text_parts: list[str] = []
    entities: list[AnnotatedEntity] = []
    cursor = 0
    length = 0
    for m in _ENTITY.finditer(line):
        before = line[cursor : m.start()]
        text_parts.append(before)
        length += len(before)
        surface = m["text"]
        if m["json"]:
            spec = json.loads(m["json"])
            name, value = str(spec["entity"]), str(spec.get("value", surface))
        else:
            name, value = m["name"], m["value"] or surface
        entities.append(AnnotatedEntity(name, value, length, length + len(surface), surface))
        text_parts.append(surface)
        length += len(surface)
        cursor = m.end()
    text_parts.append(line[cursor:])
    return Example("".join(text_parts), intent, tuple(entities))


def _examples_block(block: str) -> list[str]:
    lines = []
    for raw in block.splitlines():
        stripped = raw.strip()
        if stripped.startswith("- "):
            lines.append(stripped[2:].strip())
    return [line for line in lines if line]


def data_files(directory: Path = DATA_DIR) -> list[Path]:
    """The YAML files of a data directory, in a stable order."""
    return sorted(directory.glob("*.yml"))


def emergency_files(directory: Path = DATA_DIR) -> list[Path]:
    """The labelled emergency sets (``emergency/*.jsonl``) of a data directory, in order."""
    return sorted((directory / "emergency").glob("*.jsonl"))


def load_emergency_examples(paths: Iterable[Path]) -> list[tuple[str, bool]]:
    """Messages labelled "is this an emergency happening now?" (one JSON object a line with
    ``text`` and ``emergency``), for the emergency model beside the intent classifier."""
    rows: list[tuple[str, bool]] = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append((str(row["text"]), bool(row["emergency"])))
    return rows


def load_training_data(paths: Iterable[Path] | None = None) -> TrainingData:
    """Read Rasa NLU YAML files into one TrainingData."""
    data = TrainingData()
    for path in data_files() if paths is None else paths:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in document.get("nlu", []) or []:
            block = str(item.get("examples", ""))
            if "intent" in item:
                intent = str(item["intent"])
                data.examples.extend(parse_example(x, intent) for x in _examples_block(block))
            elif "synonym" in item:
                value = str(item["synonym"])
                for surface in _examples_block(block):
                    data.synonyms[surface] = value
            elif "lookup" in item:
                data.lookups.setdefault(str(item["lookup"]), []).extend(_examples_block(block))
            elif "regex" in item:
                data.regexes.setdefault(str(item["regex"]), []).extend(_examples_block(block))
    return data


def fingerprint(paths: Iterable[Path], *extra: str) -> str:
    """A short hash of the data files' contents (and any extra strings), for the model cache."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    for item in extra:
        digest.update(item.encode())
    return digest.hexdigest()[:16]
