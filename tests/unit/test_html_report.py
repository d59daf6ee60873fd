"""The report page from execution outputs written here (pure: no run, no browser; the browser test renders
real runs): what each section shows for the cases a user meets."""

from __future__ import annotations

import copy
import re

import pytest

from smx_validator.html_report import render_html

OUTPUT = {
    "job_config": {"name": "demo", "run_id": "crossvalidator-demo-20261130-120000", "execution_name": "x",
                   "created_at": "2026-11-30T12:00:00Z", "input_path": "s3://in/data.csv",
                   "run_prefix": "s3://out/runs/crossvalidator-demo-20261130-120000/", "notes": []},
    "crossvalidation": {"n_splits": 2, "random_state": 7, "strategy": "stratified", "max_concurrency": 2,
                        "num_samples": 10, "num_classes": 2, "fold_sizes": [5, 5],
                        "fold_class_counts": [{"0": 2, "1": 3}, {"0": 3, "1": 2}]},
    "training": {"algorithm_family": "xgboost", "hyperparameters_template": {"eta": "<script>alert(1)</script>"},
                 "algorithm_specification": {"TrainingImage": "img"}, "resource_config": {"InstanceCount": 1,
                                                                                          "InstanceType": "ml.m5.large"}},
    "splits": [
        {"fold_index": 0, "TrainingJobName": "job-fold0", "TrainingJobStatus": "Completed",
         "TrainingJobArn": "arn:aws:sagemaker:eu-west-1:123456789012:training-job/job-fold0"},
        {"fold_index": 1, "TrainingJobName": "job-fold1", "TrainingJobStatus": "Completed"},
    ],
    "summary": {"metrics": {"validation:auc": {"values": [0.8, 0.9], "mean": 0.85, "std": 0.05, "min": 0.8,
                                               "max": 0.9, "count": 2, "diverged_folds": []}},
                "completed_folds": [0, 1], "failed_folds": [], "failed_fold_count": 0, "failure_message": "",
                "summary_json": "s3://out/runs/r/summary.json", "summary_csv": "s3://out/runs/r/summary.csv",
                "trimmed_fields": []},
}


def _figures(page: str) -> set[str]:
    return set(re.findall(r'<figure id="([\w-]+)">\s*<svg', page))


def test_a_whole_run_has_its_figures_values_and_links():
    page = render_html(OUTPUT)
    assert _figures(page) == {"metric-values", "fold-balance"}
    assert "0.8500 ± 0.0500" in page and "validation:auc" in page
    # The job links to its console page in the job's own region; S3 URIs link to the S3 console.
    assert "https://eu-west-1.console.aws.amazon.com/sagemaker/home?region=eu-west-1#/jobs/job-fold0" in page
    assert "s3.console.aws.amazon.com/s3/object/out?prefix=runs/r/summary.json" in page
    assert 'id="status">2 jobs completed, none failed.' in page


def test_values_from_the_input_are_escaped():
    page = render_html(OUTPUT)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_failed_fold_is_named_with_its_reason_and_the_run_marked_failed():
    output = copy.deepcopy(OUTPUT)
    output["splits"][1].update(TrainingJobStatus="Failed", FailureReason="AlgorithmError: bad <label>")
    output["summary"].update(failed_fold_count=1, completed_folds=[0], failure_message="1 of 2 jobs failed",
                             failed_folds=[{"TrainingJobName": "job-fold1", "FailureReason": "AlgorithmError"}])
    output["summary"]["metrics"]["validation:auc"].update(values=[0.8], count=1, std=0.0, mean=0.8)
    page = render_html(output)
    assert 'class="status-failed" id="status">1 completed, 1 failed: 1 of 2 jobs failed' in page
    assert "AlgorithmError: bad &lt;label&gt;" in page


def test_a_trimmed_output_says_where_every_job_is():
    output = copy.deepcopy(OUTPUT)
    output["splits"] = []
    output["summary"]["trimmed_fields"] = ["splits"]
    page = render_html(output)
    assert "render the report from summary.json" in page and "summary.json and summary.csv have each" in page
    assert "metric-values" in _figures(page)


@pytest.mark.parametrize("classes, drawn", [(3, True), (60, False)])
def test_a_confusion_matrix_is_drawn_up_to_fifty_classes(classes, drawn):
    output = copy.deepcopy(OUTPUT)
    output["summary"]["out_of_fold"] = {
        "predictions": "s3://out/runs/r/oof_predictions.jsonl", "num_lines": 10, "num_predictions": 10,
        "metrics": {"accuracy": 0.5}, "missing_folds": [],
        "confusion_matrix": {"labels": [str(i) for i in range(classes)],
                             "matrix": [[int(i == j) for j in range(classes)] for i in range(classes)]}}
    page = render_html(output)
    assert ("confusion-matrix" in _figures(page)) is drawn
    assert ("too many to draw; summary.json has it" in page) is not drawn


def test_a_run_without_metrics_says_so_and_draws_no_metric_figure():
    output = copy.deepcopy(OUTPUT)
    output["summary"]["metrics"] = {}
    page = render_html(output)
    assert "metric-values" not in _figures(page) and "no completed job reported a metric" in page


def test_one_output_always_renders_to_the_same_page():
    assert render_html(OUTPUT) == render_html(copy.deepcopy(OUTPUT))


def test_a_search_shows_the_best_candidates_hyperparameters_beside_the_template_and_an_unscored_one_apart():
    output = copy.deepcopy(OUTPUT)
    output["summary"]["tuning"] = {
        "objective": {"metric": "validation:auc", "type": "Maximize"}, "best_index": 1,
        "candidates": [
            {"index": 0, "rank": 2, "overrides": {"eta": "0.1"}, "mean": 0.99, "std": 0.0, "jobs": 2, "completed": 1,
             "complete": False},
            {"index": 1, "rank": 1, "overrides": {"eta": "0.3"}, "mean": 0.85, "std": 0.05, "jobs": 2, "completed": 2}]}
    page = render_html(output)
    # The hyperparameters no job ran as they are (the template) beside the best candidate's
    assert "the best candidate (c1) that overrides it" in page and "<code>0.3</code>" in page
    # The candidate without a score is drawn apart, named so, though its partial mean is the highest
    assert "c0 (no score)" in page


def test_diverged_jobs_are_named_and_classes_count_only_when_folds_stratify():
    output = copy.deepcopy(OUTPUT)
    output["summary"].update(diverged_folds=[1], diverged_fold_count=1)
    output["summary"]["metrics"]["validation:auc"].update(values=[0.8, None], count=1)
    assert "1 job(s) diverged (fold1)" in render_html(output)
    output["crossvalidation"].update(strategy="kfold", num_classes=300)
    assert "<td>classes</td><td>-</td>" in render_html(output)


def test_classes_are_ordered_as_numbers_when_they_are_numbers():
    from smx_validator.html_report.figures import class_order

    assert class_order(["10", "2", "1"]) == ["1", "2", "10"] and class_order(["b", "a"]) == ["a", "b"]
