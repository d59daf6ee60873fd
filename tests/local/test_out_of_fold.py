"""Out-of-fold predictions through the real state machine, for every built-in family: each fold's model predicts
its validation file with a Batch Transform job, and oof_predictions.jsonl has every input line once, in input
order, in the fold scikit-learn's splitter put it in, with its label; the pooled metrics are those of that
file, and each fold's predictions reproduce the metric its own training job reported."""

from __future__ import annotations

import json
import math
import re
from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, mean_squared_error
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

from .conftest import DATASETS, list_keys


def read(engine, uri: str) -> bytes:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return engine.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def csv_labels(name: str) -> list[str]:
    return [line.split(b",")[0].decode() for line in (DATASETS / name).read_bytes().splitlines()]


def manifest_labels(path, attribute: str) -> list[str]:
    return [str(json.loads(line)[attribute]) for line in path.read_bytes().splitlines()]


def text_labels() -> list[str]:
    return [re.search(r"__label__(\S+)", line).group(1)
            for line in (DATASETS / "scipy_docs.txt").read_text().splitlines()]


# (example, labels of the dataset's lines, the per-fold metric the fold's predictions must reproduce, and how
# accuracy reads from it)
FAMILIES = {
    "linear-learner": (lambda: csv_labels("breast_cancer.csv"), "validation:binary_classification_accuracy", 1),
    "knn": (lambda: csv_labels("iris.csv"), "test:accuracy", 1),
    "xgboost": (lambda: csv_labels("breast_cancer.csv"), "validation:error", -1),
    "image-classification": (lambda: manifest_labels(DATASETS / "digits" / "manifest.jsonl", "class"),
                             "validation:accuracy", 1),
    "blazingtext-file": (text_labels, "validation:accuracy", 1),
    "blazingtext-augmented-manifest": (lambda: manifest_labels(DATASETS / "scipy_docs.jsonl", "label"),
                                       "validation:accuracy", 1),
}


def run_with_predictions(engine, example, name: str, n_splits: int = 3, **crossvalidation):
    document = example(name)
    document["crossvalidation"].update(n_splits=n_splits, random_state=7, out_of_fold_predictions=True,
                                       **crossvalidation)
    result = engine.run(document, timeout=600)
    return document, result


def predictions_of(engine, output) -> list[dict]:
    return [json.loads(line) for line in read(engine, output["summary"]["out_of_fold"]["predictions"]).splitlines()]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_line_is_predicted_once_in_input_order_by_the_fold_that_held_it_out(app_engine, example, name):
    labels_of, fold_metric, sign = FAMILIES[name]
    labels = labels_of()
    # GIVEN an example asking for out-of-fold predictions, in 3 folds
    # WHEN it runs through the state machine
    _, result = run_with_predictions(app_engine, example, name)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    output = result.output
    rows = predictions_of(app_engine, output)
    # THEN oof_predictions.jsonl has one line per input line, in input order, with that line's label
    assert [row["line"] for row in rows] == list(range(len(labels)))
    assert [row["label"] for row in rows] == labels
    assert {row["repeat"] for row in rows} == {0}
    # AND each line is in the fold whose validation set held it: scikit-learn's StratifiedKFold's
    expected_fold = np.empty(len(labels), dtype=int)
    for fold, (_, held_out) in enumerate(StratifiedKFold(3, shuffle=True, random_state=7).split(
            np.zeros(len(labels)), labels)):
        expected_fold[held_out] = fold
    assert [row["fold"] for row in rows] == expected_fold.tolist()
    # AND every line has a prediction, and the summary's pooled metrics are the file's
    predicted = [row["prediction"] for row in rows]
    assert None not in predicted
    out_of_fold = output["summary"]["out_of_fold"]
    assert out_of_fold["missing_folds"] == [] and out_of_fold["num_predictions"] == len(labels)
    assert out_of_fold["metrics"]["accuracy"] == pytest.approx(accuracy_score(labels, predicted))
    matrix = out_of_fold["confusion_matrix"]
    assert matrix["matrix"] == confusion_matrix(labels, predicted, labels=matrix["labels"]).tolist()
    assert sum(map(sum, matrix["matrix"])) == len(labels)
    # AND each fold's predictions score exactly what its training job reported on the same lines
    for split in output["splits"]:
        reported = next(m["Value"] for m in split["FinalMetricDataList"] if m["MetricName"] == fold_metric)
        fold_rows = [row for row in rows if row["fold"] == split["fold_index"]]
        accuracy = accuracy_score([r["label"] for r in fold_rows], [r["prediction"] for r in fold_rows])
        assert accuracy == pytest.approx(reported if sign > 0 else 1 - reported, abs=1e-6), split["TrainingJobName"]
    # AND the models learned: the pooled accuracy is well above always answering the commonest class
    majority = Counter(labels).most_common(1)[0][1] / len(labels)
    assert out_of_fold["metrics"]["accuracy"] > majority + 0.05


def test_a_regressor_pools_rmse_and_its_scores_are_values(app_engine, example):
    # GIVEN xgboost set up as a regressor of the breast-cancer label
    document = example("xgboost")
    document["training"]["hyperparameters_template"].update(objective="reg:squarederror", eval_metric="rmse")
    document["crossvalidation"].update(n_splits=3, random_state=7, out_of_fold_predictions=True)
    # WHEN it runs
    result = app_engine.run(document, timeout=600)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    rows = predictions_of(app_engine, result.output)
    out_of_fold = result.output["summary"]["out_of_fold"]
    # THEN labels and predictions are numbers, and the pooled RMSE is the file's
    assert out_of_fold["task"] == "regression" and "confusion_matrix" not in out_of_fold
    labels = [row["label"] for row in rows]
    assert labels == [float(label) for label in csv_labels("breast_cancer.csv")]
    rmse = math.sqrt(mean_squared_error(labels, [row["prediction"] for row in rows]))
    assert out_of_fold["metrics"]["rmse"] == pytest.approx(rmse)
    assert set(out_of_fold["metrics"]) == {"rmse", "mae", "r2"}


def test_a_repeated_run_predicts_every_line_once_per_repeat(app_engine, example):
    labels = csv_labels("breast_cancer.csv")
    # GIVEN linear-learner in 3 folds repeated twice
    _, result = run_with_predictions(app_engine, example, "linear-learner", n_repeats=2)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    rows = predictions_of(app_engine, result.output)
    # THEN the file has each repeat's predictions in input order, repeat after repeat, each repeat's folds those of
    # RepeatedStratifiedKFold
    assert [(row["repeat"], row["line"]) for row in rows] == [(r, line) for r in range(2) for line in range(len(labels))]
    expected = np.empty((2, len(labels)), dtype=int)
    for position, (_, held_out) in enumerate(RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=7).split(
            np.zeros(len(labels)), labels)):
        expected[position // 3, held_out] = position % 3
    assert [row["fold"] for row in rows] == expected.ravel().tolist()
    assert result.output["summary"]["out_of_fold"]["num_predictions"] == 2 * len(labels)


def test_a_failed_transform_leaves_its_fold_missing_and_the_others_intact(app_engine, example):
    labels = csv_labels("breast_cancer.csv")
    # GIVEN fold 1's transform job fails (the transform service fails it, as SageMaker would)
    document = example("linear-learner")
    document["crossvalidation"].update(n_splits=3, random_state=7, out_of_fold_predictions=True)
    app_engine.transforms.fail_transform_jobs(lambda name: name.endswith("-fold1"),
                                              reason="ClientError: injected for the test")
    try:
        result = app_engine.run(document, timeout=600)
    finally:
        app_engine.transforms.fail_transform_jobs(None)
    # THEN the run ends PredictionsMissing, naming the fold and SageMaker's reason
    assert result.status == "FAILED" and result.error == "PredictionsMissing", (result.error, result.cause)
    assert "fold 1" in result.cause and "ClientError: injected for the test" in result.cause
    # AND summary.json lists the fold as missing; its lines are kept with a null prediction; the others intact
    [summary_uri] = [f"s3://{key}" for key in
                     (f"{document['job_config']['output_prefix'][len('s3://'):].partition('/')[0]}/{k}"
                      for k in list_keys(app_engine, document["job_config"]["output_prefix"]))
                     if key.endswith("/summary.json")]
    summary = json.loads(read(app_engine, summary_uri))["summary"]
    out_of_fold = summary["out_of_fold"]
    assert [(f["fold_index"], f["reason"]) for f in out_of_fold["missing_folds"]] == [
        (1, "its transform job Failed: ClientError: injected for the test")]
    rows = predictions_of(app_engine, {"summary": summary})
    assert len(rows) == len(labels)
    assert all((row["prediction"] is None) == (row["fold"] == 1) for row in rows)
    kept = [row for row in rows if row["prediction"] is not None]
    assert out_of_fold["num_predictions"] == len(kept)
    assert out_of_fold["metrics"]["accuracy"] == pytest.approx(
        accuracy_score([r["label"] for r in kept], [r["prediction"] for r in kept]))
    assert summary["failed_fold_count"] == 0  # every fold trained


def test_a_run_through_the_distributed_map_predicts_out_of_fold_as_the_inline_map_does(app_engine, example):
    labels = csv_labels("breast_cancer.csv")
    # GIVEN 10 folds repeated 5 times with predictions: more than the inline Map's states carry
    _, result = run_with_predictions(app_engine, example, "linear-learner", n_splits=10, n_repeats=5)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    # THEN the jobs ran as the Distributed Map's child executions
    assert any(event["type"] == "MapRunStarted" for event in result.history)
    # AND every line of every repeat has its prediction, in order, from the fold that held it out
    rows = predictions_of(app_engine, result.output)
    assert [(row["repeat"], row["line"]) for row in rows] == [(r, line) for r in range(5) for line in range(len(labels))]
    assert None not in {row["prediction"] for row in rows}
    expected = np.empty((5, len(labels)), dtype=int)
    for position, (_, held_out) in enumerate(RepeatedStratifiedKFold(n_splits=10, n_repeats=5, random_state=7).split(
            np.zeros(len(labels)), labels)):
        expected[position // 10, held_out] = position % 10
    assert [row["fold"] for row in rows] == expected.ravel().tolist()
    assert result.output["summary"]["out_of_fold"]["num_predictions"] == 5 * len(labels)


def _fold_metric_reproduced(output, rows, metric: str) -> None:
    """Each fold's predictions score what its training job reported on the same lines."""
    for split in output["splits"]:
        reported = next(m["Value"] for m in split["FinalMetricDataList"] if m["MetricName"] == metric)
        fold_rows = [row for row in rows if row["fold"] == split["fold_index"]]
        accuracy = accuracy_score([r["label"] for r in fold_rows], [r["prediction"] for r in fold_rows])
        assert accuracy == pytest.approx(reported, abs=1e-6), split["TrainingJobName"]


def test_classes_named_by_any_numbers_are_predicted_under_their_own_names(app_engine, example, tmp_path):
    # GIVEN knn on iris whose classes are -1.5, 2.5 and 100 (k-NN's labels are any float32 values)
    names = {"0": "-1.5", "1": "2.5", "2": "100"}
    lines = [names[line.split(",", 1)[0]] + "," + line.split(",", 1)[1]
             for line in (DATASETS / "iris.csv").read_text().splitlines()]
    (tmp_path / "iris.csv").write_text("\n".join(lines) + "\n")
    app_engine.upload(tmp_path / "iris.csv", "s3://smx-demo-input/iris/iris-named.csv")
    document = example("knn")
    document["job_config"]["input_path"] = "s3://smx-demo-input/iris/iris-named.csv"
    document["crossvalidation"].update(n_splits=3, random_state=7, out_of_fold_predictions=True)
    # WHEN it runs
    result = app_engine.run(document, timeout=600)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    rows = predictions_of(app_engine, result.output)
    # THEN the predictions name the same classes as the labels, and reproduce each fold's own accuracy
    assert {row["prediction"] for row in rows} <= {"-1.5", "2.5", "100"}
    assert result.output["summary"]["out_of_fold"]["confusion_matrix"]["labels"] == ["-1.5", "2.5", "100"]
    _fold_metric_reproduced(result.output, rows, "test:accuracy")


def test_blazingtext_labels_written_as_numbers_are_matched_by_their_number(app_engine, example, tmp_path):
    # GIVEN the BlazingText manifest with its labels written as floats (0.0, 1.0, ...): the split names a class by
    # its number ("0"), the model answers the label as its lines spell it ("__label__0.0")
    lines = [json.loads(line) for line in (DATASETS / "scipy_docs.jsonl").read_text().splitlines()]
    (tmp_path / "docs.jsonl").write_text("".join(json.dumps({**line, "label": float(line["label"])}) + "\n"
                                                 for line in lines))
    app_engine.upload(tmp_path / "docs.jsonl", "s3://smx-demo-input/scipy_docs/float-labels.jsonl")
    document = example("blazingtext-augmented-manifest")
    document["job_config"]["input_path"] = "s3://smx-demo-input/scipy_docs/float-labels.jsonl"
    document["crossvalidation"].update(n_splits=3, random_state=7, out_of_fold_predictions=True)
    result = app_engine.run(document, timeout=600)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    rows = predictions_of(app_engine, result.output)
    # THEN the answers name the dataset's classes, and each fold's predictions reproduce its own accuracy
    out_of_fold = result.output["summary"]["out_of_fold"]
    assert len(out_of_fold["confusion_matrix"]["labels"]) == len({line["label"] for line in lines})
    _fold_metric_reproduced(result.output, rows, "validation:accuracy")


def test_xgboost_scores_every_declared_class_even_one_no_line_has(app_engine, example):
    # GIVEN xgboost multi:softprob declaring 4 classes on iris, whose labels are 0 to 2
    document = example("xgboost")
    document["job_config"]["input_path"] = "s3://smx-demo-input/iris/iris.csv"
    document["training"]["hyperparameters_template"].update(objective="multi:softprob", num_class="4",
                                                          eval_metric="merror,mlogloss")
    document["crossvalidation"].update(n_splits=3, random_state=7, out_of_fold_predictions=True)
    # WHEN it runs
    result = app_engine.run(document, timeout=600)
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    rows = predictions_of(app_engine, result.output)
    # THEN every answer scores the 4 classes (the fourth with nothing), and log loss is pooled over them
    assert {len(row["scores"]) for row in rows} == {4} and {row["scores"][3] for row in rows} == {0.0}
    assert "log_loss" in result.output["summary"]["out_of_fold"]["metrics"]
    for split in result.output["splits"]:
        merror = next(m["Value"] for m in split["FinalMetricDataList"] if m["MetricName"] == "validation:merror")
        fold_rows = [row for row in rows if row["fold"] == split["fold_index"]]
        assert 1 - accuracy_score([r["label"] for r in fold_rows], [r["prediction"] for r in fold_rows]) == \
            pytest.approx(merror, abs=1e-6)


def test_a_refused_transform_job_keeps_sagemakers_reason_for_the_user(app_engine, example):
    # GIVEN SageMaker refuses fold 2's CreateTransformJob (no job exists: the refusal's cause is all there is)
    document = example("linear-learner")
    document["crossvalidation"].update(n_splits=3, random_state=7, out_of_fold_predictions=True)
    app_engine.transforms.inject_create_error("ValidationException", "MaxConcurrentTransforms is too large for this "
                                              "account", job_names=lambda name: name.endswith("-fold2"))
    result = app_engine.run(document, timeout=600)
    # THEN the run ends PredictionsMissing, and its cause carries SageMaker's words, not only the error's name
    assert result.status == "FAILED" and result.error == "PredictionsMissing", (result.error, result.cause)
    assert "fold 2" in result.cause and "MaxConcurrentTransforms is too large for this account" in result.cause
