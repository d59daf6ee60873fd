"""Out-of-fold predictions: every fold's transform answers put back in input order, and their pooled metrics.

Each fold's ``predictions/index.json`` (written by the split) lists its validation lines as the dataset
numbers them and their labels, in the validation file's order, which is the order of the transform's answers
(one per record, ``<input>.out``; one ``<image>.out`` per image for image-classification). The run's
``oof_predictions.jsonl`` has one line per input line and repeat, in input order:
``{"line", "fold", "repeat", "label", "prediction", "scores"?}``. A fold without answers (its training or its
transform failed) keeps its lines with ``"prediction": null`` and is listed in ``missing_folds``.

``assemble`` and ``predicted_classes`` are pure; ``gather`` reads and writes S3 at the edges.
"""

from __future__ import annotations

import io
import json
import posixpath
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
from botocore.exceptions import ClientError

from smx_common import inference_formats
from smx_common.inference_formats import Prediction, ResponseError
from smx_common.s3uri import S3Uri, encryption_args

from . import pooled_metrics

COMPLETED = "Completed"
MAX_REASON_CHARS = 1000
MAX_FAILURE_MESSAGE_CHARS = 32_768  # a Fail state's Cause


@dataclass(frozen=True)
class FoldAnswers:
    repeat_index: int
    fold_index: int
    lines: list[int]
    labels: list[str]
    predictions: list[Prediction] | None  # None: missing
    transform_job_name: str
    reason: str | None = None  # why the predictions are missing


def gather(s3, sagemaker, plan: Mapping[str, Any], fold_results: Sequence[Mapping[str, Any]],
           kms_key_id: str | None) -> dict[str, Any] | None:
    """summary.out_of_fold, after writing oof_predictions.jsonl (None without out-of-fold predictions)."""
    section = plan.get("out_of_fold")
    if not section:
        return None
    results = {result.get("TrainingJobName"): result for result in fold_results}
    folds = [_fold_answers(s3, sagemaker, fold, results.get(fold["TrainingJobName"], {}), section)
             for fold in plan["folds"] if fold.get("transform")]
    n_repeats = plan["crossvalidation"].get("n_repeats", 1)
    rows, summary = assemble(folds, section, num_lines=plan["crossvalidation"]["num_samples"], n_repeats=n_repeats)
    body = "".join(json.dumps(row, separators=(",", ":")) + "\n" for row in rows).encode("utf-8")
    target = S3Uri.parse(section["predictions"])
    s3.put_object(Bucket=target.bucket, Key=target.key, Body=body, ContentType="application/jsonlines",
                  **encryption_args(kms_key_id))
    return {"predictions": section["predictions"], **summary}


def assemble(folds: Sequence[FoldAnswers], section: Mapping[str, Any], *, num_lines: int,
             n_repeats: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(the rows of oof_predictions.jsonl, the summary's out_of_fold without its URI)."""
    classification = section["task"] == "classification"
    label_names = sorted({label for fold in folds for label in fold.labels}, key=_class_order)
    predicted = {(fold.repeat_index, fold.fold_index): predicted_classes(fold.predictions, label_names)
                 for fold in folds if fold.predictions is not None and classification}
    class_names = sorted(set(label_names) | {name for names in predicted.values() for name in names}, key=_class_order)
    rows: list[dict[str, Any] | None] = [None] * (num_lines * n_repeats)
    for fold in folds:
        names = predicted.get((fold.repeat_index, fold.fold_index))
        for position, (line, label) in enumerate(zip(fold.lines, fold.labels)):
            answer = fold.predictions[position] if fold.predictions is not None else None
            row = {"line": line, "fold": fold.fold_index, "repeat": fold.repeat_index,
                   "label": label if classification else float(label),
                   "prediction": None if answer is None else (names[position] if classification else answer.value)}
            if answer is not None and answer.scores is not None:
                row["scores"] = list(answer.scores)
            rows[fold.repeat_index * num_lines + line] = row
    if any(row is None for row in rows):
        raise ValueError("the folds' indexes do not cover every line of the dataset once per repeat")
    scored = [row for row in rows if row["prediction"] is not None]
    summary: dict[str, Any] = {
        "task": section["task"],
        "num_lines": num_lines,
        "n_repeats": n_repeats,
        "num_predictions": len(scored),
        "missing_folds": [_missing(fold) for fold in folds if fold.predictions is None],
        "metrics": {},
    }
    if scored and classification:
        scores = _score_matrix(scored)
        metrics, matrix, notes = pooled_metrics.classification(
            [row["label"] for row in scored], [row["prediction"] for row in scored], scores, class_names)
        summary.update(metrics=metrics, confusion_matrix=matrix, **({"notes": notes} if notes else {}))
    elif scored:
        summary["metrics"] = pooled_metrics.regression([row["label"] for row in scored],
                                                       [row["prediction"] for row in scored])
    return rows, summary


def failure_message(out_of_fold: Mapping[str, Any]) -> str:
    """CheckFolds' cause when some folds have no predictions (PredictionsMissing)."""
    missing = out_of_fold["missing_folds"]
    shown = "; ".join(
        f"repeat {fold['repeat_index']} fold {fold['fold_index']} ({fold['TransformJobName']}): {fold['reason']}"
        for fold in missing[:20])
    more = f"; and {len(missing) - 20} more" if len(missing) > 20 else ""
    return (f"Out-of-fold predictions are missing for {len(missing)} fold(s): {shown}{more}. "
            f"{out_of_fold['predictions']} has their lines with a null prediction, and the pooled metrics cover "
            f"the {out_of_fold['num_predictions']} predicted lines only.")[:MAX_FAILURE_MESSAGE_CHARS]


def predicted_classes(predictions: Sequence[Prediction], label_names: Sequence[str]) -> list[str]:
    """Each answer as a class name of the dataset: BlazingText answers names; the others answer numbers (a class
    index, or the label as a number), which are the classes' names read as numbers (pure)."""
    by_number = {}
    for name in label_names:
        number = _as_number(name)
        if number is not None:
            by_number.setdefault(number, name)
    names = []
    for prediction in predictions:
        if isinstance(prediction.value, str):
            names.append(prediction.value)
        else:
            value = float(prediction.value)
            names.append(by_number.get(value, str(int(value)) if value.is_integer() else repr(value)))
    return names


def _fold_answers(s3, sagemaker, fold: Mapping[str, Any], result: Mapping[str, Any],
                  section: Mapping[str, Any]) -> FoldAnswers:
    transform = fold["transform"]
    index = _read_json(s3, transform["index"])
    identity = dict(repeat_index=fold.get("repeat_index", 0), fold_index=fold["fold_index"],
                    lines=index["lines"], labels=index["labels"], transform_job_name=transform["TransformJobName"])
    reason = _missing_reason(sagemaker, result)
    if reason is None:
        try:
            answers = _read_answers(s3, transform, section)
            if len(answers) != len(index["lines"]):
                raise ResponseError(f"the transform answered {len(answers)} records for the fold's "
                                    f"{len(index['lines'])} validation lines")
            return FoldAnswers(**identity, predictions=answers)
        except ResponseError as error:
            reason = f"the transform's answers could not be read: {error}"
        except ClientError as error:
            reason = f"the transform's answers could not be read: {error}"
    return FoldAnswers(**identity, predictions=None, reason=reason[:MAX_REASON_CHARS])


def _missing_reason(sagemaker, result: Mapping[str, Any]) -> str | None:
    """Why a fold has no answers to read, or None when its transform completed."""
    if result.get("status") != COMPLETED:
        return "its training job did not complete, so no model predicted its lines"
    predictions = result.get("predictions") or {}
    if predictions.get("status") == COMPLETED:
        return None
    error = predictions.get("error", "no transform ran")
    if error == "States.TaskFailed":  # the job ran and failed: SageMaker has its reason
        try:
            description = sagemaker.describe_transform_job(TransformJobName=predictions["TransformJobName"])
            return f"its transform job {description.get('TransformJobStatus', 'Failed')}: " \
                   f"{description.get('FailureReason') or 'no reason given'}"
        except ClientError as described:
            return f"its transform job failed (and could not be described: {described})"
    cause = predictions.get("cause")
    return f"its model or transform job could not be created: {error}" + (f": {cause}" if cause else "")


def _read_answers(s3, transform: Mapping[str, Any], section: Mapping[str, Any]) -> list[Prediction]:
    family, objective = section["family"], section.get("objective")
    inference = inference_formats.FORMATS[family]
    source = transform["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    output = transform["TransformOutput"]["S3OutputPath"]
    if inference.transform_input == inference_formats.IMAGE_MANIFEST:
        manifest = _read_json(s3, source)
        answers: dict[str, Prediction] = {}
        for key in manifest[1:]:  # one .out per image object, named by its path under the manifest's prefix
            if key not in answers:
                answers[key] = inference_formats.parse(family, _read_text(s3, _output_uri(output, key)))
        return [answers[key] for key in manifest[1:]]
    # One .out for the one input object, a record's answer per line (AssembleWith Line).
    text = _read_text(s3, _output_uri(output, posixpath.basename(S3Uri.parse(source).key)))
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [inference_formats.parse(family, line, objective=objective) for line in lines]


def _output_uri(output_path: str, relative: str) -> str:
    """Where SageMaker writes an input object's answers (botocore's TransformOutput.S3OutputPath: "batch
    transform stores the transformed data with an .out suffix")."""
    return str(S3Uri.parse(output_path).child(f"{relative}.out"))


def _missing(fold: FoldAnswers) -> dict[str, Any]:
    return {"repeat_index": fold.repeat_index, "fold_index": fold.fold_index,
            "TransformJobName": fold.transform_job_name, "reason": fold.reason}


def _score_matrix(rows: Sequence[Mapping[str, Any]]) -> np.ndarray | None:
    widths = {len(row["scores"]) if "scores" in row else 0 for row in rows}
    if len(widths) != 1 or 0 in widths:
        return None
    return np.asarray([row["scores"] for row in rows], dtype=np.float64)


def _class_order(name: str) -> tuple:
    number = _as_number(name)
    return (0, number, name) if number is not None else (1, 0.0, name)


def _as_number(name: str) -> float | None:
    try:
        return float(name)
    except ValueError:
        return None


def _read_json(s3, uri: str) -> Any:
    return json.loads(_read_text(s3, uri))


def _read_text(s3, uri: str) -> str:
    location = S3Uri.parse(uri)
    with io.TextIOWrapper(s3.get_object(Bucket=location.bucket, Key=location.key)["Body"], encoding="utf-8") as body:
        return body.read()
