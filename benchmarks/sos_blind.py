"""How the bot takes single messages that may be emergencies: pages at once, asks first
("您是遇到紧急情况了吗？", paged anyway if unanswered), or neither.

    .venv/bin/python benchmarks/sos_blind.py [tests/nlu/sos_blind.jsonl ...]

Each line of a set is ``{"text", "emergency": true|false, "kind"}``, written by someone who
had not read the guard, the handlers or the training data (tests/nlu/SOS_SETS.md). A message
is read as the pipeline reads it (the embedded engine, the guard, ``bot.routing.urgency``)
from a bound retiree with no flow open.

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

from bot.routing import ASK, NOW, urgency  # noqa: E402
from handlers.base import Turn  # noqa: E402
from nlu.engine import EmbeddedEngine  # noqa: E402

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
    )
    return urgency(turn)


def measure(engine: EmbeddedEngine, path: Path, show_text: bool) -> dict[str, float]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument(
        "--show", action="store_true", help="print the texts of misses (never for the blind set)"
    )
    args = parser.parse_args()
    engine = EmbeddedEngine.load()
    for path in args.sets:
        measure(engine, path, show_text=args.show and "blind" not in path.name)
    print(f"reproduce: {sys.executable} benchmarks/sos_blind.py " + " ".join(map(str, args.sets)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
