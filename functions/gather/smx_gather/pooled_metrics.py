"""Metrics of the out-of-fold predictions pooled over every predicted line, with scikit-learn. Pure.

Pooling scores every line once by a model that never saw it (scikit-learn's ``cross_val_predict`` followed
by a metric), which differs from the mean of the per-fold metrics when folds differ in size or difficulty.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
from sklearn import metrics


def classification(labels: Sequence[str], predictions: Sequence[str], scores: np.ndarray | None,
                   class_names: Sequence[str]) -> tuple[dict[str, float], dict[str, Any], list[str]]:
    """(metrics, confusion matrix, notes). ``scores`` has a column per class index (class_names[i] is class i)
    when every prediction came with them, else None."""
    notes: list[str] = []
    found = {
        "accuracy": metrics.accuracy_score(labels, predictions),
        "balanced_accuracy": metrics.balanced_accuracy_score(labels, predictions),
        "f1_macro": metrics.f1_score(labels, predictions, average="macro", zero_division=0),
    }
    if scores is not None:
        found.update(_score_metrics(labels, scores, class_names, notes))
    matrix = metrics.confusion_matrix(labels, predictions, labels=list(class_names))
    return _finite(found), {"labels": list(class_names), "matrix": matrix.tolist()}, notes


def regression(labels: Sequence[float], predictions: Sequence[float]) -> dict[str, float]:
    return _finite({
        "rmse": math.sqrt(metrics.mean_squared_error(labels, predictions)),
        "mae": metrics.mean_absolute_error(labels, predictions),
        "r2": metrics.r2_score(labels, predictions) if len(labels) > 1 else float("nan"),
    })


def _score_metrics(labels: Sequence[str], scores: np.ndarray, class_names: Sequence[str],
                   notes: list[str]) -> dict[str, float]:
    position = {name: index for index, name in enumerate(class_names)}
    truth = np.asarray([position[label] for label in labels])
    present = sorted(set(truth.tolist()))
    if scores.shape[1] != len(class_names):
        notes.append(f"log_loss and roc_auc: the models scored {scores.shape[1]} classes and the data has "
                     f"{len(class_names)}; they are left out")
        return {}
    # Probabilities as the answers round them (and as float32 holds them) sum to 1 within rounding: normalised.
    totals = scores.sum(axis=1, keepdims=True)
    scores = np.divide(scores, totals, out=np.full_like(scores, 1.0 / scores.shape[1]), where=totals > 0)
    found = {"log_loss": metrics.log_loss(truth, scores, labels=list(range(len(class_names))))}
    if len(present) < 2:
        notes.append("roc_auc: the predicted lines hold one class only; it is left out")
    elif len(class_names) == 2:
        found["roc_auc"] = metrics.roc_auc_score(truth, scores[:, 1])
    elif len(present) == len(class_names):
        found["roc_auc"] = metrics.roc_auc_score(truth, scores, multi_class="ovr",
                                                 labels=list(range(len(class_names))))
    else:
        notes.append("roc_auc: some classes have no predicted line; it is left out")
    return found


def _finite(values: dict[str, float]) -> dict[str, float]:
    return {name: float(value) for name, value in values.items() if math.isfinite(float(value))}
