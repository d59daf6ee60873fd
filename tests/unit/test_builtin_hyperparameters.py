"""Each built-in algorithm's documented hyperparameter contract: what it requires and the values it takes."""

from __future__ import annotations

import pytest

from smx_split.builtin_hyperparameters import CONTRACTS, fold_problems, input_problems, rejected_names
from smx_split.data_contracts import hyperparameter_problems

VALID = {
    "linear-learner": {"predictor_type": "binary_classifier", "epochs": "15", "feature_dim": "auto", "momentum": "0.9"},
    "knn": {"predictor_type": "classifier", "k": "5", "sample_size": "${num_training_samples}", "feature_dim": "4"},
    "xgboost": {"num_round": "50", "objective": "binary:logistic", "eta": "0.2", "max_depth": "3", "subsample": "1"},
    "image-classification": {"num_classes": "${num_classes}", "num_training_samples": "${num_training_samples}",
                             "early_stopping": "True", "use_pretrained_model": "1"},
    "blazingtext": {"mode": "supervised", "epochs": "20", "learning_rate": "0.5", "min_count": "0"},
}


@pytest.mark.parametrize("family", sorted(VALID))
def test_a_documented_template_passes(family):
    assert input_problems(family, VALID[family]) == []


@pytest.mark.parametrize("family, template", [
    # the XGBoost container's aliases, a threshold metric, a float max_delta_step (its validation's own types)
    ("xgboost", {"num_round": "5", "learning_rate": "0.1", "reg_lambda": "2", "reg_alpha": "0", "min_split_loss": "0",
                 "max_delta_step": "0.5", "objective": "binary:logistic", "eval_metric": "error@0.7,auc,logloss"}),
    # num_classes is ignored unless predictor_type is multiclass_classifier (the page), so 2 is no error
    ("linear-learner", {"predictor_type": "binary_classifier", "num_classes": "2"}),
    ("linear-learner", {"predictor_type": "regressor", "normalize_data": "TRUE", "positive_example_weight_mult": "balanced"}),
])
def test_values_the_containers_take_pass(family, template):
    assert input_problems(family, template) == []


# (family, template, the problem's start and a part of it)
BROKEN = [
    ("knn", {"predictor_type": "classifier"}, "training.hyperparameters_template: knn requires feature_dim, k, sample_size"),
    ("linear-learner", {}, "training.hyperparameters_template: linear-learner requires predictor_type"),
    ("linear-learner", {"predictor_type": "multiclass_classifier"},
     "requires num_classes (required when predictor_type is multiclass_classifier)"),
    ("xgboost", {"objective": "multi:softprob"},
     "xgboost requires num_round, num_class (required when objective is multi:softmax or multi:softprob)"),
    ("image-classification", {"num_classes": "2"}, "image-classification requires num_training_samples"),
    ("blazingtext", {"epochs": "5"}, "blazingtext requires mode"),
    ("knn", {**VALID["knn"], "dimension_reduction_type": "sign"},
     "requires dimension_reduction_target (required when dimension_reduction_type is set)"),
    ("xgboost", {**VALID["xgboost"], "eta": "1.5"}, "training.hyperparameters_template.eta: for xgboost, '1.5' is outside [0, 1]"),
    ("xgboost", {**VALID["xgboost"], "subsample": "0"}, "'0' is outside (0, 1]"),
    ("xgboost", {**VALID["xgboost"], "max_depth": "3.0"}, "'3.0' is not an integer"),
    ("xgboost", {**VALID["xgboost"], "num_round": "1e3"}, "'1e3' is not an integer"),
    ("xgboost", {**VALID["xgboost"], "booster": "gbtre"}, "booster: for xgboost, 'gbtre' is not one of its values; did you "
     "mean 'gbtree'?"),
    ("xgboost", {**VALID["xgboost"], "booster": "forest"}, "'forest' is not one of gbtree, gblinear, dart"),
    ("xgboost", {**VALID["xgboost"], "objective": " binary:logistic"}, "did you mean 'binary:logistic'?"),
    ("xgboost", {**VALID["xgboost"], "eval_metric": "acc"}, "eval_metric: for xgboost, 'acc' has 'acc', not one of"),
    ("xgboost", {"num_round": "5", "eval_metric": "auc"},
     "'auc' applies to binary: and rank: objectives only; the objective is reg:squarederror"),
    ("xgboost", {**VALID["xgboost"], "scale_pos_weight": "0"}, "scale_pos_weight: for xgboost, '0' is outside (0, inf)"),
    ("linear-learner", {**VALID["linear-learner"], "loss": "logistc"}, "did you mean 'logistic'?"),
    ("xgboost", {**VALID["xgboost"], "monotone_constraints": "(1,0)"},
     "monotone_constraints: the xgboost container takes it only with tree_method exact or hist"),
    ("xgboost", {**VALID["xgboost"], "eval_metric": "aft-nloglik"}, "'aft-nloglik' applies to objective survival:aft"),
    ("xgboost", {**VALID["xgboost"], "booster": "gblinear", "updater": "grow_colmaker"},
     "updater: with booster gblinear, the updater is one of shotgun or coord_descent"),
    ("knn", {**VALID["knn"], "dimension_reduction_type": "sign", "dimension_reduction_target": "5"},
     "dimension_reduction_target: is 5, but it must be less than feature_dim (4): lower it"),
    ("knn", {**VALID["knn"], "k": "0"}, "'0' is outside [1, inf)"),
    ("knn", {**VALID["knn"], "predictor_type": "classification"}, "is not one of classifier, regressor"),
    ("linear-learner", {**VALID["linear-learner"], "feature_dim": "many"}, "'many' is not an integer or auto"),
    ("linear-learner", {**VALID["linear-learner"], "learning_rate": "NaN"}, "'NaN' is not a number or auto"),
    ("linear-learner", {**VALID["linear-learner"], "use_bias": "yes"}, "'yes' is not true or false"),
    ("image-classification", {**VALID["image-classification"], "use_pretrained_model": "true"},
     "'true' is not one of 0, 1"),
    ("blazingtext", {**VALID["blazingtext"], "mode": "Supervised"}, "'Supervised' is not one of its values; did you mean 'supervised'?"),
]


@pytest.mark.parametrize("family, template, expected", BROKEN, ids=[f"{case[0]}:{case[2][-40:]}" for case in BROKEN])
def test_a_template_outside_the_documented_contract_is_named_with_the_documentation(family, template, expected):
    problems = input_problems(family, template)
    assert len(problems) == 1 and expected in problems[0], problems
    assert problems[0].startswith("training.hyperparameters_template") and CONTRACTS[family].source in problems[0]


def test_a_custom_container_has_no_contract():
    assert input_problems("custom", {"anything": "goes"}) == [] and rejected_names("custom", ["anything"]) == []


def test_a_placeholder_is_checked_once_filled():
    template = {"predictor_type": "multiclass_classifier", "num_classes": "${num_classes}"}
    # WHEN the template is read THEN ${num_classes} passes; WHEN a fold fills it with 2 THEN 2 is below 3
    assert input_problems("linear-learner", template) == []
    problems = fold_problems("linear-learner", template, {**template, "num_classes": "2"})
    assert problems and problems[0].startswith(
        "training.hyperparameters_template.num_classes: for linear-learner, ${num_classes} is '2', which is outside "
        "[3, 1000000]")


# (family, hyperparameters, labels, first CSV line, the problem's part)
DATA_BROKEN = [
    ("linear-learner", {"predictor_type": "binary_classifier"}, ("1", "2"), b"1,0.5",
     "with predictor_type binary_classifier, linear-learner needs every label to be 0 or 1"),
    ("linear-learner", {"predictor_type": "multiclass_classifier", "num_classes": "3"}, ("0", "1", "3"), b"0,1",
     "with num_classes 3, linear-learner needs every label to be the integers 0 to 2"),
    ("xgboost", {"objective": "multi:softmax", "num_class": "2"}, ("0", "1", "2"), b"0,1",
     "with num_class 2, xgboost needs every label to be the integers 0 to 1"),
    ("xgboost", {"objective": "binary:logistic"}, ("-1", "1"), b"1,1", "with objective binary:logistic"),
    ("xgboost", {"objective": "count:poisson"}, ("-1", "1"), b"1,1", "needs every label to be non-negative"),
    ("image-classification", {"num_classes": "2"}, ("0", "1", "2"), b"", "with num_classes 2, image-classification"),
    ("knn", {"feature_dim": "4"}, ("0", "1"), b"0,1.5,2.5",
     "feature_dim: is 4, but the dataset's rows have 2 feature columns after the label"),
    ("blazingtext", {"mode": "supervised"}, ("7",), b"",
     "every line of the dataset has the label '7', but blazingtext with mode supervised is a classifier"),
    ("xgboost", {"objective": "binary:logistic"}, ("1",), b"1,1", "needs at least two classes"),
]


@pytest.mark.parametrize("family, values, labels, first_line, expected", DATA_BROKEN)
def test_labels_and_features_that_the_hyperparameters_contradict_are_named(family, values, labels, first_line, expected):
    data_format = "jsonl" if family == "image-classification" else "csv"
    problems = hyperparameter_problems(family, data_format, values, label_names=labels, first_lines=[first_line])
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize("family, values, labels", [
    ("linear-learner", {"predictor_type": "binary_classifier"}, ("0", "1")),
    ("linear-learner", {"predictor_type": "regressor"}, ("-3.5", "7")),
    ("xgboost", {"objective": "reg:squarederror"}, ("-3.5", "7")),
    ("xgboost", {"objective": "multi:softmax", "num_class": "3"}, ("0", "1", "2")),
    ("custom", {"predictor_type": "binary_classifier"}, ("7", "9")),
])
def test_labels_that_agree_with_the_hyperparameters_pass(family, values, labels):
    assert hyperparameter_problems(family, "csv", values, label_names=labels, first_lines=[b"0,1"]) == []


def test_k_above_the_points_a_fold_indexes_is_named():
    values = {"predictor_type": "classifier", "k": "10", "sample_size": "50"}
    problems = hyperparameter_problems("knn", "csv", values, label_names=("0", "1"), first_lines=[b"0,1"],
                                       training_lines=8)
    assert problems == ["training.hyperparameters_template.k: is 10, but a fold's job indexes only 8 training points "
                        "(sample_size 50, 8 training lines in the smallest fold), fewer than k neighbours: lower k, "
                        "or raise sample_size or the data"]
    assert hyperparameter_problems("knn", "csv", {**values, "k": "8"}, label_names=("0", "1"), first_lines=[b"0,1"],
                                   training_lines=8) == []
