"""The intent classifier: TF-IDF features and a linear SVM trained with scikit-learn.

Training uses scikit-learn; prediction is a few numpy operations over the exported
vocabulary, idf and weights, so a running bot never imports scikit-learn or scipy.
Confidences are the SVM's scores through a softmax whose temperature is fitted on
cross-validated scores (temperature scaling), so 0.9 means "right about 9 in 10".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["LinearModel", "train_linear"]

Analyzer = Callable[[str], list[str]]
FloatArray = npt.NDArray[np.float32]


class LinearModel:
    """A trained linear classifier over string features."""

    def __init__(
        self,
        *,
        classes: list[str],
        vocabulary: dict[str, int],
        idf: FloatArray,
        weights: FloatArray,
        bias: FloatArray,
        temperature: float,
    ) -> None:
        self.classes = classes
        self.vocabulary = vocabulary
        self.idf = idf
        self.weights = weights  # (n_features, n_classes)
        self.bias = bias
        self.temperature = temperature

    def scores(self, features: Sequence[str]) -> FloatArray:
        """Raw SVM scores per class, as scikit-learn's decision_function gives them."""
        vocabulary = self.vocabulary
        known: list[int] = []
        counts: list[int] = []
        for feature, count in Counter(features).items():
            column = vocabulary.get(feature)
            if column is not None:
                known.append(column)
                counts.append(count)
        if not known:
            return self.bias.copy()
        index = np.array(known, dtype=np.int64)
        tf = (1.0 + np.log(np.array(counts, dtype=np.float64))).astype(np.float32)
        values: FloatArray = tf * self.idf[index]
        norm = float(np.sqrt(np.dot(values, values)))
        if norm > 0:
            values = (values / norm).astype(np.float32)
        result: FloatArray = values @ self.weights[index] + self.bias
        return result

    def probabilities(self, features: Sequence[str]) -> FloatArray:
        """Calibrated probabilities per class (softmax of scores over the temperature)."""
        return _softmax(self.scores(features), self.temperature)

    def to_arrays(self) -> dict[str, Any]:
        """Serialise: arrays for ``numpy.savez`` and JSON-friendly metadata."""
        return {
            "classes": self.classes,
            "vocabulary": sorted(self.vocabulary, key=self.vocabulary.__getitem__),
            "idf": self.idf,
            "weights": self.weights,
            "bias": self.bias,
            "temperature": self.temperature,
        }

    @classmethod
    def from_arrays(cls, data: dict[str, Any]) -> LinearModel:
        """Inverse of :meth:`to_arrays`."""
        vocabulary = {f: i for i, f in enumerate(data["vocabulary"])}
        return cls(
            classes=list(data["classes"]),
            vocabulary=vocabulary,
            idf=np.asarray(data["idf"], dtype=np.float32),
            weights=np.asarray(data["weights"], dtype=np.float32),
            bias=np.asarray(data["bias"], dtype=np.float32),
            temperature=float(data["temperature"]),
        )


def _softmax(scores: FloatArray, temperature: float) -> FloatArray:
    z = scores / temperature
    z = z - z.max()
    e = np.exp(z)
    result: FloatArray = (e / e.sum()).astype(np.float32)
    return result


def _fit_temperature(scores: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]) -> float:
    """The temperature that minimises the log-loss of softmax(scores / T)."""
    from scipy.optimize import minimize_scalar  # noqa: PLC0415 - training only

    def nll(log_t: float) -> float:
        z = scores / math.exp(log_t)
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(labels)), labels].mean())

    result = minimize_scalar(nll, bounds=(-5.0, 3.0), method="bounded")
    return math.exp(float(result.x))


def train_linear(
    texts: Sequence[str],
    labels: Sequence[str],
    analyzer: Analyzer,
    *,
    c: float = 0.5,
    calibration_folds: int = 5,
    seed: int = 0,
) -> LinearModel:
    """Fit TF-IDF + LinearSVC on texts and calibrate confidences by temperature scaling."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415
    from sklearn.model_selection import StratifiedKFold, cross_val_predict  # noqa: PLC0415
    from sklearn.svm import LinearSVC  # noqa: PLC0415

    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, dtype=np.float32)
    x = vectorizer.fit_transform(texts)
    svm = LinearSVC(C=c, random_state=seed)
    classes = sorted(set(labels))
    y = np.array([classes.index(label) for label in labels], dtype=np.int64)
    folds = min(calibration_folds, int(np.bincount(y).min()))
    if folds >= 2:  # noqa: PLR2004
        cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
        held_out = np.asarray(
            cross_val_predict(svm, x, y, cv=cv, method="decision_function"), dtype=np.float64
        )
        if held_out.ndim == 1:
            held_out = np.column_stack([-held_out, held_out])
        temperature = _fit_temperature(held_out, y)
    else:
        temperature = 1.0
    svm.fit(x, y)
    vocabulary = {str(f): int(i) for f, i in vectorizer.vocabulary_.items()}
    coef = np.asarray(svm.coef_, dtype=np.float32)
    bias = np.asarray(svm.intercept_, dtype=np.float32)
    if len(classes) == 2:  # noqa: PLR2004
        # A binary LinearSVC has one column; expand it to a score per class.
        coef = np.vstack([-coef[0], coef[0]])
        bias = np.array([-bias[0], bias[0]], dtype=np.float32)
    return LinearModel(
        classes=classes,
        vocabulary=vocabulary,
        idf=np.asarray(vectorizer.idf_, dtype=np.float32),
        weights=np.ascontiguousarray(coef.T),
        bias=bias,
        temperature=temperature,
    )
