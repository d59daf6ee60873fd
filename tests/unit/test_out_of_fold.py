"""Out-of-fold predictions, the pure parts: how each algorithm's answers read, what the input may ask, what the
split writes for the transform, and how the gather puts the answers back in input order and pools them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, log_loss, mean_squared_error, roc_auc_score

from smx_common.inference_formats import Prediction, ResponseError, parse
from smx_gather.out_of_fold import Answers, FoldAnswers, assemble, failure_message, predicted_classes
from smx_split.channels import LAYOUTS
from smx_split.errors import InvalidInputError
from smx_split.out_of_fold_section import CLASSIFICATION, REGRESSION, normalise
from smx_split.prediction_files import transform_input

# ---------------------------------------------------------------- answers, as each algorithm documents them


@pytest.mark.parametrize("family, answer, objective, expected", [
    # linear-learner JSON Lines (LL-in-formats.html): binary, multiclass, regressor
    ("linear-learner", '{"score": 0.4, "predicted_label": 0}', None, Prediction(0.0, (0.6, 0.4))),
    ("linear-learner", '{"score": [0.1, 0.2, 0.4, 0.3], "predicted_label": 2}', None,
     Prediction(2.0, (0.1, 0.2, 0.4, 0.3))),
    ("linear-learner", '{"score": 0.4}', None, Prediction(0.4)),
    ("knn", '{"predicted_label": 2.0}', None, Prediction(2.0)),
    # xgboost text/csv: a probability (binary:logistic), every class's (multi:softprob), a value
    ("xgboost", "0.8", "binary:logistic", Prediction(1.0, (pytest.approx(0.2), 0.8))),
    ("xgboost", "[0.1, 0.7, 0.2]", "multi:softprob", Prediction(1.0, (0.1, 0.7, 0.2))),
    ("xgboost", "2.0", "multi:softmax", Prediction(2.0)),
    ("xgboost", "0.0", "binary:logitraw", Prediction(0.0, (0.5, 0.5))),  # a margin: class 1 above 0
    ("xgboost", "1.0", "binary:hinge", Prediction(1.0)),
    ("xgboost", "12.5", "reg:squarederror", Prediction(12.5)),
    # image-classification: the JSON array of class probabilities
    ("image-classification", "[0.1, 0.05, 0.85]", None, Prediction(2.0, (0.1, 0.05, 0.85))),
    ("blazingtext", '{"label": ["__label__signal"], "prob": [0.93]}', None, Prediction("signal")),
])
def test_each_algorithms_answer_reads_as_its_documentation_shows_it(family, answer, objective, expected):
    assert parse(family, answer, objective=objective) == expected


@pytest.mark.parametrize("family, answer", [
    ("linear-learner", "0.4"), ("knn", '{"score": 1}'), ("xgboost", "yes"), ("image-classification", '{"a": 1}'),
    ("blazingtext", '{"label": "signal"}'), ("knn", ""), ("xgboost", "nan"),
])
def test_an_answer_in_another_format_is_refused_not_guessed(family, answer):
    with pytest.raises(ResponseError):
        parse(family, answer, objective="binary:logistic")


# ---------------------------------------------------------------- the input


def _normalise(value, family="linear-learner", hyperparameters=None, tuning=None, data_format="csv"):
    problems: list[str] = []
    spec = normalise(value, family=family, hyperparameters=hyperparameters or {"predictor_type": "binary_classifier"},
                     channel_layout=LAYOUTS.get((family, data_format)), tuning=tuning, problems=problems)
    return spec, problems


def test_true_takes_the_algorithms_documented_format_and_a_cpu_instance():
    spec, problems = _normalise(True)
    assert problems == []
    assert (spec.task, spec.accept, spec.inference.content_type, spec.instance_type) == (
        CLASSIFICATION, "application/jsonlines", "text/csv", "ml.m5.xlarge")
    assert spec.inference.input_filter == "$[1:]"  # the label column is not sent


@pytest.mark.parametrize("family, hyperparameters, task", [
    ("knn", {"predictor_type": "regressor"}, REGRESSION),
    ("xgboost", {}, REGRESSION),  # reg:squarederror by default
    ("xgboost", {"objective": "multi:softprob"}, CLASSIFICATION),
])
def test_the_task_follows_the_hyperparameters(family, hyperparameters, task):
    spec, problems = _normalise({"instance_count": 2}, family=family, hyperparameters=hyperparameters)
    assert problems == [] and spec.task == task and spec.instance_count == 2


@pytest.mark.parametrize("value, kwargs, words", [
    (True, {"family": "custom"}, "custom container answers in its own"),
    (True, {"tuning": {"grid": {}}}, "run the search first"),
    (True, {"family": "xgboost", "hyperparameters": {"objective": "rank:pairwise"}}, "gives neither"),
    ({"accept": "application/json"}, {}, "out_of_fold_predictions.accept"),
    ({"content_type": "application/json"}, {}, "out_of_fold_predictions.content_type"),
    ({"instance_type": "ml.m5.huge"}, {}, "for example ml.m5.large"),
    ({"max_concurrent_transforms": 17}, {}, "give at most 16"),
])
def test_what_cannot_be_predicted_is_refused_naming_the_field(value, kwargs, words):
    spec, problems = _normalise(value, **kwargs)
    assert spec is None
    assert any(words in problem and problem.startswith("crossvalidation.out_of_fold_predictions")
               for problem in problems), problems


def test_false_asks_for_nothing():
    assert _normalise(False) == (None, [])


# ---------------------------------------------------------------- what the split writes for the transform


def test_blazingtext_is_sent_each_lines_text_without_its_labels():
    spec, _ = _normalise(True, family="blazingtext", hyperparameters={"mode": "supervised"}, data_format="text")
    written = transform_input(b"__label__a hello  world\nsome __label__b text\n", spec, "text")
    assert [json.loads(line) for line in written.decode().splitlines()] == [
        {"source": "hello world"}, {"source": "some text"}]


def test_an_image_manifest_lists_each_lines_image_in_order_under_its_bucket():
    spec, _ = _normalise(True, family="image-classification", hyperparameters={}, data_format="jsonl")
    lines = b'{"source-ref": "s3://b/img/2.png", "class": 1}\n{"source-ref": "s3://b/img/1.png", "class": 0}\n'
    assert json.loads(transform_input(lines, spec, "jsonl")) == [{"prefix": "s3://b/"}, "img/2.png", "img/1.png"]
    with pytest.raises(InvalidInputError, match="2 buckets"):
        transform_input(lines.replace(b"s3://b/img/1", b"s3://other/img/1"), spec, "jsonl")


# ---------------------------------------------------------------- the gather: input order and pooled metrics

CLASSIFY = {"task": "classification", "family": "linear-learner", "predictions": "s3://b/run/oof_predictions.jsonl"}


def _folds(missing_second: bool = False):
    # lines 0..5; fold 0 validates 4, 1, 2 (in that file order), fold 1 validates 5, 0, 3
    first = FoldAnswers(0, 0, [4, 1, 2], ["1", "0", "1"], Answers.of(
        [Prediction(1.0, (0.2, 0.8)), Prediction(0.0, (0.9, 0.1)), Prediction(0.0, (0.6, 0.4))]), "j-0")
    second = FoldAnswers(0, 1, [5, 0, 3], ["0", "1", "0"],
                         None if missing_second else Answers.of(
                             [Prediction(0.0, (0.7, 0.3)), Prediction(1.0, (0.1, 0.9)), Prediction(1.0, (0.4, 0.6))]),
                         "j-1", reason="its transform job Failed: boom" if missing_second else None)
    return [first, second]


def test_predictions_come_back_in_input_order_with_their_fold_and_label():
    table, summary = assemble(_folds(), CLASSIFY, num_lines=6, n_repeats=1)
    rows = list(table.rows())
    assert [row["line"] for row in rows] == list(range(6))
    assert [row["fold"] for row in rows] == [1, 0, 0, 1, 0, 1]
    assert [row["label"] for row in rows] == ["1", "0", "1", "0", "1", "0"]
    assert [row["prediction"] for row in rows] == ["1", "0", "0", "1", "1", "0"]
    assert rows[4]["scores"] == [0.2, 0.8]
    labels, predicted = [r["label"] for r in rows], [r["prediction"] for r in rows]
    assert summary["metrics"]["accuracy"] == pytest.approx(accuracy_score(labels, predicted))
    probabilities = np.array([r["scores"] for r in rows])
    truth = [int(label) for label in labels]
    assert summary["metrics"]["log_loss"] == pytest.approx(log_loss(truth, probabilities))
    assert summary["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(truth, probabilities[:, 1]))
    assert summary["confusion_matrix"] == {"labels": ["0", "1"],
                                           "matrix": confusion_matrix(labels, predicted, labels=["0", "1"]).tolist()}
    assert summary["missing_folds"] == [] and summary["num_predictions"] == 6


def test_a_fold_without_answers_keeps_its_lines_and_is_named_missing():
    table, summary = assemble(_folds(missing_second=True), CLASSIFY, num_lines=6, n_repeats=1)
    rows = list(table.rows())
    assert len(rows) == 6 and "scores" not in rows[5] and [rows[line]["prediction"] for line in (5, 0, 3)] == [None, None, None]
    assert summary["num_predictions"] == 3
    assert summary["missing_folds"] == [{"repeat_index": 0, "fold_index": 1, "TransformJobName": "j-1",
                                         "reason": "its transform job Failed: boom"}]
    assert summary["metrics"]["accuracy"] == pytest.approx(2 / 3)  # the predicted lines only
    message = failure_message({**summary, "predictions": CLASSIFY["predictions"]})
    assert "repeat 0 fold 1 (j-1): its transform job Failed: boom" in message and "3 predicted lines" in message


def test_indexes_that_miss_a_line_are_an_error_not_a_shorter_file():
    with pytest.raises(ValueError, match="every line"):
        assemble(_folds(), CLASSIFY, num_lines=7, n_repeats=1)


def test_regression_pools_rmse_mae_and_r2():
    folds = [FoldAnswers(0, 0, [1, 0], ["2.5", "1"], Answers.of([Prediction(2.0), Prediction(1.5)]), "j-0"),
             FoldAnswers(0, 1, [2], ["4"], Answers.of([Prediction(3.0)]), "j-1")]
    table, summary = assemble(folds, {**CLASSIFY, "task": "regression"}, num_lines=3, n_repeats=1)
    rows = list(table.rows())
    assert [row["label"] for row in rows] == [1.0, 2.5, 4.0] and [row["prediction"] for row in rows] == [1.5, 2.0, 3.0]
    assert summary["metrics"]["rmse"] == pytest.approx(mean_squared_error([1, 2.5, 4], [1.5, 2, 3]) ** 0.5)
    assert set(summary["metrics"]) == {"rmse", "mae", "r2"} and "confusion_matrix" not in summary


def test_numeric_answers_name_the_datasets_classes_as_written():
    assert predicted_classes(np.array([1.0, 0.0, 3.0]), ["0", "1.5", "1"]) == ["1", "0", "3"]
    assert predicted_classes(Answers.of([Prediction("pos")]).values, ["neg", "pos"]) == ["pos"]
    # BlazingText answers a class as its lines spell it ("__label__05", "__label__0.0"): one number, one class
    assert predicted_classes(np.array(["05", "0.0", "7", "x"], dtype=object), ["0", "5"]) == ["5", "0", "7", "x"]


def test_a_line_in_two_folds_of_one_repeat_is_an_error():
    first, second = _folds()
    twice = FoldAnswers(0, 1, [5, 0, 4], second.labels, second.answers, "j-1")
    with pytest.raises(ValueError, match="twice"):
        assemble([first, twice], CLASSIFY, num_lines=6, n_repeats=1)


def test_more_predictions_than_the_gather_can_order_are_refused_with_the_numbers():
    spec, _ = _normalise(True)
    from smx_split.out_of_fold_section import MAX_PREDICTIONS, size_problems
    assert size_problems(spec, MAX_PREDICTIONS, 1) == []
    [problem] = size_problems(spec, 600_000, 2)
    assert problem.startswith("crossvalidation.out_of_fold_predictions: the dataset has 600,000 lines x 2 repeats = "
                              "1,200,000 predictions, and the gather step puts at most 1,000,000")
    assert size_problems(None, 10 * MAX_PREDICTIONS, 1) == []
