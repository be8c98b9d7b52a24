"""Commands of the NLU layer (``yinling nlu train | parse | evaluate``), usable without the bot."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TextIO

from nlu.data import TrainingData, load_training_data
from nlu.engine import EmbeddedEngine, Parser, domain_words
from nlu.evaluate import Report, cross_validate, evaluate, load_cases
from nlu.features import Featurizer
from nlu.result import ParseDict

__all__ = [
    "RASA_DICTIONARY",
    "rasa_dictionary",
    "run_cross_validation",
    "run_evaluate",
    "run_parse",
    "run_train",
]

# Jieba's user dictionary for the Rasa pipeline (JiebaTokenizer ``dictionary_path``), so that
# Rasa cuts hospital, department and service names where our entity annotations end.
RASA_DICTIONARY = Path(__file__).resolve().parent / "rasa" / "jieba" / "userdict.txt"


def rasa_dictionary(training: TrainingData | None = None) -> str:
    """The user dictionary's text: every entity word of the training data, one per line."""
    words = sorted(domain_words(training or load_training_data()))
    return "".join(f"{word} 1000 n\n" for word in words if " " not in word)


def run_train(cache_dir: Path | None, out: TextIO = sys.stdout) -> EmbeddedEngine:
    """Train (or retrain) the embedded engine and cache it; refresh Rasa's jieba dictionary."""
    started = time.perf_counter()
    engine = EmbeddedEngine.load(cache_dir=cache_dir, retrain=True)
    out.write(
        f"trained {len(engine.model.classes)} intents, {len(engine.model.vocabulary)} features "
        f"in {time.perf_counter() - started:.1f} s\n"
    )
    RASA_DICTIONARY.parent.mkdir(parents=True, exist_ok=True)
    RASA_DICTIONARY.write_text(rasa_dictionary(), encoding="utf-8")
    out.write(f"wrote Rasa's jieba dictionary {RASA_DICTIONARY.name}\n")
    return engine


def run_parse(parser: Parser, now: datetime | None, lines: TextIO, out: TextIO) -> int:
    """One Rasa-format JSON line per input line."""
    count = 0
    for line in lines:
        text = line.rstrip("\n")
        out.write(json.dumps(parser.parse(text, now), ensure_ascii=False) + "\n")
        count += 1
    out.flush()
    return count


def run_evaluate(
    parser: Parser, data: Path, now: datetime | None, as_json: bool, out: TextIO
) -> Report:
    """Evaluate on a JSON-lines file of ``{"text", "intent", "entities"}``."""
    report = evaluate(parser.parse, load_cases(data), now)
    out.write(
        (json.dumps(report.to_json(), ensure_ascii=False) if as_json else report.render()) + "\n"
    )
    return report


def run_cross_validation(folds: int, as_json: bool, out: TextIO) -> Report:
    """K-fold cross-validation of the embedded engine on its own training data."""
    training = load_training_data()
    featurizer = Featurizer.build(domain_words(training))

    def build(part: TrainingData) -> Callable[[str, datetime | None], ParseDict]:
        return EmbeddedEngine.train(part, featurizer=featurizer).parse

    report = cross_validate(training, build, folds=folds)
    out.write(
        (json.dumps(report.to_json(), ensure_ascii=False) if as_json else report.render()) + "\n"
    )
    return report
