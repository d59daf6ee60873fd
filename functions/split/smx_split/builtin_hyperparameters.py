"""Each built-in algorithm's hyperparameter contract, from its AWS documentation: the one home of it.

Per algorithm: the names its container accepts (any other fails the job: "Additional hyperparameters
are not allowed", or XGBoost's "Extraneous hyperparameter found"; so the split step leaves it out
and says so, or refuses a near miss as a typo), the names it
requires, and the values each name takes. Names starting with "_" are SageMaker's own
(``_tuning_objective_metric``) and always pass.

The offline engine's local trainers do not read this table: they refuse bad values by
themselves, as the containers do, so a gap here shows up as a failed fold in the tests.

Pure: names and string values in, problems out. A value that holds a placeholder is checked
once the placeholder is filled (``fold_problems``), everything else when the input is read.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from .hyperparameters import placeholders_in

_DOC = "https://docs.aws.amazon.com/sagemaker/latest/dg/"
_INTEGER = re.compile(r"[+-]?[0-9]+")


@dataclass(frozen=True)
class Rule:
    """The values one hyperparameter takes, as its documentation states them."""

    kind: str  # "int", "float", "choice", "bool" or "list" (comma-separated choices)
    low: float | None = None
    high: float | None = None
    low_open: bool = False   # the bound itself is outside the range
    high_open: bool = False
    choices: tuple[str, ...] = ()
    also: tuple[str, ...] = ()  # words allowed besides the numbers ("auto")

    def problem(self, value: str) -> str | None:
        """What is wrong with ``value``, worded for "'<value>' <problem>", or None."""
        if value in self.also:
            return None
        # Containers compare words as given (" binary:logistic" is not an objective); int() and float()
        # read numbers with spaces around them.
        if self.kind == "choice":
            if value in self.choices:
                return None
            close = difflib.get_close_matches(value.strip(), self.choices + self.also, n=1, cutoff=0.75)
            return (f"is not one of its values; did you mean {close[0]!r}?" if close
                    else f"is not one of {', '.join(self.choices + self.also)}")
        if self.kind == "list":
            unknown = [item for item in value.split(",") if item not in self.choices and not _threshold_metric(item)]
            return f"has {', '.join(map(repr, unknown))}, not one of {', '.join(self.choices)}" if unknown else None
        if self.kind == "bool":
            return None if value.strip().lower() in {"true", "false"} else "is not true or false"
        value = value.strip()
        number = _number(value)
        # Containers parse integers with int(): "5.0" and "1e3" fail the job.
        if number is None or (self.kind == "int" and not _INTEGER.fullmatch(value)):
            words = f" or {' or '.join(self.also)}" if self.also else ""
            return f"is not {'an integer' if self.kind == 'int' else 'a number'}{words}"
        if not self._within(number):
            return f"is outside {self.range_text()}"
        return None

    def _within(self, number: float) -> bool:
        above = self.low is None or (number > self.low if self.low_open else number >= self.low)
        below = self.high is None or (number < self.high if self.high_open else number <= self.high)
        return above and below

    def range_text(self) -> str:
        low = "-inf" if self.low is None else _shown(self.low)
        high = "inf" if self.high is None else _shown(self.high)
        return f"{'(' if self.low_open or self.low is None else '['}{low}, {high}{')' if self.high_open or self.high is None else ']'}"


def _int(low: float | None = None, high: float | None = None, **more) -> Rule:
    return Rule("int", low, high, **more)


def _float(low: float | None = None, high: float | None = None, **more) -> Rule:
    return Rule("float", low, high, **more)


def _choice(*choices: str) -> Rule:
    return Rule("choice", choices=choices)


POSITIVE_INT: Final = _int(1)
NON_NEGATIVE_INT: Final = _int(0)
POSITIVE_FLOAT: Final = _float(0, low_open=True)
NON_NEGATIVE_FLOAT: Final = _float(0)
UNIT: Final = _float(0, 1)
BOOL: Final = Rule("bool")
FLAG: Final = _choice("0", "1")
AUTO: Final = ("auto",)


@dataclass(frozen=True)
class Contract:
    source: str
    accepted: frozenset[str]
    required: tuple[str, ...] = ()
    rules: Mapping[str, Rule] = field(default_factory=dict)
    # (name, when): ``name`` is required when ``when(values)`` holds; the text says when
    required_when: tuple[tuple[str, Callable[[Mapping[str, str]], bool], str], ...] = ()
    # name -> when the container ignores it (and so does not check its value)
    ignored_when: Mapping[str, Callable[[Mapping[str, str]], bool]] = field(default_factory=dict)
    # rules between names: each returns the problem, or None
    cross_checks: tuple[Callable[[Mapping[str, str]], str | None], ...] = ()


_MULTICLASS_OBJECTIVES = ("multi:softmax", "multi:softprob")

CONTRACTS: Final[dict[str, Contract]] = {
    "linear-learner": Contract(
        source=_DOC + "ll_hyperparameters.html",
        accepted=frozenset({
            "num_classes", "predictor_type", "accuracy_top_k", "balance_multiclass_weights", "beta_1", "beta_2",
            "bias_lr_mult", "bias_wd_mult", "binary_classifier_model_selection_criteria", "early_stopping_patience",
            "early_stopping_tolerance", "epochs", "f_beta", "feature_dim", "huber_delta", "init_bias", "init_method",
            "init_scale", "init_sigma", "l1", "learning_rate", "loss", "loss_insensitivity", "lr_scheduler_factor",
            "lr_scheduler_minimum_lr", "lr_scheduler_step", "margin", "mini_batch_size", "momentum",
            "normalize_data", "normalize_label", "num_calibration_samples", "num_models", "num_point_for_scaler",
            "optimizer", "positive_example_weight_mult", "quantile", "target_precision", "target_recall",
            "unbias_data", "unbias_label", "use_bias", "use_lr_scheduler", "wd",
        }),
        required=("predictor_type",),
        required_when=(("num_classes", lambda hp: hp.get("predictor_type") == "multiclass_classifier",
                        "predictor_type is multiclass_classifier"),),
        # "If predictor_type is not multiclass_classifier, the algorithm ignores num_classes" (the page)
        ignored_when={"num_classes": lambda hp: hp.get("predictor_type") != "multiclass_classifier"},
        rules={
            "predictor_type": _choice("binary_classifier", "multiclass_classifier", "regressor"),
            "num_classes": _int(3, 1_000_000),
            "accuracy_top_k": POSITIVE_INT,
            "balance_multiclass_weights": BOOL,
            "beta_1": _float(0, 1, also=AUTO), "beta_2": _float(0, 1, also=AUTO),
            "bias_lr_mult": _float(0, low_open=True, also=AUTO), "bias_wd_mult": _float(0, also=AUTO),
            "binary_classifier_model_selection_criteria": _choice(
                "accuracy", "f_beta", "precision_at_target_recall", "recall_at_target_precision", "loss_function"),
            "early_stopping_patience": POSITIVE_INT, "early_stopping_tolerance": POSITIVE_FLOAT,
            "epochs": POSITIVE_INT, "f_beta": POSITIVE_FLOAT,
            "feature_dim": _int(1, also=AUTO),
            "huber_delta": POSITIVE_FLOAT, "init_method": _choice("uniform", "normal"),
            "init_scale": POSITIVE_FLOAT, "init_sigma": POSITIVE_FLOAT,
            "l1": _float(0, also=AUTO), "learning_rate": _float(0, low_open=True, also=AUTO),
            "loss": _choice("auto", "logistic", "squared_loss", "absolute_loss", "hinge_loss",
                            "eps_insensitive_squared_loss", "eps_insensitive_absolute_loss", "quantile_loss",
                            "huber_loss", "softmax_loss"),
            "optimizer": _choice("auto", "sgd", "adam", "rmsprop"),
            "loss_insensitivity": POSITIVE_FLOAT,
            "lr_scheduler_factor": _float(0, 1, also=AUTO),
            "lr_scheduler_minimum_lr": _float(0, low_open=True, also=AUTO),
            "lr_scheduler_step": _int(1, also=AUTO), "margin": POSITIVE_FLOAT, "mini_batch_size": POSITIVE_INT,
            "momentum": _float(0, 1, also=AUTO),
            "normalize_data": Rule("bool", also=AUTO), "normalize_label": Rule("bool", also=AUTO),
            "num_calibration_samples": _int(1, also=AUTO), "num_models": _int(1, also=AUTO),
            "num_point_for_scaler": POSITIVE_INT,
            "positive_example_weight_mult": _float(0, low_open=True, also=("auto", "balanced")),
            "quantile": UNIT, "target_precision": UNIT, "target_recall": UNIT,
            "unbias_data": Rule("bool", also=AUTO), "unbias_label": Rule("bool", also=AUTO),
            "use_bias": BOOL, "use_lr_scheduler": BOOL, "wd": _float(0, also=AUTO),
        },
    ),
    "knn": Contract(
        source=_DOC + "kNN_hyperparameters.html",
        accepted=frozenset({
            "feature_dim", "k", "predictor_type", "sample_size", "dimension_reduction_target",
            "dimension_reduction_type", "faiss_index_ivf_nlists", "faiss_index_pq_m", "index_metric", "index_type",
            "mini_batch_size",
        }),
        required=("feature_dim", "k", "predictor_type", "sample_size"),
        required_when=(("dimension_reduction_target", lambda hp: "dimension_reduction_type" in hp,
                        "dimension_reduction_type is set"),),
        rules={
            "feature_dim": POSITIVE_INT, "k": POSITIVE_INT, "sample_size": POSITIVE_INT,
            "predictor_type": _choice("classifier", "regressor"),
            "dimension_reduction_target": POSITIVE_INT, "dimension_reduction_type": _choice("sign", "fjlt"),
            "faiss_index_ivf_nlists": _int(1, also=AUTO),
            "faiss_index_pq_m": _choice(*(str(m) for m in (1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 96))),
            "index_metric": _choice("L2", "INNER_PRODUCT", "COSINE"),
            "index_type": _choice("faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ"),
            "mini_batch_size": POSITIVE_INT,
        },
        # dimension_reduction_target: "positive integer greater than 0 and less than feature_dim"
        cross_checks=(lambda hp: (
            f"training.hyperparameters_template.dimension_reduction_target: is {hp['dimension_reduction_target']}, "
            f"but it must be less than feature_dim ({hp['feature_dim']}): lower it"
            if _INTEGER.fullmatch(hp.get("dimension_reduction_target", "").strip())
            and _INTEGER.fullmatch(hp.get("feature_dim", "").strip())
            and int(hp["dimension_reduction_target"]) >= int(hp["feature_dim"]) else None),),
    ),
    # The AWS page lists the names; their values follow the container's own validation
    # (aws/sagemaker-xgboost-container, algorithm_mode/hyperparameter_validation.py, cb8df91), which is
    # what fails a job: "Extraneous hyperparameter found", "could not parse value", "... is not in ...".
    "xgboost": Contract(
        source=_DOC + "xgboost_hyperparameters.html",
        accepted=frozenset({
            "num_round", "csv_weights", "early_stopping_rounds", "booster", "verbosity", "nthread", "eta", "gamma",
            "max_depth", "min_child_weight", "max_delta_step", "subsample", "colsample_bytree", "colsample_bylevel",
            "colsample_bynode", "lambda", "alpha", "tree_method", "sketch_eps", "scale_pos_weight", "updater",
            "dsplit", "refresh_leaf", "process_type", "grow_policy", "max_leaves", "max_bin", "predictor",
            "monotone_constraints", "interaction_constraints", "sample_type", "normalize_type", "rate_drop",
            "one_drop", "skip_drop", "lambda_bias", "tweedie_variance_power", "objective", "num_class",
            "base_score", "eval_metric", "seed", "num_parallel_tree", "save_model_on_termination",
            "aft_loss_distribution", "aft_loss_distribution_scale", "deterministic_histogram", "sampling_method",
            "prob_buffer_row", "use_dask_gpu_training",
            # the container's aliases (declare_alias)
            "learning_rate", "min_split_loss", "reg_lambda", "reg_alpha",
            # on the AWS page, taken by the 1.x containers before 1.7-1
            "single_precision_histogram", "validate_parameters",
        }),
        required=("num_round",),
        required_when=(("num_class", lambda hp: hp.get("objective") in _MULTICLASS_OBJECTIVES,
                        f"objective is {' or '.join(_MULTICLASS_OBJECTIVES)}"),),
        rules={
            "num_round": POSITIVE_INT, "csv_weights": _int(0, 1), "early_stopping_rounds": POSITIVE_INT,
            "booster": _choice("gbtree", "gblinear", "dart"), "verbosity": _int(0, 3), "nthread": POSITIVE_INT,
            "eta": UNIT, "learning_rate": UNIT, "gamma": NON_NEGATIVE_FLOAT, "min_split_loss": NON_NEGATIVE_FLOAT,
            "max_depth": NON_NEGATIVE_INT, "min_child_weight": NON_NEGATIVE_FLOAT,
            "max_delta_step": NON_NEGATIVE_FLOAT,
            # (0, 1]: the page writes [0,1] for some of these; the container refuses 0 for all four.
            "subsample": _float(0, 1, low_open=True), "colsample_bytree": _float(0, 1, low_open=True),
            "colsample_bylevel": _float(0, 1, low_open=True), "colsample_bynode": _float(0, 1, low_open=True),
            "lambda": NON_NEGATIVE_FLOAT, "reg_lambda": NON_NEGATIVE_FLOAT,
            "alpha": NON_NEGATIVE_FLOAT, "reg_alpha": NON_NEGATIVE_FLOAT,
            "tree_method": _choice("auto", "exact", "approx", "hist", "gpu_hist"),
            "sketch_eps": _float(0, 1, low_open=True, high_open=True), "scale_pos_weight": POSITIVE_FLOAT,
            "dsplit": _choice("row", "col"), "refresh_leaf": _int(0, 1),
            "process_type": _choice("default", "update"), "grow_policy": _choice("depthwise", "lossguide"),
            "max_leaves": NON_NEGATIVE_INT, "max_bin": NON_NEGATIVE_INT,
            "predictor": _choice("auto", "cpu_predictor", "gpu_predictor"),
            "sample_type": _choice("uniform", "weighted"), "normalize_type": _choice("tree", "forest"),
            "rate_drop": UNIT, "one_drop": _int(0, 1), "skip_drop": UNIT, "lambda_bias": UNIT,
            "tweedie_variance_power": _float(1, 2, low_open=True, high_open=True),
            "objective": _choice(
                "aft_loss_distribution", "binary:logistic", "binary:logitraw", "binary:hinge", "count:poisson",
                "multi:softmax", "multi:softprob", "rank:pairwise", "rank:ndcg", "rank:map", "reg:linear",
                "reg:squarederror", "reg:logistic", "reg:gamma", "reg:pseudohubererror", "reg:squaredlogerror",
                "reg:absoluteerror", "reg:tweedie", "survival:aft", "survival:cox"),
            "num_class": _int(2), "base_score": NON_NEGATIVE_FLOAT,
            "eval_metric": Rule("list", choices=(
                "accuracy", "auc", "aucpr", "balanced_accuracy", "f1", "f1_binary", "f1_macro", "map", "ndcg",
                "precision", "r2", "recall", "precision_macro", "precision_micro", "recall_macro", "recall_micro",
                "aft-nloglik", "cox-nloglik", "error", "gamma-deviance", "gamma-nloglik",
                "interval-regression-accuracy", "logloss", "mae", "mape", "merror", "mlogloss", "mphe", "mse",
                "poisson-nloglik", "rmse", "rmsle", "tweedie-nloglik")),
            "seed": _int(-(2**31), 2**31 - 1, low_open=True, high_open=True), "num_parallel_tree": POSITIVE_INT,
            "save_model_on_termination": _choice("true", "false"),
            "aft_loss_distribution": _choice("normal", "logistic", "extreme"),
            "aft_loss_distribution_scale": NON_NEGATIVE_FLOAT,
            "deterministic_histogram": _choice("true", "false"), "sampling_method": _choice("uniform", "gradient_based"),
            "prob_buffer_row": _int(1, low_open=True), "use_dask_gpu_training": _choice("true", "false"),
        },
        # The container's dependency validators (the same file): each fails the job with its message.
        cross_checks=(lambda hp: (
            "training.hyperparameters_template.monotone_constraints: the xgboost container takes it only with "
            "tree_method exact or hist; set tree_method"
            if "monotone_constraints" in hp and hp.get("tree_method") not in ("exact", "hist") else None),
                      lambda hp: (
            "training.hyperparameters_template.interaction_constraints: the xgboost container takes it only with "
            "tree_method exact, hist or approx; set tree_method"
            if "interaction_constraints" in hp and hp.get("tree_method") not in ("exact", "hist", "approx") else None),
                      lambda hp: (
            "training.hyperparameters_template.eval_metric: 'aft-nloglik' applies to objective survival:aft only"
            if "aft-nloglik" in [m.strip() for m in hp.get("eval_metric", "").split(",")]
            and hp.get("objective") != "survival:aft" else None),
                      lambda hp: (
            "training.hyperparameters_template.updater: with booster gblinear, the updater is one of shotgun or "
            "coord_descent"
            if hp.get("booster") == "gblinear" and "updater" in hp
            and hp["updater"] not in ("shotgun", "coord_descent") else None),
                      # "Metric 'auc' can only be applied for classification and ranking problems."
                      lambda hp: (
            "training.hyperparameters_template.eval_metric: 'auc' applies to binary: and rank: objectives only; "
            f"the objective is {hp.get('objective', 'reg:squarederror (the default)')}"
            if "auc" in [m.strip() for m in hp.get("eval_metric", "").split(",")]
            and not hp.get("objective", "").startswith(("binary:", "rank:")) else None),),
    ),
    "image-classification": Contract(
        source=_DOC + "IC-Hyperparameter.html",
        accepted=frozenset({
            "num_classes", "num_training_samples", "augmentation_type", "beta_1", "beta_2", "checkpoint_frequency",
            "early_stopping", "early_stopping_min_epochs", "early_stopping_patience", "early_stopping_tolerance",
            "epochs", "eps", "gamma", "image_shape", "kv_store", "learning_rate", "lr_scheduler_factor",
            "lr_scheduler_step", "mini_batch_size", "momentum", "multi_label", "num_layers", "optimizer",
            "precision_dtype", "resize", "top_k", "use_pretrained_model", "use_weighted_loss", "weight_decay",
        }),
        # resize is required only for image files; the split's manifests stream RecordIO.
        required=("num_classes", "num_training_samples"),
        rules={
            "num_classes": POSITIVE_INT, "num_training_samples": POSITIVE_INT,
            "augmentation_type": _choice("crop", "crop_color", "crop_color_transform"),
            "beta_1": UNIT, "beta_2": UNIT, "checkpoint_frequency": POSITIVE_INT, "early_stopping": BOOL,
            "early_stopping_min_epochs": POSITIVE_INT, "early_stopping_patience": POSITIVE_INT,
            "early_stopping_tolerance": UNIT, "epochs": POSITIVE_INT, "eps": UNIT, "gamma": UNIT,
            "kv_store": _choice("dist_sync", "dist_async"), "learning_rate": UNIT, "lr_scheduler_factor": UNIT,
            "mini_batch_size": POSITIVE_INT, "momentum": UNIT, "multi_label": FLAG,
            "num_layers": _choice(*(str(n) for n in (18, 20, 32, 34, 44, 50, 56, 101, 110, 152, 200))),
            "optimizer": _choice("sgd", "adam", "rmsprop", "nag"), "precision_dtype": _choice("float32", "float16"),
            "resize": POSITIVE_INT, "top_k": _int(2), "use_pretrained_model": FLAG, "use_weighted_loss": FLAG,
            "weight_decay": UNIT,
        },
    ),
    "blazingtext": Contract(
        source=_DOC + "blazingtext_hyperparameters.html",
        accepted=frozenset({
            "mode", "buckets", "early_stopping", "epochs", "learning_rate", "min_count", "min_epochs", "patience",
            "vector_dim", "word_ngrams", "batch_size", "evaluation", "max_char", "min_char", "negative_samples",
            "sampling_threshold", "subwords", "window_size",
        }),
        required=("mode",),
        rules={
            "mode": _choice("supervised", "batch_skipgram", "skipgram", "cbow"),
            "buckets": POSITIVE_INT, "early_stopping": BOOL, "epochs": POSITIVE_INT,
            "learning_rate": POSITIVE_FLOAT, "min_count": NON_NEGATIVE_INT, "min_epochs": POSITIVE_INT,
            "patience": POSITIVE_INT, "vector_dim": POSITIVE_INT, "word_ngrams": POSITIVE_INT,
            "batch_size": POSITIVE_INT, "evaluation": BOOL, "max_char": POSITIVE_INT, "min_char": POSITIVE_INT,
            "negative_samples": POSITIVE_INT, "sampling_threshold": POSITIVE_FLOAT, "subwords": BOOL,
            "window_size": POSITIVE_INT,
        },
    ),
}


def rejected_names(family: str, names: Iterable[str]) -> list[str]:
    """The names ``family``'s container would refuse; none for a custom container."""
    contract = CONTRACTS.get(family)
    if contract is None:
        return []
    return sorted(name for name in names if name not in contract.accepted and not name.startswith("_"))


def closest_name(family: str, name: str) -> str | None:
    """The accepted name ``name`` most likely misspells (``num_rounds`` -> ``num_round``), if any."""
    contract = CONTRACTS.get(family)
    close = difflib.get_close_matches(name, sorted(contract.accepted), n=1, cutoff=0.8) if contract else []
    return close[0] if close else None


def input_problems(family: str, template: Mapping[str, str]) -> list[str]:
    """Required names missing, and values without placeholders outside their documented values."""
    contract = CONTRACTS.get(family)
    if contract is None:
        return []
    problems = []
    missing = [name for name in contract.required if name not in template]
    missing += [f"{name} (required when {why})" for name, when, why in contract.required_when
                if name not in template and when(template)]
    if missing:
        problems.append(
            f"training.hyperparameters_template: {family} requires {', '.join(missing)}; add "
            f"{'it' if len(missing) == 1 else 'them'} (see {contract.source})")
    # a value with "${" holds a placeholder, whole or broken (the broken ones are named elsewhere)
    literal = {name: value for name, value in template.items() if "${" not in value}
    return problems + _value_problems(family, contract, literal, filled_from={}, template=template)


def fold_problems(family: str, template: Mapping[str, str], rendered: Mapping[str, str]) -> list[str]:
    """The values that held a placeholder, checked once it is filled with a fold's numbers."""
    contract = CONTRACTS.get(family)
    if contract is None:
        return []
    filled = {name: rendered[name] for name, value in template.items() if placeholders_in(value)}
    return _value_problems(family, contract, filled, filled_from=template, template=rendered)


def _value_problems(family: str, contract: Contract, values: Mapping[str, str], *,
                    filled_from: Mapping[str, str], template: Mapping[str, str]) -> list[str]:
    """The values outside their rules, then the rules between names (on ``template``, once: when the
    literal values are checked, or when a fold fills a placeholder one of them depends on)."""
    problems = []
    for name, value in values.items():
        ignored = contract.ignored_when.get(name)
        if ignored is not None and ignored(template):
            continue
        rule = contract.rules.get(name)
        problem = rule.problem(value) if rule else None
        if problem:
            given = f"{filled_from[name]} is {value!r}, which" if name in filled_from else f"{value!r}"
            problems.append(f"training.hyperparameters_template.{name}: for {family}, {given} {problem} "
                            f"(see {contract.source})")
    if not problems and (not filled_from or values):
        complete = {name: value for name, value in template.items() if "${" not in value}
        problems += [f"{problem} (see {contract.source})" for check in contract.cross_checks
                     if (problem := check(complete))]
    return problems


def _threshold_metric(item: str) -> bool:
    """``error@0.7``, ``ndcg@3``, ``map@5``: the metrics the XGBoost container takes with a threshold."""
    name, at, threshold = item.partition("@")
    return bool(at) and name.strip() in {"error", "ndcg", "map"} and _number(threshold.strip()) is not None


def _number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _shown(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)
