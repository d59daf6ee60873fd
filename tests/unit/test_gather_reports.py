"""summary.csv and summary.json as a user opens them."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from smx_gather.reports import summary_csv, summary_json
from smx_gather.summary import build_summary, fold_splits

RUN = "crossvalidator-demo-20261122-120000"
PLAN = {"folds": [{"fold_index": i, "TrainingJobName": f"{RUN}-fold{i}", "num_training_samples": 80,
                   "num_validation_samples": 20} for i in range(3)]}


def described(i, status="Completed", metrics=None, **extra):
    return {"TrainingJobName": f"{RUN}-fold{i}", "TrainingJobStatus": status, "TrainingTimeInSeconds": 60 + i,
            "BillableTimeInSeconds": 30 + i,
            "FinalMetricDataList": [{"MetricName": n, "Value": v} for n, v in (metrics or {}).items()], **extra}


def report(descriptions, fold_results=()):
    """descriptions and fold results by fold index, as the plan names their jobs."""
    fold_results = [{"TrainingJobName": f"{RUN}-fold{r['fold_index']}", **r} for r in fold_results]
    splits = fold_splits(PLAN, {f"{RUN}-fold{i}": d for i, d in descriptions.items()}, fold_results)
    summary = build_summary(splits, fold_results, summary_json="s3://b/summary.json", summary_csv="s3://b/summary.csv",
                            trial_component_name=f"{RUN}-summary")
    return splits, summary


def test_given_folds_with_different_metrics_when_written_then_csv_has_one_row_per_fold_and_sorted_metric_columns():
    splits, summary = report({
        0: described(0, metrics={"validation:loss": 0.25, "validation:accuracy": 0.9}),
        1: described(1, "Failed", FailureReason='AlgorithmError: bad row 7: "a,b"\nsee logs'),
        2: None,
    }, [{"fold_index": 2, "error": "SageMaker.ValidationException", "cause": "bad instance"}])

    rows = list(csv.reader(io.StringIO(summary_csv(PLAN, splits, summary))))

    assert rows[0] == ["fold_index", "TrainingJobName", "TrainingJobStatus", "num_training_samples",
                       "num_validation_samples", "TrainingTimeInSeconds", "BillableTimeInSeconds",
                       "validation:accuracy", "validation:loss", "FailureReason"]
    assert rows[1] == ["0", f"{RUN}-fold0", "Completed", "80", "20", "60", "30", "0.9", "0.25", ""]
    # quoting keeps a reason with commas, quotes and newlines in its own cell
    assert rows[2] == ["1", f"{RUN}-fold1", "Failed", "80", "20", "61", "31", "", "",
                       'AlgorithmError: bad row 7: "a,b"\nsee logs']
    assert rows[3] == ["2", f"{RUN}-fold2", "NotCreated", "80", "20", "", "", "", "",
                       "SageMaker.ValidationException: bad instance"]
    assert len(rows) == 4


def test_given_boto3_datetimes_when_summary_json_is_written_then_they_are_iso_strings():
    when = datetime(2026, 11, 22, 12, 0, 5, tzinfo=timezone.utc)

    stored = json.loads(summary_json({"splits": [{"TrainingStartTime": when}], "summary": {"metrics": {}}}))

    assert stored["splits"][0]["TrainingStartTime"] == "2026-11-22T12:00:05+00:00"
