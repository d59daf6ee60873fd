"""What each built-in algorithm requires of the data, checked after the scan and before anything is written.

Each row follows the algorithm's SageMaker documentation (the source is named beside it). The offline
engine's local trainers do not read this table: they fail on bad data by themselves, so a gap here shows
up as a failed fold in the tests, not as an agreement between two copies of one rule.

Pure: the scan's label names and the dataset's first lines in, problems out.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import Final

from .builtin_images import CUSTOM

# The first lines whose every field is checked (the labels are checked on every line through the scan's
# distinct label names; a feature column that is not numeric almost always shows in the first lines).
SAMPLE_LINES: Final = 200
SAMPLE_BYTES: Final = 256 * 1024  # at most this much of the file's start is sampled


@dataclass(frozen=True)
class DataContract:
    numeric_csv: bool = False         # label and features numbers (text/csv, label first, no header)
    integer_labels_from_zero: bool = False  # class labels 0 .. num_classes-1
    source: str = ""


CONTRACTS: Final[dict[str, DataContract]] = {
    "linear-learner": DataContract(numeric_csv=True, source=(
        "https://docs.aws.amazon.com/sagemaker/latest/dg/linear-learner.html#ll-input_output "
        "(text/csv: the first column is the label, every value a number)")),
    "knn": DataContract(numeric_csv=True, source=(
        "https://docs.aws.amazon.com/sagemaker/latest/dg/kNN-in-formats.html (text/csv: label first, "
        "then the features, all numbers)")),
    "xgboost": DataContract(numeric_csv=True, source=(
        "https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost.html#InputOutput-XGBoost (CSV: the target "
        "in the first column, no header, numeric values)")),
    "image-classification": DataContract(integer_labels_from_zero=True, source=(
        "https://docs.aws.amazon.com/sagemaker/latest/dg/image-classification.html#IC-inputoutput (the class "
        "label is an integer from 0 to num_classes - 1)")),
}


def label_attribute_problems(*, has_labels: bool, label_attribute: str, attribute_names: tuple[str, ...] | None,
                             data_format: str) -> list[str]:
    """An augmented manifest's channels name the label attribute; no line having it fails every job."""
    if has_labels or data_format != "jsonl" or not attribute_names or label_attribute not in attribute_names:
        return []
    return [
        f"crossvalidation.label_attribute: no line of the dataset has a {label_attribute!r} attribute, but the "
        f"training channels read it (AttributeNames {list(attribute_names)}), so every job would fail; set "
        "crossvalidation.label_attribute to the attribute that holds each line's label"
    ]


def contract_problems(family: str, data_format: str, *, label_names: tuple[str, ...],
                      first_lines: list[bytes]) -> list[str]:
    """Every way the data breaks the algorithm's documented contract (empty for custom containers)."""
    contract = CONTRACTS.get(family)
    if contract is None:
        return []
    problems = []
    if contract.numeric_csv and data_format == "csv":
        bad_labels = [name for name in label_names if not _is_number(name)]
        if bad_labels:
            shown = ", ".join(repr(name[:40]) for name in bad_labels[:5])
            problems.append(
                f"job_config.input_path: {family} needs a number as each line's label (the first column), but "
                f"{len(bad_labels)} label(s) are not numbers: {shown}; encode the classes as numbers (0, 1, ...)")
        problems += _feature_problems(family, first_lines)
    if contract.integer_labels_from_zero and label_names:
        # Class ids lie in [0, num_classes); a class without lines is allowed (its bound is checked against
        # num_classes with the hyperparameters).
        bad = [name for name in sorted(label_names, key=_integer_order) if not name.isdigit()]
        if bad:
            shown = ", ".join(repr(name[:40]) for name in bad[:8]) + (f" and {len(bad) - 8} more" if len(bad) > 8 else "")
            problems.append(
                f"crossvalidation.label_attribute: {family} needs class labels that are integers from 0 (0 to "
                f"num_classes - 1), but the dataset has {shown}; renumber the classes from 0")
    return problems


# Objectives whose labels the XGBoost container bounds (its training errors "Label must be in [0,1] for
# logistic regression task", "Label must be in [0, num_class) for multi classification task", "label must be
# non-negative"; aws/sagemaker-xgboost-container, algorithm_mode/train.py). The AWS page states no bound.
_XGBOOST_UNIT_LABELS = frozenset({"binary:logistic", "reg:logistic", "binary:logitraw"})
_XGBOOST_CLASS_LABELS = frozenset({"multi:softmax", "multi:softprob"})
_XGBOOST_NON_NEGATIVE_LABELS = frozenset({"count:poisson", "reg:tweedie", "reg:gamma"})


def hyperparameter_problems(family: str, data_format: str, hyperparameters: dict[str, str], *,
                            label_names: tuple[str, ...], first_lines: list[bytes],
                            training_lines: int | None = None) -> list[str]:
    """Where the data and one fold's hyperparameters disagree in a way the container refuses.

    - linear-learner (https://docs.aws.amazon.com/sagemaker/latest/dg/linear-learner.html#ll-input_output):
      binary_classifier labels are 0 or 1, multiclass_classifier labels 0 .. num_classes-1;
    - image-classification (IC-inputoutput): class labels 0 .. num_classes-1;
    - xgboost: the objective's label range (see above), labels below num_class;
    - knn and linear-learner: an integer feature_dim is the number of feature columns;
    - knn: k neighbours among at most sample_size of a fold's ``training_lines`` (k-NN indexes a sample of
      sample_size training points and votes among the k nearest; with fewer points there are not k).
    """
    if family == CUSTOM:
        return []
    return (_class_count_problems(family, data_format, hyperparameters, label_names)
            + _label_value_problems(family, hyperparameters, label_names)
            + _shape_problems(family, data_format, hyperparameters, first_lines, training_lines))


def _class_count_problems(family: str, data_format: str, hyperparameters: dict[str, str],
                          label_names: tuple[str, ...]) -> list[str]:
    """A classifier needs two classes at least, and text data needs __label__ labels to learn from."""
    classifier = classifier_setting(family, hyperparameters)
    if classifier and len(label_names) == 1:
        return [
            f"job_config.input_path: every line of the dataset has the label {label_names[0][:40]!r}, but {family} "
            f"with {classifier} is a classifier and needs at least two classes; check the labels (or "
            "crossvalidation.label_attribute)"]
    if classifier and not label_names and data_format == "text":
        return [
            f"job_config.input_path: no line of the dataset has a __label__ label, but {family} with {classifier} "
            "learns from labels; give every line its __label__<class>"]
    return []


def _label_value_problems(family: str, hyperparameters: dict[str, str], label_names: tuple[str, ...]) -> list[str]:
    """Labels outside the values the task's hyperparameters allow (0/1, a class bound, an objective's range)."""
    objective = hyperparameters.get("objective", "")
    binary = family == "linear-learner" and hyperparameters.get("predictor_type") == "binary_classifier"
    class_bound = _class_bound(family, hyperparameters)
    bounded_objective = family == "xgboost" and objective in _XGBOOST_UNIT_LABELS | _XGBOOST_NON_NEGATIVE_LABELS
    # The labels as numbers, read only when a rule below bounds them (a regressor may have a million distinct).
    numbers = ([float(name) for name in label_names if _is_number(name)]
               if label_names and (binary or class_bound or bounded_objective) else [])
    if not numbers or len(numbers) != len(label_names):
        return []  # no bound applies, or some labels are not numbers (another check names those)
    problems = []
    if binary and not set(numbers) <= {0, 1}:
        problems.append(_label_range_problem(family, "predictor_type binary_classifier", "0 or 1", label_names))
    if class_bound is not None:
        bound, why = class_bound
        if any(not number.is_integer() or not 0 <= number < bound for number in numbers):
            fix = None
            if all(number.is_integer() and number >= 0 for number in numbers):
                name = why.split()[0]
                fix = f"set {name} to {int(max(numbers)) + 1} (the highest label + 1), or renumber the labels from 0"
            problems.append(_label_range_problem(family, why, f"the integers 0 to {bound - 1}", label_names, fix))
    if bounded_objective:
        if objective in _XGBOOST_UNIT_LABELS and any(not 0 <= number <= 1 for number in numbers):
            problems.append(_label_range_problem(family, f"objective {objective}", "in [0, 1]", label_names))
        if objective in _XGBOOST_NON_NEGATIVE_LABELS and any(number < 0 for number in numbers):
            problems.append(_label_range_problem(family, f"objective {objective}", "non-negative", label_names))
    return problems


def _shape_problems(family: str, data_format: str, hyperparameters: dict[str, str], first_lines: list[bytes],
                    training_lines: int | None) -> list[str]:
    """feature_dim against the CSV's columns; knn's k against the points a fold's job indexes."""
    problems = []
    feature_dim = hyperparameters.get("feature_dim", "")
    features = _feature_count(first_lines) if data_format == "csv" else None
    if family in {"knn", "linear-learner"} and feature_dim.strip().isdigit() and features \
            and int(feature_dim) != features:
        problems.append(
            f"training.hyperparameters_template.feature_dim: is {feature_dim}, but the dataset's rows have {features} "
            f"feature columns after the label; {family} fails a job whose data does not match it: set feature_dim "
            f"to {features}")
    k, sample_size = hyperparameters.get("k", "").strip(), hyperparameters.get("sample_size", "").strip()
    if family == "knn" and k.isdigit() and training_lines is not None:
        points = min(training_lines, int(sample_size)) if sample_size.isdigit() else training_lines
        if int(k) > points:
            problems.append(
                f"training.hyperparameters_template.k: is {k}, but a fold's job indexes only {points} training points "
                f"(sample_size {sample_size or 'not given'}, {training_lines} training lines in the smallest fold), "
                "fewer than k neighbours: lower k, or raise sample_size or the data")
    return problems


# The hyperparameter that sets each built-in's task, its default, and which values make it a classifier or a
# regressor (image-classification is always a classifier; a custom container's task is unknown).
_TASK_SETTING: Final = {
    "linear-learner": ("predictor_type", "", lambda v: v in {"binary_classifier", "multiclass_classifier"},
                       lambda v: v == "regressor"),
    "knn": ("predictor_type", "", lambda v: v == "classifier", lambda v: v == "regressor"),
    "xgboost": ("objective", "reg:squarederror", lambda v: v.startswith(("binary:", "multi:")),
                lambda v: v.startswith(("reg:", "count:", "survival:")) and v != "reg:logistic"),
    "blazingtext": ("mode", "", lambda v: v == "supervised", lambda v: False),
}


def regressor_setting(family: str, hyperparameters: dict[str, str]) -> str | None:
    """The hyperparameter that makes a built-in a regressor (its labels are values, not classes), or None."""
    return _task_setting(family, hyperparameters, regressor=True)


def classifier_setting(family: str, hyperparameters: dict[str, str]) -> str | None:
    """The hyperparameter that makes the algorithm a classifier, as shown to the user; None for a regressor
    or a custom container."""
    if family == "image-classification":
        return "any hyperparameters"
    return _task_setting(family, hyperparameters, regressor=False)


def _task_setting(family: str, hyperparameters: dict[str, str], *, regressor: bool) -> str | None:
    if family not in _TASK_SETTING:
        return None
    setting, default, is_classifier, is_regressor = _TASK_SETTING[family]
    value = hyperparameters.get(setting, default)
    return f"{setting} {value}" if (is_regressor if regressor else is_classifier)(value) else None


def _class_bound(family: str, hyperparameters: dict[str, str]) -> tuple[int, str] | None:
    """The number of classes the hyperparameters declare, when the labels must lie below it."""
    name = {"linear-learner": "num_classes", "image-classification": "num_classes", "xgboost": "num_class"}.get(family)
    if family == "linear-learner" and hyperparameters.get("predictor_type") != "multiclass_classifier":
        return None
    if family == "xgboost" and hyperparameters.get("objective") not in _XGBOOST_CLASS_LABELS:
        return None
    value = hyperparameters.get(name or "", "").strip()
    return (int(value), f"{name} {value}") if value.isdigit() and int(value) > 0 else None


def _label_range_problem(family: str, why: str, expected: str, label_names: tuple[str, ...],
                         fix: str | None = None) -> str:
    ordered = sorted(label_names, key=lambda name: float(name))
    shown = ", ".join(repr(name[:40]) for name in ordered[:8]) + (f" and {len(ordered) - 8} more" if len(ordered) > 8 else "")
    return (f"training.hyperparameters_template: with {why}, {family} needs every label to be {expected}, but the "
            f"dataset's labels are {shown}; {fix or 'renumber the labels or change the hyperparameters'}")


def _feature_count(first_lines: list[bytes]) -> int | None:
    if not first_lines:
        return None
    fields = next(csv.reader(io.StringIO(first_lines[0].decode("utf-8", "replace").rstrip("\r"))), [])
    return len(fields) - 1 if fields else None


# XGBoost's CSV parser (dmlc-core, behind xgb.DMatrix("...?format=csv")) reads an empty field or "nan" as a
# missing value, a headline feature of XGBoost; the other algorithms need a number in every column. The same
# parser does not read quotes: a quoted field would be a missing value, silently.
_MISSING_VALUES_READ: Final = {"xgboost": frozenset({"nan", ""})}
_READS_QUOTES: Final = frozenset({"linear-learner", "knn"})


def _feature_problems(family: str, first_lines: list[bytes]) -> list[str]:
    missing_read = _MISSING_VALUES_READ.get(family, frozenset())
    for number, raw in enumerate(first_lines[:SAMPLE_LINES], 1):
        text = raw.decode("utf-8", "replace").rstrip("\r")
        if "\x00" in text:
            return [f"line {number}: has a NUL byte; {family} reads text/csv numbers: remove it"]
        if '"' in text and family not in _READS_QUOTES:
            return [f"line {number}: has a quoted field; {family}'s CSV parser does not read quotes and would take "
                    "the field for a missing value: write the numbers without quotes"]
        fields = next(csv.reader(io.StringIO(text)), [])
        if number == 1 and len(fields) == 1:
            return ["line 1: has only the label column; " f"{family} learns from the feature columns after the label: "
                    "add them (a CSV row is the label, then the features, comma-separated)"]
        for column, value in enumerate(fields[1:], 1):
            if value.strip().lower() in missing_read or _is_number(value):
                continue
            if not value.strip() or value.strip().lower() in {"nan", "na", "null", "none"}:
                return [f"line {number}: column {column} is missing ({value[:40]!r}); {family} needs a number in every "
                        "column: fill in (impute) the missing values or leave the rows out"]
            return [f"line {number}: column {column} is {value[:40]!r}, not a number; {family} reads every CSV "
                    "column as a number: encode it numerically (one-hot or codes) or leave it out"]
    return []


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _integer_order(name: str) -> tuple[int, str]:
    return (int(name), name) if name.lstrip("-").isdigit() else (1 << 62, name)
