"""xgboost: gradient-boosted trees (scikit-learn's histogram gradient boosting).

Channels: ``train`` (required) and ``validation`` (optional), text/csv with the label first
(``csv_weights=1``: the second column is the instance weight) or, without a ContentType,
libsvm, the container's default. Metrics: every ``eval_metric`` (default by objective: rmse,
logloss, mlogloss) on every channel, named ``train:<metric>`` and ``validation:<metric>`` as
the SageMaker XGBoost container reports them.

Inference (``XGBoostPredictor``) answers as the container's algorithm-mode server does in a batch transform
(aws/sagemaker-xgboost-container, ``algorithm_mode/serve.py`` and ``serve_utils.py``; the formats are on
https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost.html#InputOutput-XGBoost): text/csv (an empty field
is a missing value) or libsvm requests, libsvm when no ContentType is given; any unknown type 415. The answer
has one line a record whatever the Accept (the server writes ``"\n".join(map(str, predictions))`` when
SAGEMAKER_BATCH is set, as batch transform sets it): binary:logistic the probability of class 1,
multi:softprob every class's probability as a Python list (``[0.1, 0.2, 0.7]``), multi:softmax the class
index as a float (``2.0``), reg:* the value; numbers are float32, printed as Python prints them. An Accept
outside application/json, application/jsonlines, application/x-recordio-protobuf and text/csv is refused
with 406, as the server refuses it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.metrics import accuracy_score, f1_score, log_loss, mean_absolute_error, mean_squared_error, roc_auc_score

from . import serving
from .base import TrainingClientError, TrainingContext
from .tabular import class_labels, read_label_first_csv, read_libsvm, save_model

# The names this container accepts, from its own validation (aws/sagemaker-xgboost-container). Kept here, apart from the split step's
# contract tables (smx_split), on purpose: the emulated container must fail a job the way the real one
# does even where those tables have a gap, so that a gap shows up as a failed fold in the tests.
HYPERPARAMETERS = frozenset({
    "alpha", "aft_loss_distribution", "aft_loss_distribution_scale", "base_score", "booster", "colsample_bylevel",
    "colsample_bynode", "colsample_bytree", "csv_weights", "deterministic_histogram", "dsplit",
    "early_stopping_rounds", "eta", "eval_metric", "gamma", "grow_policy", "interaction_constraints", "lambda",
    "lambda_bias", "max_bin", "max_delta_step", "max_depth", "max_leaves", "min_child_weight",
    "monotone_constraints", "normalize_type", "nthread", "num_class", "num_parallel_tree", "num_round", "objective",
    "one_drop", "predictor", "prob_buffer_row", "process_type", "rate_drop", "refresh_leaf", "sample_type",
    "sampling_method", "save_model_on_termination", "scale_pos_weight", "seed", "sketch_eps", "skip_drop",
    "subsample", "tree_method", "tweedie_variance_power", "updater", "use_dask_gpu_training", "verbosity",
    *("learning_rate", "min_split_loss", "reg_lambda", "reg_alpha"),  # the container's aliases
})
# The container reads an alias as the name it stands for.
_ALIASES = {"learning_rate": "eta", "min_split_loss": "gamma", "reg_lambda": "lambda", "reg_alpha": "alpha"}
_OBJECTIVES = {
    "reg:squarederror": "regression", "reg:linear": "regression", "reg:absoluteerror": "regression",
    "binary:logistic": "binary", "multi:softmax": "multiclass", "multi:softprob": "multiclass",
}
_DEFAULT_METRIC = {"regression": "rmse", "binary": "logloss", "multiclass": "mlogloss"}
_METRICS_BY_TASK = {
    "regression": {"rmse", "mae", "mse"},
    "binary": {"logloss", "error", "auc", "accuracy", "f1"},
    "multiclass": {"mlogloss", "merror", "accuracy", "auc", "f1"},
}


class XGBoost:
    algorithm = "xgboost"

    def train(self, context: TrainingContext) -> None:
        hp = context.hyperparameters
        hp.reject_unknown(HYPERPARAMETERS)
        for alias, name in _ALIASES.items():
            if alias in hp.values:
                hp.values[name] = hp.values.pop(alias)
        objective = hp.string("objective", "reg:squarederror")
        if objective not in _OBJECTIVES:
            raise TrainingClientError(f"objective {objective!r} is not emulated; use one of {sorted(_OBJECTIVES)}")
        task = _OBJECTIVES[objective]
        num_class = hp.integer("num_class", minimum=2) if task == "multiclass" else (2 if task == "binary" else None)
        metrics = [name.strip() for name in hp.string("eval_metric", _DEFAULT_METRIC[task]).split(",") if name.strip()]
        for metric in metrics:
            if metric.split("@")[0] not in _METRICS_BY_TASK[task]:
                raise TrainingClientError(f"eval_metric {metric!r} is not emulated for {objective}; "
                                          f"use {', '.join(sorted(_METRICS_BY_TASK[task]))}")

        datasets = self._read(context, hp, num_class)
        context.training_started()
        model = self._estimator(hp, task)
        train_x, train_y, train_w = datasets["train"]
        context.check_stopping()
        model.fit(train_x, train_y, sample_weight=train_w)

        for channel in ("train", "validation"):
            if channel in datasets:
                x, y, weights = datasets[channel]
                for metric in metrics:
                    context.report_metric(f"{channel}:{metric}", _evaluate(metric, model, task, x, y, weights, num_class))
        save_model(context.model_dir, model, {
            "algorithm": self.algorithm, "objective": objective, "num_round": model.max_iter,
            "eval_metric": metrics, "hyperparameters": hp.values, "num_class": num_class,
        })

    def _read(self, context: TrainingContext, hp, num_class: int | None) -> dict:
        weighted = hp.boolean("csv_weights", False)
        datasets: dict = {}
        n_features = None
        for name in ("train", "validation"):
            reader = context.channel(name, required=name == "train")
            if reader is None:
                continue
            media_type = reader.channel.media_type
            weights = None
            if media_type in {"text/csv", "csv"}:
                features, labels = read_label_first_csv(reader, empty_is_missing=True)
                if weighted:
                    weights, features = features[:, 0], features[:, 1:]
            elif media_type in {None, "libsvm", "text/libsvm", "text/x-libsvm"}:
                features, labels = read_libsvm(reader, n_features)
                features = features.toarray()
            else:
                raise TrainingClientError(f"Channel '{name}': content type {reader.channel.content_type!r} is not "
                                          "emulated for xgboost; use text/csv or libsvm")
            if n_features is not None and features.shape[1] != n_features:
                raise TrainingClientError(f"Channel '{name}' has {features.shape[1]} features, train has {n_features}")
            n_features = features.shape[1]
            if num_class is not None:
                labels = class_labels(labels, name, num_classes=num_class)
            datasets[name] = (features, labels, weights)
        return datasets

    @staticmethod
    def _estimator(hp, task: str):
        common = {
            "max_iter": hp.integer("num_round", minimum=1),
            "learning_rate": hp.number("eta", 0.3, minimum=0),
            "max_depth": hp.integer("max_depth", 6, minimum=0) or None,  # 0: no limit, as in XGBoost
            "l2_regularization": hp.number("lambda", 1.0, minimum=0),
            # XGBoost's min_child_weight is a hessian sum; for squared loss that is a sample count.
            "min_samples_leaf": max(1, int(hp.number("min_child_weight", 1.0, minimum=0))),
            "max_bins": min(255, hp.integer("max_bin", 256, minimum=2)),
            "max_features": hp.number("colsample_bynode", 1.0, minimum=0.01, maximum=1.0),
            "early_stopping": False,
            "random_state": hp.integer("seed", 0),
        }
        if task == "regression":
            loss = "absolute_error" if hp.string("objective", "") == "reg:absoluteerror" else "squared_error"
            return HistGradientBoostingRegressor(loss=loss, **common)
        return HistGradientBoostingClassifier(loss="log_loss", **common)


def class_probabilities(model, x, num_class: int | None) -> np.ndarray:
    """A probability column for every class 0..num_class-1, as XGBoost's softprob gives them: the scikit-learn
    model has columns only for the classes its training lines held (a class without any has probability 0)."""
    seen = model.predict_proba(x)
    if num_class is None or seen.shape[1] == num_class:
        return seen
    probabilities = np.zeros((seen.shape[0], num_class))
    probabilities[:, model.classes_.astype(int)] = seen
    return probabilities


def _evaluate(metric: str, model, task: str, x, y, weights, num_class: int | None) -> float:
    name, _, threshold = metric.partition("@")
    if task == "regression":
        predicted = model.predict(x)
        if name == "mae":
            return float(mean_absolute_error(y, predicted, sample_weight=weights))
        mse = float(mean_squared_error(y, predicted, sample_weight=weights))
        return mse if name == "mse" else float(np.sqrt(mse))
    labels = list(range(num_class))
    probabilities = class_probabilities(model, x, num_class)
    if name in {"logloss", "mlogloss"}:
        return float(log_loss(y, probabilities, sample_weight=weights, labels=labels))
    if name == "auc":
        scores = probabilities[:, 1] if task == "binary" else probabilities
        return float(roc_auc_score(y, scores, sample_weight=weights, multi_class="ovr", labels=labels))
    if task == "binary":
        predicted = (probabilities[:, 1] > (float(threshold) if threshold else 0.5)).astype(int)
    else:
        predicted = probabilities.argmax(axis=1)
    accuracy = float(accuracy_score(y, predicted, sample_weight=weights))
    if name in {"error", "merror"}:
        return 1.0 - accuracy
    if name == "f1":
        return float(f1_score(y, predicted, sample_weight=weights, average="binary" if task == "binary" else "macro"))
    return accuracy


# The server's accepted answers (serve.py SUPPORTED_ACCEPTS) and its default (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT).
_SUPPORTED_ACCEPTS = (serving.JSON, serving.JSONLINES, serving.RECORDIO_PROTOBUF, serving.CSV)
_DEFAULT_ACCEPT = serving.CSV
_LIBSVM_TYPES = ("libsvm", "text/libsvm", "text/x-libsvm")


class XGBoostPredictor:
    """The XGBoost container's algorithm-mode inference over a model ``XGBoost`` saved (module docstring)."""

    algorithm = "xgboost"

    def __init__(self, model_dir: Path):
        self._description = serving.load_description(model_dir, self.algorithm)
        self._model = serving.load_estimator(model_dir)
        self._objective = self._description["objective"]
        if self._objective not in _OBJECTIVES:
            raise serving.ModelLoadError(f"objective {self._objective!r} is not emulated")

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> serving.Response:
        features = self._parse(body, content_type)
        predictions = self._predict(features)
        answer = serving.MediaType.parse(accept)
        answer_type = _DEFAULT_ACCEPT if answer is None or answer.type == "*/*" else answer.type
        if answer_type not in _SUPPORTED_ACCEPTS:
            raise serving.InferenceError(406, f"Accept type {accept} is not supported. Please use supported accept "
                                              f"types: {list(_SUPPORTED_ACCEPTS)}.")
        return serving.Response(("\n".join(map(str, predictions)) + "\n").encode("utf-8"), answer_type)

    def _parse(self, body: bytes, content_type: str | None) -> np.ndarray:
        media = serving.MediaType.parse(content_type)
        kind = "libsvm" if media is None else media.type
        if kind in {serving.CSV, "csv"}:
            if "label_size" in media.params and media.params["label_size"] != "1":
                raise serving.InferenceError(415, f"{content_type} is not an accepted csv ContentType. "
                                                  "Optional parameter label_size must be equal to 1")
            features = serving.dense_features(body, serving.MediaType(serving.CSV), algorithm=self.algorithm,
                                              empty_is_missing=True)
            return self._fit_width(features, "csv", allow_one_fewer=True)
        if kind in _LIBSVM_TYPES:
            return self._libsvm(body)
        if kind in {serving.RECORDIO_PROTOBUF, "recordio-protobuf"}:
            raise serving.InferenceNotEmulated(f"The local engine does not emulate {serving.RECORDIO_PROTOBUF} "
                                               "requests to xgboost; use text/csv or text/libsvm")
        raise serving.InferenceError(415, f"Content-type {content_type} is not supported.")

    def _libsvm(self, body: bytes) -> np.ndarray:
        """The server's own reading (serve_utils._get_sparse_matrix_from_libsvm): every ``index:value`` token is a
        feature, anything else (the label) is skipped, and 1-based indices are shifted when none is 0."""
        rows, columns, values = [], [], []
        lines = body.decode("utf-8", errors="replace").strip().split("\n")
        try:
            for row, line in enumerate(lines):
                for item in line.split(" "):
                    if ":" in item:
                        index, value = item.split(":")[:2]
                        rows.append(row)
                        columns.append(int(index))
                        values.append(float(value))
        except ValueError as error:
            raise serving.InferenceError(415, "Loading libsvm data failed with Exception, please ensure data is in "
                                              f"libsvm format: {error}") from None
        if columns and min(columns) >= 1:
            columns = [column - 1 for column in columns]
        width = self._model.n_features_in_
        observed = max(columns) + 1 if columns else 0
        if observed > width + 1:
            raise serving.InferenceError(400, f"Unable to evaluate payload provided: Feature size of libsvm inference "
                                              f"data {observed} is larger than feature size of trained model {width}.")
        dense = np.zeros((len(lines), width))
        for row, column, value in zip(rows, columns, values):
            if column < width:
                dense[row, column] = value
        return dense

    def _fit_width(self, features: np.ndarray, kind: str, *, allow_one_fewer: bool) -> np.ndarray:
        width = self._model.n_features_in_
        if features.shape[1] == width:
            return features
        if allow_one_fewer and features.shape[1] + 1 == width:  # the server accepts one feature less, missing
            return np.hstack([features, np.full((features.shape[0], 1), np.nan)])
        raise serving.InferenceError(400, f"Unable to evaluate payload provided: Feature size of {kind} inference "
                                          f"data {features.shape[1]} is not consistent with feature size of "
                                          f"trained model {width}.")

    def _predict(self, features: np.ndarray) -> list:
        task = _OBJECTIVES[self._objective]
        if task == "regression":
            values = self._model.predict(features)
        elif self._objective == "binary:logistic":
            values = class_probabilities(self._model, features, 2)[:, 1]
        elif self._objective == "multi:softprob":
            values = class_probabilities(self._model, features, self._description.get("num_class"))
        else:  # multi:softmax: the class index, as a float
            values = class_probabilities(self._model, features, self._description.get("num_class")).argmax(axis=1)
        # XGBoost predicts float32; the server prints preds.tolist().
        return np.asarray(values, dtype=np.float32).tolist()
