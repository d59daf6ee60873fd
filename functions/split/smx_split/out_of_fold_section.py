"""``crossvalidation.out_of_fold_predictions`` normalised: which transform each fold's model runs. Pure.

``true`` (or an object of transform settings) asks every fold's model to predict its fold's validation file
with a Batch Transform job, as scikit-learn's ``cross_val_predict`` predicts each fold with the estimator
fitted on the others. The algorithm's inference format is ``smx_common.inference_formats``'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from smx_common.inference_formats import FORMATS, InferenceFormat

from . import data_contracts, request_contract
from .builtin_images import CUSTOM

FIELD: Final = "crossvalidation.out_of_fold_predictions"
# A general-purpose CPU instance: every built-in's inference runs on CPU (image-classification's too), and
# transform instances are billed only while a fold's job runs.
DEFAULT_INSTANCE_TYPE: Final = "ml.m5.xlarge"
# SageMaker's default request size for a transform job (CreateTransformJob's MaxPayloadInMB).
MAX_PAYLOAD_IN_MB: Final = 6
# "the value of (MaxConcurrentTransforms * MaxPayloadInMB) also cannot exceed 100 MB" (botocore's documentation of
# CreateTransformJob's MaxPayloadInMB).
MAX_CONCURRENT_PAYLOAD_MB: Final = 100
# The most predictions (lines x repeats) the gather puts in input order within its 1,769 MB: make bench-oof measured
# a peak of 959 MB for a million (the emulated S3's objects included), and a run past the gather's memory would
# lose its predictions after every job had run.
MAX_PREDICTIONS: Final = 1_000_000
CLASSIFICATION: Final = "classification"
REGRESSION: Final = "regression"


@dataclass(frozen=True)
class OutOfFoldSpec:
    family: str
    task: str  # CLASSIFICATION or REGRESSION
    inference: InferenceFormat
    accept: str
    instance_type: str
    instance_count: int
    max_concurrent_transforms: int
    objective: str | None  # xgboost's: how its one-value answers read
    source_attribute: str | None  # a JSON Lines dataset's attribute that holds the text or the image

    def section(self) -> dict:
        """What the plan and the output show of it."""
        return {"task": self.task, "accept": self.accept, "content_type": self.inference.content_type,
                "instance_type": self.instance_type, "instance_count": self.instance_count,
                "max_concurrent_transforms": self.max_concurrent_transforms}


def normalise(value, *, family: str, hyperparameters: dict[str, str], channel_layout, tuning: object,
              problems: list[str]) -> OutOfFoldSpec | None:
    """The transform settings, or None when out-of-fold predictions are not asked for (problems appended)."""
    if value is None or value is False:
        return None
    settings = value if isinstance(value, dict) else {}
    found: list[str] = []
    if tuning is not None:
        found.append(f"{FIELD}: a search trains several models per fold, and out-of-fold predictions come from one; "
                     "run the search first, then run its best hyperparameters with out_of_fold_predictions")
    if family == CUSTOM:
        found.append(f"{FIELD}: reads the answers of the built-in algorithms (linear-learner, knn, xgboost, "
                     "image-classification, blazingtext) in their documented formats; a custom container answers "
                     "in its own: remove out_of_fold_predictions")
        problems += found
        return None
    inference = FORMATS[family]
    task = _task(family, hyperparameters, found)
    if channel_layout is not None and inference.transform_input == "validation_file" and \
            channel_layout.content_type != "text/csv":
        found.append(f"{FIELD}: the folds are {channel_layout.content_type}, and the transform reads CSV; "
                     "train on text/csv data to predict out of fold")
    accept = settings.get("accept", inference.accepts[0])
    if accept not in inference.accepts:
        found.append(f"{FIELD}.accept: {family}'s answers are read as {_either(inference.accepts)}, not {accept!r}; "
                     "remove accept to use it")
    content_type = settings.get("content_type", inference.content_type)
    if content_type != inference.content_type:
        found.append(f"{FIELD}.content_type: {family} is sent the fold's records as {inference.content_type!r}, "
                     f"not {content_type!r}; remove content_type")
    concurrent = settings.get("max_concurrent_transforms", 1)
    if concurrent * MAX_PAYLOAD_IN_MB > MAX_CONCURRENT_PAYLOAD_MB:
        found.append(f"{FIELD}.max_concurrent_transforms: {concurrent} requests of up to {MAX_PAYLOAD_IN_MB} MB "
                     f"each pass SageMaker's {MAX_CONCURRENT_PAYLOAD_MB} MB (MaxConcurrentTransforms x "
                     f"MaxPayloadInMB), so every transform would be refused; give at most "
                     f"{MAX_CONCURRENT_PAYLOAD_MB // MAX_PAYLOAD_IN_MB}")
    instance_type = settings.get("instance_type", DEFAULT_INSTANCE_TYPE)
    known = _transform_instance_types()
    if instance_type not in known:
        close = [name for name in known if name.startswith(instance_type.rsplit(".", 1)[0] + ".")][:6]
        found.append(f"{FIELD}.instance_type: {instance_type!r} is not an instance type Batch Transform runs on "
                     f"(SageMaker's TransformInstanceType){'; for example ' + ', '.join(close) if close else ''}")
    problems += found
    if found:
        return None
    attribute_names = getattr(channel_layout, "attribute_names", None)
    return OutOfFoldSpec(
        family=family, task=task, inference=inference, accept=accept,
        instance_type=instance_type,
        instance_count=settings.get("instance_count", 1),
        max_concurrent_transforms=concurrent,
        objective=hyperparameters.get("objective") if family == "xgboost" else None,
        source_attribute=attribute_names[0] if attribute_names else None,
    )


def size_problems(spec: OutOfFoldSpec | None, num_lines: int, n_repeats: int) -> list[str]:
    """A dataset too large for the gather to put its predictions in order (known once the dataset is scanned)."""
    if spec is None or num_lines * n_repeats <= MAX_PREDICTIONS:
        return []
    repeats = f" x {n_repeats} repeats = {num_lines * n_repeats:,} predictions" if n_repeats > 1 else ""
    return [f"{FIELD}: the dataset has {num_lines:,} lines{repeats}, and the gather step puts at most "
            f"{MAX_PREDICTIONS:,} predictions in input order within its memory; remove out_of_fold_predictions "
            "(or n_repeats), or cross-validate a sample of the dataset"]


def image_bucket_problems(buckets: list[str]) -> list[str]:
    """Images in several buckets: a transform job's manifest names one bucket (its prefix)."""
    if len(buckets) <= 1:
        return []
    return [f"{FIELD}: the dataset's images are in {len(buckets)} buckets ({', '.join(buckets[:3])}), and a "
            "transform job's manifest lists the images of one bucket: copy the images into one bucket, or remove "
            "out_of_fold_predictions"]


# How each family is set up to classify or regress, for a message that says how to.
_TASK_HINTS: Final = {
    "blazingtext": ("mode", "supervised (text classification)"),
    "xgboost": ("objective", "a binary:, multi: or reg: objective"),
    "linear-learner": ("predictor_type", "binary_classifier, multiclass_classifier or regressor"),
    "knn": ("predictor_type", "classifier or regressor"),
}


def _task(family: str, hyperparameters: dict[str, str], found: list[str]) -> str:
    if data_contracts.classifier_setting(family, hyperparameters):
        return CLASSIFICATION
    if data_contracts.regressor_setting(family, hyperparameters) or (
            family == "xgboost" and hyperparameters.get("objective") == "reg:logistic"):  # values in (0, 1)
        return REGRESSION
    setting, choices = _TASK_HINTS[family]
    found.append(f"{FIELD}: out-of-fold predictions are a classifier's classes or a regressor's values, and "
                 f"{family} with {setting} {hyperparameters.get(setting, '(not set)')!r} gives neither; set "
                 f"training.hyperparameters_template.{setting} to {choices}, or remove out_of_fold_predictions")
    return CLASSIFICATION


def _transform_instance_types() -> list[str]:
    """The instance types CreateTransformJob accepts, from SageMaker's service model (botocore's)."""
    return list(request_contract.operation_model().service_model.shape_for("TransformInstanceType").enum)


def _either(values: tuple[str, ...]) -> str:
    return " or ".join(repr(value) for value in values)
