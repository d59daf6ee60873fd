"""What a built-in container's inference server shares: its answers to a request it cannot serve, and the
request formats common to the built-in algorithms.

A local predictor plays one container's ``/invocations``: it takes a request body with its ContentType and
Accept and answers with a body, or with an HTTP error (``InferenceError``) as the container would. What the
engine cannot play (a format the real container reads but the engine does not) is ``InferenceNotEmulated``,
so that a job never succeeds on a format the engine only pretends to read. Pure: no AWS calls.

The common request formats follow "Common data formats for inference"
(https://docs.aws.amazon.com/sagemaker/latest/dg/cdf-inference.html): ``text/csv`` (features only,
``label_size=0``), ``application/json`` (``{"instances": [{"features": [..]} | {"data": {"features":
{"values": [..]}}}]}``, dense or sparse with ``keys``/``shape``) and ``application/jsonlines`` (one such
instance a line).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol

import numpy as np

CSV = "text/csv"
JSON = "application/json"
JSONLINES = "application/jsonlines"
RECORDIO_PROTOBUF = "application/x-recordio-protobuf"


class InferenceError(Exception):
    """The container answered an HTTP error (``status``: 400, 406, 415, 500 ...) with ``message``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message

    @property
    def phrase(self) -> str:
        return HTTPStatus(self.status).phrase


class InferenceNotEmulated(Exception):
    """The real container serves this request, the local engine does not (the job fails saying so)."""


class ModelLoadError(Exception):
    """The model directory does not hold a model this container can load."""


@dataclass(frozen=True)
class MediaType:
    """A ContentType or Accept header: ``text/csv; label_size=0`` -> ("text/csv", {"label_size": "0"})."""

    type: str
    params: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: str | None) -> "MediaType | None":
        if value is None or not value.strip():
            return None
        kind, *parameters = value.split(";")
        params = {}
        for parameter in parameters:
            name, _, setting = parameter.partition("=")
            if name.strip():
                params[name.strip().lower()] = setting.strip().strip('"')
        return cls(kind.strip().lower(), params)

    def __str__(self) -> str:
        return "; ".join([self.type, *(f"{name}={value}" for name, value in self.params.items())])


@dataclass(frozen=True)
class Response:
    body: bytes
    content_type: str


class Predictor(Protocol):
    algorithm: str

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> Response:
        """The container's answer to one /invocations request; raises InferenceError as the container answers
        an error, InferenceNotEmulated for what the engine cannot play."""


def load_description(model_dir: Path, algorithm: str) -> dict[str, Any]:
    """``model.json``, written by the algorithm's trainer (``tabular.save_model``), checked to be its own."""
    try:
        description = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelLoadError(f"model.json cannot be read from the model artifacts: {error}") from None
    if description.get("algorithm") != algorithm:
        raise ModelLoadError(f"the model artifacts hold a {description.get('algorithm')!r} model, "
                             f"not a {algorithm} model")
    return description


def load_estimator(model_dir: Path) -> Any:
    import joblib

    try:
        return joblib.load(model_dir / "model.joblib")
    except Exception as error:  # a missing or corrupt file, whatever joblib raises
        raise ModelLoadError(f"model.joblib cannot be loaded: {type(error).__name__}: {error}") from None


def unsupported_content_type(content_type: str | None, algorithm: str, supported: tuple[str, ...]) -> InferenceError:
    return InferenceError(415, f"Content-type {content_type} is not supported by {algorithm}; "
                               f"it reads {', '.join(supported)}")


def unsupported_accept(accept: str | None, algorithm: str, supported: tuple[str, ...]) -> InferenceError:
    return InferenceError(406, f"Accept type {accept} is not supported by {algorithm}; "
                               f"it answers {', '.join(supported)}")


def dense_features(body: bytes, media: MediaType, *, algorithm: str, empty_is_missing: bool = False) -> np.ndarray:
    """The records of a request in one of the common formats, as a (records, features) array."""
    if media.type == CSV:
        label_size = media.params.get("label_size", "0")
        if label_size != "0":
            raise InferenceError(400, f"text/csv with label_size={label_size} is not accepted for inference "
                                      "(the features only: label_size=0)")
        return _csv_features(body, empty_is_missing=empty_is_missing)
    if media.type == JSON:
        document = _json(body)
        if not isinstance(document, dict) or not isinstance(document.get("instances"), list):
            raise InferenceError(400, 'application/json requests are {"instances": [...]}')
        return _stack([_instance_features(instance) for instance in document["instances"]])
    if media.type == JSONLINES:
        lines = [line for line in body.decode("utf-8", errors="replace").splitlines() if line.strip()]
        return _stack([_instance_features(_json(line.encode("utf-8"))) for line in lines])
    if media.type == RECORDIO_PROTOBUF:
        raise InferenceNotEmulated(f"The local engine does not emulate {RECORDIO_PROTOBUF} requests to "
                                   f"{algorithm}; use {CSV}, {JSON} or {JSONLINES}")
    raise unsupported_content_type(str(media), algorithm, (CSV, JSON, JSONLINES, RECORDIO_PROTOBUF))


def first_party_features(body: bytes, content_type: str | None, *, algorithm: str, feature_dim: int) -> np.ndarray:
    """The feature rows of a request to linear-learner or k-NN, which read text/csv, application/json and
    application/jsonlines records of ``feature_dim`` features (415 for any other content type)."""
    media = MediaType.parse(content_type)
    if media is None:
        raise unsupported_content_type(content_type, algorithm, (CSV, JSON, JSONLINES))
    features = dense_features(body, media, algorithm=algorithm)
    check_feature_count(features, feature_dim, algorithm)
    return features


def check_feature_count(features: np.ndarray, expected: int, algorithm: str) -> None:
    if features.shape[1] != expected:
        raise InferenceError(400, f"Unable to evaluate payload provided: {algorithm} was trained on {expected} "
                                  f"features, the request has {features.shape[1]}")


def json_lines(documents: list[Any]) -> bytes:
    return "".join(json.dumps(document) + "\n" for document in documents).encode("utf-8")


def _csv_features(body: bytes, *, empty_is_missing: bool) -> np.ndarray:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InferenceError(400, "Unable to evaluate payload provided: text/csv is not UTF-8") from None
    rows = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not any(value.strip() for value in row):
            continue
        try:
            rows.append([float(value) if value.strip() or not empty_is_missing else float("nan") for value in row])
        except ValueError as error:
            raise InferenceError(400, f"Unable to evaluate payload provided: every field must be a number ({error})") from None
    return _stack(rows)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise InferenceError(400, f"Unable to evaluate payload provided: not JSON ({error})") from None


def _instance_features(instance: Any) -> list[float]:
    """``{"features": [..]}`` or ``{"data": {"features": {"values": [..]}}}`` (dense, or sparse with keys/shape)."""
    if isinstance(instance, dict) and isinstance(instance.get("features"), list):
        return _numbers(instance["features"])
    features = instance.get("data", {}).get("features") if isinstance(instance, dict) else None
    if isinstance(features, dict) and isinstance(features.get("values"), list):
        values = _numbers(features["values"])
        if "keys" not in features:
            return values
        try:
            dense = [0.0] * int(features["shape"][0])
            for key, value in zip(features["keys"], values, strict=True):
                dense[int(key)] = value
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise InferenceError(400, f"Unable to evaluate payload provided: a sparse instance needs keys, shape "
                                      f"and values of one length ({error})") from None
        return dense
    raise InferenceError(400, 'Unable to evaluate payload provided: an instance is {"features": [...]} or '
                              '{"data": {"features": {"values": [...]}}}')


def _numbers(values: list[Any]) -> list[float]:
    try:
        return [float(value) for value in values]
    except (TypeError, ValueError) as error:
        raise InferenceError(400, f"Unable to evaluate payload provided: every feature must be a number ({error})") from None


def _stack(rows: list[list[float]]) -> np.ndarray:
    if not rows:
        raise InferenceError(400, "Unable to evaluate payload provided: the request has no records")
    if len({len(row) for row in rows}) != 1:
        raise InferenceError(400, "Unable to evaluate payload provided: the records have different numbers of features")
    return np.asarray(rows, dtype=np.float64)
