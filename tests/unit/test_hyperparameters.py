"""Per-fold hyperparameters from the template."""

from smx_common.hyperparameter_placeholders import render
from smx_split import hyperparameters


def test_placeholders_are_filled_with_the_folds_numbers():
    template = {"num_classes": "${num_classes}", "mini_batch_size": "32", "note": "n=${num_training_samples}"}
    rendered = render(template, {"num_classes": 3, "num_training_samples": 80, "num_validation_samples": 20})
    assert rendered == {"num_classes": "3", "mini_batch_size": "32", "note": "n=80"}


def test_unknown_placeholders_are_listed_per_key():
    template = {"a": "${num_class}", "b": "${num_classes}", "c": "${x}-${num_validation_samples}"}
    assert hyperparameters.unknown_placeholders(template) == {"a": ["num_class"], "c": ["x"]}


def test_values_are_normalised_to_the_strings_sagemaker_parses():
    values, notes = hyperparameters.normalise({"epochs": 5, "use_bias": False, "lr": 1e-3, "opt": "adam"})
    assert values == {"epochs": "5", "use_bias": "false", "lr": "0.001", "opt": "adam"}
    assert len(notes) == 3
