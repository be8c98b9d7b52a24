"""The embedded NLU engine: classifier + emergency guard + entities, in Rasa's parse format.

Beside the intent classifier, a second linear model over the same features answers one
question: is something happening now that needs someone to come? It is trained on the
``sos`` examples against all others and on the labelled emergency sets of
``nlu/data/emergency/`` (messages written by several people, each labelled by whether a
duty officer would want a call now). The router weighs it with the rules (bot/routing.py).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from nlu import data as nlu_data
from nlu.entities import (
    GAZETTEER_ENTITIES,
    SERVICE_TYPES,
    EntityExtractor,
    Gazetteer,
    short_names,
)
from nlu.features import Featurizer
from nlu.model import LinearModel, train_linear
from nlu.normalize import normalize
from nlu.result import EmergencyDict, IntentDict, ParseDict, parse_dict
from nlu.sos import assess
from nlu.spelling import Speller

__all__ = ["EmbeddedEngine", "Parser", "default_cache_dir"]

log = logging.getLogger(__name__)

SOS = "sos"
# Confidence reported when the guard forces sos over a less sure classifier.
GUARD_CONFIDENCE = 0.95
# A cry for help alone does not page staff when the classifier is this sure it is chat.
TRIVIAL_CONFIDENCE = 0.95
# Confidence left to sos when the guard finds a past event, a plan or a question.
VETOED_CONFIDENCE = 0.02
# Sources whose change must retrain the cached model.
_CODE_FILES = ("features.py", "model.py", "entities.py", "engine.py")
_SVM_C = 1.0
# The emergency model's two classes and its regularisation (C), chosen by holding out one
# writer's emergency set at a time (benchmarks/sos_blind.py --by-writer).
_NOW, _NOT = "now", "not"
_EMERGENCY_C = 0.5
_SPELLING = "domain_word"  # a lookup table of the training data: see nlu/spelling.py


class Parser(Protocol):
    """Anything that turns a message into a Rasa-format parse result."""

    def parse(self, text: str, now: datetime | None = None) -> ParseDict:
        """Parse one message sent at ``now`` (default: the current time)."""
        ...

    async def aparse(self, text: str, now: datetime | None = None) -> ParseDict:
        """Parse without blocking an event loop."""
        ...

    def add_lookup(self, entity: str, table: Mapping[str, str]) -> None:
        """Teach the entity extractor names known at run time (surface form -> value)."""
        ...

    def tokenize(self, text: str) -> list[str]:
        """jieba words of a text, as the engine segments them (for search)."""
        ...


def default_cache_dir() -> Path:
    """Where trained models are kept: ``$XDG_CACHE_HOME/yinling/nlu``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "yinling" / "nlu"


def domain_words(training: nlu_data.TrainingData) -> set[str]:
    words = set(training.synonyms) | set(training.synonyms.values())
    for names in training.lookups.values():
        words.update(names)
    for example in training.examples:
        words.update(a.text for a in example.entities)
    return {w for w in words if not w.isascii()}


def _spelled(tables: Mapping[str, Mapping[str, str]]) -> set[str]:
    """The short words whose sound-alike slips are corrected: the domain words of the
    training data and the two-character names of hospitals, departments and services."""
    words = set(tables.get(_SPELLING, {}))
    for entity in ("hospital", "department", "service_type"):
        words.update(surface for surface in tables.get(entity, {}) if not surface.isascii())
    return words


def _gazetteer_tables(training: nlu_data.TrainingData) -> dict[str, dict[str, str]]:
    tables = {_SPELLING: {w: w for w in training.lookups.get(_SPELLING, [])}}
    for entity in GAZETTEER_ENTITIES:
        known = SERVICE_TYPES if entity == "service_type" else ()
        tables[entity] = training.entity_values(entity, known)
    names = list(tables["activity"].values())
    for title in names:
        for short in short_names(title):
            tables["activity"].setdefault(short, title)
    return tables


class EmbeddedEngine:
    """In-process parser trained from the Rasa-format files in ``nlu/data``."""

    def __init__(
        self,
        featurizer: Featurizer,
        model: LinearModel,
        gazetteer: Mapping[str, Mapping[str, str]],
        guard: bool = True,
        emergency_model: LinearModel | None = None,
    ) -> None:
        self.featurizer = featurizer
        self.model = model
        self.emergency_model = emergency_model
        self.guard = guard
        self._gazetteer = Gazetteer(featurizer.pinyin)
        self._tables = {k: dict(v) for k, v in gazetteer.items()}
        for entity, table in self._tables.items():
            if entity != _SPELLING:
                self._gazetteer.add(entity, table)
        self.extractor = EntityExtractor(self._gazetteer)
        self.speller = Speller(featurizer.pinyin, featurizer.words, _spelled(self._tables))

    # --------------------------------------------------------------- build
    @classmethod
    def train(
        cls,
        training: nlu_data.TrainingData,
        featurizer: Featurizer | None = None,
        c: float = _SVM_C,
        guard: bool = True,
        emergencies: Sequence[tuple[str, bool]] = (),
    ) -> EmbeddedEngine:
        """Train from training data (a few seconds); a featurizer may be shared across folds.
        ``emergencies``: messages labelled emergency-now or not, for the emergency model."""
        featurizer = featurizer or Featurizer.build(domain_words(training))
        seen: dict[str, list[str]] = {}

        def features(text: str) -> list[str]:
            # Both models see the same messages: each is featurized once.
            if text not in seen:
                seen[text] = featurizer.features(text)
            return seen[text]

        texts = [e.text for e in training.examples]
        labels = [e.intent for e in training.examples]
        model = train_linear(texts, labels, features, c=c)
        urgent = [_NOW if e.intent == SOS else _NOT for e in training.examples]
        urgent += [_NOW if now else _NOT for _, now in emergencies]
        emergency_model = None
        if len(set(urgent)) == 2:  # noqa: PLR2004 - data without emergencies has no such model
            emergency_model = train_linear(
                texts + [text for text, _ in emergencies],
                urgent,
                features,
                c=_EMERGENCY_C,
            )
        tables = _gazetteer_tables(training)
        return cls(featurizer, model, tables, guard=guard, emergency_model=emergency_model)

    @classmethod
    def cached(cls, data_dir: Path | None = None, cache_dir: Path | None = None) -> bool:
        """Whether ``load`` will find a model for the current data (else it trains one)."""
        key = _cache_key(data_dir or nlu_data.DATA_DIR)
        return ((cache_dir or default_cache_dir()) / f"model-{key}" / "meta.json").exists()

    @classmethod
    def load(
        cls,
        data_dir: Path | None = None,
        cache_dir: Path | None = None,
        retrain: bool = False,
    ) -> EmbeddedEngine:
        """Load the cached model for the current data, training and caching it if needed."""
        directory = data_dir or nlu_data.DATA_DIR
        key = _cache_key(directory)
        cache = (cache_dir or default_cache_dir()) / f"model-{key}"
        if not retrain and (cache / "meta.json").exists():
            try:
                return cls._read(cache)
            except (OSError, ValueError, KeyError) as e:
                log.warning("nlu_cache_unreadable path=%s error=%s", cache, e)
        started = time.perf_counter()
        engine = cls.train(
            nlu_data.load_training_data(nlu_data.data_files(directory)),
            emergencies=nlu_data.load_emergency_examples(nlu_data.emergency_files(directory)),
        )
        log.info("nlu_trained seconds=%.1f", time.perf_counter() - started)
        engine._write(cache)
        return engine

    def _write(self, cache: Path) -> None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache.parent, prefix=".tmp-"))
        meta: dict[str, Any] = {
            **_save_model(self.model, staging / "weights.npz"),
            "featurizer": self.featurizer.to_json(),
            "gazetteer": self._tables,
        }
        if self.emergency_model is not None:
            meta["emergency"] = _save_model(self.emergency_model, staging / "emergency.npz")
        (staging / "meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        try:
            staging.rename(cache)
        except OSError:
            # Another process cached the same model first; theirs is as good as ours.
            for item in staging.iterdir():
                item.unlink()
            staging.rmdir()

    @classmethod
    def _read(cls, cache: Path) -> EmbeddedEngine:
        meta = json.loads((cache / "meta.json").read_text(encoding="utf-8"))
        with np.load(cache / "weights.npz") as arrays:
            model = LinearModel.from_arrays(
                {
                    "classes": meta["classes"],
                    "vocabulary": meta["vocabulary"],
                    "temperature": meta["temperature"],
                    "idf": arrays["idf"],
                    "weights": arrays["weights"],
                    "bias": arrays["bias"],
                }
            )
        emergency_model = None
        if "emergency" in meta:
            with np.load(cache / "emergency.npz") as arrays:
                emergency_model = LinearModel.from_arrays(
                    {**meta["emergency"], **{k: arrays[k] for k in ("idf", "weights", "bias")}}
                )
        featurizer = Featurizer.from_json(meta["featurizer"])
        return cls(featurizer, model, meta["gazetteer"], emergency_model=emergency_model)

    # --------------------------------------------------------------- lookups
    def add_lookup(self, entity: str, table: Mapping[str, str]) -> None:
        """Teach the extractor names known at run time (hospitals, activities from the DB)."""
        table = {surface: value for surface, value in table.items() if surface and value}
        self._tables.setdefault(entity, {}).update(table)
        self._gazetteer.add(entity, table)

    # --------------------------------------------------------------- parsing
    def classify(self, text: str, features: list[str] | None = None) -> list[IntentDict]:
        """Intent ranking from the classifier alone, best first."""
        features = self.featurizer.features(text) if features is None else features
        probs = self.model.probabilities(features)
        classes, confidences = self.model.classes, probs.tolist()
        return [
            {"name": classes[i], "confidence": round(confidences[i], 4)}
            for i in np.argsort(-probs).tolist()
        ]

    def parse(self, text: str, now: datetime | None = None) -> ParseDict:
        """Parse one message in Rasa's format; dates are resolved against ``now``."""
        now = now or datetime.now(UTC)
        clean = normalize(text)
        if not clean.strip():
            return parse_dict(text, [{"name": "out_of_scope", "confidence": 1.0}], [])
        features = self.featurizer.features(clean)
        ranking = self.classify(clean, features)
        emergency = None
        if self.guard:
            ranking, emergency = apply_guard(clean, ranking)
            if self.emergency_model is not None and "now" not in emergency:
                model = self.emergency_model
                probability = model.probabilities(features)[model.classes.index(_NOW)]
                emergency["now"] = round(float(probability), 4)
        # Offsets are shared by the raw and the normalised text; report the raw words.
        found = self.extractor.extract(self.speller.correct(clean), now)
        entities = [replace(e, text=text[e.start : e.end]) for e in found]
        ranking = agree_with_entities(ranking, {e.entity for e in found})
        return parse_dict(text, ranking, entities, emergency)

    async def aparse(self, text: str, now: datetime | None = None) -> ParseDict:
        """Same as :meth:`parse`; in-process parsing takes well under a millisecond."""
        return self.parse(text, now)

    def tokenize(self, text: str) -> list[str]:
        """jieba words of a text (normalised), for search over documents."""
        return self.featurizer.tokens("".join(normalize(text).split()))


# Bookings told apart by what they name: a hospital or a department is a visit to a doctor,
# a home service is a home service. Where the classifier hesitates between two of them and
# the message names only what the second needs, the second is meant ("已经去医院看过了 这几天
# 做不了饭 明天送餐" is meals, not a hospital visit).
_NAMED_BY: dict[str, frozenset[str]] = {
    "medical_escort": frozenset({"hospital", "department"}),
    "eldercare_booking": frozenset({"service_type"}),
}
_HESITATION = 0.15  # the second's confidence from which the classifier was in two minds


def agree_with_entities(ranking: list[IntentDict], named: set[str]) -> list[IntentDict]:
    """The ranking with its first two swapped when only the second's entities are named."""
    if len(ranking) < 2:  # noqa: PLR2004
        return ranking
    first, second = ranking[0], ranking[1]
    needs_first = _NAMED_BY.get(first["name"])
    needs_second = _NAMED_BY.get(second["name"])
    if needs_first is None or needs_second is None or second["confidence"] < _HESITATION:
        return ranking
    if named & needs_first or not named & needs_second:
        return ranking
    return [
        {"name": second["name"], "confidence": first["confidence"]},
        {"name": first["name"], "confidence": second["confidence"]},
        *ranking[2:],
    ]


def apply_guard(clean: str, ranking: list[IntentDict]) -> tuple[list[IntentDict], EmergencyDict]:
    """Let the emergency guard force ``sos`` into a ranking, or (a past event, a plan, a
    question) move it down; and say what it found, with the classifier's own ``sos``
    confidence — the router asks rather than routes a message the classifier took for an
    emergency, whatever the guard made of it."""
    verdict = assess(clean)
    top = ranking[0]
    classifier = next((r["confidence"] for r in ranking if r["name"] == SOS), 0.0)
    guard: Literal["force", "calm", "denied", "none"] = "none"
    # "救命 孙子的数学作业我也不会": a bare cry before something the classifier is sure of.
    trivial = top["name"] == "out_of_scope" and top["confidence"] >= TRIVIAL_CONFIDENCE
    if verdict.force and not (verdict.cry_only and trivial):
        guard = "force"
        if top["name"] != SOS or top["confidence"] < GUARD_CONFIDENCE:
            ranking = _with_sos(ranking, max(GUARD_CONFIDENCE, classifier), first=True)
    elif verdict.veto:
        guard = "denied" if verdict.denied else "calm"
        if top["name"] == SOS and len(ranking) > 1:
            # Likely not an emergency: the other intents share what sos had.
            ranking = _with_sos(ranking, VETOED_CONFIDENCE, first=False)
    emergency: EmergencyDict = {"guard": guard, "classifier": classifier}
    if guard == "force" and verdict.grave:
        emergency["now"] = 1.0  # thoughts of ending one's life: no model may doubt them
    return ranking, emergency


def _with_sos(ranking: list[IntentDict], confidence: float, first: bool) -> list[IntentDict]:
    """The ranking with sos at ``confidence`` (first or last), the rest scaled to sum to 1."""
    rest = [r for r in ranking if r["name"] != SOS]
    scale = (1.0 - confidence) / max(sum(r["confidence"] for r in rest), 1e-9)
    scaled: list[IntentDict] = [
        {"name": r["name"], "confidence": round(r["confidence"] * scale, 4)} for r in rest
    ]
    sos: IntentDict = {"name": SOS, "confidence": confidence}
    return [sos, *scaled] if first else [*scaled, sos]


def _save_model(model: LinearModel, path: Path) -> dict[str, Any]:
    """Write a model's arrays to ``path``; return what goes into meta.json beside them."""
    arrays = model.to_arrays()
    np.savez(path, idf=arrays["idf"], weights=arrays["weights"], bias=arrays["bias"])
    return {key: arrays[key] for key in ("classes", "vocabulary", "temperature")}


def _cache_key(directory: Path) -> str:
    """The model cache's key: the training files' and the engine code's contents."""
    files = nlu_data.data_files(directory) + nlu_data.emergency_files(directory)
    code = [(Path(__file__).parent / name).read_text(encoding="utf-8") for name in _CODE_FILES]
    return nlu_data.fingerprint(files, *code)


def engine_info(engine: EmbeddedEngine) -> dict[str, Any]:
    """Sizes of a loaded engine, for benchmarks and logs."""
    return {
        "classes": len(engine.model.classes),
        "features": len(engine.model.vocabulary),
        "dictionary_words": len(engine.featurizer.words),
    }
