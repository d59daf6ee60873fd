"""Tabular channels of the built-in CSV algorithms: label in the first column, no header."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from .base import TrainingClientError
from .channels import ChannelReader


def require_csv(reader: ChannelReader, algorithm: str, *, default_content_type: str) -> None:
    """The CSV algorithms read text/csv only when the channel says so: without a ContentType
    the real container assumes ``default_content_type`` and cannot parse CSV."""
    media_type = reader.channel.media_type
    if media_type in {"text/csv", "csv"}:
        return
    if media_type is None:
        raise TrainingClientError(
            f"Channel '{reader.channel.name}' has no ContentType, so {algorithm} reads it as {default_content_type}; "
            "set ContentType to text/csv for CSV data")
    raise TrainingClientError(
        f"Channel '{reader.channel.name}': content type {reader.channel.content_type!r} is not emulated for "
        f"{algorithm}; the local trainer reads text/csv")


def read_label_first_csv(reader: ChannelReader, *, empty_is_missing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of a headerless CSV channel whose first column is the label.

    ``empty_is_missing``: an empty field is a missing value (NaN), as XGBoost's CSV parser reads it."""
    lines = reader.text_lines()
    if not lines:
        raise TrainingClientError(f"Channel '{reader.channel.name}' has no records")
    if empty_is_missing:
        lines = [",".join(field if field.strip() else "nan" for field in line.split(",")) for line in lines]
    try:
        table = np.loadtxt(io.StringIO("\n".join(lines)), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise TrainingClientError(
            f"Unable to read data channel '{reader.channel.name}'. Requested content-type is 'text/csv'. "
            f"Please verify the data matches the requested content-type; every value must be a number and "
            f"there must be no header line (caused by ValueError: {error})") from None
    if table.shape[1] < 2:
        raise TrainingClientError(f"Channel '{reader.channel.name}': a record needs a label and at least one feature")
    return table[:, 1:], table[:, 0]


def read_libsvm(reader: ChannelReader, n_features: int | None = None) -> tuple[Any, np.ndarray]:
    """(sparse features, labels) of a LIBSVM channel (``label index:value ...``)."""
    from sklearn.datasets import load_svmlight_file

    data = "\n".join(reader.text_lines()).encode("utf-8")
    try:
        features, labels = load_svmlight_file(io.BytesIO(data), n_features=n_features, zero_based=True)
    except ValueError as error:
        raise TrainingClientError(
            f"Unable to read data channel '{reader.channel.name}' as libsvm (caused by ValueError: {error})") from None
    return features, labels


def class_labels(labels: np.ndarray, channel: str, *, num_classes: int | None = None) -> np.ndarray:
    """Labels of a classifier as integers 0..num_classes-1, as the built-in algorithms require them."""
    if not np.all(np.equal(np.mod(labels, 1), 0)):
        raise TrainingClientError(f"Channel '{channel}': classification labels must be integers")
    integers = labels.astype(np.int64)
    if integers.min() < 0 or (num_classes is not None and integers.max() >= num_classes):
        bound = f"0..{num_classes - 1}" if num_classes is not None else "non-negative"
        raise TrainingClientError(f"Channel '{channel}': label {integers.max() if integers.min() >= 0 else integers.min()} "
                                  f"is outside {bound}")
    return integers


def save_model(model_dir: Path, estimator: Any, description: dict[str, Any]) -> None:
    """A real, loadable model: the fitted scikit-learn estimator plus what it was trained with."""
    joblib.dump(estimator, model_dir / "model.joblib")
    (model_dir / "model.json").write_text(json.dumps(description, indent=2, sort_keys=True), encoding="utf-8")
