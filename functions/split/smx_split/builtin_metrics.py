"""Which metrics each built-in algorithm emits, and in which direction they improve. Pure.

A cross-validated search ranks candidates on one metric; a metric the training jobs never emit
would leave every candidate without a value, so it is refused before anything runs. Each row is
the metric table of the algorithm's "Tune a ... model" page (linked per family), with the
hyperparameter setting under which the page says the metric is computed.

XGBoost emits ``validation:<m>`` for each name in its ``eval_metric`` list, or, without one, for
the default metric of its ``objective`` (XGBoost's learning task parameters: rmse for regression,
logloss for binary, mlogloss for multiclass classification, map for rank:map, ndcg for rank:ndcg).
"""

from __future__ import annotations

import difflib
from typing import Final, NamedTuple

from .builtin_images import CUSTOM

MAXIMIZE, MINIMIZE = "Maximize", "Minimize"


class Metric(NamedTuple):
    name: str
    direction: str
    # The setting under which the algorithm computes it: (hyperparameter, accepted values, its default);
    # None: always.
    when: tuple[str, frozenset[str], str] | None = None


def _linear_learner() -> tuple[Metric, ...]:
    binary = ("predictor_type", frozenset({"binary_classifier"}), "")
    multiclass = ("predictor_type", frozenset({"multiclass_classifier"}), "")
    regression = ("predictor_type", frozenset({"regressor"}), "")
    per_channel = []
    for channel in ("test", "validation"):
        per_channel += [
            Metric(f"{channel}:absolute_loss", MINIMIZE, regression),
            Metric(f"{channel}:binary_classification_accuracy", MAXIMIZE, binary),
            Metric(f"{channel}:binary_f_beta", MAXIMIZE, binary),
            Metric(f"{channel}:dcg", MAXIMIZE, multiclass),
            Metric(f"{channel}:macro_f_beta", MAXIMIZE, multiclass),
            Metric(f"{channel}:macro_precision", MAXIMIZE, multiclass),
            Metric(f"{channel}:macro_recall", MAXIMIZE, multiclass),
            Metric(f"{channel}:mse", MINIMIZE, regression),
            Metric(f"{channel}:multiclass_accuracy", MAXIMIZE, multiclass),
            Metric(f"{channel}:multiclass_top_k_accuracy", MAXIMIZE, multiclass),
            Metric(f"{channel}:objective_loss", MINIMIZE),
            Metric(f"{channel}:precision", MAXIMIZE, binary),
            Metric(f"{channel}:recall", MAXIMIZE, binary),
            Metric(f"{channel}:roc_auc_score", MAXIMIZE, binary),
        ]
    return tuple(per_channel)


METRICS: Final[dict[str, tuple[Metric, ...]]] = {
    # https://docs.aws.amazon.com/sagemaker/latest/dg/linear-learner-tuning.html
    "linear-learner": _linear_learner(),
    # https://docs.aws.amazon.com/sagemaker/latest/dg/kNN-tuning.html
    "knn": (Metric("test:accuracy", MAXIMIZE, ("predictor_type", frozenset({"classifier"}), "")),
            Metric("test:mse", MINIMIZE, ("predictor_type", frozenset({"regressor"}), ""))),
    # https://docs.aws.amazon.com/sagemaker/latest/dg/IC-tuning.html
    "image-classification": (Metric("validation:accuracy", MAXIMIZE),),
    # https://docs.aws.amazon.com/sagemaker/latest/dg/blazingtext-tuning.html
    "blazingtext": (Metric("validation:accuracy", MAXIMIZE, ("mode", frozenset({"supervised"}), "")),
                    Metric("train:mean_rho", MAXIMIZE,
                           ("mode", frozenset({"skipgram", "cbow", "batch_skipgram"}), ""))),
}

# https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost-tuning.html: the direction of each metric the page lists.
XGBOOST_DIRECTIONS: Final = {
    "accuracy": MAXIMIZE, "auc": MAXIMIZE, "error": MINIMIZE, "f1": MAXIMIZE, "logloss": MINIMIZE,
    "mae": MINIMIZE, "map": MAXIMIZE, "merror": MINIMIZE, "mlogloss": MINIMIZE, "mse": MINIMIZE,
    "ndcg": MAXIMIZE, "rmse": MINIMIZE,
}


def _xgboost_default_metric(objective: str) -> str:
    if objective.startswith("binary:"):
        return "logloss"
    if objective.startswith("multi:"):
        return "mlogloss"
    if objective in ("rank:map", "rank:ndcg"):
        return objective.split(":")[1]
    return "rmse"


def emitted(family: str, hyperparameters: dict[str, str], metric_definitions: list[dict] | None = None) -> dict[str, str | None]:
    """The metrics a job with these hyperparameters emits: {name: direction} (None: the direction is the
    user's to say, as for a custom container's MetricDefinitions)."""
    if family == CUSTOM:
        return {definition["Name"]: None for definition in metric_definitions or []}
    if family == "xgboost":
        listed = [name.strip() for name in hyperparameters.get("eval_metric", "").split(",") if name.strip()]
        names = listed or [_xgboost_default_metric(hyperparameters.get("objective", "reg:squarederror"))]
        return {f"validation:{name}": XGBOOST_DIRECTIONS.get(name) for name in names}
    return {metric.name: metric.direction for metric in METRICS.get(family, ())
            if metric.when is None or hyperparameters.get(metric.when[0], metric.when[2]) in metric.when[1]}


def objective_problems(family: str, hyperparameters: dict[str, str], metric: str, direction: str,
                       metric_definitions: list[dict] | None = None,
                       channels: frozenset[str] | None = None) -> list[str]:
    """Why ``metric`` cannot rank this search's candidates ("tuning.objective...: ..."), or nothing.
    ``channels``: the jobs' channel names; a built-in computes a ``<channel>:`` metric only on a channel of
    that name (linear-learner's ``test:`` metrics need a ``test`` channel, which cross-validation jobs lack)."""
    available = emitted(family, hyperparameters, metric_definitions)
    if channels is not None and family != CUSTOM:
        on_channels = {name: way for name, way in available.items()
                       if ":" not in name or name.split(":", 1)[0] in channels}
        if metric in available and metric not in on_channels:
            return [f"tuning.objective.metric: {family} computes {metric!r} on a channel named "
                    f"{metric.split(':', 1)[0]!r}, and each job's channels are {', '.join(sorted(channels))}; "
                    f"rank on one of: {', '.join(sorted(on_channels))}"]
        available = on_channels
    if metric not in available and family == CUSTOM and not available:
        return [f"tuning.objective.metric: a custom container's jobs report the metrics its MetricDefinitions name, and "
                f"training.algorithm_specification has none: add {{\"Name\": \"{metric}\", \"Regex\": ...}} matching "
                "the line your script prints"]
    if metric not in available:
        listed = ", ".join(sorted(available))
        source = ("its MetricDefinitions" if family == CUSTOM
                  else "AWS's tuning page for the algorithm, with these hyperparameters")
        close = difflib.get_close_matches(metric, list(available), n=1, cutoff=0.9)  # a typo, not another metric
        hint = f"did you mean {close[0]!r}? " if close else ""
        return [f"tuning.objective.metric: {family} jobs do not emit {metric!r}; {hint}they emit (per {source}): "
                f"{listed}"]
    expected = available[metric]
    if expected is not None and direction != expected:
        way = "smaller" if expected == MINIMIZE else "larger"
        return [f"tuning.objective.type: {metric} improves as it grows {way} (AWS's tuning page: {expected}); "
                f"set type to {expected}"]
    return []
