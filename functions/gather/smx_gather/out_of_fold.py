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
import math
import posixpath
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
from botocore.exceptions import ClientError

from smx_common import inference_formats
from smx_common.inference_formats import Prediction, ResponseError
from smx_common.s3uri import S3Uri, encryption_args

from . import pooled_metrics

COMPLETED = "Completed"
MAX_REASON_CHARS = 1000
MAX_FAILURE_MESSAGE_CHARS = 32_768  # a Fail state's Cause


class Answers:
    """One fold's answers, compact: the predicted values (class names or numbers, as the algorithm answers) and,
    when every answer has them, the per-class scores as one float32 matrix. A million answers take tens of MB
    here, where a million parsed tuples would take hundreds."""

    def __init__(self, values: np.ndarray, scores: np.ndarray | None):
        self.values, self.scores = values, scores

    @classmethod
    def of(cls, predictions: Sequence[Prediction]) -> Answers:
        texts = any(isinstance(prediction.value, str) for prediction in predictions)
        values = np.asarray([prediction.value for prediction in predictions], dtype=object if texts else np.float64)
        widths = {len(prediction.scores) if prediction.scores is not None else 0 for prediction in predictions}
        scores = None
        if len(widths) == 1 and 0 not in widths:
            scores = np.asarray([prediction.scores for prediction in predictions], dtype=np.float32)
        return cls(values, scores)

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class FoldAnswers:
    repeat_index: int
    fold_index: int
    lines: Sequence[int]
    labels: Sequence[str]
    answers: Answers | None  # None: missing
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
    table, summary = assemble(folds, section, num_lines=plan["crossvalidation"]["num_samples"], n_repeats=n_repeats)
    del folds
    target = S3Uri.parse(section["predictions"])
    # Streamed: the file (about 90 MB a million lines) is never whole in memory.
    s3.upload_fileobj(_ChunkReader(table.jsonl_chunks()), target.bucket, target.key,
                      ExtraArgs={"ContentType": "application/jsonlines", **encryption_args(kms_key_id)})
    return {"predictions": section["predictions"], **summary}


class PredictionTable:
    """Every line's prediction per repeat, in input order, as arrays (row r * num_lines + line)."""

    def __init__(self, *, num_lines: int, n_repeats: int, classification: bool, class_names: list[str],
                 folds: np.ndarray, labels: np.ndarray, predicted: np.ndarray, has_prediction: np.ndarray,
                 scores: np.ndarray | None):
        self.num_lines, self.n_repeats, self.classification = num_lines, n_repeats, classification
        self.class_names = class_names
        self.folds, self.labels, self.predicted = folds, labels, predicted
        self.has_prediction, self.scores = has_prediction, scores

    def rows(self) -> Iterator[dict[str, Any]]:
        """oof_predictions.jsonl's lines: {"line", "fold", "repeat", "label", "prediction", "scores"?}."""
        names = self.class_names
        for row in range(len(self.folds)):
            repeat, line = divmod(row, self.num_lines)
            label = names[self.labels[row]] if self.classification else float(self.labels[row])
            prediction = None
            if self.has_prediction[row]:
                prediction = names[self.predicted[row]] if self.classification else float(self.predicted[row])
            record = {"line": line, "fold": int(self.folds[row]), "repeat": repeat, "label": label,
                      "prediction": prediction}
            if self.scores is not None and self.has_prediction[row] and not np.isnan(self.scores[row, 0]):
                # float32 holds 7 significant digits: written as such, not as float32's binary expansion
                record["scores"] = [float(f"{score:.7g}") for score in self.scores[row]]
            yield record

    def jsonl_chunks(self, lines_per_chunk: int = 10_000) -> Iterator[bytes]:
        chunk: list[str] = []
        for record in self.rows():
            chunk.append(json.dumps(record, separators=(",", ":")))
            if len(chunk) == lines_per_chunk:
                yield ("\n".join(chunk) + "\n").encode("utf-8")
                chunk = []
        if chunk:
            yield ("\n".join(chunk) + "\n").encode("utf-8")


def assemble(folds: Sequence[FoldAnswers], section: Mapping[str, Any], *, num_lines: int,
             n_repeats: int) -> tuple[PredictionTable, dict[str, Any]]:
    """(the predictions in input order, the summary's out_of_fold without its URI). Pure."""
    classification = section["task"] == "classification"
    # Each fold's labels as codes of its own distinct labels (numpy's unique), then of the run's classes.
    distinct = {id(fold): np.unique(np.asarray(fold.labels, dtype=str), return_inverse=True) for fold in folds}
    label_names = sorted({str(name) for names, _ in distinct.values() for name in names}, key=_class_order)
    predicted_names = {id(fold): predicted_classes(fold.answers.values, label_names)
                       for fold in folds if fold.answers is not None and classification}
    class_names = sorted(set(label_names) | {name for names in predicted_names.values() for name in names},
                         key=_class_order)
    widths = {fold.answers.scores.shape[1] for fold in folds
              if fold.answers is not None and fold.answers.scores is not None}
    width = next(iter(widths)) if len(widths) == 1 else None  # every answer scores the same classes
    if classification and width is not None:
        class_names = _scored_classes(class_names, width)
    code = {name: index for index, name in enumerate(class_names)}
    total = num_lines * n_repeats
    fold_of = np.full(total, -1, dtype=np.int32)
    labels = np.zeros(total, dtype=np.int32 if classification else np.float64)
    predicted = np.zeros(total, dtype=np.int32 if classification else np.float64)
    has_prediction = np.zeros(total, dtype=bool)
    complete_scores = all(fold.answers is None or fold.answers.scores is not None for fold in folds)
    scores = np.full((total, width), np.nan, dtype=np.float32) \
        if classification and width is not None and complete_scores else None
    for fold in folds:
        rows = fold.repeat_index * num_lines + np.asarray(fold.lines, dtype=np.int64)
        if np.any(fold_of[rows] >= 0):
            raise ValueError("the folds' indexes hold a line twice in one repeat")
        fold_of[rows] = fold.fold_index
        names, inverse = distinct[id(fold)]
        labels[rows] = np.asarray([code[str(name)] for name in names], dtype=np.int32)[inverse] if classification \
            else names.astype(np.float64)[inverse]
        if fold.answers is None:
            continue
        has_prediction[rows] = True
        predicted[rows] = [code[name] for name in predicted_names[id(fold)]] if classification else \
            fold.answers.values.astype(np.float64)
        if scores is not None:
            scores[rows] = fold.answers.scores
    if np.any(fold_of < 0):
        raise ValueError("the folds' indexes do not cover every line of the dataset once per repeat")
    table = PredictionTable(num_lines=num_lines, n_repeats=n_repeats, classification=classification,
                            class_names=class_names, folds=fold_of, labels=labels, predicted=predicted,
                            has_prediction=has_prediction, scores=scores)
    summary: dict[str, Any] = {
        "task": section["task"],
        "num_lines": num_lines,
        "n_repeats": n_repeats,
        "num_predictions": int(has_prediction.sum()),
        "missing_folds": [_missing(fold) for fold in folds if fold.answers is None],
        "metrics": {},
    }
    if summary["num_predictions"] and classification:
        names = np.asarray(class_names, dtype=object)
        metrics, matrix, notes = pooled_metrics.classification(
            names[labels[has_prediction]], names[predicted[has_prediction]],
            None if scores is None else scores[has_prediction].astype(np.float64), class_names)
        summary.update(metrics=metrics, confusion_matrix=matrix, **({"notes": notes} if notes else {}))
    elif summary["num_predictions"]:
        summary["metrics"] = pooled_metrics.regression(labels[has_prediction], predicted[has_prediction])
    return table, summary


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


def predicted_classes(values: Sequence[Any], label_names: Sequence[str]) -> list[str]:
    """Each answer as a class name of the dataset (pure). BlazingText answers names, as its lines spell them; the
    others answer numbers (a class index, or the label as a number). The split names a class by one spelling of
    its number ("1" for "1", "1.0" and "01": label_codes), so an answer names the class whose name is that number."""
    known = set(label_names)
    by_number = {}
    for name in label_names:
        number = _as_number(name)
        if number is not None:
            by_number.setdefault(number, name)
    names = []
    for value in values:
        if isinstance(value, str) and value in known:
            names.append(value)
            continue
        number = _as_number(value) if isinstance(value, str) else float(value)
        if number is None:
            names.append(value)  # a class no validation line has
        else:
            names.append(by_number.get(number, value if isinstance(value, str) else
                                       str(int(number)) if number.is_integer() else repr(number)))
    return names


def _fold_answers(s3, sagemaker, fold: Mapping[str, Any], result: Mapping[str, Any],
                  section: Mapping[str, Any]) -> FoldAnswers:
    transform = fold["transform"]
    index = _read_json(s3, transform["index"])
    # Compact at once: a million lines as Python ints and strings would take about 100 MB.
    identity = dict(repeat_index=fold.get("repeat_index", 0), fold_index=fold["fold_index"],
                    lines=np.asarray(index["lines"], dtype=np.int64), labels=np.asarray(index["labels"], dtype=str),
                    transform_job_name=transform["TransformJobName"])
    del index
    reason = _missing_reason(sagemaker, result)
    if reason is None:
        try:
            answers = Answers.of(_read_answers(s3, transform, section))
            if len(answers) != len(identity["lines"]):
                raise ResponseError(f"the transform answered {len(answers)} records for the fold's "
                                    f"{len(identity['lines'])} validation lines")
            return FoldAnswers(**identity, answers=answers)
        except ResponseError as error:
            reason = f"the transform's answers could not be read: {error}"
        except ClientError as error:
            reason = f"the transform's answers could not be read: {error}"
    return FoldAnswers(**identity, answers=None, reason=reason[:MAX_REASON_CHARS])


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


def _scored_classes(class_names: list[str], width: int) -> list[str]:
    """The classes as the scores' columns count them: a model declares classes 0..width-1 (num_classes), some of
    which no line may hold; they are classes all the same (their column's scores, a confusion matrix row of zeros).
    Unchanged unless every class is such an index."""
    numbers = [_as_number(name) for name in class_names]
    if len(class_names) >= width or any(n is None or not n.is_integer() or not 0 <= n < width for n in numbers):
        return class_names
    by_index = {int(number): name for number, name in zip(numbers, class_names)}
    return [by_index.get(index, str(index)) for index in range(width)]


def _missing(fold: FoldAnswers) -> dict[str, Any]:
    return {"repeat_index": fold.repeat_index, "fold_index": fold.fold_index,
            "TransformJobName": fold.transform_job_name, "reason": fold.reason}


def _class_order(name: str) -> tuple:
    number = _as_number(name)
    return (0, number, name) if number is not None else (1, 0.0, name)


def _as_number(name: str) -> float | None:
    try:
        number = float(name)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


class _ChunkReader(io.RawIOBase):
    """A file-like view of a stream of byte chunks, for upload_fileobj (which reads it part by part)."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks, self._pending = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            self._pending = next(self._chunks, b"")
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def _read_json(s3, uri: str) -> Any:
    return json.loads(_read_text(s3, uri))


def _read_text(s3, uri: str) -> str:
    location = S3Uri.parse(uri)
    with io.TextIOWrapper(s3.get_object(Bucket=location.bucket, Key=location.key)["Body"], encoding="utf-8") as body:
        return body.read()
