"""How each built-in algorithm is asked for predictions and how it answers: the one home of that contract. Pure.

Out-of-fold predictions run a Batch Transform job per fold. The split composes its request from this table
(content type, splitting, which records the job reads) and the gather parses the answers with ``parse``.
Each row follows the algorithm's documented inference formats (the page is named beside it). The offline
engine's predictors do not read this table: they answer as the containers do, so a disagreement between this
table and a container's documented format shows up as a failed parse in the tests.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Final, NamedTuple

# What a fold's transform job reads (the split writes the last two from the fold's validation file).
VALIDATION_FILE: Final = "validation_file"  # the validation file itself, the label column filtered out
SOURCE_RECORDS: Final = "source_records"  # JSON Lines {"source": <text>}, one per validation line
IMAGE_MANIFEST: Final = "image_manifest"  # a ManifestFile listing each validation line's image

LABEL_PREFIX: Final = "__label__"  # BlazingText's class names in its answers


@dataclass(frozen=True)
class InferenceFormat:
    content_type: str
    accepts: tuple[str, ...]  # the answers ``parse`` reads; the first is the default
    split_type: str  # TransformInput.SplitType
    batch_strategy: str
    input_filter: str  # DataProcessing.InputFilter
    transform_input: str  # VALIDATION_FILE, SOURCE_RECORDS or IMAGE_MANIFEST
    source: str


FORMATS: Final[dict[str, InferenceFormat]] = {
    # JSON Lines answers one object a record: {"score": .., "predicted_label": ..}.
    "linear-learner": InferenceFormat(
        "text/csv", ("application/jsonlines",), "Line", "MultiRecord", "$[1:]", VALIDATION_FILE,
        "https://docs.aws.amazon.com/sagemaker/latest/dg/LL-in-formats.html"),
    "knn": InferenceFormat(
        "text/csv", ("application/jsonlines",), "Line", "MultiRecord", "$[1:]", VALIDATION_FILE,
        "https://docs.aws.amazon.com/sagemaker/latest/dg/kNN-inference-formats.html"),
    # text/csv answers one line a record: a probability, a value, a class, or every class's probability (a list).
    "xgboost": InferenceFormat(
        "text/csv", ("text/csv",), "Line", "MultiRecord", "$[1:]", VALIDATION_FILE,
        "https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost.html#InputOutput-XGBoost"),
    # One image an object (application/x-image); the answer is the JSON array of the class probabilities.
    "image-classification": InferenceFormat(
        "application/x-image", ("application/json",), "None", "SingleRecord", "$", IMAGE_MANIFEST,
        "https://docs.aws.amazon.com/sagemaker/latest/dg/IC-inference.html"),
    # JSON Lines {"source": ..} in; {"label": ["__label__x"], "prob": [p]} out (the top class only).
    "blazingtext": InferenceFormat(
        "application/jsonlines", ("application/jsonlines",), "Line", "MultiRecord", "$", SOURCE_RECORDS,
        "https://docs.aws.amazon.com/sagemaker/latest/dg/blazingtext.html#blazingtext-io"),
}


class Prediction(NamedTuple):
    """One record's answer: the predicted class (a class name or index, as the algorithm answers it) or value,
    and the per-class scores in class-index order when the algorithm gives them."""

    value: str | float
    scores: tuple[float, ...] | None = None


class ResponseError(ValueError):
    """An answer that is not in the algorithm's documented format."""


def parse(family: str, answer: str, *, objective: str | None = None) -> Prediction:
    """One record's answer (one line of a ``.out`` file, or an image's whole ``.out`` file)."""
    text = answer.strip()
    if not text:
        raise ResponseError("an empty answer")
    if family == "xgboost":
        return _xgboost(text, objective or "reg:squarederror")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        raise ResponseError(f"not JSON: {text[:80]!r}") from None
    if family == "linear-learner":
        return _linear_learner(value)
    if family == "knn":
        return Prediction(_number(_field(value, "predicted_label")))
    if family == "image-classification":
        scores = value.get("prediction") if isinstance(value, dict) else value
        return _from_scores(_numbers(scores))
    if family == "blazingtext":
        labels = _field(value, "label")
        if not isinstance(labels, list) or not labels or not isinstance(labels[0], str):
            raise ResponseError(f"'label' is not a list of class names: {text[:80]!r}")
        return Prediction(labels[0].removeprefix(LABEL_PREFIX))  # the top class alone: no scores of all classes
    raise ResponseError(f"no inference format is known for {family!r}")


def _linear_learner(value) -> Prediction:
    score = _field(value, "score")
    if "predicted_label" not in value:
        return Prediction(_number(score))  # a regressor: the score is the value
    label = _number(value["predicted_label"])
    if isinstance(score, list):
        return Prediction(label, _numbers(score))
    probability = _number(score)  # binary: the score is the probability of class 1
    return Prediction(label, (1.0 - probability, probability))


def _xgboost(text: str, objective: str) -> Prediction:
    # A multi:softprob answer is the Python list the container prints ("[0.94, 0.03, 0.02]": sagemaker-xgboost-
    # container's serve.py joins str() of each prediction), read here as every class's probability.
    fields = text.removeprefix("[").removesuffix("]").split(",")
    values = _numbers(fields)
    if len(values) > 1:
        return _from_scores(values)  # multi:softprob: every class's probability
    value = values[0]
    if objective == "binary:logistic":  # the probability of class 1
        return Prediction(float(value >= 0.5), (1.0 - value, value))
    if objective == "binary:logitraw":  # the margin before the logistic function: class 1 above 0
        probability = 1.0 / (1.0 + math.exp(-value)) if value > -700 else 0.0
        return Prediction(float(value > 0), (1.0 - probability, probability))
    return Prediction(value)  # a value, a class index (multi:softmax), or 0/1 (binary:hinge)


def _from_scores(scores: tuple[float, ...]) -> Prediction:
    if not scores:
        raise ResponseError("no class scores")
    return Prediction(float(max(range(len(scores)), key=scores.__getitem__)), scores)


def _field(value, name: str):
    if not isinstance(value, dict) or name not in value:
        raise ResponseError(f"no {name!r} in the answer {json.dumps(value)[:80]}")
    return value[name]


def _number(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ResponseError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ResponseError(f"{value!r} is not a finite number")
    return number


def _numbers(values) -> tuple[float, ...]:
    if not isinstance(values, list):
        raise ResponseError(f"{json.dumps(values)[:80]} is not a list of numbers")
    return tuple(_number(value) for value in values)
