"""Benchmark of the embedded NLU engine.

    .venv/bin/python benchmarks/nlu.py            # everything (about two minutes)
    .venv/bin/python benchmarks/nlu.py --quick    # skip cross-validation and SMP2017

Prints: train time, load time (cold process, cached model), parse latency one message at
a time (p50/p99), throughput, peak RSS of a process that only runs the engine, 5-fold
cross-validated accuracy on our training data, accuracy on the held-out set, and accuracy
+ macro-F1 on the public SMP2017-ECDT split trained and tested with the same engine (and,
for comparison, the jieba + char TF-IDF + LinearSVC baseline).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from nlu.data import load_training_data  # noqa: E402
from nlu.engine import EmbeddedEngine, domain_words  # noqa: E402
from nlu.evaluate import Report, cross_validate, evaluate, load_cases  # noqa: E402
from nlu.features import Featurizer  # noqa: E402
from nlu.model import train_linear  # noqa: E402

NOW = datetime.fromisoformat("2026-11-22T10:00:00+08:00")
HELDOUT = REPO / "tests" / "nlu" / "heldout.jsonl"
SMP = REPO.parent / "shared" / "datasets" / "smp2017"

# Runs in a fresh interpreter: only the engine, so its RSS is the engine's.
_PROBE = """
import json, sys, time
started = time.perf_counter()
from nlu.engine import EmbeddedEngine
engine = EmbeddedEngine.load(cache_dir=__import__("pathlib").Path(sys.argv[1]))
loaded = time.perf_counter() - started
texts = [json.loads(line)["text"] for line in open(sys.argv[2], encoding="utf-8")]
from datetime import datetime
now = datetime.fromisoformat("2026-11-22T10:00:00+08:00")
for text in texts[:50]:
    engine.parse(text, now)
samples = []
for _ in range(5):
    for text in texts:
        t = time.perf_counter()
        engine.parse(text, now)
        samples.append(time.perf_counter() - t)
# VmHWM is this process's own peak (ru_maxrss would include the parent's, kept across exec).
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"load_s": loaded, "samples": samples, "rss_mb": peak / 1024}))
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def engine_figures(cache: Path) -> dict[str, float]:
    started = time.perf_counter()
    EmbeddedEngine.load(cache_dir=cache, retrain=True)
    train_s = time.perf_counter() - started
    out = subprocess.run(  # noqa: S603 - our own probe
        [sys.executable, "-c", _PROBE, str(cache), str(HELDOUT)],
        capture_output=True, text=True, check=True, cwd=REPO,
    )  # fmt: skip
    probe = json.loads(out.stdout)
    samples = probe["samples"]
    return {
        "train_s": train_s,
        "load_s": probe["load_s"],
        "p50_ms": percentile(samples, 0.5) * 1000,
        "p99_ms": percentile(samples, 0.99) * 1000,
        "throughput": len(samples) / sum(samples),
        "rss_mb": probe["rss_mb"],
        "messages": len(samples),
    }


def smp_split(name: str) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for line in (SMP / name).read_text(encoding="utf-8").splitlines():
        text, _, label = line.rpartition("\t")
        texts.append(text)
        labels.append(label)
    return texts, labels


def smp_scores(predicted: list[str], gold: list[str]) -> tuple[float, float]:
    report = Report()
    for p, g in zip(predicted, gold, strict=True):
        report.total += 1
        report.correct += p == g
        report.pairs.append((g, p, ""))
    return report.accuracy, report.macro_f1()


def _baseline():  # type: ignore[no-untyped-def]
    """jieba words + char 1-3-grams TF-IDF + LinearSVC: the floor to beat."""
    import jieba
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, make_pipeline
    from sklearn.svm import LinearSVC

    words = TfidfVectorizer(
        tokenizer=jieba.lcut, token_pattern=None, lowercase=False, sublinear_tf=True
    )
    chars = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)
    return make_pipeline(FeatureUnion([("words", words), ("chars", chars)]), LinearSVC(C=1.0))


def _ours(featurizer: Featurizer, texts: list[str], labels: list[str]):  # type: ignore[no-untyped-def]
    model = train_linear(texts, labels, featurizer.features, c=1.0, calibration_folds=0)
    return lambda xs: [
        model.classes[int(model.scores(featurizer.features(x)).argmax())] for x in xs
    ]


def smp2017() -> dict[str, float]:
    from sklearn.model_selection import StratifiedKFold

    train_x, train_y = smp_split("train.tsv")
    test_x, test_y = smp_split("test.tsv")
    featurizer = Featurizer.build([])
    started = time.perf_counter()
    ours = _ours(featurizer, train_x, train_y)
    train_s = time.perf_counter() - started
    acc, f1 = smp_scores(ours(test_x), test_y)
    baseline = _baseline().fit(train_x, train_y)
    base_acc, base_f1 = smp_scores(list(baseline.predict(test_x)), test_y)
    # The 770-utterance split moves by 0.13 points per utterance; 5-fold CV over all
    # 3,069 utterances compares the two engines more steadily.
    texts, labels = train_x + test_x, train_y + test_y
    cv_ours: list[float] = []
    cv_base: list[float] = []
    for tr, te in StratifiedKFold(5, shuffle=True, random_state=0).split(texts, labels):
        xs, ys = [texts[i] for i in tr], [labels[i] for i in tr]
        held_x, held_y = [texts[i] for i in te], [labels[i] for i in te]
        cv_ours.append(smp_scores(_ours(featurizer, xs, ys)(held_x), held_y)[0])
        cv_base.append(smp_scores(list(_baseline().fit(xs, ys).predict(held_x)), held_y)[0])
    return {
        "train": len(train_x),
        "test": len(test_x),
        "classes": len(set(train_y)),
        "accuracy": acc,
        "macro_f1": f1,
        "train_s": train_s,
        "baseline_accuracy": base_acc,
        "baseline_macro_f1": base_f1,
        "cv_accuracy": statistics.mean(cv_ours),
        "cv_baseline_accuracy": statistics.mean(cv_base),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip cross-validation and SMP2017")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cache:
        figures = engine_figures(Path(cache))
    print("Embedded engine (this machine)")
    print(f"  train              {figures['train_s']:.1f} s")
    print(f"  load (cold, cached) {figures['load_s']:.2f} s  (imports + model)")
    print(f"  parse latency      p50 {figures['p50_ms']:.2f} ms   p99 {figures['p99_ms']:.2f} ms"
          f"   over {figures['messages']} messages one at a time")  # fmt: skip
    print(f"  throughput         {figures['throughput']:.0f} messages/s (one core)")
    print(f"  peak RSS           {figures['rss_mb']:.0f} MB (a process running only the engine)")

    engine = EmbeddedEngine.load()
    held = evaluate(engine.parse, load_cases(HELDOUT), NOW)
    print(f"\nHeld-out set ({held.total} utterances written apart from the training data)")
    print(f"  intent accuracy {held.accuracy:.4f}   macro F1 {held.macro_f1():.4f}")
    print(f"  sos recall {held.sos_recall():.4f}   sos precision {held.sos_precision():.4f}")
    print(
        "  entities  " + "  ".join(f"{k} {a:.3f}" for k, (a, _) in held.entity_accuracy().items())
    )

    if args.quick:
        return
    training = load_training_data()
    featurizer = Featurizer.build(domain_words(training))
    cv = cross_validate(
        training, lambda part: EmbeddedEngine.train(part, featurizer=featurizer).parse
    )
    print(f"\n5-fold cross-validation on the training data ({cv.total} utterances)")
    print(f"  intent accuracy {cv.accuracy:.4f}   macro F1 {cv.macro_f1():.4f}")
    print(f"  sos recall {cv.sos_recall():.4f}   sos precision {cv.sos_precision():.4f}")

    if (SMP / "train.tsv").exists():
        smp = smp2017()
        print(
            f"\nSMP2017-ECDT task 1 ({smp['classes']:.0f} classes, train {smp['train']:.0f} / test {smp['test']:.0f})"
        )
        print(f"  this engine       accuracy {smp['accuracy']:.4f}   macro F1 {smp['macro_f1']:.4f}"
              f"   (trained in {smp['train_s']:.1f} s)")  # fmt: skip
        print(
            f"  jieba+char+SVM    accuracy {smp['baseline_accuracy']:.4f}   macro F1 {smp['baseline_macro_f1']:.4f}"
        )
        print(f"  5-fold CV over all {smp['train'] + smp['test']:.0f}: this engine {smp['cv_accuracy']:.4f}"
              f"   jieba+char+SVM {smp['cv_baseline_accuracy']:.4f}")  # fmt: skip
    print(f"\nreproduce: {sys.executable} benchmarks/nlu.py")


if __name__ == "__main__":
    main()
