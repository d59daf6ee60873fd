"""Hyperparameters each built-in algorithm accepts (from its AWS documentation).

The built-in containers fail a job whose HyperParameters hold any other name ("Additional
hyperparameters are not allowed"), so the split step leaves such names out, and the local
trainers refuse them exactly as the containers do. Names starting with "_" are SageMaker's
own (e.g. ``_tuning_objective_metric``) and always pass.
"""

from __future__ import annotations

from collections.abc import Iterable

ACCEPTED_HYPERPARAMETERS: dict[str, frozenset[str]] = {
    "linear-learner": frozenset({
        "num_classes", "predictor_type", "accuracy_top_k", "balance_multiclass_weights", "beta_1", "beta_2",
        "bias_lr_mult", "bias_wd_mult", "binary_classifier_model_selection_criteria", "early_stopping_patience",
        "early_stopping_tolerance", "epochs", "f_beta", "feature_dim", "huber_delta", "init_bias", "init_method",
        "init_scale", "init_sigma", "l1", "learning_rate", "loss", "loss_insensitivity", "lr_scheduler_factor",
        "lr_scheduler_minimum_lr", "lr_scheduler_step", "margin", "mini_batch_size", "momentum", "normalize_data",
        "normalize_label", "num_calibration_samples", "num_models", "num_point_for_scaler", "optimizer",
        "positive_example_weight_mult", "quantile", "target_precision", "target_recall", "unbias_data",
        "unbias_label", "use_bias", "use_lr_scheduler", "wd",
    }),
    "knn": frozenset({
        "feature_dim", "k", "predictor_type", "sample_size", "dimension_reduction_target",
        "dimension_reduction_type", "faiss_index_ivf_nlists", "faiss_index_pq_m", "index_metric", "index_type",
        "mini_batch_size",
    }),
    "xgboost": frozenset({
        "num_class", "num_round", "alpha", "base_score", "booster", "colsample_bylevel", "colsample_bynode",
        "colsample_bytree", "csv_weights", "deterministic_histogram", "early_stopping_rounds", "eta", "eval_metric",
        "gamma", "grow_policy", "interaction_constraints", "lambda", "lambda_bias", "max_bin", "max_delta_step",
        "max_depth", "max_leaves", "min_child_weight", "monotone_constraints", "normalize_type", "nthread",
        "objective", "one_drop", "process_type", "rate_drop", "refresh_leaf", "sample_type", "scale_pos_weight",
        "seed", "single_precision_histogram", "sketch_eps", "skip_drop", "subsample", "tree_method",
        "tweedie_variance_power", "updater", "use_dask_gpu_training", "validate_parameters", "verbosity",
    }),
    "image-classification": frozenset({
        "num_classes", "num_training_samples", "augmentation_type", "beta_1", "beta_2", "checkpoint_frequency",
        "early_stopping", "early_stopping_min_epochs", "early_stopping_patience", "early_stopping_tolerance",
        "epochs", "eps", "gamma", "image_shape", "kv_store", "learning_rate", "lr_scheduler_factor",
        "lr_scheduler_step", "mini_batch_size", "momentum", "multi_label", "num_layers", "optimizer",
        "precision_dtype", "resize", "top_k", "use_pretrained_model", "use_weighted_loss", "weight_decay",
    }),
    "blazingtext": frozenset({
        "mode", "buckets", "early_stopping", "epochs", "learning_rate", "min_count", "min_epochs", "patience",
        "vector_dim", "word_ngrams", "batch_size", "evaluation", "max_char", "min_char", "negative_samples",
        "sampling_threshold", "subwords", "window_size",
    }),
}


def rejected_names(family: str, names: Iterable[str]) -> list[str]:
    """The names ``family``'s container would refuse; none for a custom container."""
    accepted = ACCEPTED_HYPERPARAMETERS.get(family)
    if accepted is None:
        return []
    return sorted(name for name in names if name not in accepted and not name.startswith("_"))
