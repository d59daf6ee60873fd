"""linear-learner: a linear model trained by mini-batch SGD (scikit-learn's SGD estimators).

Channels: ``train`` (required), ``validation`` and ``test`` (optional), text/csv with the label
first. Metrics use the algorithm's names: ``train:objective_loss`` and, per evaluation channel,
``<channel>:objective_loss`` plus ``binary_classification_accuracy``/``binary_f_beta``/
``precision``/``recall`` (binary), ``multiclass_accuracy``/``multiclass_top_k_accuracy``/
``macro_f_beta``/``macro_precision``/``macro_recall`` (multiclass), ``mse``/``absolute_loss``
(regressor). Early stopping on the validation loss follows ``early_stopping_patience`` and
``early_stopping_tolerance`` as the algorithm does.

Inference (``LinearLearnerPredictor``) answers as "Linear learner response formats" documents
(https://docs.aws.amazon.com/sagemaker/latest/dg/LL-in-formats.html): requests in the common formats
(text/csv features, application/json, application/jsonlines: serving.dense_features); Accept
application/json (the default) ``{"predictions": [{"score": .., "predicted_label": ..}, ..]}`` a request,
application/jsonlines one ``{"score": .., "predicted_label": ..}`` a record. The score is P(class 1) for a
binary classifier, every class's probability for a multiclass one (``predicted_label`` the most likely
class), the value for a regressor (no ``predicted_label``). The algorithm answers no text/csv (AWS's
maintainers: aws/amazon-sagemaker-examples#821).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.linear_model import SGDClassifier, SGDRegressor
from sklearn.metrics import (
    accuracy_score,
    fbeta_score,
    hinge_loss,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    precision_score,
    recall_score,
    top_k_accuracy_score,
)
from sklearn.preprocessing import StandardScaler

from . import serving
from .base import TrainingClientError, TrainingContext
from .tabular import class_labels, read_label_first_csv, require_csv, save_model

# The names this container accepts, from its AWS documentation. Kept here, apart from the split step's
# contract tables (smx_split), on purpose: the emulated container must fail a job the way the real one
# does even where those tables have a gap, so that a gap shows up as a failed fold in the tests.
HYPERPARAMETERS = frozenset({
    "accuracy_top_k", "balance_multiclass_weights", "beta_1", "beta_2", "bias_lr_mult", "bias_wd_mult",
    "binary_classifier_model_selection_criteria", "early_stopping_patience", "early_stopping_tolerance",
    "epochs", "f_beta", "feature_dim", "huber_delta", "init_bias", "init_method", "init_scale",
    "init_sigma", "l1", "learning_rate", "loss", "loss_insensitivity", "lr_scheduler_factor",
    "lr_scheduler_minimum_lr", "lr_scheduler_step", "margin", "mini_batch_size", "momentum",
    "normalize_data", "normalize_label", "num_calibration_samples", "num_classes", "num_models",
    "num_point_for_scaler", "optimizer", "positive_example_weight_mult", "predictor_type", "quantile",
    "target_precision", "target_recall", "unbias_data", "unbias_label", "use_bias", "use_lr_scheduler", "wd",
})
_CLASSIFIER_LOSSES = {"auto": "log_loss", "logistic": "log_loss", "softmax_loss": "log_loss", "hinge_loss": "hinge"}
_REGRESSOR_LOSSES = {"auto": "squared_error", "squared_loss": "squared_error", "absolute_loss": "epsilon_insensitive"}
_SEED = 0  # the algorithm has no seed hyperparameter; a fixed one keeps reruns identical


class LinearLearner:
    algorithm = "linear-learner"

    def train(self, context: TrainingContext) -> None:
        hp = context.hyperparameters
        hp.reject_unknown(HYPERPARAMETERS)
        predictor = hp.string("predictor_type", choices=("binary_classifier", "multiclass_classifier", "regressor"))
        num_classes = None
        if predictor == "multiclass_classifier":
            num_classes = hp.integer("num_classes", minimum=3)
        elif predictor == "binary_classifier":
            num_classes = 2

        datasets = {}
        for name in ("train", "validation", "test"):
            reader = context.channel(name, required=name == "train")
            if reader is not None:
                require_csv(reader, self.algorithm, default_content_type="application/x-recordio-protobuf")
                features, labels = read_label_first_csv(reader)
                if num_classes is not None:
                    labels = class_labels(labels, name, num_classes=num_classes)
                datasets[name] = (features, labels)
        train_x, train_y = datasets["train"]
        feature_dim = hp.integer("feature_dim", train_x.shape[1], minimum=1)
        if feature_dim != train_x.shape[1]:
            raise TrainingClientError(f"feature_dim is {feature_dim} but the train channel has {train_x.shape[1]} features")
        context.training_started()

        scaler = StandardScaler(with_mean=True, with_std=True) if hp.boolean("normalize_data", True) else None
        if scaler is not None:
            scaler.fit(train_x)
            datasets = {name: (scaler.transform(x), y) for name, (x, y) in datasets.items()}
            train_x, train_y = datasets["train"]

        model = self._estimator(hp, predictor, train_y)
        epochs = hp.integer("epochs", 15, minimum=1)
        batch = hp.integer("mini_batch_size", 1000, minimum=1)
        patience = hp.integer("early_stopping_patience", 3, minimum=1)
        tolerance = hp.number("early_stopping_tolerance", 0.001, minimum=0)
        classes = np.arange(num_classes) if num_classes is not None else None
        rng = np.random.default_rng(_SEED)
        best_loss, stale_epochs = np.inf, 0
        for epoch in range(epochs):
            context.check_stopping()
            order = rng.permutation(len(train_y))
            for start in range(0, len(order), batch):
                rows = order[start:start + batch]
                if classes is not None:
                    model.partial_fit(train_x[rows], train_y[rows], classes=classes)
                else:
                    model.partial_fit(train_x[rows], train_y[rows])
            context.report_metric("train:objective_loss", _objective_loss(model, predictor, train_x, train_y, classes))
            if "validation" in datasets:
                loss = _objective_loss(model, predictor, *datasets["validation"], classes)
                context.report_metric("validation:objective_loss", loss)
                if loss < best_loss * (1 - tolerance):
                    best_loss, stale_epochs = loss, 0
                else:
                    stale_epochs += 1
                    if stale_epochs >= patience:
                        context.log(f"early stopping after epoch {epoch + 1}: validation loss did not improve")
                        break

        for channel in ("validation", "test"):
            if channel in datasets:
                x, y = datasets[channel]
                for metric, value in _final_metrics(model, predictor, x, y, classes, hp).items():
                    context.report_metric(f"{channel}:{metric}", value)
        save_model(context.model_dir, {"scaler": scaler, "model": model}, {
            "algorithm": self.algorithm, "predictor_type": predictor, "feature_dim": feature_dim,
            "num_classes": num_classes, "hyperparameters": hp.values,
        })

    @staticmethod
    def _estimator(hp, predictor: str, train_labels: np.ndarray):
        # "auto" lets the algorithm choose (it tunes several models internally); 0.01 is the
        # constant step that trained the bundled datasets best with standardised features.
        schedule = {"learning_rate": "constant", "eta0": hp.number("learning_rate", 0.01, minimum=0)}
        l1 = hp.number("l1", 0.0, minimum=0)
        wd = hp.number("wd", 0.0001, minimum=0)
        regularisation = {"alpha": max(l1 + wd, 1e-12), "l1_ratio": l1 / (l1 + wd) if l1 + wd else 0.0,
                          "penalty": "elasticnet"}
        common = {"fit_intercept": hp.boolean("use_bias", True), "random_state": _SEED, **schedule, **regularisation}
        loss_name = hp.string("loss", "auto")
        if predictor == "regressor":
            if loss_name not in _REGRESSOR_LOSSES:
                raise TrainingClientError(f"loss {loss_name!r} is not emulated for regressor; use one of {sorted(_REGRESSOR_LOSSES)}")
            extra = {"epsilon": 0.0} if loss_name == "absolute_loss" else {}
            return SGDRegressor(loss=_REGRESSOR_LOSSES[loss_name], **extra, **common)
        if loss_name not in _CLASSIFIER_LOSSES:
            raise TrainingClientError(f"loss {loss_name!r} is not emulated for {predictor}; use one of {sorted(_CLASSIFIER_LOSSES)}")
        weight = hp.values.get("positive_example_weight_mult", "1.0").strip().lower()
        class_weight = None
        if predictor == "binary_classifier" and weight == "balanced":
            # partial_fit takes no "balanced": the same weights, computed from the training labels.
            counts = np.bincount(train_labels, minlength=2)
            class_weight = {label: len(train_labels) / (2 * count) for label, count in enumerate(counts) if count}
        elif predictor == "binary_classifier" and weight != "auto":
            class_weight = {0: 1.0, 1: hp.number("positive_example_weight_mult", 1.0, minimum=0)}
        return SGDClassifier(loss=_CLASSIFIER_LOSSES[loss_name], class_weight=class_weight, **common)


def _objective_loss(model, predictor: str, x, y, classes) -> float:
    if predictor == "regressor":
        if model.loss == "epsilon_insensitive":
            return float(mean_absolute_error(y, model.predict(x)))
        return float(mean_squared_error(y, model.predict(x)))
    if model.loss == "hinge":
        return float(hinge_loss(y, model.decision_function(x), labels=classes))
    return float(log_loss(y, model.predict_proba(x), labels=classes))


def _final_metrics(model, predictor: str, x, y, classes, hp) -> dict[str, float]:
    metrics = {"objective_loss": _objective_loss(model, predictor, x, y, classes)}
    if predictor == "regressor":
        predicted = model.predict(x)
        metrics["mse"] = float(mean_squared_error(y, predicted))
        metrics["absolute_loss"] = float(mean_absolute_error(y, predicted))
        return metrics
    predicted = model.predict(x)
    beta = hp.number("f_beta", 1.0, minimum=0)
    if predictor == "binary_classifier":
        metrics["binary_classification_accuracy"] = float(accuracy_score(y, predicted))
        metrics["binary_f_beta"] = float(fbeta_score(y, predicted, beta=beta, zero_division=0))
        metrics["precision"] = float(precision_score(y, predicted, zero_division=0))
        metrics["recall"] = float(recall_score(y, predicted, zero_division=0))
        return metrics
    metrics["multiclass_accuracy"] = float(accuracy_score(y, predicted))
    top_k = hp.integer("accuracy_top_k", 3, minimum=1)
    scores = model.predict_proba(x) if model.loss == "log_loss" else model.decision_function(x)
    metrics["multiclass_top_k_accuracy"] = float(top_k_accuracy_score(y, scores, k=min(top_k, len(classes)), labels=classes))
    metrics["macro_f_beta"] = float(fbeta_score(y, predicted, beta=beta, average="macro", labels=classes, zero_division=0))
    metrics["macro_precision"] = float(precision_score(y, predicted, average="macro", labels=classes, zero_division=0))
    metrics["macro_recall"] = float(recall_score(y, predicted, average="macro", labels=classes, zero_division=0))
    return metrics


class LinearLearnerPredictor:
    """linear-learner's inference container over a model ``LinearLearner`` saved (module docstring)."""

    algorithm = "linear-learner"
    accepts = (serving.JSON, serving.JSONLINES)

    def __init__(self, model_dir: Path):
        self._description = serving.load_description(model_dir, self.algorithm)
        saved = serving.load_estimator(model_dir)
        self._scaler, self._model = saved["scaler"], saved["model"]

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> serving.Response:
        features = serving.first_party_features(body, content_type, algorithm=self.algorithm,
                                                feature_dim=int(self._description["feature_dim"]))
        answer = serving.MediaType.parse(accept) or serving.MediaType(serving.JSON)
        if answer.type == serving.RECORDIO_PROTOBUF:
            raise serving.InferenceNotEmulated(
                f"The local engine does not emulate {serving.RECORDIO_PROTOBUF} answers of {self.algorithm}")
        if answer.type not in self.accepts:
            raise serving.unsupported_accept(accept, self.algorithm, (*self.accepts, serving.RECORDIO_PROTOBUF))
        predictions = self._predict(features)
        if answer.type == serving.JSONLINES:
            return serving.Response(serving.json_lines(predictions), serving.JSONLINES)
        return serving.Response(json.dumps({"predictions": predictions}).encode("utf-8"), serving.JSON)

    def _predict(self, features: np.ndarray) -> list[dict]:
        x = self._scaler.transform(features) if self._scaler is not None else features
        predictor = self._description["predictor_type"]
        if predictor == "regressor":
            return [{"score": float(value)} for value in self._model.predict(x)]
        if self._model.loss == "log_loss":
            scores = self._model.predict_proba(x)
        else:  # hinge loss has no probabilities: the score is the margin
            scores = self._model.decision_function(x)
        labels = self._model.predict(x)
        if predictor == "binary_classifier":
            positive = scores[:, 1] if scores.ndim == 2 else scores
            return [{"score": float(score), "predicted_label": int(label)} for score, label in zip(positive, labels)]
        return [{"score": [float(value) for value in row], "predicted_label": int(label)}
                for row, label in zip(scores, labels)]
