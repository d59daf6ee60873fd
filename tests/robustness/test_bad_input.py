"""Every bad input fails the split step with a message naming the field or line and the fix,
before anything is written (doc/bad-input.md lists them; each row names its test here).

Each case drives the template's real SplitFunction handler on emulated S3 and SageMaker
(``split.rejects`` checks that nothing was written, no experiment or trial was created, the
input bucket is unchanged and the problems were logged). The last class runs a few of them
through the deployed state machine on the offline engine.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from jsonschema import Draft202012Validator

from smx_common.s3uri import S3Uri
from smx_split import line_problems
from smx_validator.cli import main as cli_main
from smx_validator.local.engine import LocalEngine

from .conftest import (
    CUSTOM_IMAGE,
    IMAGE_CLASSIFICATION,
    LINEAR_LEARNER,
    REPO,
    csv_input,
    csv_rows,
    manifest,
    sample_input,
)

HERE = Path(__file__).resolve()
DOC = REPO / "doc" / "bad-input.md"
MARKER = "LEAKED-DATASET-CONTENT"


def padded_to_60(start: str) -> str:
    """``start`` padded past character 60, then MARKER: no message may show that far into a line."""
    return start + "x" * (61 - len(start)) + MARKER


# --- the execution input ---------------------------------------------------------------------


def test_an_input_sent_as_a_string_of_json_is_refused(split):
    # GIVEN the input JSON-encoded once too often: Step Functions hands the split step a string
    document = json.dumps(sample_input())
    # WHEN the split step runs
    rejection = split.rejects(document, data=manifest(), key="path/input.jsonl")
    # THEN it says what it got and how to send it (a string cannot take the plan the state machine adds)
    assert rejection.problems == [
        'input: expected an object, got string "{\\"job_config\\": {\\"output_prefix\\": \\"s3://smx-out/outp...; '
        "the input is a string holding JSON: pass the JSON object itself, not a string of it"
    ]


@pytest.mark.parametrize("document, shown", [(None, "null"), ([1, 2], "array [1, 2]"), ("run it", 'string "run it"')])
def test_an_input_that_is_not_an_object_is_refused(split, document, shown):
    rejection = split.rejects(document)
    assert rejection.problems == [
        f"input: expected an object, got {shown}; start the execution with an object holding job_config, "
        "crossvalidation and training"
    ]


def test_every_schema_violation_is_reported_at_once_with_its_field_path(split):
    # GIVEN an input with five independent mistakes
    document = sample_input(
        crossvalidation={"n_splits": "5", "strategy": "random"},
        job_config={"name": 42},
    )
    del document["training"]["resource_config"]["InstanceType"]
    document["training"]["stopping_condition"]["MaxRuntimeInSeconds"] = 0
    # WHEN the split step runs
    rejection = split.rejects(document, data=manifest())
    # THEN all five are reported in one round, each starting with its field path
    assert rejection.problems == [
        'crossvalidation.n_splits: expected integer, got string "5"',
        'crossvalidation.strategy: "random" is not one of "auto", "stratified", "kfold", "group", "stratified_group"',
        "job_config.name: expected string, got integer 42",
        "training.resource_config.InstanceType: missing; this field is required",
        "training.stopping_condition.MaxRuntimeInSeconds: 0 is out of range; it must be at least 1",
    ]


def test_a_missing_section_is_named(split):
    document = sample_input()
    del document["crossvalidation"]
    assert split.rejects(document).problems == ["crossvalidation: missing; this field is required"]


def test_unknown_keys_are_named_with_the_closest_allowed_one(split):
    # GIVEN a misspelled field, an unknown section and a key with a space
    document = sample_input()
    document["crossvalidation"]["n_split"] = document["crossvalidation"].pop("n_splits")
    document["extras"] = {}
    document["job config"] = {}
    # WHEN / THEN each is named, with a suggestion or the allowed fields
    assert split.rejects(document, data=manifest()).problems == [
        "extras: unknown field; allowed fields: crossvalidation, job_config, tracking, training, tuning",
        '"job config": unknown field; did you mean \'job_config\'?',
        "crossvalidation.n_splits: missing; this field is required",
        "crossvalidation.n_split: unknown field; did you mean 'n_splits'?",
    ]


@pytest.mark.parametrize("n_splits, expected", [
    (1, "crossvalidation.n_splits: 1 is out of range; it must be at least 2"),
    (21, "crossvalidation.n_splits: 21 is out of range; it must be at most 20"),
    (2.5, "crossvalidation.n_splits: expected integer, got number 2.5"),
])
def test_n_splits_outside_2_to_20_is_refused(split, n_splits, expected):
    rejection = split.rejects(sample_input(crossvalidation={"n_splits": n_splits}), data=manifest())
    assert rejection.problems == [expected]


def test_n_splits_above_the_number_of_lines_is_refused(split):
    # GIVEN 5 folds of a 4-line dataset (kfold: no class-size rule gets in first)
    document = csv_input(crossvalidation={"n_splits": 5, "strategy": "kfold"})
    rejection = split.rejects(document, data=csv_rows(4))
    assert rejection.problems == [
        "crossvalidation.n_splits: 5 folds need at least 5 lines, but the dataset has 4: lower n_splits or add data"
    ]


def test_a_whole_number_given_as_a_float_is_normalised_and_logged(split):
    # GIVEN n_splits 5.0 and a seed 7.0 (JSON Schema counts them as integers; scikit-learn would not)
    document = sample_input(crossvalidation={"n_splits": 5.0, "random_state": 7.0})
    split.upload("path/input.jsonl", manifest())
    # WHEN the split step runs
    plan = split.run(document)
    # THEN it splits into 5 folds with seed 7 and says it converted them
    assert plan["crossvalidation"]["n_splits"] == 5 and plan["crossvalidation"]["random_state"] == 7
    assert len(plan["folds"]) == 5
    notes = plan["job_config"]["notes"]
    assert "crossvalidation.n_splits: converted 5.0 to the integer 5" in notes
    assert "crossvalidation.random_state: converted 7.0 to the integer 7" in notes


def test_a_class_with_fewer_lines_than_folds_is_named_with_the_ways_out(split):
    # GIVEN 5 stratified folds and two classes with 3 and 1 lines
    data = manifest(20, 2) + b'{"source-ref": "s3://smx-in/x.jpg", "class": "rare"}\n' * 3 + \
        b'{"source-ref": "s3://smx-in/y.jpg", "class": "unique"}\n'
    document = sample_input()  # for a custom container: class names are fine (image-classification wants 0..n-1)
    document["training"]["algorithm_specification"]["TrainingImage"] = CUSTOM_IMAGE
    rejection = split.rejects(document, data=data)
    assert rejection.problems == [
        "crossvalidation.n_splits: stratifying into 5 folds needs at least 5 lines of every class; 2 of 4 classes "
        "have fewer: 'rare' (3), 'unique' (1). Merge or remove the rare classes, lower crossvalidation.n_splits, "
        "or set crossvalidation.strategy to \"kfold\" (a continuous label, such as a regression target in a CSV's "
        "first column, needs \"kfold\")"
    ]


def test_stratified_on_a_dataset_without_labels_is_refused(split):
    document = csv_input("path/input.txt", crossvalidation={"n_splits": 2, "strategy": "stratified"})
    rejection = split.rejects(document, data=b"some words\nmore words\nthird line\n")
    assert rejection.problems == [
        'crossvalidation.strategy: "stratified" stratifies by label, but the dataset has none: label every line '
        '(CSV: first column; JSON Lines: crossvalidation.label_attribute; text: __label__), or use "kfold"'
    ]


def test_num_classes_placeholder_on_a_dataset_without_labels_is_refused(split):
    # GIVEN ${num_classes} for a custom container and a manifest whose lines have no "class"
    data = b"".join(json.dumps({"source-ref": f"s3://smx-in/{i}.jpg"}).encode() + b"\n" for i in range(10))
    document = sample_input(training={"algorithm_specification": {"TrainingImage": CUSTOM_IMAGE,
                                                                  "TrainingInputMode": "File"}})
    rejection = split.rejects(document, data=data)
    assert rejection.problems == [
        "training.hyperparameters_template: ${num_classes} needs labelled data, but no line of the dataset has a "
        "label (the 'class' attribute); label the data or set num_classes yourself",
    ]


def test_a_label_attribute_no_line_has_is_the_one_problem_named_when_the_channels_read_it(split):
    # GIVEN image-classification with ${num_classes} and a manifest whose labels are under "label", not "class"
    data = manifest().replace(b'"class"', b'"label"')
    rejection = split.rejects(sample_input(), data=data)
    # THEN the fix named is the attribute (setting num_classes would not help)
    assert rejection.problems == [
        "crossvalidation.label_attribute: no line of the dataset has a 'class' attribute, but the training channels "
        "read it (AttributeNames ['source-ref', 'class']), so every job would fail; set crossvalidation.label_attribute "
        "to the attribute that holds each line's label",
    ]


# --- the dataset -----------------------------------------------------------------------------


def test_an_empty_dataset_is_refused(split):
    assert split.rejects(sample_input(), data=b"").problems == [
        "job_config.input_path: the dataset is empty (0 bytes); upload the data, one record per line, "
        "or point input_path at the object that holds it"
    ]


def test_a_dataset_of_empty_lines_names_them(split):
    rejection = split.rejects(sample_input(), data=b"\n\r\n")
    assert rejection.problems == [
        "line 1: is empty (starts with: ''): remove empty lines: only one final newline may end the data",
        "line 2: is empty (starts with: '\\r'): remove empty lines: only one final newline may end the data",
    ]


def test_a_malformed_manifest_line_is_named_with_its_number_and_start(split):
    data = manifest(10) + b'{"source-ref": "s3://smx-in/a.jpg", "class": "1"\n' + manifest(10)
    rejection = split.rejects(sample_input(), data=data)
    assert rejection.problems == [
        "line 11: is not valid JSON (Expecting ',' delimiter at column 49) (starts with: "
        "'{\"source-ref\": \"s3://smx-in/a.jpg\", \"cla'): write exactly one JSON object per line"
    ]


def test_a_csv_row_with_a_different_number_of_columns_is_named(split):
    rejection = split.rejects(csv_input(), data=csv_rows(6) + b"1,2\n" + csv_rows(6))
    assert rejection.problems == [
        "line 7: has 2 fields but line 1 has 3 (starts with: '1,2'): give every row the same comma-separated "
        "columns, the label first"
    ]


def test_a_csv_header_row_is_named(split):
    rejection = split.rejects(csv_input(), data=b"label,height,weight\n" + csv_rows(10))
    assert rejection.problems == [
        "line 1: looks like a header; a CSV dataset has no header (the split would take it for a sample) (starts with: "
        "'label,height,weight'): remove it (pandas writes one, and a first column of row numbers, unless told "
        "to_csv(path, header=False, index=False))"
    ]


def test_an_unclosed_csv_quote_is_named_instead_of_swallowing_the_next_rows(split):
    rejection = split.rejects(csv_input(), data=csv_rows(4) + b'1,"2.5,3\n' + csv_rows(4))
    assert rejection.problems == [
        "line 5: is not a CSV row (unexpected end of data) (starts with: '1,\"2.5,3'): close every quote on the row "
        "it opens (a record may not span lines) and double quotes inside quoted fields"
    ]


def test_a_carriage_return_inside_a_csv_row_is_named(split):
    # GIVEN a file saved with old Mac line endings after line 4 (\r only)
    rejection = split.rejects(csv_input(), data=csv_rows(4) + b"0,1.5,2\r1,2.5,3\r0,3.5,4\n")
    assert rejection.problems == [
        "line 5: has a carriage return (\\r) inside the row (starts with: '0,1.5,2\\r1,2.5,3\\r0,3.5,4'): "
        "end every row with \\n or \\r\\n (convert a file saved with \\r-only line endings)"
    ]


def test_an_empty_blazingtext_label_is_named(split):
    document = csv_input("path/input.txt")
    rejection = split.rejects(document, data=b"__label__a one\n__label__ two\n__label__b three\n")
    assert rejection.problems == [
        "line 2: has an empty __label__ (starts with: '__label__ two'): write the class right after __label__, "
        "such as __label__positive"
    ]


@pytest.mark.parametrize("value, kind", [("null", "null"), ("true", "boolean"), ('{"name": "cat"}', "object")])
def test_a_label_that_is_not_a_string_or_number_is_named(split, value, kind):
    data = manifest(10) + b'{"source-ref": "s3://smx-in/a.jpg", "class": ' + value.encode() + b"}\n"
    [problem] = split.rejects(sample_input(), data=data).problems
    assert problem.startswith(f'line 11: has a "class" that is a JSON {kind} (crossvalidation.label_attribute)')
    assert problem.endswith(': make "class" a string or a number')


def test_a_multi_label_line_is_named_as_a_known_limit(split):
    data = manifest(10) + b'{"source-ref": "s3://smx-in/a.jpg", "class": [0, 1]}\n'
    [problem] = split.rejects(sample_input(), data=data).problems
    assert problem.startswith('line 11: has a "class" that is a JSON array (multi-label), which SMX-Validator does not '
                              'split yet')
    assert problem.endswith("give each line one class; multi-label manifests (BlazingText's and image-classification's "
                            "array labels) are a known limit")


def test_a_json_number_too_long_to_read_is_named(split):
    data = manifest(10) + b'{"source-ref": "s3://smx-in/a.jpg", "class": "1", "id": ' + b"9" * 5000 + b"}\n"
    rejection = split.rejects(sample_input(), data=data)
    assert rejection.problems == [
        "line 11: has a number with too many digits to read (starts with: "
        "'{\"source-ref\": \"s3://smx-in/a.jpg\", \"cla'): write such a number as a string"
    ]


@pytest.mark.parametrize("data, expected", [
    # a CSV row in a manifest
    (manifest(6) + b"1,2.5,3\n", "line 7: looks like a CSV row, not JSON (starts with: '1,2.5,3'): a JSON Lines "
                                 "dataset has one JSON object per line; if the file is CSV, set job_config.input_format to csv"),
    # BlazingText in a manifest
    (manifest(6) + b"__label__1 some words\n", "line 7: is not valid JSON (Expecting value at column 1) (starts with: "
                                               "'__label__1 some words'): write exactly one JSON object per line"),
], ids=["csv-in-jsonl", "text-in-jsonl"])
def test_lines_of_another_format_in_a_manifest_are_named(split, data, expected):
    assert split.rejects(sample_input(), data=data).problems == [expected]


def test_json_lines_in_a_csv_are_named(split):
    rejection = split.rejects(csv_input(), data=csv_rows(6) + b'{"class": "1"}\n')
    assert rejection.problems == [
        "line 7: looks like JSON, not a CSV row (starts with: '{\"class\": \"1\"}'): a CSV dataset has comma-separated "
        "values only; if the file is JSON Lines, set job_config.input_format to jsonl"
    ]


def test_unlabelled_lines_among_labelled_ones_are_named(split):
    document = csv_input("path/input.txt")
    rejection = split.rejects(document, data=b"__label__a one\n__label__b two\n{\"class\": \"a\"}\n__label__a four\n")
    assert rejection.problems == [
        "line 3: has no __label__ label although 3 other lines have one (starts with: '{\"class\": \"a\"}'): give "
        "every line its __label__<class>, or remove the labels from every line to split without them"
    ]


def test_manifest_lines_without_the_label_attribute_among_labelled_ones_are_named(split):
    data = manifest(6) + b'{"source-ref": "s3://smx-in/a.jpg"}\n'
    assert split.rejects(sample_input(), data=data).problems == [
        "line 7: has no \"class\" attribute (crossvalidation.label_attribute) although 6 other lines have one "
        "(starts with: '{\"source-ref\": \"s3://smx-in/a.jpg\"}'): give every line a \"class\" value, or remove it "
        "from every line to split without labels"
    ]


@pytest.mark.parametrize("data_key, data, line, column", [
    ("path/input.jsonl", manifest(4) + '{"source-ref": "s3://smx-in/é.jpg", "class": "1"}\n'.encode("latin-1"), 5, 29),
    ("path/input.csv", csv_rows(4) + b"1,\xff\xfe,3\n", 5, 3),
    ("path/input.txt", b"__label__a caf\xe9\n__label__b two\n", 1, 15),
], ids=["jsonl", "csv", "text"])
def test_bytes_that_are_not_utf8_are_named_with_line_and_column(split, data_key, data, line, column):
    document = sample_input(data_key) if data_key.endswith("jsonl") else csv_input(data_key)
    [problem] = split.rejects(document, data=data).problems
    assert problem.startswith(f"line {line}: is not UTF-8 text (byte 0x")
    assert f"at column {column})" in problem
    assert problem.endswith("): save the dataset as UTF-8")


@pytest.mark.parametrize("data_key, data", [
    ("path/input.csv", b"\xef\xbb\xbf" + csv_rows(6)),
    ("path/input.jsonl", b"\xef\xbb\xbf" + manifest(6)),
], ids=["csv", "jsonl"])
def test_a_byte_order_mark_is_named(split, data_key, data):
    # GIVEN a file saved by an editor that prepends a BOM: it would become part of the first label
    document = sample_input(data_key) if data_key.endswith("jsonl") else csv_input(data_key)
    [problem] = split.rejects(document, data=data).problems
    assert problem.startswith("line 1: starts with a byte order mark (BOM, bytes ef bb bf) (starts with: '\\ufeff")
    assert problem.endswith(
        "save the dataset as UTF-8 without a BOM; every line is copied into the fold files as it is")


@pytest.mark.parametrize("encoding, why", [("utf-16", "it starts with a UTF-16 byte order mark"),
                                           ("utf-16-le", "every other byte is NUL")])
def test_a_utf16_dataset_is_one_problem_saying_to_save_it_as_utf8(split, encoding, why):
    # GIVEN a CSV saved as UTF-16 (Excel's "Unicode text"), with or without its byte order mark
    rejection = split.rejects(csv_input(), data=csv_rows().decode().encode(encoding))
    assert rejection.problems == [
        f"job_config.input_path: the dataset is UTF-16 text ({why}); SMX-Validator and SageMaker's algorithms read "
        "UTF-8: save it as UTF-8 (for example iconv -f UTF-16 -t UTF-8 FILE > FILE.utf8, or Excel's \"CSV UTF-8\") "
        "and upload that"
    ]


def test_many_bad_lines_list_the_first_twenty_and_count_the_rest(split):
    data = manifest(4) + b"not json\n" * 25
    problems = split.rejects(sample_input(), data=data).problems
    assert [problem.split(":")[0] for problem in problems[:20]] == [f"line {n}" for n in range(5, 25)]
    assert problems[20:] == ["... and 5 more lines with problems"]


def test_a_missing_dataset_object_is_named(split):
    document = sample_input("path/missing.jsonl")
    assert split.rejects(document).problems == [
        "job_config.input_path: s3://smx-in/path/missing.jsonl does not exist: check the bucket and key of the dataset"
    ]


def test_a_dataset_the_function_may_not_read_is_named(split, monkeypatch):
    # GIVEN S3 answering 403 to the function's HeadObject (no s3:GetObject on the key, or no s3:ListBucket
    # when the key is missing)
    split.upload("path/input.jsonl", manifest())

    class Forbidden:
        status_code = 403

    def deny(params, **_):
        return Forbidden(), {"Error": {"Code": "403", "Message": "Forbidden"}}

    events = boto3.DEFAULT_SESSION.events
    events.register("before-call.s3.HeadObject", deny, unique_id="robustness-deny-head")
    try:
        rejection = split.rejects(sample_input())
    finally:
        events.unregister("before-call.s3.HeadObject", unique_id="robustness-deny-head")
    # THEN the field is named, with both likely causes
    assert rejection.problems == [
        "job_config.input_path: s3://smx-in/path/input.jsonl cannot be read (access denied): check that the key "
        "exists and that the dataset is in the deployment's input bucket"
    ]


def test_an_input_path_that_is_a_folder_is_refused(split):
    document = sample_input("path/", job_config={"input_format": "jsonl"})
    assert split.rejects(document).problems == [
        "job_config.input_path: 's3://smx-in/path/' ends with '/', a folder; give the S3 URI of the dataset object "
        "itself, such as s3://bucket/path/data.jsonl"
    ]


def test_an_extension_that_names_no_format_asks_for_input_format(split):
    assert split.rejects(sample_input("path/input.parquet")).problems == [
        "job_config.input_format: cannot tell the format of 'path/input.parquet' from its extension; "
        "set job_config.input_format to csv, jsonl or text"
    ]


# --- buckets ---------------------------------------------------------------------------------


def test_an_input_outside_the_deployed_input_bucket_is_refused_before_any_access(split):
    # GIVEN the dataset in a bucket the deployment may not read (it exists: no AccessDenied decides this)
    split.s3.create_bucket(Bucket="someone-elses-data")
    split.s3.put_object(Bucket="someone-elses-data", Key="input.jsonl", Body=manifest())
    document = sample_input(job_config={"input_path": "s3://someone-elses-data/input.jsonl"})
    assert split.rejects(document).problems == [
        "job_config.input_path: bucket 'someone-elses-data' is not this deployment's InputBucketName 'smx-in', "
        "the only bucket it may read; upload the dataset there or redeploy with InputBucketName=someone-elses-data"
    ]


def test_an_output_prefix_outside_the_deployed_output_bucket_is_refused(split):
    split.s3.create_bucket(Bucket="elsewhere")
    document = sample_input(job_config={"output_prefix": "s3://elsewhere/results"})
    assert split.rejects(document, data=manifest()).problems == [
        "job_config.output_prefix: bucket 'elsewhere' is not this deployment's OutputBucketName 'smx-out', the only "
        "bucket it may write; use s3://smx-out/... or redeploy with OutputBucketName=elsewhere"
    ]
    assert split.s3.list_objects_v2(Bucket="elsewhere").get("KeyCount") == 0


@pytest.mark.parametrize("field, uri, expected", [
    ("input_path", "bucket/path/data.jsonl", "is not an S3 object URI; write it like s3://bucket/path/data.jsonl"),
    ("output_prefix", "https://smx-out.s3.amazonaws.com/x", "is not an S3 URI; write it like s3://bucket/prefix"),
])
def test_a_uri_that_is_not_s3_is_refused(split, field, uri, expected):
    rejection = split.rejects(sample_input(job_config={field: uri}))
    assert rejection.problems == [f'job_config.{field}: "{uri}" {expected}']


# --- names -----------------------------------------------------------------------------------


@pytest.mark.parametrize("field, given, offender", [
    ("name", "my training", ": ' ' is not allowed"), ("name", "-leading", ": it starts with '-'"),
    ("name", "modèle", ": 'è' is not allowed"), ("experiment", "exp/1", ": '/' is not allowed"),
])
def test_a_name_sagemaker_cannot_take_is_refused_naming_the_character(split, field, given, offender):
    rejection = split.rejects(sample_input(job_config={field: given}))
    assert rejection.problems == [
        f"job_config.{field}: {json.dumps(given, ensure_ascii=False)} may only contain ASCII letters, digits, '-', "
        f"'_' and '.', and must start with a letter or digit{offender}"
    ]


def test_a_name_too_long_for_the_job_names_says_how_long_it_may_be(split):
    rejection = split.rejects(sample_input(job_config={"name": "n" * 27}), data=manifest())
    assert rejection.problems == [
        f"job_config.name: '{'n' * 27}' is 27 characters; training jobs are named crossvalidator-{{name}}-{{YYYYMMDD}}-"
        "{HHMMSS}-fold{fold_idx} and SageMaker allows 63 characters, so with n_splits=5 the name may be at most 26 characters"
    ]


def test_an_experiment_name_too_long_is_refused(split):
    rejection = split.rejects(sample_input(job_config={"experiment": "e" * 121}))
    assert rejection.problems == ["job_config.experiment: is 121 characters long; it must be at most 120"]


def test_underscores_and_dots_in_names_become_hyphens_and_the_mapping_is_logged(split):
    # GIVEN the documented name my_training and an experiment with dots
    split.upload("path/input.jsonl", manifest())
    document = sample_input(job_config={"name": "my_training.v2", "experiment": "team.exp_1"})
    # WHEN the split step runs
    plan = split.run(document)
    # THEN SageMaker gets hyphenated names and the mapping is reported
    assert plan["folds"][0]["TrainingJobName"].startswith("crossvalidator-my-training-v2-")
    assert plan["job_config"]["name_mapping"] == [
        {"field": "job_config.name", "given": "my_training.v2", "used": "my-training-v2"},
        {"field": "job_config.experiment", "given": "team.exp_1", "used": "team-exp-1"},
    ]


@pytest.mark.parametrize("tags, expected", [
    ([{"Key": "fold", "Value": "x"}], "job_config.tags[0].Key: 'fold' is set by SMX-Validator itself; choose another key"),
    ([{"Key": "aws:team", "Value": "x"}], "job_config.tags[0].Key: 'aws:team' starts with 'aws:', a prefix AWS "
                                          "reserves for its own tags (in any case); choose another key"),
    ([{"Key": "AWS:team", "Value": "x"}], "job_config.tags[0].Key: 'AWS:team' starts with 'aws:', a prefix AWS "
                                          "reserves for its own tags (in any case); choose another key"),
    ([{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}],
     "job_config.tags[1].Key: 'team' appears twice; tag keys must be unique"),
], ids=["reserved-by-smx", "aws-prefix", "upper-case-aws-prefix", "duplicate"])
def test_tag_keys_that_would_clash_are_refused(split, tags, expected):
    assert split.rejects(sample_input(job_config={"tags": tags})).problems == [expected]


# --- hyperparameters -------------------------------------------------------------------------


def test_hyperparameter_numbers_and_booleans_become_strings_and_the_conversion_is_logged(split):
    # GIVEN numbers and a boolean where SageMaker wants strings
    split.upload("path/input.csv", csv_rows())
    document = csv_input(training={"hyperparameters_template": {"epochs": 10, "learning_rate": 0.05, "verbose": True}})
    # WHEN the split step runs
    plan = split.run(document)
    # THEN every fold's HyperParameters are strings and each conversion is reported
    assert plan["folds"][0]["HyperParameters"] == {"epochs": "10", "learning_rate": "0.05", "verbose": "true"}
    assert [note for note in plan["job_config"]["notes"] if note.startswith("hyperparameter")] == [
        "hyperparameter 'epochs': converted int 10 to the string '10'",
        "hyperparameter 'learning_rate': converted float 0.05 to the string '0.05'",
        "hyperparameter 'verbose': converted bool True to the string 'true'",
    ]


@pytest.mark.parametrize("image, hyperparameters, note_start", [
    # a repository called xgboost in the user's own account: the user's container, not AWS's XGBoost
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:latest", {"num_round": "10", "my_flag": "1"},
     "training.algorithm_specification.TrainingImage: named like the built-in xgboost but in account 123456789012"),
    # AWS's XGBoost running the user's script (the SDK's framework mode): the script reads every hyperparameter
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
     {"sagemaker_program": "train.py", "sagemaker_submit_directory": "s3://smx-in/code.tar.gz", "my_flag": "1"},
     "training.hyperparameters_template.sagemaker_program: the xgboost container runs your script"),
])
def test_a_custom_image_named_like_a_built_in_keeps_every_hyperparameter_and_says_why(split, image, hyperparameters,
                                                                                   note_start):
    # GIVEN a CSV and an image that looks like the built-in XGBoost but runs the user's code
    split.upload("path/input.csv", csv_rows())
    document = csv_input(training={"hyperparameters_template": hyperparameters,
                                   "algorithm_specification": {"TrainingImage": image, "TrainingInputMode": "File"}})
    # WHEN the split step runs
    plan, logs = split.run_logged(document)
    # THEN every fold gets every hyperparameter (none is dropped as "not accepted by xgboost")
    assert all(fold["HyperParameters"] == hyperparameters for fold in plan["folds"])
    assert plan["training"]["algorithm_family"] == "custom"
    # AND the output and the log say why the image counts as a custom container
    assert [note for note in plan["job_config"]["notes"] if note.startswith(note_start)]
    assert note_start in logs and not [note for note in plan["job_config"]["notes"] if "left out" in note]


@pytest.mark.parametrize("image, expected", [
    ("docker.io/library/python:3.12", "training.algorithm_specification.TrainingImage: 'docker.io/library/python:3.12' "
     "is not in Amazon ECR; SageMaker pulls training images from ECR"),
    ("683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
     "training.algorithm_specification.TrainingImage: account 683313688378 is AWS's sagemaker-xgboost registry in "
     "us-east-1, not in eu-west-1, so SageMaker would find no such image: use "
     "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"),
], ids=["not-ecr", "aws-registry-of-another-region"])
def test_an_image_sagemaker_cannot_pull_is_refused(split, image, expected):
    rejection = split.rejects(csv_input(training={"algorithm_specification": {"TrainingImage": image}}),
                              data=csv_rows())
    assert len(rejection.problems) == 1 and rejection.problems[0].startswith(expected), rejection.problems


def test_a_misspelt_hyperparameter_name_is_refused_with_the_name_meant(split):
    # GIVEN xgboost with num_round spelt num_rounds (left out, the job would fail: num_round is required)
    # and max_dept for max_depth (left out, the jobs would train with the default depth)
    document = csv_input(training={
        "hyperparameters_template": {"num_round": "10", "max_dept": "3"},
        "algorithm_specification": {"TrainingImage": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"}})
    assert split.rejects(document, data=csv_rows()).problems == [
        "training.hyperparameters_template.max_dept: xgboost has no hyperparameter 'max_dept'; did you mean "
        "'max_depth'? (its container fails a job that names a hyperparameter it does not know)"
    ]


def test_a_hyperparameter_a_built_in_refuses_is_left_out_and_said_in_the_output_and_the_log(split):
    # GIVEN AWS's linear-learner and a name its container refuses
    split.upload("path/input.csv", csv_rows())
    document = csv_input(training={
        "hyperparameters_template": {"predictor_type": "binary_classifier", "epochs": "2", "my_flag": "1"},
        "algorithm_specification": {"TrainingImage": LINEAR_LEARNER, "TrainingInputMode": "File"}})
    # WHEN the split step runs
    plan, logs = split.run_logged(document)
    # THEN the name is left out of every fold, and both the output and the log say so
    assert all("my_flag" not in fold["HyperParameters"] for fold in plan["folds"])
    note = ("hyperparameter 'my_flag': left out of the training jobs; linear-learner does not accept it, and its "
            "container fails a job that names a hyperparameter it does not know")
    assert note in plan["job_config"]["notes"] and note in logs


@pytest.mark.parametrize("value, shown", [(None, "null"), ([1, 2], "array [1, 2]"), ({"a": 1}, 'object {"a": 1}')])
def test_a_hyperparameter_value_that_cannot_be_a_string_is_refused(split, value, shown):
    document = csv_input(training={"hyperparameters_template": {"layers": value}})
    assert split.rejects(document).problems == [
        f"training.hyperparameters_template.layers: expected string or number or boolean, got {shown}"
    ]


def test_more_than_100_hyperparameters_are_refused(split):
    document = csv_input(training={"hyperparameters_template": {f"p{i}": "1" for i in range(101)}})
    assert split.rejects(document).problems == [
        "training.hyperparameters_template: has 101 entries; it may have at most 100"
    ]


def test_a_hyperparameter_value_or_name_too_long_is_refused(split):
    # SageMaker's service model: a name of at most 256 characters, a value of at most 2,500
    document = csv_input(training={"hyperparameters_template": {"prompt": "v" * 2501, "k" * 257: "1"}})
    assert split.rejects(document).problems == [
        f'training.hyperparameters_template: the name "{"k" * 56}... is 257 characters long; names may be at most 256',
        "training.hyperparameters_template.prompt: is 2501 characters long; it must be at most 2500",
    ]


def test_a_hyperparameter_value_of_2500_characters_is_taken(split):
    # GIVEN a custom container's model configuration as one long JSON string (2,500 characters, the API's maximum)
    split.upload("path/input.csv", csv_rows())
    plan = split.run(csv_input(training={"hyperparameters_template": {"model_config": "x" * 2500}}))
    assert plan["folds"][0]["HyperParameters"]["model_config"] == "x" * 2500


def test_hyperparameters_too_large_for_one_state_are_refused(split):
    # GIVEN 100 values of 2,500 characters (SageMaker's maxima): one job's request alone is about 250 KB
    template = {f"p{i:02d}": "v" * 2500 for i in range(100)}
    document = csv_input(training={"hyperparameters_template": template})
    [problem] = split.rejects(document).problems
    # THEN the problem names the largest state (the input and the plan's copy of it), the budget, and the
    # hyperparameters as the biggest part
    assert problem.startswith("the run's largest Step Functions state would be ")
    assert "(after TrainFoldsFromS3 (your input, the plan and where the results are))" in problem
    assert "over the 240.0 KiB SMX-Validator allows under Step Functions' 256.0 KiB limit" in problem
    assert "the biggest parts: training.hyperparameters_template 245.0 KiB x 2 (in your input and in the plan" in problem
    assert problem.endswith("Shorten or remove what is largest")


@pytest.mark.parametrize("sections", [
    # 20 folds, 40 tags of 128 + 256 characters: each fold's request repeats the tags
    {"job_config": {"tags": [{"Key": f"k{i:02d}" + "k" * 125, "Value": "v" * 256} for i in range(40)]},
     "crossvalidation": {"n_splits": 20}},
    # 100 values of 250 characters for 20 folds: about 500 KB of plan
    {"training": {"hyperparameters_template": {f"p{i:02d}": "v" * 250 for i in range(100)}},
     "crossvalidation": {"n_splits": 20}},
], ids=["20-folds-40-long-tags", "20-folds-25-kb-of-hyperparameters"])
def test_a_run_whose_jobs_the_states_cannot_carry_writes_them_for_the_distributed_map(split, sections):
    # GIVEN an input whose every job fits a state, but not all of them together
    document = csv_input()
    for section, changes in sections.items():
        document[section].update(changes)
    split.upload("path/input.csv", csv_rows(40))
    # WHEN the split step runs
    plan = split.run(document)
    # THEN the plan carries no job: they are on S3, where TrainFoldsFromS3's ItemReader reads them
    assert "folds" not in plan and plan["jobs_file"]["count"] == 20
    jobs = json.loads(split.s3.get_object(Bucket=plan["jobs_file"]["Bucket"], Key=plan["jobs_file"]["Key"])["Body"].read())
    assert [job["fold_index"] for job in jobs] == list(range(20))
    assert plan["map_results"]["Prefix"].startswith(S3Uri.parse(plan["job_config"]["run_prefix"]).key)
    assert len(json.dumps(plan)) < 32 * 1024
    # AND the plan keeps its contract with the state machine and the gather
    schema = json.loads((REPO / "resources" / "schemas" / "plan.schema.json").read_text())
    Draft202012Validator(schema).validate(plan)


def test_a_placeholder_that_does_not_exist_is_named_with_the_available_ones(split):
    document = sample_input(training={"hyperparameters_template": {
        "num_classes": "${num_class}", "num_training_samples": "${num_training_samples}"}})
    assert split.rejects(document).problems == [
        "training.hyperparameters_template.num_classes: unknown placeholder ${num_class}; available: "
        "${num_training_samples}, ${num_validation_samples}, ${num_classes}"
    ]


def test_an_unclosed_placeholder_is_named(split):
    document = sample_input(training={"hyperparameters_template": {
        "num_classes": "${num_classes", "num_training_samples": "${num_training_samples}"}})
    assert split.rejects(document).problems == [
        "training.hyperparameters_template.num_classes: has '${' without a closing '}'; write a placeholder as "
        "${num_training_samples}"
    ]


def test_both_spellings_of_the_hyperparameter_template_are_refused(split):
    document = sample_input()
    document["training"]["hyperparameter_template"] = {"epochs": "2"}
    assert split.rejects(document).problems == [
        "training.hyperparameter_template: give either hyperparameters_template or hyperparameter_template, not both"
    ]


# --- the training template -------------------------------------------------------------------


def test_a_spot_wait_shorter_than_the_runtime_is_refused(split):
    document = sample_input()
    document["training"]["stopping_condition"] = {"MaxRuntimeInSeconds": 7200, "MaxWaitTimeInSeconds": 3600}
    assert split.rejects(document).problems == [
        "training.stopping_condition.MaxWaitTimeInSeconds: 3600 is less than MaxRuntimeInSeconds 7200; spot training "
        "waits for capacity and then trains, so it must be at least 7200"
    ]


def test_an_algorithm_that_cannot_read_the_data_format_is_refused(split):
    # GIVEN linear-learner (CSV only) on a manifest
    document = sample_input(training={"hyperparameters_template": {"predictor_type": "binary_classifier"},
                                      "algorithm_specification": {"TrainingImage": LINEAR_LEARNER}})
    assert split.rejects(document).problems == [
        "job_config.input_format: linear-learner reads csv input, but the dataset is jsonl; convert the dataset or "
        "use a custom container"
    ]


def test_an_augmented_manifest_in_file_mode_is_refused(split):
    document = sample_input(training={"algorithm_specification": {"TrainingImage": IMAGE_CLASSIFICATION,
                                                                  "TrainingInputMode": "File"}})
    assert split.rejects(document).problems == [
        "training.algorithm_specification.TrainingInputMode: augmented manifests are streamed in Pipe mode only; "
        "set TrainingInputMode (or training.channels.input_mode) to \"Pipe\""
    ]


@pytest.mark.parametrize("instance_type", ["p3.2xlarge", "ml.bogus.xlarge"])
def test_an_instance_type_that_is_not_sagemakers_is_refused(split, instance_type):
    # GIVEN an instance type SageMaker's service model does not list (botocore's enum is the source)
    document = sample_input(training={"resource_config": {"InstanceType": instance_type}})
    [problem] = split.rejects(document).problems
    assert problem.startswith(f"training.resource_config.InstanceType: '{instance_type}' is not one SageMaker accepts (")
    assert problem.endswith("(SageMaker's CreateTrainingJob.ResourceConfig.InstanceType)")


@pytest.mark.parametrize("instance_type", ["ml.m7i-flex.large", "ml.p6-b200.48xlarge"])
def test_instance_types_sagemaker_accepts_are_accepted(split, instance_type):
    # GIVEN an instance type of SageMaker's (a hand-written pattern used to refuse these)
    document = sample_input(training={"resource_config": {"InstanceType": instance_type}})
    split.upload("path/input.jsonl", manifest())
    # WHEN the split step runs THEN the plan trains on it
    assert split.run(document)["job"]["ResourceConfig"]["InstanceType"] == instance_type


@pytest.mark.parametrize("resource_config, expected", [
    ({"KeepAlivePeriodInSeconds": 21601},
     "training.resource_config.KeepAlivePeriodInSeconds: 21601 is out of range; it must be at most 21600"),
    ({"VolumeKmsKeyId": "my key!"},
     "training.resource_config.VolumeKmsKeyId: 'my key!' does not match SageMaker's pattern [a-zA-Z0-9:/_-]*: "
     "' ' (SPACE) is not allowed (SageMaker's CreateTrainingJob.ResourceConfig.VolumeKmsKeyId)"),
], ids=["keep-alive-over-the-api-maximum", "malformed-volume-kms-key"])
def test_resource_settings_sagemaker_refuses_are_refused(split, resource_config, expected):
    document = sample_input(training={"resource_config": {"InstanceType": "ml.m5.xlarge", **resource_config}})
    assert split.rejects(document).problems == [expected]


def test_a_keep_alive_period_up_to_the_api_maximum_is_accepted(split):
    # GIVEN a warm pool of 6 hours without spot training (the API allows 21,600 s; the schema stopped at 3,600)
    document = sample_input(training={"resource_config": {"InstanceType": "ml.m5.xlarge",
                                                          "KeepAlivePeriodInSeconds": 21600},
                                      "stopping_condition": {"MaxRuntimeInSeconds": 3600}})
    split.upload("path/input.jsonl", manifest())
    assert split.run(document)["job"]["ResourceConfig"]["KeepAlivePeriodInSeconds"] == 21600


def test_warm_pools_with_managed_spot_training_are_refused(split):
    # GIVEN the documented example (spot training, through MaxWaitTimeInSeconds) with a warm pool
    document = sample_input()
    document["training"]["resource_config"]["KeepAlivePeriodInSeconds"] = 600
    assert split.rejects(document).problems == [
        "training.resource_config.KeepAlivePeriodInSeconds: SageMaker does not keep warm pools for managed spot "
        "training; remove KeepAlivePeriodInSeconds, or train on demand: set training.managed_spot_training to false "
        "(when it is not given, stopping_condition.MaxWaitTimeInSeconds turns spot training on)"
    ]


TAG_PATTERN = r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"


@pytest.mark.parametrize("tag, field, shown, culprit", [
    ({"Key": "*", "Value": "x"}, "Tags[0].Key", "job_config.tags[0].Key: '*'", "'*' (ASTERISK)"),
    ({"Key": "team", "Value": "#1"}, "Tags[0].Value", "job_config.tags[0].Value: '#1'", "'#' (NUMBER SIGN)"),
    ({"Key": "हिन्दी", "Value": "x"}, "Tags[0].Key", "job_config.tags[0].Key: 'हिन्दी'", "'ि' (DEVANAGARI VOWEL SIGN I)"),
], ids=["key", "value", "combining-mark"])
def test_tag_characters_sagemaker_refuses_are_refused_naming_the_character(split, tag, field, shown, culprit):
    document = sample_input(job_config={"tags": [tag]})
    assert split.rejects(document).problems == [
        f"{shown} does not match SageMaker's pattern {TAG_PATTERN}: {culprit} is not allowed "
        f"(SageMaker's CreateTrainingJob.{field})"
    ]


def test_tags_in_any_script_sagemaker_accepts_are_accepted(split):
    # GIVEN tags with non-ASCII letters, spaces and every punctuation SageMaker allows
    tags = [{"Key": "équipe data", "Value": "Zürich 2026 @a/b=c+d-e_f.g:h"}]
    split.upload("path/input.jsonl", manifest())
    plan = split.run(sample_input(job_config={"tags": tags}))
    assert plan["folds"][0]["Tags"][0] == tags[0]


@pytest.mark.parametrize("compress, name, signature", [
    ("gzip", "gzip", "1f 8b"), ("bz2", "bzip2", "42 5a 68"), ("lzma", "xz", "fd 37 7a 58 5a 00"),
])
def test_a_compressed_dataset_is_refused_saying_it_is_compressed(split, compress, name, signature):
    # GIVEN the CSV compressed, under the name the input gives (a .csv key)
    import importlib

    data = importlib.import_module(compress).compress(csv_rows())
    # WHEN the split step runs THEN it says the file is compressed and how to upload it, before any write
    [problem] = split.rejects(csv_input(), data=data).problems
    assert problem.startswith(f"job_config.input_path: the dataset is {name}-compressed (it starts with {name}'s "
                              f"signature, bytes {signature}); SMX-Validator splits newline-separated text")


@pytest.mark.parametrize("key, name", [("path/input.csv.gz", "gzip"), ("path/input.jsonl.zst", "zstd")])
def test_a_dataset_named_as_compressed_is_refused_at_once_saying_so(split, key, name):
    # GIVEN an input_path whose name says the file is compressed, and no input_format
    document = csv_input(key)
    # WHEN the split step runs THEN the first answer is that it is compressed (not "cannot tell the format")
    [problem] = split.rejects(document).problems
    assert problem.startswith(f"job_config.input_path: the dataset is {name}-compressed (its name ends with "
                              f"{key[key.rfind('.'):]}); SMX-Validator splits newline-separated text")


def test_a_gzip_channel_is_refused_since_the_folds_are_uncompressed(split):
    document = csv_input(training={"channels": {"compression_type": "Gzip"}})
    assert split.rejects(document, data=csv_rows()).problems == [
        'training.channels.compression_type: the fold files are written uncompressed, so a "Gzip" channel would make '
        'every job fail to read them; remove compression_type (or set it to "None")'
    ]


def test_a_label_attribute_no_line_has_is_refused_when_the_channels_read_it(split):
    # GIVEN an image-classification manifest whose labels are under "label", with the default label_attribute "class"
    data = manifest().replace(b'"class"', b'"label"')
    document = sample_input(training={"hyperparameters_template": {"num_classes": "2", "num_training_samples": "16"}})
    # WHEN the split step runs THEN it refuses it (today's alternative: unstratified folds, then every job failing)
    assert split.rejects(document, data=data).problems == [
        "crossvalidation.label_attribute: no line of the dataset has a 'class' attribute, but the training channels "
        "read it (AttributeNames ['source-ref', 'class']), so every job would fail; set crossvalidation.label_attribute "
        "to the attribute that holds each line's label"
    ]


def test_image_classification_labels_that_are_not_0_to_n_minus_1_are_refused(split):
    # GIVEN class names instead of the integers 0..num_classes-1 the algorithm requires
    data = manifest().replace(b'"class": "0"', b'"class": "cat"').replace(b'"class": "1"', b'"class": "dog"')
    assert split.rejects(sample_input(), data=data).problems == [
        "crossvalidation.label_attribute: image-classification needs class labels that are integers from 0 (0 to "
        "num_classes - 1), but the dataset has 'cat', 'dog'; renumber the classes from 0"
    ]


@pytest.mark.parametrize("rows, expected", [
    (b"cat,1.0,2.0\ndog,2.0,3.0\n" * 10, "job_config.input_path: knn needs a number as each line's label (the first "
     "column), but 2 label(s) are not numbers: 'cat', 'dog'; encode the classes as numbers (0, 1, ...)"),
    (b"0,1.0,red\n1,2.0,blue\n" * 10, "line 1: column 2 is 'red', not a number; knn reads every CSV column as a "
     "number: encode it numerically (one-hot or codes) or leave it out"),
    (b"0,1.0,2\x00\n1,2.0,3\n" * 10, "line 1: has a NUL byte; knn reads text/csv numbers: remove it"),
], ids=["text-labels", "text-feature", "nul-byte"])
def test_csv_that_a_numeric_algorithm_cannot_read_is_refused(split, rows, expected):
    document = csv_input(training={
        "hyperparameters_template": {"k": "3", "sample_size": "10", "predictor_type": "classifier", "feature_dim": "2"},
        "algorithm_specification": {"TrainingImage": "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1"}})
    assert split.rejects(document, data=rows).problems == [expected]


KNN = "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1"
XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def built_in_csv_input(image: str, hyperparameters: dict) -> dict:
    return csv_input(training={"hyperparameters_template": hyperparameters,
                               "algorithm_specification": {"TrainingImage": image, "TrainingInputMode": "File"}})


@pytest.mark.parametrize("rows, expected", [
    # iris as Excel writes it where the decimal mark is a comma
    (b"0;5,1;3,5\n1;4,9;3,0\n" * 10,
     "job_config.input_path: the fields are separated by ';' (semicolons), not commas (line 1 starts with "
     "'0;5,1;3,5'); a CSV dataset is comma-separated (text/csv), so every job would misread it: re-save it as "
     "comma-separated with . as the decimal mark, for example pandas.read_csv(path, sep=';', decimal=',', "
     "header=None).to_csv(out, header=False, index=False)"),
    (b"0\t1.5\t2\n1\t2.5\t3\n" * 10, "job_config.input_path: the fields are separated by tabs, not commas"),
], ids=["semicolons-and-decimal-commas", "tabs"])
def test_a_csv_separated_by_another_character_is_refused_with_a_fix_that_keeps_every_field(split, rows, expected):
    # GIVEN a file given as CSV whose fields are separated by ';' or tabs
    rejection = split.rejects(built_in_csv_input(KNN, {"k": "3", "sample_size": "10", "predictor_type": "classifier",
                                                       "feature_dim": "2"}), data=rows)
    # THEN the one problem is the separator (not labels or rare classes the misread file would seem to have)
    assert len(rejection.problems) == 1 and rejection.problems[0].startswith(expected), rejection.problems
    assert "strategy" not in rejection.problems[0]


@pytest.mark.parametrize("header", [b"0,1,2,3,4,5", b"label,1,2,3,4,5", b",0,1,2,3,4"])
def test_a_header_row_of_column_numbers_is_refused(split, header):
    # GIVEN pandas' header line for unnamed columns above numeric rows (it parses as a data row)
    rows = header + b"\n" + b"".join(f"{i % 2},{i}.5,1,2,3,4\n".encode() for i in range(20))
    rejection = split.rejects(csv_input(), data=rows)
    assert rejection.problems == [
        "line 1: looks like a header of column numbers; a CSV dataset has no header (the split would take it for a "
        f"sample) (starts with: {header.decode()!r}): remove it (pandas writes one, and a first column of row numbers, "
        "unless told to_csv(path, header=False, index=False))"
    ]


def test_manifest_lines_without_an_attribute_the_channels_stream_are_named(split):
    # GIVEN an image-classification manifest where two lines lack "source-ref" (one misspells it)
    lines = manifest(20).splitlines()
    lines[3] = b'{"source_ref": "s3://smx-in/images/img003.jpg", "class": "1"}'
    lines[11] = b'{"class": "1"}'
    rejection = split.rejects(sample_input(), data=b"\n".join(lines) + b"\n")
    assert rejection.problems == [
        'line 4: has no "source-ref" attribute, which the training channels stream (AttributeNames) (starts with: '
        '\'{"source_ref": "s3://smx-in/images/img00\'): give every line its "source-ref"',
        'line 12: has no "source-ref" attribute, which the training channels stream (AttributeNames) (starts with: '
        '\'{"class": "1"}\'): give every line its "source-ref"',
    ]


@pytest.mark.parametrize("image, hyperparameters, expected", [
    (KNN, {"predictor_type": "classifier"},
     "training.hyperparameters_template: knn requires feature_dim, k, sample_size; add them (see "
     "https://docs.aws.amazon.com/sagemaker/latest/dg/kNN_hyperparameters.html)"),
    (XGBOOST, {"num_round": "50", "eta": "1.5"},
     "training.hyperparameters_template.eta: for xgboost, '1.5' is outside [0, 1] (see "
     "https://docs.aws.amazon.com/sagemaker/latest/dg/xgboost_hyperparameters.html)"),
    (LINEAR_LEARNER, {"predictor_type": "multiclass_classifier", "num_classes": "${num_classes}"},
     "training.hyperparameters_template.num_classes: for linear-learner, ${num_classes} is '2', which is outside "
     "[3, 1000000] (see https://docs.aws.amazon.com/sagemaker/latest/dg/ll_hyperparameters.html)"),
    (LINEAR_LEARNER, {"predictor_type": "binary_classifier", "feature_dim": "30"},
     "training.hyperparameters_template.feature_dim: is 30, but the dataset's rows have 2 feature columns after the "
     "label; linear-learner fails a job whose data does not match it: set feature_dim to 2"),
    (XGBOOST, {"num_round": "10", "objective": "multi:softmax", "num_class": "2"},
     "training.hyperparameters_template: with num_class 2, xgboost needs every label to be the integers 0 to 1, but "
     "the dataset's labels are '0', '1', '2'; set num_class to 3 (the highest label + 1), or renumber the labels "
     "from 0"),
    (XGBOOST, {"num_round": "10", "objective": "binary:logistic"},
     "job_config.input_path: every line of the dataset has the label '0', but xgboost with objective binary:logistic "
     "is a classifier and needs at least two classes; check the labels (or crossvalidation.label_attribute)"),
    (KNN, {"predictor_type": "classifier", "k": "25", "sample_size": "${num_training_samples}", "feature_dim": "2"},
     "training.hyperparameters_template.k: is 25, but a fold's job indexes only 24 training points (sample_size 24, "
     "24 training lines in the smallest fold), fewer than k neighbours: lower k, or raise sample_size or the data"),
], ids=["knn-required", "xgboost-range", "filled-placeholder-range", "feature-dim", "labels-vs-num-class",
        "one-class", "k-above-the-points"])
def test_hyperparameters_a_built_in_algorithm_would_refuse_are_refused_before_any_job(split, image, hyperparameters,
                                                                                     expected):
    # GIVEN numeric CSV rows with the label first: 3 classes for the num_class case, one for the one-class case, else 2
    classes = 3 if "num_class" in hyperparameters else 1 if hyperparameters.get("objective") == "binary:logistic" else 2
    rejection = split.rejects(built_in_csv_input(image, hyperparameters), data=csv_rows(30, classes=classes))
    assert rejection.problems == [expected]


@pytest.mark.parametrize("image, hyperparameters, rows, expected", [
    (LINEAR_LEARNER, {"predictor_type": "binary_classifier"}, b"0\n1\n" * 10,
     "line 1: has only the label column; linear-learner learns from the feature columns after the label: add them "
     "(a CSV row is the label, then the features, comma-separated)"),
    (KNN, {"predictor_type": "classifier", "k": "3", "sample_size": "10", "feature_dim": "2"},
     b"0,1.5,2\n1,,3\n" * 10,
     "line 2: column 1 is missing (''); knn needs a number in every column: fill in (impute) the missing values or "
     "leave the rows out"),
], ids=["label-only", "missing-value"])
def test_csv_rows_a_numeric_algorithm_cannot_learn_from_are_named(split, image, hyperparameters, rows, expected):
    rejection = split.rejects(built_in_csv_input(image, hyperparameters), data=rows)
    assert rejection.problems == [expected]


def test_xgboost_reads_nan_and_empty_fields_as_missing_values(split):
    # GIVEN xgboost on rows with NaN and empty features (its CSV parser takes both as missing values)
    split.upload("path/input.csv", b"0,nan,2\n1,2.5,\n0,,3\n1,2.5,NaN\n" * 5)
    plan = split.run(built_in_csv_input(XGBOOST, {"num_round": "5", "objective": "binary:logistic"}))
    assert len(plan["folds"]) == 5


def test_quoted_fields_are_refused_for_xgboost_whose_parser_would_read_them_as_missing(split):
    rejection = split.rejects(built_in_csv_input(XGBOOST, {"num_round": "5"}), data=b'"1","0.5","2"\n"0","1.5","3"\n' * 10)
    assert rejection.problems == [
        "line 1: has a quoted field; xgboost's CSV parser does not read quotes and would take the field for a missing "
        "value: write the numbers without quotes"]


def test_a_blazingtext_label_anywhere_in_the_line_is_its_label(split):
    # GIVEN labels at the start, in the middle and at the end of the lines ("the order doesn't matter")
    rows = [b"__label__good great film", b"boring __label__bad plot", b"loved it __label__good", b"dull __label__bad"]
    split.upload("path/input.txt", b"\n".join(rows * 5) + b"\n")
    document = csv_input("path/input.txt", training={
        "hyperparameters_template": {"mode": "supervised"},
        "algorithm_specification": {"TrainingImage": "811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1",
                                    "TrainingInputMode": "File"}})
    plan = split.run(document)
    assert plan["crossvalidation"]["num_classes"] == 2 and plan["crossvalidation"]["strategy"] == "stratified"


def test_auto_does_not_stratify_labels_that_look_like_values_for_a_custom_container(split):
    # GIVEN a custom container on rows whose first column is an id (every line its own "class")
    split.upload("path/input.csv", b"".join(f"id{i:04d},{i}.5,{i % 7}\n".encode() for i in range(40)))
    plan = split.run(csv_input())
    assert plan["crossvalidation"]["strategy"] == "kfold"
    assert any(note.startswith("crossvalidation.strategy: auto chose kfold, not stratified folds: the labels look like "
                               "values, not classes (40 distinct in 40 lines)") for note in plan["job_config"]["notes"])


def test_image_classification_takes_class_ids_below_num_classes_with_a_class_missing(split):
    # GIVEN class ids 0, 1 and 3 (class 2 has no images) and num_classes 4: the documented [0, num_classes)
    lines = [json.dumps({"source-ref": f"s3://smx-in/images/{i}.jpg", "class": str([0, 1, 3][i % 3])})
             for i in range(30)]
    split.upload("path/input.jsonl", ("\n".join(lines) + "\n").encode())
    plan = split.run(sample_input(training={"hyperparameters_template": {
        "num_classes": "4", "num_training_samples": "${num_training_samples}"}}))
    assert plan["crossvalidation"]["num_classes"] == 3 and len(plan["folds"]) == 5


@pytest.mark.parametrize("image, hyperparameters", [
    (XGBOOST, {"num_round": "5", "objective": "reg:squarederror"}),
    (LINEAR_LEARNER, {"predictor_type": "regressor"}),
])
def test_auto_does_not_stratify_a_regressors_continuous_target(split, image, hyperparameters):
    # GIVEN a continuous target (every value a "class" of one line)
    split.upload("path/input.csv", b"".join(f"{i * 0.37:.2f},{i}.5,{i % 7}\n".encode() for i in range(40)))
    plan, logs = split.run_logged(built_in_csv_input(image, hyperparameters))
    # THEN auto picks plain k-fold (stratifying would refuse 40 one-line classes) and says why
    assert plan["crossvalidation"]["strategy"] == "kfold"
    note = next(note for note in plan["job_config"]["notes"] if note.startswith("crossvalidation.strategy: auto chose"))
    assert "is a regressor, whose labels are values, not classes" in note and note in logs


@pytest.mark.parametrize("key, data", [
    ("path/input.csv", b"1,2,3\n4,5\n,7,8,9\n" * 5),                                       # ragged rows, empty first field
    ("path/input.jsonl", b'{"class": {"a": 1}}\n{"x": 2}\n{"class": [1]}\n{"class": null}\n' * 4),  # any "class"
])
def test_a_custom_container_split_by_plain_k_fold_reads_its_own_format(split, key, data):
    # GIVEN a custom container, strategy kfold, and lines in the container's own format (no labels needed)
    split.upload(key, data)
    plan = split.run(csv_input(key, crossvalidation={"strategy": "kfold"}))
    # THEN the split takes every line as a record, and writes the folds
    assert plan["crossvalidation"]["strategy"] == "kfold"
    assert sum(plan["crossvalidation"]["fold_sizes"]) == data.count(b"\n")


def test_a_group_attribute_with_plain_k_fold_is_still_refused_for_a_custom_container(split):
    # GIVEN kfold (which reads no labels for a custom container) and a group column it would ignore
    rejection = split.rejects(csv_input(crossvalidation={"strategy": "kfold", "group_attribute": 2}),
                              data=b"".join(f"{i % 2},{i}.5,{i % 5}\n".encode() for i in range(20)))
    assert len(rejection.problems) == 1 and rejection.problems[0].startswith("crossvalidation.")
    assert "group" in rejection.problems[0]


def test_one_class_written_two_ways_is_one_class_and_the_run_says_so(split):
    # GIVEN a CSV whose classes are written 1 / 1.0 and 0 / " 0"
    split.upload("path/input.csv", b"".join(f"{label},{i}.5,{i}\n".encode()
                                            for i, label in enumerate(["1", "1.0", "0", " 0"] * 5)))
    document = csv_input(training={"hyperparameters_template": {"num_classes": "${num_classes}"}},
                         crossvalidation={"n_splits": 2})
    # WHEN the split step runs
    plan = split.run(document)
    # THEN ${num_classes} is 2 (not 4), the folds are stratified on 2 classes, and the output says why
    assert plan["crossvalidation"]["num_classes"] == 2
    assert {fold["HyperParameters"]["num_classes"] for fold in plan["folds"]} == {"2"}
    assert ("labels ' 0' and '0' are one class, '0': labels are compared as numbers (the fold files keep every "
            "line as written)") in plan["job_config"]["notes"]


def test_validate_refuses_an_input_file_over_step_functions_256_kib(tmp_path, capsys):
    # GIVEN the documented example padded with whitespace past 262,144 bytes (it parses; StartExecution refuses it)
    path = tmp_path / "padded.json"
    path.write_text(json.dumps(sample_input(), indent=2).replace("{", "{" + " " * 270_000, 1))
    # WHEN it is validated THEN validate says what StartExecution would
    assert cli_main(["validate", str(path)]) == 2
    assert capsys.readouterr().out.startswith(
        f"input: is {path.stat().st_size:,} bytes; Step Functions accepts an execution input of at most 262,144 bytes "
        "(256 KiB): remove whitespace or shorten it")


def test_a_training_image_that_is_not_an_image_uri_is_refused(split):
    document = sample_input()
    document["training"]["algorithm_specification"]["TrainingImage"] = "image-classification"
    assert split.rejects(document).problems == [
        "training.algorithm_specification.TrainingImage: 'image-classification' is not an image's registry path; "
        "write it as registry/repository:tag, such as 382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
    ]


def test_a_local_script_image_is_refused_on_aws_and_accepted_for_an_offline_run(split, tmp_path, capsys):
    # GIVEN the custom-container example, whose image is a script for the offline engine
    document = csv_input()
    document["training"]["algorithm_specification"]["TrainingImage"] = "local:doc/examples/custom/train.py"
    # WHEN the split step runs on AWS THEN it refuses it before anything is written: SageMaker has no such image
    assert split.rejects(document, data=csv_rows()).problems == [
        "training.algorithm_specification.TrainingImage: 'local:doc/examples/custom/train.py' is a script for the "
        "offline engine (smx-validator local run); SageMaker runs container images only: push your container to ECR "
        "and give its registry path, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:1 "
        "(smx-validator validate --offline checks an input for an offline run)"
    ]
    # AND `validate` says the same, while `validate --offline` accepts it
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(document))
    assert cli_main(["validate", str(path)]) == 2
    assert "is a script for the offline engine" in capsys.readouterr().out
    assert cli_main(["validate", "--offline", str(path)]) == 0


def test_an_output_prefix_too_long_for_s3_keys_is_refused_with_the_length_that_fits(split):
    # GIVEN an output prefix whose model keys ({prefix}/{run}/models/{job}/output/model.tar.gz) pass 1,024 bytes
    document = sample_input(job_config={"output_prefix": "s3://smx-out/" + "p" * (960 - 13)})
    # WHEN the split step runs THEN one problem says how long the prefix may be (not one per URI or key)
    assert split.rejects(document).problems == [
        "job_config.output_prefix: is 960 characters; the run writes its fold files and models up to 119 characters "
        "deeper, and SageMaker's S3 URIs and S3's object keys are at most 1024 long, so with this job_config.name it "
        "may be at most 918 characters"
    ]
    # AND a prefix of that length is accepted
    split.upload("path/input.jsonl", manifest())
    fitting = sample_input(job_config={"output_prefix": "s3://smx-out/" + "p" * (918 - 13)})
    plan = split.run(fitting)
    longest_key = max(len(f"{plan['job']['OutputDataConfig']['S3OutputPath']}{fold['TrainingJobName']}/output/"
                          "model.tar.gz") for fold in plan["folds"]) - len("s3://smx-out/")
    assert longest_key == 1024


def test_an_environment_variable_name_that_is_not_one_is_refused(split):
    document = csv_input(training={"environment": {"1ST_RUN": "yes", "MODE": 1}})
    assert split.rejects(document).problems == [
        "training.environment: the name \"1ST_RUN\" is not allowed; use letters, digits and '_', not starting with a digit",
        "training.environment.MODE: expected string, got integer 1",
    ]


# --- groups ----------------------------------------------------------------------------------


def test_a_group_attribute_on_text_data_is_refused(split):
    document = csv_input("path/input.txt", crossvalidation={"group_attribute": "patient"})
    assert split.rejects(document).problems == [
        "crossvalidation.group_attribute: text datasets have no fields to group by: remove group_attribute, or use a JSON Lines manifest with a group attribute"
    ]


def test_a_csv_group_column_that_does_not_exist_is_named(split):
    document = csv_input(crossvalidation={"group_attribute": 7})
    assert split.rejects(document, data=csv_rows()).problems == [
        "crossvalidation.group_attribute: column 7 does not exist; rows have 3 columns (0 to 2): give the number of "
        "the group column"
    ]


def test_fewer_groups_than_folds_is_refused(split):
    data = b"".join(json.dumps({"source-ref": f"s3://smx-in/{i}.jpg", "class": str(i % 2), "patient": i % 3}).encode()
                    + b"\n" for i in range(30))
    document = sample_input(crossvalidation={"group_attribute": "patient"})
    assert split.rejects(document, data=data).problems == [
        "crossvalidation.group_attribute: 5 folds need at least 5 distinct groups, but the dataset has 3: lower "
        "crossvalidation.n_splits or use finer groups"
    ]


def test_repeats_of_group_folds_are_refused_saying_why(split):
    # GIVEN groups (so auto chooses stratified_group) and n_repeats 2
    data = b"".join(json.dumps({"source-ref": f"s3://smx-in/{i}.jpg", "class": str(i % 2), "patient": i % 10}).encode()
                    + b"\n" for i in range(40))
    document = sample_input(crossvalidation={"group_attribute": "patient", "n_repeats": 2})
    # THEN it is refused before anything is written: scikit-learn has no repeated group splitter
    assert split.rejects(document, data=data).problems == [
        "crossvalidation.n_repeats: stratified_group folds cannot repeat (scikit-learn has no repeated group "
        "splitter, so repeats could not be reproduced with it): set n_repeats to 1"]


def test_a_line_without_its_group_is_named(split):
    data = b"".join(json.dumps({"source-ref": f"s3://smx-in/{i}.jpg", "class": str(i % 2), "patient": i}).encode()
                    + b"\n" for i in range(10)) + b'{"source-ref": "s3://smx-in/x.jpg", "class": "1"}\n'
    document = sample_input(crossvalidation={"group_attribute": "patient"})
    assert split.rejects(document, data=data).problems == [
        "line 11: has no \"patient\" attribute (crossvalidation.group_attribute) (starts with: '{\"source-ref\": "
        "\"s3://smx-in/x.jpg\", \"cla'): give every line a \"patient\" value so its group stays in one fold"
    ]


ACCURACY = {"metric": "validation:accuracy", "type": "Maximize"}


@pytest.mark.parametrize("tuning, expected", [
    ({"objective": ACCURACY, "grid": {"learning_rat": ["0.1", "0.01"]}},
     "tuning.grid.learning_rat: image-classification has no hyperparameter 'learning_rat'; did you mean "
     "'learning_rate'? (its container fails a job that names a hyperparameter it does not know)"),
    ({"objective": ACCURACY, "candidates": [{"learning_rate": "0.1"}, {"learning_rate": "2"}]},
     "tuning.candidates[1].learning_rate: for image-classification, '2' is outside"),
    ({"objective": {"metric": "validation:mse", "type": "Minimize"}, "grid": {"learning_rate": ["0.1"]}},
     "tuning.objective.metric: image-classification jobs do not emit 'validation:mse'; they emit (per AWS's tuning "
     "page for the algorithm, with these hyperparameters): validation:accuracy"),
    ({"objective": {"metric": "validation:accuracy", "type": "Minimize"}, "grid": {"learning_rate": ["0.1"]}},
     "tuning.objective.type: validation:accuracy improves as it grows larger (AWS's tuning page: Maximize); "
     "set type to Maximize"),
    ({"objective": ACCURACY}, "tuning: the search has no candidate; give tuning.grid values or tuning.candidates"),
    ({"objective": ACCURACY, "grid": {"learning_rate": ["0.1"]}, "candidates": [{"learning_rate": "0.1"}]},
     "tuning: candidate 1 repeats candidate 0 (learning_rate=0.1); remove one of them"),
    ({"objective": ACCURACY, "grid": {"learning_rate": [str(0.001 * i) for i in range(1, 42)],
                                      "mini_batch_size": [str(i) for i in range(1, 6)]}},
     "tuning: 205 candidates x 1 repeat x 5 folds = 1025 training jobs, more than the 1000 one run may start"),
    ({"objective": ACCURACY, "grid": {"learning_rate": ["0.1"]},
      "candidates": [{"learning_rate": "0.1", "num_classes": "${num_classes}"}]},
     "tuning: candidate 1 repeats candidate 0 (learning_rate=0.1, num_classes=${num_classes}); remove one of them"),
], ids=["unknown-name", "bad-value", "metric-not-emitted", "wrong-direction", "empty", "duplicate", "too-large",
        "duplicate-once-the-template-is-added"])
def test_a_search_that_could_not_rank_its_candidates_is_refused_before_any_job(split, tuning, expected):
    # GIVEN the documented example with a search whose candidates or objective cannot work
    document = sample_input()
    document["job_config"]["name"] = "s"
    document["tuning"] = tuning
    # THEN the split step refuses it, naming the field, before anything is written
    problems = split.rejects(document).problems
    assert any(problem.startswith(expected) for problem in problems), problems


def test_an_objective_computed_on_a_channel_the_jobs_lack_is_refused(split):
    # GIVEN linear-learner ranked on a test: metric (its tuning page lists them, computed on a "test" channel),
    # while every cross-validation job has train and validation channels only
    document = csv_input(training={"hyperparameters_template": {"predictor_type": "binary_classifier",
                                                                "feature_dim": "3"},
                                   "algorithm_specification": {"TrainingImage": LINEAR_LEARNER,
                                                               "TrainingInputMode": "File"}})
    document["tuning"] = {"objective": {"metric": "test:binary_classification_accuracy", "type": "Maximize"},
                          "grid": {"learning_rate": ["0.1", "0.01"]}}
    # THEN the split refuses it, naming the channel and the metrics the jobs do compute, before any job runs
    [problem] = split.rejects(document).problems
    assert problem.startswith("tuning.objective.metric: linear-learner computes 'test:binary_classification_accuracy' "
                              "on a channel named 'test', and each job's channels are train, validation; rank on one "
                              "of: validation:binary_classification_accuracy, validation:binary_f_beta")


def test_a_misnamed_group_attribute_is_one_problem_naming_the_attributes_line_1_has(split):
    # GIVEN "Patient" where every line has "patient"
    data = b"".join(json.dumps({"source-ref": f"s3://smx-in/{i}.jpg", "class": str(i % 2), "patient": i}).encode()
                    + b"\n" for i in range(200))
    document = sample_input(crossvalidation={"group_attribute": "Patient"})
    # THEN one problem lists line 1's attributes and the likely one, instead of one problem per line
    assert split.rejects(document, data=data).problems == [
        "crossvalidation.group_attribute: line 1 has no 'Patient' attribute; its attributes are \"source-ref\", "
        "\"class\", \"patient\": did you mean 'patient'?"
    ]


def test_blazingtext_lines_read_as_csv_say_to_set_the_text_format(split):
    # GIVEN a text dataset of __label__ lines under a .csv name
    data = b"__label__a good fast\n__label__b slow, dull and, late\n" * 10
    # THEN the rows' problems say how to read it as text
    problems = split.rejects(csv_input(), data=data).problems
    assert problems[0].endswith(": if the file is BlazingText text (__label__ tokens), set job_config.input_format "
                                "to text")


# --- out-of-fold predictions -----------------------------------------------------------------

LL_BINARY = {"hyperparameters_template": {"predictor_type": "binary_classifier", "feature_dim": "2"},
             "algorithm_specification": {"TrainingImage": LINEAR_LEARNER, "TrainingInputMode": "File"}}


@pytest.mark.parametrize("setting, training, expected", [
    (True, None, "crossvalidation.out_of_fold_predictions: reads the answers of the built-in algorithms"),
    (True, {**LL_BINARY, "hyperparameters_template": {"predictor_type": "auto", "feature_dim": "2"}},
     "crossvalidation.out_of_fold_predictions: out-of-fold predictions are a classifier's classes or a regressor's "
     "values, and linear-learner with predictor_type 'auto' gives neither; set "
     "training.hyperparameters_template.predictor_type to binary_classifier, multiclass_classifier or regressor"),
    ({"accept": "text/csv"}, LL_BINARY, "crossvalidation.out_of_fold_predictions.accept: linear-learner's answers are "
     "read as 'application/jsonlines', not 'text/csv'; remove accept to use it"),
    ({"instance_type": "ml.p3.2xlarg"}, LL_BINARY, "crossvalidation.out_of_fold_predictions.instance_type: "
     "'ml.p3.2xlarg' is not an instance type Batch Transform runs on (SageMaker's TransformInstanceType); for "
     "example ml.p3.2xlarge"),
    ({"instance_count": 0}, LL_BINARY, "crossvalidation.out_of_fold_predictions"),
], ids=["custom-container", "neither-classifier-nor-regressor", "unread-accept", "unknown-instance", "no-instances"])
def test_out_of_fold_predictions_that_could_not_be_read_are_refused_before_any_job(split, setting, training, expected):
    # GIVEN a CSV run asking for out-of-fold predictions the run could not make or read
    document = csv_input(crossvalidation={"out_of_fold_predictions": setting})
    if training:
        document["training"].update(training)
    # THEN the split refuses it, naming the field and the fix, before anything is written
    problems = split.rejects(document, data=csv_rows(), key="path/input.csv").problems
    assert any(problem.startswith(expected) for problem in problems), problems


def test_out_of_fold_predictions_of_images_in_two_buckets_are_refused_before_anything_is_written(split):
    # GIVEN the image-classification example asking for predictions, its images in two buckets
    document = sample_input(crossvalidation={"out_of_fold_predictions": True})
    data = manifest(40).replace(b"s3://smx-in/images/img00", b"s3://other-images/img00")
    # THEN the split refuses it, naming the buckets (a transform's manifest lists the images of one), and writes nothing
    problems = split.rejects(document, data=data).problems
    assert "crossvalidation.out_of_fold_predictions: the dataset's images are in 2 buckets (other-images, smx-in), " \
           "and a transform job's manifest lists the images of one bucket" in " ".join(problems), problems


# --- MLflow tracking ---------------------------------------------------------------------------

MANAGED_SERVER = "arn:aws:sagemaker:us-east-1:123456789012:mlflow-tracking-server/team"


@pytest.mark.parametrize("tracking_uri, expected", [
    ("file:///home/me/mlruns", "tracking.mlflow.tracking_uri: 'file:///home/me/mlruns' is not reachable from the track "
                               "step's Lambda function: give the http(s):// URL of an MLflow tracking server"),
    ("databricks", "tracking.mlflow.tracking_uri: 'databricks' is not reachable from the track step's Lambda function"),
    (MANAGED_SERVER, f"tracking.mlflow.tracking_uri: this deployment may not write to {MANAGED_SERVER}: its IAM policy "
                     "names only the MlflowTrackingServerArn it was deployed with (none); redeploy with "
                     f"MlflowTrackingServerArn={MANAGED_SERVER}"),
    ("arn:aws:sagemaker:us-east-1:123456789012:tracking-server/team", "tracking.mlflow.tracking_uri: "
     "'arn:aws:sagemaker:us-east-1:123456789012:tracking-server/team' is not the ARN of a SageMaker managed MLflow "
     "tracking server"),
], ids=["local-path", "databricks", "managed-server-not-deployed", "not-an-mlflow-arn"])
def test_an_mlflow_tracking_uri_the_track_step_cannot_use_is_refused_before_any_job(split, tracking_uri, expected):
    # GIVEN a run that asks to be tracked where the track function cannot write
    document = csv_input()
    document["tracking"] = {"mlflow": {"tracking_uri": tracking_uri}}
    # THEN the split refuses it, naming the field and what to give instead, before anything is written
    problems = split.rejects(document, data=csv_rows(), key="path/input.csv").problems
    assert any(problem.startswith(expected) for problem in problems), problems


# --- what a message may show of the data -----------------------------------------------------


@pytest.mark.parametrize("data_key, data", [
    ("path/input.jsonl", manifest(6) + padded_to_60('{"source-ref": "a", "class": ').encode() + b"\n"),
    ("path/input.jsonl", manifest(6) + json.dumps({"class": padded_to_60("long label ")}).encode() + b"\n"),
    ("path/input.jsonl", manifest(6) + json.dumps({"source-ref": padded_to_60("no label ")}).encode() + b"\n"),
    ("path/input.csv", csv_rows(6) + padded_to_60("1,2,3,").encode() + b"\n"),
    ("path/input.csv", padded_to_60("label,").encode() + b"\n" + csv_rows(6)),
    ("path/input.csv", csv_rows(6) + b"1,\xff," + padded_to_60("").encode() + b"\n"),
    ("path/input.txt", b"__label__a x\n__label__b y\n" + padded_to_60("no label ").encode() + b"\n"),
], ids=["invalid-json", "rare-class-label", "missing-label", "csv-field-count", "csv-header", "non-utf8",
        "text-unlabelled"])
def test_no_message_or_log_shows_more_than_the_first_40_characters_of_a_line(split, data_key, data):
    # GIVEN a bad line whose characters after the 60th are a marker
    document = sample_input(data_key) if data_key.endswith("jsonl") else csv_input(data_key)
    # WHEN the split step rejects it
    rejection = split.rejects(document, data=data)
    # THEN neither the error nor the function's log shows the marker
    assert MARKER not in rejection.text
    # AND what is shown of a line is at most PREVIEW_CHARS characters
    for preview in re.findall(r"\(starts with: '((?:[^'\\]|\\.)*)'\)", rejection.message):
        assert len(preview.encode().decode("unicode_escape")) <= line_problems.PREVIEW_CHARS


# --- smx-validator validate only: the text Step Functions itself refuses -------------------


@pytest.mark.parametrize("text, expected", [
    ('{"job_config": {', "input: not valid JSON at line 1, column 17: Expecting property name enclosed in double quotes"),
    ('{"job_config": NaN}', "input: not valid JSON: NaN is not a JSON value; write a number or a string"),
    ('{"seed": ' + "9" * 5000 + "}", "input: not valid JSON: a number has too many digits to read; write it as a string"),
], ids=["truncated", "nan", "huge-number"])
def test_invalid_json_is_named_with_line_and_column_by_validate(tmp_path, capsys, text, expected):
    # GIVEN an input file that is not JSON (Step Functions' StartExecution refuses it outright)
    path = tmp_path / "input.json"
    path.write_text(text)
    # WHEN it is checked
    exit_code = cli_main(["validate", str(path)])
    # THEN the one problem is printed and the exit code says "fix the input"
    assert (exit_code, capsys.readouterr().out) == (2, expected + "\n")


# --- through the deployed state machine ------------------------------------------------------

ENGINE_INPUT, ENGINE_OUTPUT = "smx-robust-in", "smx-robust-out"


@pytest.fixture(scope="class")
def engine():
    """template.yaml deployed offline; class-scoped, so that it is gone before any other test's mock_aws."""
    with LocalEngine(parameters={"InputBucketName": ENGINE_INPUT, "OutputBucketName": ENGINE_OUTPUT},
                     script_root=REPO, retry_delay_cap_seconds=1, sync_poll_seconds=0.05) as engine:
        engine.create_bucket(ENGINE_INPUT)
        engine.create_bucket(ENGINE_OUTPUT)
        yield engine


class TestThroughTheStateMachine:
    """The template deployed offline: the execution FAILS with InvalidInputError and writes nothing."""

    @staticmethod
    def document(key: str = "data/input.jsonl") -> dict:
        document = sample_input()
        document["job_config"]["input_path"] = f"s3://{ENGINE_INPUT}/{key}"
        document["job_config"]["output_prefix"] = f"s3://{ENGINE_OUTPUT}/runs/{time.time_ns()}"
        return document

    @staticmethod
    def put(engine, key: str, body: bytes) -> None:
        engine.client("s3").put_object(Bucket=ENGINE_INPUT, Key=key, Body=body)

    @staticmethod
    def fails_with_invalid_input(engine, execution_input) -> str:
        """Run it; THEN the execution failed in the split step, wrote nothing, and the cause is returned."""
        result = engine.run(execution_input)
        assert (result.status, result.error) == ("FAILED", "InvalidInputError")
        entered = [event["stateEnteredEventDetails"]["name"] for event in result.history if event["type"] == "TaskStateEntered"]
        assert entered == ["SplitDataset"]
        assert engine.client("s3").list_objects_v2(Bucket=ENGINE_OUTPUT).get("KeyCount") == 0
        assert engine.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []
        return json.loads(result.cause)["errorMessage"]

    @staticmethod
    def split_logs(engine) -> str:
        logs = engine.client("logs")
        group = f"/aws/lambda/{engine.function_names['SplitFunction']}"
        return "\n".join(event["message"] for event in logs.filter_log_events(logGroupName=group)["events"])

    def test_a_malformed_line_fails_the_execution_showing_only_the_start_of_the_line(self, engine):
        # GIVEN a manifest whose line 7 is cut short, with a marker past its 60th character
        self.put(engine, "data/input.jsonl", manifest(6) + padded_to_60('{"source-ref": "s3://a", "cla').encode() + b"\n")
        # WHEN an execution starts
        cause = self.fails_with_invalid_input(engine, self.document())
        # THEN the cause names the line and shows its start only, in the cause and in CloudWatch Logs
        assert cause.startswith("line 7: is not valid JSON (")
        assert "(starts with: '{\"source-ref\": \"s3://a\", \"claxxxxxxxxxxx')" in cause
        logs = self.split_logs(engine)
        assert "line 7: is not valid JSON" in logs
        assert MARKER not in cause and MARKER not in logs

    def test_an_input_outside_the_deployed_input_bucket_fails_the_execution(self, engine):
        # GIVEN a readable dataset in a bucket other than the stack's InputBucketName parameter
        engine.create_bucket("not-the-input-bucket")
        engine.client("s3").put_object(Bucket="not-the-input-bucket", Key="input.jsonl", Body=manifest())
        document = self.document()
        document["job_config"]["input_path"] = "s3://not-the-input-bucket/input.jsonl"
        # WHEN / THEN the deployed parameter decides, not an AccessDenied
        cause = self.fails_with_invalid_input(engine, document)
        assert cause == (
            "job_config.input_path: bucket 'not-the-input-bucket' is not this deployment's InputBucketName "
            f"'{ENGINE_INPUT}', the only bucket it may read; upload the dataset there or redeploy with "
            "InputBucketName=not-the-input-bucket"
        )

    def test_a_run_too_big_for_step_functions_is_refused_before_the_writes_it_would_fail_after(
            self, engine, monkeypatch):
        # GIVEN a custom container with 100 hyperparameters of 2,500 characters: an input the schema accepts,
        # whose every job's request is about 250 KB
        self.put(engine, "data/big.jsonl", manifest(40))
        document = self.document("data/big.jsonl")
        document["training"]["algorithm_specification"]["TrainingImage"] = CUSTOM_IMAGE
        document["training"]["hyperparameters_template"] = {f"p{i:02d}": "v" * 2500 for i in range(100)}
        # WHEN it runs THEN the split step refuses it, naming the hyperparameters, and nothing is written
        cause = self.fails_with_invalid_input(engine, document)
        assert cause.startswith("the run's largest Step Functions state would be ")
        assert "the biggest parts: training.hyperparameters_template" in cause
        # AND without that check the same run fails in Step Functions' own payload limit, after the split
        # wrote every fold (what the check prevents)
        split_module = engine.lambda_function("SplitFunction").module
        monkeypatch.setattr(split_module.preflight, "check", lambda *args, **kwargs: None)
        unchecked = self.document("data/big.jsonl") | {"training": document["training"]}
        result = engine.run(unchecked)
        assert result.status == "FAILED"
        prefix = unchecked["job_config"]["output_prefix"].split("/", 3)[3]
        s3 = engine.client("s3")
        written = [item["Key"] for item in s3.list_objects_v2(Bucket=ENGINE_OUTPUT, Prefix=prefix).get("Contents", [])]
        # The other tests of this class expect an empty output bucket.
        s3.delete_objects(Bucket=ENGINE_OUTPUT, Delete={"Objects": [{"Key": key} for key in written]})
        assert "States.DataLimitExceeded" in json.dumps([result.error, result.cause])
        assert any(key.endswith("/validation.jsonl") for key in written)

    def test_an_input_sent_as_a_string_of_json_fails_the_execution(self, engine):
        self.put(engine, "data/input.jsonl", manifest())
        cause = self.fails_with_invalid_input(engine, json.dumps(json.dumps(self.document())))
        assert cause.startswith('input: expected an object, got string "{\\"job_config\\"')
        assert cause.endswith("the input is a string holding JSON: pass the JSON object itself, not a string of it")

    def test_every_schema_problem_is_in_the_cause_one_per_line(self, engine):
        document = self.document()
        document["crossvalidation"] = {"n_splits": 30, "seed": 1}
        document["job_config"]["name"] = "my training"
        cause = self.fails_with_invalid_input(engine, document)
        assert cause.splitlines() == [
            "crossvalidation.seed: unknown field; allowed fields: group_attribute, label_attribute, max_concurrency, "
            "n_repeats, n_splits, out_of_fold_predictions, random_state, strategy",
            "crossvalidation.n_splits: 30 is out of range; it must be at most 20",
            "job_config.name: \"my training\" may only contain ASCII letters, digits, '-', '_' and '.', and must start "
            "with a letter or digit: ' ' is not allowed",
        ]

    def test_a_missing_dataset_object_fails_the_execution(self, engine):
        cause = self.fails_with_invalid_input(engine, self.document("data/never-uploaded.jsonl"))
        assert cause == (f"job_config.input_path: s3://{ENGINE_INPUT}/data/never-uploaded.jsonl does not exist: "
                         "check the bucket and key of the dataset")

    def test_rare_classes_fail_the_execution_naming_them(self, engine):
        self.put(engine, "data/rare.jsonl", manifest(20) + b'{"source-ref": "s3://a", "class": "2"}\n')
        cause = self.fails_with_invalid_input(engine, self.document("data/rare.jsonl"))
        assert cause.startswith("crossvalidation.n_splits: stratifying into 5 folds needs at least 5 lines of every "
                                "class; 1 of 3 classes have fewer: '2' (1).")

    def test_invalid_json_is_refused_by_start_execution(self, engine):
        # GIVEN text that is not JSON
        stepfunctions = engine.client("stepfunctions")
        executions = len(stepfunctions.list_executions(stateMachineArn=engine.state_machine_arn)["executions"])
        # WHEN an execution is started with it
        with pytest.raises(ClientError) as refused:
            engine.start_execution('{"job_config": ')
        # THEN StartExecution refuses it (AWS: InvalidExecutionInput; the emulator leaves the code empty)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "Expecting value" in refused.value.response["Error"]["Message"]
        # AND no execution exists, nothing is written
        assert len(stepfunctions.list_executions(stateMachineArn=engine.state_machine_arn)["executions"]) == executions
        assert engine.client("s3").list_objects_v2(Bucket=ENGINE_OUTPUT).get("KeyCount") == 0


# --- doc/bad-input.md stays true -------------------------------------------------------------


def _documented_tests() -> list[tuple[str, str]]:
    return re.findall(r"`(tests/[\w/]+\.py)::([\w:]+)`", DOC.read_text())


def test_every_test_doc_bad_input_names_exists():
    # GIVEN the table's last column WHEN each named test is looked up THEN it is defined in that file
    rows = [line for line in DOC.read_text().splitlines() if line.startswith("| ") and "::" in line]
    assert len(rows) >= 40
    assert all("`tests/" in row for row in rows), "every row names the test that proves it"
    for path, name in _documented_tests():
        source = (REPO / path).read_text()
        *classes, function = name.split("::")
        assert re.search(rf"^\s*def {function}\(", source, re.MULTILINE), f"{path}::{name} does not exist"
        for cls in classes:
            assert re.search(rf"^class {cls}\b", source, re.MULTILINE), f"{path}::{cls} does not exist"


def test_every_bad_input_test_is_in_doc_bad_input():
    # GIVEN the tests of this file WHEN compared with the table THEN none is missing from it
    documented = {name.split("::")[-1] for path, name in _documented_tests() if path.endswith(HERE.name)}
    defined = set(re.findall(r"^\s*def (test_\w+)\(", HERE.read_text(), re.MULTILINE))
    bookkeeping = {"test_every_test_doc_bad_input_names_exists", "test_every_bad_input_test_is_in_doc_bad_input"}
    assert defined - bookkeeping - documented == set()
