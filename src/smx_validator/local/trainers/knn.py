"""knn: k-nearest neighbours over a sample of the training data (scikit-learn's neighbours).

Channels: ``train`` (required) and ``test`` (optional; k-NN has no validation channel),
text/csv with the label first. With a test channel it reports ``test:accuracy``
(classifier) or ``test:mse`` (regressor), the algorithm's only metrics.

Inference (``KNearestNeighboursPredictor``) answers as "k-NN Request and Response Formats" documents
(https://docs.aws.amazon.com/sagemaker/latest/dg/kNN-inference-formats.html): requests in text/csv
(features, ``label_size`` 0), application/json or application/jsonlines; Accept application/json (the
default) ``{"predictions": [{"predicted_label": 0.0}, ..]}`` a request, application/jsonlines one
``{"predicted_label": 0.0}`` a record. The label is a float, as k-NN's labels are. The verbose answers
(``; verbose=true``: the neighbours' distances and labels) are not emulated: such a job fails saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import mean_squared_error
from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection

from . import serving
from .base import TrainingClientError, TrainingContext
from .tabular import read_label_first_csv, require_csv, save_model

# The names this container accepts, from its AWS documentation. Kept here, apart from the split step's
# contract tables (smx_split), on purpose: the emulated container must fail a job the way the real one
# does even where those tables have a gap, so that a gap shows up as a failed fold in the tests.
HYPERPARAMETERS = frozenset({
    "dimension_reduction_target", "dimension_reduction_type", "faiss_index_ivf_nlists", "faiss_index_pq_m",
    "feature_dim", "index_metric", "index_type", "k", "mini_batch_size", "predictor_type", "sample_size",
})
_METRICS = {"L2": "euclidean", "COSINE": "cosine"}
_SEED = 0  # sampling and projections are seeded so that reruns are identical


class KNearestNeighbours:
    algorithm = "knn"

    def train(self, context: TrainingContext) -> None:
        hp = context.hyperparameters
        hp.reject_unknown(HYPERPARAMETERS)
        predictor = hp.string("predictor_type", choices=("classifier", "regressor"))
        k = hp.integer("k", minimum=1)
        sample_size = hp.integer("sample_size", minimum=1)
        feature_dim = hp.integer("feature_dim", minimum=1)
        metric = hp.string("index_metric", "L2", choices=("L2", "INNER_PRODUCT", "COSINE"))
        if metric not in _METRICS:
            raise TrainingClientError(f"index_metric {metric} is not emulated; use L2 or COSINE")

        datasets = {}
        for name in ("train", "test"):
            reader = context.channel(name, required=name == "train")
            if reader is not None:
                require_csv(reader, self.algorithm, default_content_type="application/x-recordio-protobuf")
                features, labels = read_label_first_csv(reader)
                if features.shape[1] != feature_dim:
                    raise TrainingClientError(
                        f"feature_dim is {feature_dim} but the {name} channel has {features.shape[1]} features")
                # k-NN's labels are float32 values, any of them a class (kNN-in-formats.html states no range):
                # the classifier votes among its neighbours' labels as they are.
                datasets[name] = (features, labels)
        context.training_started()

        train_x, train_y = datasets["train"]
        if sample_size < len(train_y):
            rows = np.random.default_rng(_SEED).choice(len(train_y), size=sample_size, replace=False)
            train_x, train_y = train_x[rows], train_y[rows]
        if k > len(train_y):
            raise TrainingClientError(f"k ({k}) is larger than the number of sampled training points ({len(train_y)})")

        projection = self._projection(hp, feature_dim)
        if projection is not None:
            train_x = projection.fit_transform(train_x)
        classes = None
        if predictor == "classifier":
            # Any float is a class (-1.5, 100): the neighbours vote among label codes, answered as the labels.
            classes, train_y = np.unique(train_y, return_inverse=True)
            model = KNeighborsClassifier(n_neighbors=k, metric=_METRICS[metric]).fit(train_x, train_y)
        else:
            model = KNeighborsRegressor(n_neighbors=k, metric=_METRICS[metric]).fit(train_x, train_y)

        if "test" in datasets:
            test_x, test_y = datasets["test"]
            predicted = _answers(model, classes, projection.transform(test_x) if projection is not None else test_x)
            if predictor == "classifier":  # labels compared as the numbers they are (scikit-learn's
                # accuracy_score refuses non-integer labels as "continuous")
                context.report_metric("test:accuracy", float(np.mean(test_y == predicted)))
            else:
                context.report_metric("test:mse", mean_squared_error(test_y, predicted))
        save_model(context.model_dir, {"projection": projection, "model": model, "classes": classes}, {
            "algorithm": self.algorithm, "predictor_type": predictor, "k": k, "feature_dim": feature_dim,
            "sample_size": len(train_y), "hyperparameters": hp.values,
        })

    @staticmethod
    def _projection(hp, feature_dim: int):
        kind = hp.values.get("dimension_reduction_type")
        if kind is None:
            return None
        kind = hp.string("dimension_reduction_type", choices=("sign", "fjlt"))
        target = hp.integer("dimension_reduction_target", minimum=1, maximum=feature_dim)
        if kind == "sign":
            return SparseRandomProjection(n_components=target, density=1.0, random_state=_SEED)
        return GaussianRandomProjection(n_components=target, random_state=_SEED)


def _answers(model, classes: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """The predicted labels (a classifier votes among label codes; ``classes`` names them)."""
    predicted = model.predict(x)
    return classes[predicted] if classes is not None else predicted


class KNearestNeighboursPredictor:
    """k-NN's inference container over a model ``KNearestNeighbours`` saved (module docstring)."""

    algorithm = "knn"
    accepts = (serving.JSON, serving.JSONLINES)

    def __init__(self, model_dir: Path):
        self._description = serving.load_description(model_dir, self.algorithm)
        saved = serving.load_estimator(model_dir)
        self._projection, self._model, self._classes = saved["projection"], saved["model"], saved.get("classes")

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> serving.Response:
        features = serving.first_party_features(body, content_type, algorithm=self.algorithm,
                                                feature_dim=int(self._description["feature_dim"]))
        answer = serving.MediaType.parse(accept) or serving.MediaType(serving.JSON)
        if answer.type == serving.RECORDIO_PROTOBUF or answer.params.get("verbose", "").lower() == "true":
            raise serving.InferenceNotEmulated(f"The local engine does not emulate k-NN's {answer} answers; "
                                               f"use {serving.JSON} or {serving.JSONLINES} without verbose")
        if answer.type not in self.accepts:
            raise serving.unsupported_accept(accept, self.algorithm, (*self.accepts, serving.RECORDIO_PROTOBUF))
        x = self._projection.transform(features) if self._projection is not None else features
        predictions = [{"predicted_label": float(label)} for label in _answers(self._model, self._classes, x)]
        if answer.type == serving.JSONLINES:
            return serving.Response(serving.json_lines(predictions), serving.JSONLINES)
        return serving.Response(json.dumps({"predictions": predictions}).encode("utf-8"), serving.JSON)
