"""The two files a run leaves next to its folds: summary.json and summary.csv (pure)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Any, Mapping

from .summary import COMPLETED, final_metrics

FOLD_COLUMNS = (
    "fold_index",
    "TrainingJobName",
    "TrainingJobStatus",
    "num_training_samples",
    "num_validation_samples",
    "TrainingTimeInSeconds",
    "BillableTimeInSeconds",
)


def summary_json(output: Mapping[str, Any]) -> bytes:
    """The whole execution output, untrimmed, datetimes as ISO-8601 strings."""
    # allow_nan=False: strict JSON only (the gather replaced non-finite metrics with null, summary.strict_json).
    return json.dumps(output, indent=2, ensure_ascii=False, default=_iso, allow_nan=False).encode("utf-8")


def summary_csv(plan: Mapping[str, Any], splits: list[Mapping[str, Any]], summary: Mapping[str, Any]) -> str:
    """One row per training job, header first (a search's rows start with their candidate_index, a repeated
    run's with their repeat_index).
    Metric columns are the summary's metrics, sorted. Like the statistics, the cells hold completed
    folds' values only (a failed job's partial metrics stay in summary.json), so averaging a column
    reproduces the summary's mean."""
    metric_names = sorted(summary["metrics"])
    planned = {f["TrainingJobName"]: f for f in plan["folds"]}
    identity = [key for key in ("candidate_index", "repeat_index") if any(key in split for split in splits)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([*identity, *FOLD_COLUMNS, *metric_names, "FailureReason"])
    reasons = {f["TrainingJobName"]: f["FailureReason"] for f in summary["failed_folds"]}
    for split in splits:
        name = split.get("TrainingJobName", "")
        fold = planned.get(name, {})
        metrics = final_metrics(split) if split.get("TrainingJobStatus") == COMPLETED else {}
        writer.writerow([
            *(split.get(key) for key in identity),
            split["fold_index"],
            name,
            split.get("TrainingJobStatus", ""),
            _cell(fold.get("num_training_samples")),
            _cell(fold.get("num_validation_samples")),
            _cell(split.get("TrainingTimeInSeconds")),
            _cell(split.get("BillableTimeInSeconds")),
            *(_cell(metrics.get(metric)) for metric in metric_names),
            reasons.get(name, ""),
        ])
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _iso(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
