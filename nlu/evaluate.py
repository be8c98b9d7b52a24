"""Measuring a parser: intent accuracy, per-intent P/R/F1, confusions, sos recall, entities."""

from __future__ import annotations

import json
import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nlu.data import Example, TrainingData
from nlu.result import ParseDict

__all__ = ["Case", "Report", "cross_validate", "evaluate", "load_cases"]

SOS = "sos"
# Entity types whose annotated value in training data is a surface form, not a value.
_SURFACE_VALUED = {"date", "time"}


@dataclass(frozen=True, slots=True)
class Case:
    """One evaluation utterance with its expected intent and entities (type, value)."""

    text: str
    intent: str
    entities: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class Report:
    """Results of an evaluation."""

    total: int = 0
    correct: int = 0
    pairs: list[tuple[str, str, str]] = field(default_factory=list)  # gold, predicted, text
    entity_gold: Counter[str] = field(default_factory=Counter)
    entity_hit: Counter[str] = field(default_factory=Counter)
    entity_extra: Counter[str] = field(default_factory=Counter)
    entity_misses: list[tuple[str, str, str]] = field(default_factory=list)  # type, value, text

    @property
    def accuracy(self) -> float:
        """Share of utterances whose intent was right."""
        return self.correct / self.total if self.total else 0.0

    def per_intent(self) -> dict[str, tuple[float, float, float, int]]:
        """Intent -> (precision, recall, F1, support)."""
        gold = Counter(g for g, _, _ in self.pairs)
        pred = Counter(p for _, p, _ in self.pairs)
        hits = Counter(g for g, p, _ in self.pairs if g == p)
        table = {}
        for intent in sorted(set(gold) | set(pred)):
            p = hits[intent] / pred[intent] if pred[intent] else 0.0
            r = hits[intent] / gold[intent] if gold[intent] else 0.0
            f = 2 * p * r / (p + r) if p + r else 0.0
            table[intent] = (p, r, f, gold[intent])
        return table

    def macro_f1(self) -> float:
        """Mean F1 over the intents present in the gold labels."""
        rows = [v for v in self.per_intent().values() if v[3]]
        return sum(v[2] for v in rows) / len(rows) if rows else 0.0

    def confusions(self) -> list[tuple[str, str, int]]:
        """(gold, predicted, count), most frequent first."""
        counts = Counter((g, p) for g, p, _ in self.pairs if g != p)
        return [(g, p, n) for (g, p), n in counts.most_common()]

    def sos_recall(self) -> float:
        """Share of true emergencies recognised as sos."""
        row = self.per_intent().get(SOS)
        return row[1] if row else float("nan")

    def sos_precision(self) -> float:
        """Share of sos predictions that were emergencies."""
        row = self.per_intent().get(SOS)
        return row[0] if row else float("nan")

    def entity_accuracy(self) -> dict[str, tuple[float, int]]:
        """Entity type -> (share of expected entities found with the right value, count)."""
        return {t: (self.entity_hit[t] / n, n) for t, n in sorted(self.entity_gold.items()) if n}

    def to_json(self) -> dict[str, Any]:
        """A machine-readable summary."""
        return {
            "total": self.total,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1(), 4),
            "sos_recall": round(self.sos_recall(), 4),
            "sos_precision": round(self.sos_precision(), 4),
            "per_intent": {
                k: {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "n": n}
                for k, (p, r, f, n) in self.per_intent().items()
            },
            "confusions": [list(c) for c in self.confusions()],
            "entities": {
                k: {"accuracy": round(a, 4), "n": n} for k, (a, n) in self.entity_accuracy().items()
            },
        }

    def render(self, errors: int = 15) -> str:
        """A human-readable report."""
        lines = [
            f"utterances      {self.total}",
            f"intent accuracy {self.accuracy:.4f}",
            f"macro F1        {self.macro_f1():.4f}",
            f"sos recall      {self.sos_recall():.4f}   sos precision {self.sos_precision():.4f}",
            "",
            f"{'intent':20s} {'prec':>6s} {'recall':>6s} {'f1':>6s} {'n':>5s}",
        ]
        for intent, (p, r, f, n) in self.per_intent().items():
            lines.append(f"{intent:20s} {p:6.3f} {r:6.3f} {f:6.3f} {n:5d}")
        lines += ["", "confusions (gold -> predicted: count)"]
        lines += [f"  {g} -> {p}: {n}" for g, p, n in self.confusions()[:20]]
        if self.entity_gold:
            lines += ["", f"{'entity':14s} {'accuracy':>8s} {'n':>5s} {'extra':>6s}"]
            for t, (a, n) in self.entity_accuracy().items():
                lines.append(f"{t:14s} {a:8.3f} {n:5d} {self.entity_extra[t]:6d}")
        wrong = [(g, p, t) for g, p, t in self.pairs if g != p][:errors]
        if wrong:
            lines += ["", "some errors (gold / predicted / text)"]
            lines += [f"  {g:18s} {p:18s} {t}" for g, p, t in wrong]
        return "\n".join(lines)


def load_cases(path: Path) -> list[Case]:
    """Read JSON lines ``{"text", "intent", "entities": [{"entity", "value"}]}``."""
    cases = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            entities = tuple(
                (str(e["entity"]), str(e["value"])) for e in item.get("entities", []) or []
            )
            cases.append(Case(item["text"], item["intent"], entities))
    return cases


def _cases_from_examples(examples: Iterable[Example], synonyms: dict[str, str]) -> list[Case]:
    return [
        Case(
            e.text,
            e.intent,
            tuple(
                (a.entity, synonyms.get(a.value, a.value))
                for a in e.entities
                if a.entity not in _SURFACE_VALUED
            ),
        )
        for e in examples
    ]


# Intents this engine adds to ../shared/spec/intents.md, and the contract's name for them:
# a set written against the contract labels loneliness out_of_scope.
CONTRACT_PARENT = {"lonely": "out_of_scope"}


def evaluate(
    parse: Callable[[str, datetime | None], ParseDict],
    cases: Sequence[Case],
    now: datetime | None = None,
    report: Report | None = None,
) -> Report:
    """Parse every case and tally the results."""
    report = report or Report()
    for case in cases:
        result = parse(case.text, now)
        predicted = result["intent"]["name"]
        if CONTRACT_PARENT.get(predicted) == case.intent:
            predicted = case.intent  # an intent added to the contract, scored as its parent
        report.total += 1
        report.correct += predicted == case.intent
        report.pairs.append((case.intent, predicted, case.text))
        found = Counter((e["entity"], str(e["value"])) for e in result["entities"])
        gold = Counter(case.entities)
        for (etype, value), n in gold.items():
            report.entity_gold[etype] += n
            hit = min(n, found[(etype, value)])
            report.entity_hit[etype] += hit
            if hit < n:
                report.entity_misses.append((etype, value, case.text))
        for (etype, value), n in found.items():
            if etype in {t for t, _ in case.entities}:
                report.entity_extra[etype] += max(0, n - gold[(etype, value)])
    return report


def cross_validate(
    training: TrainingData,
    build: Callable[[TrainingData], Callable[[str, datetime | None], ParseDict]],
    folds: int = 5,
    seed: int = 0,
) -> Report:
    """Stratified K-fold cross-validation over the training examples."""
    by_intent: dict[str, list[Example]] = defaultdict(list)
    for example in training.examples:
        by_intent[example.intent].append(example)
    rng = random.Random(seed)
    assignment: list[list[Example]] = [[] for _ in range(folds)]
    for intent in sorted(by_intent):
        items = by_intent[intent][:]
        rng.shuffle(items)
        for i, example in enumerate(items):
            assignment[i % folds].append(example)
    report = Report()
    for k in range(folds):
        train = TrainingData(
            examples=[e for j, part in enumerate(assignment) if j != k for e in part],
            synonyms=training.synonyms,
            lookups=training.lookups,
            regexes=training.regexes,
        )
        parse = build(train)
        evaluate(parse, _cases_from_examples(assignment[k], training.synonyms), report=report)
    return report
