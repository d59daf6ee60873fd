"""A search's candidates and its objective: ParameterGrid's order, the metrics each algorithm emits."""

from __future__ import annotations

import pytest
from sklearn.model_selection import ParameterGrid

from smx_split import builtin_metrics, tuning


def test_given_a_grid_and_candidates_then_the_grid_comes_first_in_parameter_grids_order():
    # GIVEN a 2x2 grid (keys given unsorted) and one explicit candidate
    grid = {"learning_rate": ["0.1", "0.01"], "l1": ["0", "0.001"]}
    found = tuning.candidates(grid, [{"learning_rate": 0.05, "l1": "0"}])
    # THEN the grid's combinations are scikit-learn's, in its order, then the explicit one (values as strings)
    assert [c.overrides for c in found[:4]] == list(ParameterGrid(grid))
    assert found[4].overrides == {"learning_rate": "0.05", "l1": "0"}
    assert [c.index for c in found] == [0, 1, 2, 3, 4]


def test_given_a_candidate_then_it_overrides_the_template_and_keeps_its_placeholders():
    (candidate,) = tuning.candidates(None, [{"epochs": "3"}])
    template = {"epochs": "10", "num_classes": "${num_classes}"}
    assert candidate.hyperparameters(template) == {"epochs": "3", "num_classes": "${num_classes}"}


@pytest.mark.parametrize("grid, explicit, n_repeats, expected", [
    ({}, [], 1, "tuning: the search has no candidate; give tuning.grid values or tuning.candidates"),
    ({"l1": ["0"]}, [{"l1": "0"}], 1, "tuning: candidate 1 repeats candidate 0 (l1=0); remove one of them"),
    # one number however it is spelled: the container reads the same value
    ({"l1": ["0.1", "0.10"]}, [], 1, "tuning: candidate 1 repeats candidate 0 (l1=0.10); remove one of them"),
    ({"a": [str(i) for i in range(101)]}, [], 2, "tuning: 101 candidates x 2 repeats x 5 folds = 1010 training jobs, "
     "more than the 1000 one run may start; narrow the grid, or lower crossvalidation.n_repeats or n_splits"),
], ids=["empty", "duplicate", "duplicate-number-spelled-twice", "too-large"])
def test_given_a_search_that_cannot_run_then_it_is_refused_saying_why(grid, explicit, n_repeats, expected):
    assert tuning.search_problems(tuning.candidates(grid, explicit), n_splits=5, n_repeats=n_repeats) == [expected]


def test_given_a_search_within_the_limits_then_no_problem():
    found = tuning.candidates({"a": [str(i) for i in range(100)]}, [])
    assert tuning.search_problems(found, n_splits=5, n_repeats=2) == []


# --- the objective ----------------------------------------------------------------------------


@pytest.mark.parametrize("family, hyperparameters, metric, direction", [
    ("linear-learner", {"predictor_type": "binary_classifier"}, "validation:binary_classification_accuracy", "Maximize"),
    ("linear-learner", {"predictor_type": "regressor"}, "validation:mse", "Minimize"),
    ("linear-learner", {"predictor_type": "multiclass_classifier"}, "validation:objective_loss", "Minimize"),
    ("knn", {"predictor_type": "classifier"}, "test:accuracy", "Maximize"),
    ("xgboost", {"objective": "binary:logistic", "eval_metric": "auc,error"}, "validation:auc", "Maximize"),
    ("xgboost", {"objective": "multi:softprob"}, "validation:mlogloss", "Minimize"),
    ("xgboost", {}, "validation:rmse", "Minimize"),
    ("image-classification", {}, "validation:accuracy", "Maximize"),
    ("blazingtext", {"mode": "supervised"}, "validation:accuracy", "Maximize"),
    ("blazingtext", {"mode": "skipgram"}, "train:mean_rho", "Maximize"),
])
def test_given_a_metric_the_algorithm_emits_in_its_direction_then_it_may_rank(family, hyperparameters, metric, direction):
    assert builtin_metrics.objective_problems(family, hyperparameters, metric, direction) == []


def test_given_a_metric_of_another_task_then_it_is_refused_listing_the_emitted_ones():
    # GIVEN a binary classifier asked to rank on a multiclass metric
    problems = builtin_metrics.objective_problems(
        "linear-learner", {"predictor_type": "binary_classifier"}, "validation:multiclass_accuracy", "Maximize")
    # THEN the problem names the metric and lists what binary linear-learner jobs emit
    assert len(problems) == 1
    assert problems[0].startswith("tuning.objective.metric: linear-learner jobs do not emit "
                                  "'validation:multiclass_accuracy'; they emit (per AWS's tuning page")
    assert "validation:binary_classification_accuracy" in problems[0] and "validation:dcg" not in problems[0]


def test_given_an_xgboost_metric_not_in_eval_metric_then_it_is_refused():
    problems = builtin_metrics.objective_problems("xgboost", {"objective": "binary:logistic"}, "validation:auc",
                                                  "Maximize")
    assert problems == ["tuning.objective.metric: xgboost jobs do not emit 'validation:auc'; they emit (per AWS's "
                        "tuning page for the algorithm, with these hyperparameters): validation:logloss"]


def test_given_the_wrong_direction_then_it_says_which_way_the_metric_improves():
    assert builtin_metrics.objective_problems("knn", {"predictor_type": "regressor"}, "test:mse", "Maximize") == [
        "tuning.objective.type: test:mse improves as it grows smaller (AWS's tuning page: Minimize); "
        "set type to Minimize"]


def test_given_a_custom_container_then_its_metric_definitions_are_the_metrics_in_either_direction():
    definitions = [{"Name": "validation:f1", "Regex": "f1=([0-9.]+)"}]
    assert builtin_metrics.objective_problems("custom", {}, "validation:f1", "Minimize", definitions) == []
    assert builtin_metrics.objective_problems("custom", {}, "validation:auc", "Maximize", definitions) == [
        "tuning.objective.metric: custom jobs do not emit 'validation:auc'; they emit (per its MetricDefinitions): "
        "validation:f1"]


def test_given_a_custom_container_without_metric_definitions_then_it_says_to_add_one():
    assert builtin_metrics.objective_problems("custom", {}, "validation:f1", "Maximize", None) == [
        "tuning.objective.metric: a custom container's jobs report the metrics its MetricDefinitions name, and "
        "training.algorithm_specification has none: add {\"Name\": \"validation:f1\", \"Regex\": ...} matching the "
        "line your script prints"]
