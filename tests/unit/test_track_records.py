"""What the track step records in MLflow, from summary.json documents written here (pure: no server; the
tracking tests read real runs back from a real one)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "functions" / "track"))

from smx_track.records import job_runs, mlflow_name, parent_run  # noqa: E402

DOCUMENT = {
    "job_config": {"run_id": "crossvalidator-x-20261130-120000", "created_at": "2026-11-30T12:00:00Z"},
    "crossvalidation": {"n_splits": 2, "random_state": 1},
    "training": {"hyperparameters_template": {"k": "5"}},
    "splits": [
        {"fold_index": 0, "TrainingJobName": "j-fold0", "TrainingJobStatus": "Completed", "HyperParameters": {"k": "5"},
         "FinalMetricDataList": [{"MetricName": "validation:rmse", "Value": 1.5},
                                 {"MetricName": "validation:odd(metric)", "Value": math.nan}],
         "TrainingStartTime": "2026-11-30T12:00:01+00:00", "TrainingEndTime": "2026-11-30T12:00:03+00:00"},
        {"fold_index": 1, "TrainingJobName": "j-fold1", "TrainingJobStatus": "Stopped"},
    ],
    "summary": {"metrics": {"validation:rmse": {"mean": 1.5, "std": None}}, "failure_message": "1 of 2 jobs stopped",
                "failed_fold_count": 1,
                "tuning": {"objective": {"metric": "validation:rmse", "type": "Minimize"}, "best_index": None,
                           "candidates": [], "refit": {"TrainingJobName": "j-refit", "TrainingJobStatus": "Failed"}}},
}


def test_names_mlflow_refuses_become_underscores():
    assert mlflow_name("validation:odd(metric)") == "validation:odd_metric_"
    assert mlflow_name("train:objective_loss") == "train:objective_loss"


def test_the_parent_has_the_statistics_that_exist_and_fails_with_the_run():
    parent = parent_run(DOCUMENT)
    assert parent.metrics == {"validation:rmse_mean": 1.5, "failed_jobs": 1.0}  # no std: the summary has none
    assert parent.status == "FAILED" and parent.params["k"] == "5" and parent.params["cv.n_splits"] == "2"
    assert parent.start_ms == 1_796_040_000_000


def test_each_job_and_the_refit_is_a_nested_run_with_its_status_and_times():
    fold0, fold1, refit = job_runs(DOCUMENT)
    assert (fold0.name, fold0.status, fold0.metrics) == ("fold0", "FINISHED", {"validation:rmse": 1.5})
    assert fold0.end_ms - fold0.start_ms == 2000
    assert (fold1.name, fold1.status) == ("fold1", "KILLED")
    assert (refit.name, refit.status, refit.tags["sagemaker.training_job_name"]) == ("refit", "FAILED", "j-refit")
