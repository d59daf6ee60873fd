"""The Python API offline end to end: ``cross_validate`` on the real template and state machine, its result's
scikit-learn-style views, the failure it raises, and the same run in steps."""

from __future__ import annotations

import json
import math
import re
import statistics
import textwrap

import numpy as np
import pytest

from smx_validator import CrossValidation, CrossValidationFailed, cross_validate

from .conftest import DATASETS, EXAMPLES, TEST_SCRIPT

DEMO_DATA = {DATASETS / "breast_cancer.csv": "s3://smx-demo-input/breast_cancer/breast_cancer.csv"}


def test_cross_validate_runs_the_example_offline_and_returns_scores_per_fold(tmp_path):
    # GIVEN the demo input as a path, and the bundled dataset to upload
    # WHEN cross_validate runs it offline, quietly
    result = cross_validate(EXAMPLES / "linear-learner.json", local=True, data=DEMO_DATA, progress=False)
    # THEN the result is the execution output, with one score per fold for every metric (scikit-learn's
    # cross_validate shape: a numpy array per metric)
    assert result.status == "SUCCEEDED" and result.execution_arn.startswith("arn:aws:states:")
    accuracy = result.scores["validation:binary_classification_accuracy"]
    assert isinstance(accuracy, np.ndarray) and accuracy.shape == (5,)
    stats = result.summary["metrics"]["validation:binary_classification_accuracy"]
    assert accuracy.mean() == pytest.approx(stats["mean"]) and accuracy.std() == pytest.approx(stats["std"])
    # AND each fold's score is its job's own final metric, in fold order
    finals = [next(m["Value"] for m in split["FinalMetricDataList"]
                   if m["MetricName"] == "validation:binary_classification_accuracy") for split in result.splits]
    assert accuracy.tolist() == finals
    assert result.out_of_fold is None and result.tuning is None


def test_to_frame_has_a_row_per_job_with_its_metrics():
    pandas = pytest.importorskip("pandas")
    result = cross_validate(json.loads((EXAMPLES / "linear-learner-oof.json").read_text()), local=True,
                            data=DEMO_DATA, progress=False)
    frame = result.to_frame()
    assert isinstance(frame, pandas.DataFrame) and list(frame["fold_index"]) == [0, 1, 2, 3, 4]
    assert frame["validation:binary_classification_accuracy"].mean() == pytest.approx(
        statistics.fmean(result.scores["validation:binary_classification_accuracy"]))
    # AND a run with out-of-fold predictions exposes their pooled metrics
    assert result.out_of_fold["num_predictions"] == 569 and 0.9 < result.out_of_fold["metrics"]["accuracy"] <= 1


def test_a_failed_run_raises_with_the_executions_error_cause_and_its_summary():
    # GIVEN the custom-container example whose fold 1 fails (the test script fails jobs named ...-fold1)
    document = json.loads((EXAMPLES / "custom.json").read_text())
    document["training"]["algorithm_specification"]["TrainingImage"] = f"local:{TEST_SCRIPT}"
    document["training"]["hyperparameters_template"] = {"fail_suffix": "fold1"}
    # WHEN it runs
    with pytest.raises(CrossValidationFailed) as raised:
        cross_validate(document, local=True, data=DEMO_DATA, progress=False)
    # THEN the exception carries Step Functions' error and cause, and the summary of the folds that trained
    failure = raised.value
    assert (failure.status, failure.error) == ("FAILED", "FoldsFailed") and "fold1" in failure.cause
    assert str(failure).startswith("FAILED: FoldsFailed: ")
    assert failure.result.summary["failed_fold_count"] == 1 and failure.result.summary["completed_folds"] == [0, 2, 3, 4]


def test_an_invalid_input_raises_before_any_job_with_the_problems():
    document = json.loads((EXAMPLES / "linear-learner.json").read_text())
    document["crossvalidation"]["n_splits"] = 1
    with pytest.raises(CrossValidationFailed) as raised:
        cross_validate(document, local=True, data=DEMO_DATA, progress=False)
    assert raised.value.error == "InvalidInputError" and "crossvalidation.n_splits" in raised.value.cause
    assert raised.value.result is None  # nothing was gathered


def test_the_same_run_in_steps_with_a_progress_callback():
    seen: list[int] = []
    with CrossValidation(EXAMPLES / "knn.json", local=True,
                         data={DATASETS / "iris.csv": "s3://smx-demo-input/iris/iris.csv"}) as run:
        arn = run.start()
        assert arn == run.execution_arn
        result = run.wait(progress=lambda history: seen.append(len(history)))
    assert result.status == "SUCCEEDED" and seen and seen == sorted(seen)  # the history only grows
    assert not math.isnan(result.scores["test:accuracy"].mean())


def test_a_progress_bar_counts_the_jobs_done(capsys):
    pytest.importorskip("tqdm")
    cross_validate(EXAMPLES / "knn.json", local=True,
                   data={DATASETS / "iris.csv": "s3://smx-demo-input/iris/iris.csv"})
    assert "5/5" in capsys.readouterr().err  # tqdm writes to stderr


@pytest.mark.parametrize("arguments, message", [
    ({}, "give state_machine_arn"),
    ({"local": True, "state_machine_arn": "arn:aws:states:us-east-1:1:stateMachine:x"}, "give state_machine_arn"),
    ({"state_machine_arn": "arn:aws:states:us-east-1:1:stateMachine:x", "data": {"a.csv": "s3://b/a.csv"}},
     "data uploads files to the offline engine"),
])
def test_where_to_run_must_be_said_once(arguments, message):
    with pytest.raises(ValueError, match=message):
        CrossValidation(EXAMPLES / "knn.json", **arguments)


def test_the_readmes_offline_example_runs_as_written(monkeypatch):
    # GIVEN the README's offline Python example, from the repository's root (its paths are relative)
    readme = (EXAMPLES.parents[1] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    [offline] = [block for block in blocks if "local=True" in block]
    monkeypatch.chdir(EXAMPLES.parents[1])
    # WHEN it runs, after the import the README's first example makes
    namespace: dict = {}
    exec("from smx_validator import cross_validate\n" + textwrap.dedent(offline), namespace)
    # THEN it produced the out-of-fold predictions' pooled metrics
    assert namespace["result"].out_of_fold["metrics"]["accuracy"] > 0.9
