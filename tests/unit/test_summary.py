"""The cross-validated summary: statistics, failed folds and the failure message a user reads."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smx_gather.summary import (
    MAX_FAILURE_MESSAGE_CHARS, MAX_REASON_CHARS, build_summary, failure_message, fold_splits, strict_json,
)

RUN = "crossvalidator-demo-20261122-120000"


def plan(k: int) -> dict:
    return {"folds": [{"fold_index": i, "TrainingJobName": f"{RUN}-fold{i}"} for i in range(k)]}


def described(i: int, status: str = "Completed", metrics: dict | None = None, seconds: int | None = 100, **extra) -> dict:
    d = {"TrainingJobName": f"{RUN}-fold{i}", "TrainingJobStatus": status,
         "FinalMetricDataList": [{"MetricName": n, "Value": v, "Timestamp": "2026-11-22T12:00:00+00:00"}
                                 for n, v in (metrics or {}).items()], **extra}
    if seconds is not None:
        d.update(TrainingTimeInSeconds=seconds, BillableTimeInSeconds=seconds // 2)
    return d


def summarise(k: int, descriptions: dict, fold_results: list | None = None) -> tuple[list, dict]:
    """descriptions and fold results by fold index, as the plan names their jobs."""
    fold_results = [{"TrainingJobName": f"{RUN}-fold{r['fold_index']}", **r} for r in fold_results or []]
    splits = fold_splits(plan(k), {f"{RUN}-fold{i}": d for i, d in descriptions.items()}, fold_results)
    return splits, build_summary(splits, fold_results, summary_json="s3://b/r/summary.json",
                                 summary_csv="s3://b/r/summary.csv", trial_component_name=f"{RUN}-summary")


@settings(max_examples=200)
@given(st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=20))
def test_given_any_fold_scores_when_summarised_then_statistics_match_numpy(scores):
    _, summary = summarise(len(scores), {i: described(i, metrics={"validation:f1": s}) for i, s in enumerate(scores)})

    stats = summary["metrics"]["validation:f1"]
    assert stats["values"] == scores
    assert stats["mean"] == pytest.approx(np.mean(scores), rel=1e-9, abs=1e-6)
    assert stats["std"] == pytest.approx(np.std(scores), rel=1e-9, abs=1e-6)  # ddof=0
    assert (stats["min"], stats["max"], stats["count"]) == (min(scores), max(scores), len(scores))


def test_given_one_fold_lacks_a_metric_when_summarised_then_its_value_is_none_and_statistics_skip_it():
    _, summary = summarise(3, {
        0: described(0, metrics={"validation:accuracy": 0.8, "validation:loss": 0.5}),
        1: described(1, metrics={"validation:accuracy": 0.9}),
        2: described(2, metrics={"validation:accuracy": 0.7, "validation:loss": 0.7}),
    })

    loss = summary["metrics"]["validation:loss"]
    assert loss["values"] == [0.5, None, 0.7]
    assert loss["count"] == 2
    assert loss["mean"] == pytest.approx(0.6)
    assert loss["std"] == pytest.approx(np.std([0.5, 0.7]))
    assert summary["metrics"]["validation:accuracy"]["count"] == 3


def test_given_a_failed_fold_when_summarised_then_values_follow_completed_folds_only():
    _, summary = summarise(3, {
        0: described(0, metrics={"validation:accuracy": 0.8}),
        1: described(1, "Failed", metrics={"validation:accuracy": 0.01}, FailureReason="AlgorithmError: boom"),
        2: described(2, metrics={"validation:accuracy": 0.9}),
    })

    assert summary["completed_folds"] == [0, 2]
    assert summary["metrics"]["validation:accuracy"]["values"] == [0.8, 0.9]
    assert summary["failed_folds"] == [{"fold_index": 1, "TrainingJobName": f"{RUN}-fold1",
                                        "TrainingJobStatus": "Failed", "FailureReason": "AlgorithmError: boom"}]


def test_given_every_fold_failed_when_summarised_then_no_metrics_and_all_folds_are_named():
    _, summary = summarise(3, {i: described(i, "Failed", FailureReason=f"reason {i}") for i in range(3)})

    assert summary["metrics"] == {}
    assert summary["completed_folds"] == []
    assert summary["failed_fold_count"] == 3
    assert summary["failure_message"] == (
        f"3 of 3 folds failed: fold0 ({RUN}-fold0): reason 0; fold1 ({RUN}-fold1): reason 1; fold2 ({RUN}-fold2): reason 2")


def test_given_a_job_that_was_never_created_when_summarised_then_the_maps_error_is_its_reason():
    fold_results = [{"fold_index": 1, "TrainingJobName": f"{RUN}-fold1", "status": "Failed",
                     "error": "SageMaker.ValidationException", "cause": "RoleArn cannot be assumed"}]
    splits, summary = summarise(2, {0: described(0, metrics={"m": 1.0}), 1: None}, fold_results)

    assert splits[1] == {"fold_index": 1, "TrainingJobName": f"{RUN}-fold1", "TrainingJobStatus": "NotCreated",
                         "FailureReason": "SageMaker.ValidationException: RoleArn cannot be assumed"}
    assert summary["failure_message"] == (
        f"1 of 2 folds failed: fold1 ({RUN}-fold1): SageMaker.ValidationException: RoleArn cannot be assumed")


def test_given_a_huge_step_functions_cause_when_summarised_then_the_reason_is_clipped():
    fold_results = [{"fold_index": 0, "status": "Failed", "error": "States.TaskFailed", "cause": "x" * 50_000}]
    _, summary = summarise(1, {0: None}, fold_results)

    reason = summary["failed_folds"][0]["FailureReason"]
    assert len(reason) == MAX_REASON_CHARS
    assert reason.startswith("States.TaskFailed: xxx") and reason.endswith("[...]")


def test_given_a_stopped_job_without_failure_reason_when_summarised_then_status_and_caught_error_explain_it():
    fold_results = [{"fold_index": 0, "status": "Failed", "error": "States.TaskFailed", "cause": "stopped by user"}]
    _, summary = summarise(1, {0: described(0, "Stopped")}, fold_results)

    assert summary["failed_folds"][0]["FailureReason"] == "TrainingJobStatus Stopped; States.TaskFailed: stopped by user"


def test_given_sagemaker_says_completed_but_the_map_caught_an_error_when_summarised_then_the_fold_counts():
    # e.g. the .sync polling timed out after the job had finished: the model exists
    fold_results = [{"fold_index": 0, "status": "Failed", "error": "States.Timeout", "cause": ""}]
    _, summary = summarise(1, {0: described(0, metrics={"m": 0.5})}, fold_results)

    assert summary["completed_folds"] == [0]
    assert summary["failed_fold_count"] == 0 and summary["failure_message"] == ""


def test_given_failed_and_unbilled_folds_when_summarised_then_totals_cover_every_fold_that_reported_time():
    _, summary = summarise(3, {0: described(0, seconds=100), 1: described(1, "Failed", seconds=40, FailureReason="x"),
                               2: described(2, seconds=None)})

    assert summary["training_seconds_total"] == 140
    assert summary["billable_seconds_total"] == 70


def test_given_a_nan_metric_when_summarised_then_the_fold_is_reported_as_diverged_and_the_summary_stays_json():
    # GIVEN fold 0 reporting a NaN loss, fold 1 an infinite one, fold 2 a finite one
    splits, summary = summarise(3, {0: described(0, metrics={"loss": math.nan, "acc": 0.5}),
                                    1: described(1, metrics={"loss": math.inf}), 2: described(2, metrics={"loss": 0.4})})
    # THEN the statistics use the finite value only, and say which folds diverged
    assert summary["metrics"]["loss"]["values"] == [None, None, 0.4]
    assert summary["metrics"]["loss"]["count"] == 1 and summary["metrics"]["loss"]["diverged_folds"] == [0, 1]
    assert summary["diverged_folds"] == [0, 1] and summary["diverged_fold_count"] == 2
    assert summary["metrics"]["acc"]["diverged_folds"] == []
    # AND the whole output is strict JSON once the gather has made it so (no NaN in summary.json)
    output = strict_json({"splits": splits, "summary": summary})
    json.loads(json.dumps(output, allow_nan=False))
    assert output["splits"][0]["FinalMetricDataList"][0]["Value"] is None


def test_given_a_metric_no_fold_reported_finitely_when_summarised_then_its_statistics_are_null():
    _, summary = summarise(2, {0: described(0, metrics={"loss": math.nan}), 1: described(1, metrics={"loss": math.nan})})
    assert summary["metrics"]["loss"] == {"values": [None, None], "mean": None, "std": None, "min": None, "max": None,
                                          "count": 0, "diverged_folds": [0, 1]}


def test_given_more_failure_text_than_a_fail_cause_holds_when_messaged_then_it_is_clipped_to_the_limit():
    failed = [{"fold_index": i, "TrainingJobName": f"{RUN}-fold{i}", "FailureReason": "r" * MAX_REASON_CHARS}
              for i in range(40)]

    message = failure_message(failed, 40)

    assert len(message) == MAX_FAILURE_MESSAGE_CHARS
    assert message.startswith(f"40 of 40 folds failed: fold0 ({RUN}-fold0): rrr")


def test_given_a_repeated_run_with_a_failed_job_then_positions_and_labels_name_repeat_and_fold():
    # GIVEN 2 folds repeated twice, repeat 1's fold 0 failed
    names = {(r, i): f"{RUN}-r{r}-fold{i}" for r in range(2) for i in range(2)}
    repeated_plan = {"folds": [{"repeat_index": r, "fold_index": i, "TrainingJobName": names[r, i]}
                               for r in range(2) for i in range(2)]}
    descriptions = {name: {"TrainingJobName": name, "TrainingJobStatus": "Completed",
                           "FinalMetricDataList": [{"MetricName": "m", "Value": 0.5 + r / 10 + i / 100}]}
                    for (r, i), name in names.items()}
    descriptions[names[1, 0]] = {"TrainingJobName": names[1, 0], "TrainingJobStatus": "Failed",
                                 "FailureReason": "AlgorithmError: boom"}
    splits = fold_splits(repeated_plan, descriptions, [])
    summary = build_summary(splits, [], summary_json="s", summary_csv="c", trial_component_name="t")
    # THEN the completed jobs are named by their positions in splits, and the failure by repeat and fold
    assert summary["completed_folds"] == [0, 1, 3]
    assert summary["metrics"]["m"]["values"] == [0.5, 0.51, 0.61]
    assert summary["failed_folds"][0]["repeat_index"] == 1 and summary["failed_folds"][0]["fold_index"] == 0
    assert summary["failure_message"] == f"1 of 4 training jobs failed: r1-fold0 ({names[1, 0]}): AlgorithmError: boom"
