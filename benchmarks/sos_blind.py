"""How the bot takes single messages that may be emergencies: pages at once, asks first
("您是遇到紧急情况了吗？", paged anyway if unanswered), or neither.

    .venv/bin/python benchmarks/sos_blind.py [tests/nlu/sos_blind.jsonl ...]

Each line of a set is ``{"text", "emergency": true|false, "kind"}``, written by someone who
had not read the guard, the handlers or the training data (tests/nlu/SOS_SETS.md). A message
is read as the pipeline reads it (the embedded engine, the guard, ``bot.routing.urgency``)
from a bound retiree with no flow open.

``--by-writer`` measures each development set of nlu/data/emergency/ (one per writer) on an
engine trained without it: how the emergency model carries to a writer it never saw. With
``--grid`` it prints the same figures for other thresholds of the router, the way
EMERGENCY_DOUBT, EMERGENCY_LIKELY and EMERGENCY_AGREED were chosen (never on a blind set).

Printed per set: recall (emergencies paged, at once or after the unanswered question) and
recall at once; precision (of the messages paged at once, how many were emergencies); how
many look-alikes were asked about; and the misses by kind (never their text for the blind
set: it is not to be tuned on).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot import routing  # noqa: E402
from bot.routing import ASK, NOW, urgency  # noqa: E402
from handlers.base import Turn  # noqa: E402
from nlu import data as nlu_data  # noqa: E402
from nlu.engine import EmbeddedEngine, domain_words  # noqa: E402
from nlu.features import Featurizer  # noqa: E402

NOW_AT = datetime.fromisoformat("2026-12-07T10:00:00+08:00")
DEFAULT = [REPO / "tests" / "nlu" / "sos_blind.jsonl"]


def decide(engine: EmbeddedEngine, text: str) -> str | None:
    """NOW, ASK or None, as the router would for this message."""
    parsed = engine.parse(text, NOW_AT)
    emergency = parsed.get("emergency") or {"guard": "none", "classifier": 0.0}
    turn = Turn(
        text,
        intent=parsed["intent"]["name"],
        confidence=float(parsed["intent"]["confidence"]),
        ranking=tuple((r["name"], float(r["confidence"])) for r in parsed["intent_ranking"]),
        guard=emergency["guard"],
        classifier_sos=float(emergency["classifier"]),
        emergency_now=emergency.get("now"),
    )
    return urgency(turn)


def measure(
    engine: EmbeddedEngine, path: Path, show_text: bool, grid: bool = False
) -> dict[str, float]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    if grid:
        _grid(engine, rows)
    seen: Counter[tuple[bool, str | None]] = Counter()
    missed: Counter[str] = Counter()
    alarmed: Counter[str] = Counter()
    for row in rows:
        decision = decide(engine, row["text"])
        seen[(bool(row["emergency"]), decision)] += 1
        if row["emergency"] and decision is None:
            missed[row["kind"]] += 1
            if show_text:
                print(f"    missed [{row['kind']}] {row['text']}")
        if not row["emergency"] and decision == NOW:
            alarmed[row["kind"]] += 1
            if show_text:
                print(f"    paged  [{row['kind']}] {row['text']}")
    emergencies = sum(n for (e, _), n in seen.items() if e)
    others = sum(n for (e, _), n in seen.items() if not e)
    paged_now = seen[(True, NOW)] + seen[(False, NOW)]
    figures = {
        "recall": (seen[(True, NOW)] + seen[(True, ASK)]) / emergencies,
        "recall_now": seen[(True, NOW)] / emergencies,
        "precision": seen[(True, NOW)] / paged_now if paged_now else 1.0,
        "asked_lookalikes": seen[(False, ASK)] / others,
    }
    print(f"{path.name}: {emergencies} emergencies, {others} look-alikes")
    print(
        f"  emergencies: paged at once {seen[(True, NOW)]}, asked first {seen[(True, ASK)]}, "
        f"missed {seen[(True, None)]}"
    )
    print(
        f"  look-alikes: paged {seen[(False, NOW)]}, asked {seen[(False, ASK)]}, "
        f"left alone {seen[(False, None)]}"
    )
    print(
        f"  recall {figures['recall']:.1%} (at once {figures['recall_now']:.1%}); "
        f"precision of paging at once {figures['precision']:.1%}; "
        f"look-alikes asked {figures['asked_lookalikes']:.1%}"
    )
    if missed:
        print("  missed, by kind: " + ", ".join(f"{k} {n}" for k, n in missed.most_common()))
    if alarmed:
        print("  false pages, by kind: " + ", ".join(f"{k} {n}" for k, n in alarmed.most_common()))
    return figures


GRID = [
    (doubt, likely, agreed)
    for doubt in (0.0, 0.3)
    for likely in (0.3, 0.4, 0.5, 1.01)
    for agreed in (0.9, 1.01)
]
_KNOBS = ("EMERGENCY_DOUBT", "EMERGENCY_LIKELY", "EMERGENCY_AGREED")


def _grid(engine: EmbeddedEngine, rows: list[dict[str, object]]) -> None:
    """Recall, recall at once, precision and look-alikes asked for other router thresholds
    (1.01: that reading switched off)."""
    saved = [getattr(routing, knob) for knob in _KNOBS]
    print("  doubt likely agreed  recall  at-once  precision  asked")
    try:
        for values in GRID:
            for knob, value in zip(_KNOBS, values, strict=True):
                setattr(routing, knob, value)
            seen = Counter((bool(r["emergency"]), decide(engine, str(r["text"]))) for r in rows)
            emergencies = sum(n for (e, _), n in seen.items() if e)
            others = sum(n for (e, _), n in seen.items() if not e)
            paged = seen[(True, NOW)] + seen[(False, NOW)]
            doubt, likely, agreed = values
            print(
                f"  {doubt:5.2f} {likely:6.2f} {agreed:6.2f}  "
                f"{(seen[(True, NOW)] + seen[(True, ASK)]) / emergencies:6.1%}  "
                f"{seen[(True, NOW)] / emergencies:7.1%}  "
                f"{seen[(True, NOW)] / paged if paged else 1.0:9.1%}  "
                f"{seen[(False, ASK)] / others:5.1%}"
            )
    finally:
        for knob, value in zip(_KNOBS, saved, strict=True):
            setattr(routing, knob, value)


def by_writer(show: bool, grid: bool) -> None:
    """Each writer's set measured on an engine trained on everything else."""
    training = nlu_data.load_training_data()
    featurizer = Featurizer.build(domain_words(training))
    files = nlu_data.emergency_files()
    for held in files:
        others = nlu_data.load_emergency_examples(f for f in files if f != held)
        engine = EmbeddedEngine.train(training, featurizer, emergencies=others)
        print(f"held out: {held.name} (trained on {len(others)} labelled messages of the others)")
        measure(engine, held, show_text=show, grid=grid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument(
        "--show", action="store_true", help="print the texts of misses (never for the blind set)"
    )
    parser.add_argument(
        "--by-writer", action="store_true", help="hold out each development set in turn"
    )
    parser.add_argument("--grid", action="store_true", help="figures for other thresholds too")
    args = parser.parse_args()
    if args.by_writer:
        by_writer(args.show, args.grid)
        flags = " --by-writer" + (" --grid" if args.grid else "")
        print(f"reproduce: {sys.executable} benchmarks/sos_blind.py{flags}")
        return 0
    engine = EmbeddedEngine.load()
    for path in args.sets:
        blind = "blind" in path.name
        measure(engine, path, show_text=args.show and not blind, grid=args.grid and not blind)
    print(f"reproduce: {sys.executable} benchmarks/sos_blind.py " + " ".join(map(str, args.sets)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
