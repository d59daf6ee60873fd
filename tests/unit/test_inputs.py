"""Input validation and normalisation: what a user sees before any data is touched."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from smx_split.errors import InvalidInputError
from smx_split.inputs import Deployment, validate_input

SAMPLE_EVENT = json.loads((Path(__file__).resolve().parents[2] / "doc" / "sample_event.json").read_text())


def sample(**changes) -> dict:
    """The documented example with ``section__field=value`` changes (None deletes the field)."""
    document = copy.deepcopy(SAMPLE_EVENT)
    for dotted, value in changes.items():
        *parents, leaf = dotted.split("__")
        target = document
        for parent in parents:
            target = target[parent]
        if value is None:
            target.pop(leaf, None)
        else:
            target[leaf] = value
    return document


def problems_of(document, deployment=None) -> list[str]:
    with pytest.raises(InvalidInputError) as raised:
        validate_input(document, deployment)
    return raised.value.problems


def test_documented_example_is_valid_and_gets_sagemaker_safe_names():
    # GIVEN the README's example, which uses underscores SageMaker names reject
    # WHEN it is validated
    spec = validate_input(SAMPLE_EVENT)
    # THEN the derived names are SageMaker-safe and the mapping is reported
    assert spec.job_name == "my-training"
    assert spec.experiment_name == "my-training-experiment"
    assert {"field": "job_config.name", "given": "my_training", "used": "my-training"} in spec.name_mapping
    # AND the example's MaxWaitTimeInSeconds yields a valid spot-training request
    assert spec.managed_spot_training is True
    assert spec.stopping_condition == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    # AND the image-classification manifest is streamed as the algorithm expects
    assert spec.algorithm_family == "image-classification"
    assert spec.channel_layout.s3_data_type == "AugmentedManifestFile"
    assert spec.channel_layout.attribute_names == ("source-ref", "class")


def test_hyperparameters_a_builtin_algorithm_refuses_are_left_out_with_a_note():
    # GIVEN the example's placeholder hyperparameter "foo", unknown to image-classification
    spec = validate_input(SAMPLE_EVENT)
    # THEN it is not sent (the container would fail every fold) and the user is told
    assert spec.hyperparameters == {"num_classes": "${num_classes}", "num_training_samples": "${num_training_samples}"}
    assert any(note.startswith("hyperparameter 'foo': left out") for note in spec.notes)
    # AND a custom container receives every hyperparameter as given
    custom = validate_input(sample(training__algorithm_specification={
        "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1", "TrainingInputMode": "Pipe"}))
    assert custom.hyperparameters["foo"] == "bar"


def test_both_documented_spellings_of_the_hyperparameter_template_work():
    template = {"num_classes": "${num_classes}", "num_training_samples": "${num_training_samples}", "epochs": "3"}
    plural = validate_input(sample(training__hyperparameters_template=template))
    singular = validate_input(sample(training__hyperparameters_template=None, training__hyperparameter_template=template))
    assert plural.hyperparameters == singular.hyperparameters == template


def test_giving_both_spellings_is_an_error_naming_them():
    problems = problems_of(sample(training__hyperparameter_template={"a": "1"}))
    assert any("hyperparameters_template or hyperparameter_template" in p for p in problems)


def test_numbers_and_booleans_become_strings_and_the_conversion_is_noted():
    spec = validate_input(sample(training__hyperparameters_template={
        "num_classes": 3, "num_training_samples": 90, "epochs": 10, "learning_rate": 0.1, "early_stopping": True}))
    assert spec.hyperparameters == {"num_classes": "3", "num_training_samples": "90", "epochs": "10",
                                    "learning_rate": "0.1", "early_stopping": "true"}
    assert any("'epochs'" in note and "'10'" in note for note in spec.notes)


def test_every_problem_is_reported_at_once_each_naming_its_field():
    document = sample(crossvalidation__n_splits=1, job_config__input_path="bucket/input.jsonl",
                      training__resource_config={"InstanceCount": 1})
    problems = problems_of(document)
    assert any(p.startswith("crossvalidation.n_splits: 1 is out of range; it must be at least 2") for p in problems)
    assert any(p.startswith("job_config.input_path:") and "s3://bucket/" in p for p in problems)
    assert any(p == "training.resource_config.InstanceType: missing; this field is required" for p in problems)


def test_unknown_fields_are_rejected_with_a_suggestion():
    problems = problems_of(sample(crossvalidation__n_split=5))
    assert "crossvalidation.n_split: unknown field; did you mean 'n_splits'?" in problems


def test_invalid_json_names_line_and_column():
    problems = problems_of('{"job_config": {\n  "name": }')
    assert problems == ["input: not valid JSON at line 2, column 11: Expecting value"]


def test_a_name_too_long_for_sagemaker_says_how_long_it_may_be():
    problems = problems_of(sample(job_config__name="a" * 27))
    assert any("job_config.name:" in p and "may be at most 26 characters" in p for p in problems)
    # With more than ten folds the fold index takes two digits, leaving one character less.
    problems = problems_of(sample(job_config__name="a" * 26, crossvalidation__n_splits=11))
    assert any("may be at most 25 characters" in p for p in problems)


def test_longest_allowed_name_gives_63_character_job_names():
    from smx_split import naming
    from datetime import datetime

    spec = validate_input(sample(job_config__name="a" * 26))
    longest = naming.fold_job_name(naming.run_id(spec.job_name, datetime(2026, 11, 22, 23, 59, 59)), 4)
    assert len(longest) == 63


def test_buckets_outside_the_deployment_are_rejected_before_any_access():
    deployment = Deployment(input_bucket="data-in", output_bucket="data-out")
    problems = problems_of(SAMPLE_EVENT, deployment)
    assert any(p.startswith("job_config.input_path: bucket 'bucket' is not this deployment's InputBucketName 'data-in'")
               for p in problems)
    assert any(p.startswith("job_config.output_prefix: bucket 'bucket' is not this deployment's OutputBucketName")
               for p in problems)


def test_reserved_and_duplicate_tag_keys_are_rejected():
    tags = [{"Key": "fold", "Value": "x"}, {"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}]
    problems = problems_of(sample(job_config__tags=tags))
    assert any(p.startswith("job_config.tags[0].Key: 'fold' is set by SMX-Validator") for p in problems)
    assert any(p.startswith("job_config.tags[2].Key: 'team' appears twice") for p in problems)


def test_a_misspelled_placeholder_is_named_with_the_available_ones():
    problems = problems_of(sample(training__hyperparameters_template={"num_classes": "${num_class}"}))
    assert any("training.hyperparameters_template.num_classes: unknown placeholder ${num_class}" in p
               and "${num_classes}" in p for p in problems)


def test_too_many_hyperparameters_are_rejected():
    problems = problems_of(sample(training__hyperparameters_template={f"h{i}": "1" for i in range(101)}))
    assert any(p.startswith("training.hyperparameters_template: has 101 entries; it may have at most 100") for p in problems)


def test_spot_training_needs_a_wait_at_least_as_long_as_the_runtime():
    problems = problems_of(sample(training__stopping_condition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 60}))
    assert any(p.startswith("training.stopping_condition.MaxWaitTimeInSeconds: 60 is less than MaxRuntimeInSeconds 3600")
               for p in problems)


def test_spot_training_off_drops_the_wait_time_sagemaker_would_reject():
    spec = validate_input(sample(training__managed_spot_training=False))
    assert spec.managed_spot_training is False
    assert "MaxWaitTimeInSeconds" not in spec.stopping_condition
    assert any("MaxWaitTimeInSeconds: dropped" in note for note in spec.notes)


def test_spot_training_on_without_wait_time_waits_as_long_as_it_may_run():
    spec = validate_input(sample(training__managed_spot_training=True,
                                 training__stopping_condition={"MaxRuntimeInSeconds": 600}))
    assert spec.stopping_condition == {"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 600}


def test_an_omitted_seed_is_drawn_and_reported_so_the_split_can_be_repeated():
    spec = validate_input(sample(crossvalidation__random_state=None))
    assert 0 <= spec.random_state < 2**32
    assert any(str(spec.random_state) in note for note in spec.notes)


def test_an_algorithm_that_cannot_read_the_data_format_is_rejected():
    problems = problems_of(sample(job_config__input_path="s3://bucket/path/input.csv"))
    assert any(p.startswith("job_config.input_format: image-classification reads jsonl input, but the dataset is csv")
               for p in problems)


def test_an_augmented_manifest_in_file_mode_says_to_use_pipe():
    problems = problems_of(sample(training__algorithm_specification={
        "TrainingImage": "685385470294.dkr.ecr.eu-west-1.amazonaws.com/image-classification:1"}))
    assert any("TrainingInputMode" in p and "Pipe" in p for p in problems)


def test_concurrency_defaults_to_the_deployment_and_a_run_may_override_it():
    assert validate_input(SAMPLE_EVENT, Deployment(default_max_concurrency=3)).max_concurrency == 3
    assert validate_input(sample(crossvalidation__max_concurrency=1), Deployment(default_max_concurrency=3)).max_concurrency == 1


def test_the_input_document_is_never_modified():
    document = sample()
    before = copy.deepcopy(document)
    validate_input(document)
    assert document == before


def test_given_column_0_as_the_group_then_the_message_says_it_is_the_label():
    # GIVEN the label's column as the group column (the schema's minimum is 1)
    problems = problems_of(sample(job_config__input_path="s3://bucket/data.csv", crossvalidation__group_attribute=0))
    # THEN the one problem says why 0 is refused
    assert problems == ["crossvalidation.group_attribute: must be an attribute name (JSON Lines) or a column number "
                        "of at least 1 (CSV) (column 0 is the label)"]


def test_a_quoted_boolean_says_to_write_the_json_literal():
    # GIVEN tuning.refit written "yes", as in a YAML habit
    document = sample()
    document["tuning"] = {"objective": {"metric": "validation:accuracy", "type": "Maximize"},
                          "grid": {"learning_rate": ["0.1", "0.01"]}, "refit": "yes"}
    # THEN the problem names the field and the fix
    assert problems_of(document) == [
        'tuning.refit: expected boolean, got string "yes"; write true or false, without quotes']


def test_a_flood_of_long_problems_keeps_the_cause_within_step_functions_limit():
    # GIVEN 60 problems each echoing a 2,500-character value (a search of long bad values)
    from smx_split.errors import InvalidInputError
    problems = [f"tuning.candidates[{i}].learning_rate: {'9' * 2500} is not a number" for i in range(60)]
    # WHEN they are raised
    message = str(InvalidInputError(problems))
    # THEN the message stays well under a cause's 32,768 characters, each problem shortened, the rest counted
    assert len(message) < 25_000 and message.splitlines()[0].endswith(" [...]")
    assert message.splitlines()[-1].startswith("... and ") and "`smx-validator validate`" in message
    assert InvalidInputError(problems).problems == problems  # validate prints every one in full


def test_a_grid_list_over_its_limit_says_where_more_values_go():
    document = sample()
    document["tuning"] = {"objective": {"metric": "validation:accuracy", "type": "Maximize"},
                          "grid": {"learning_rate": [str(0.001 * i) for i in range(1, 122)]}}
    assert problems_of(document) == [
        "tuning.grid.learning_rate: has 121 entries; it may have at most 100; list the rest under "
        "tuning.candidates (up to 1000 sets)"]
