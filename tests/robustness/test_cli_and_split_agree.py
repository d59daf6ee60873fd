"""`smx-validator validate` and the split function report the same problems in the same words.

A user checks an input on their workstation before paying for a run: what ``validate`` prints
(one problem per line, exit code 2) must be exactly what the execution would fail with.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from smx_validator.cli import EXIT_OK, EXIT_USAGE
from smx_validator.cli import main as cli_main

from .conftest import INPUT_BUCKET, OUTPUT_BUCKET, REPO, csv_input, csv_rows, manifest, sample_input

SMX_VALIDATOR = Path(sys.executable).with_name("smx-validator")


def validate(tmp_path: Path, capsys, document, data: bytes | None = None, data_name: str = "data.jsonl"):
    """``smx-validator validate input.json [--data FILE]`` against the same deployment as the handler."""
    input_file = tmp_path / "input.json"
    input_file.write_text(json.dumps(document))
    argv = ["validate", str(input_file), "--input-bucket", INPUT_BUCKET, "--output-bucket", OUTPUT_BUCKET]
    if data is not None:
        (tmp_path / data_name).write_bytes(data)
        argv += ["--data", str(tmp_path / data_name)]
    exit_code = cli_main(argv)
    return exit_code, capsys.readouterr().out.splitlines()


def without_labels(num_lines: int) -> bytes:
    return b"".join(json.dumps({"source-ref": f"s3://smx-in/{i}.jpg"}).encode() + b"\n" for i in range(num_lines))


def _two_mistakes():
    document = sample_input(crossvalidation={"n_splits": 1, "shuffle": True})
    document["job_config"]["name"] = "x" * 40
    return document


# case: (the input, how the first problem starts)
INPUT_CASES = {
    "schema-violations": (_two_mistakes, "crossvalidation.shuffle: unknown field"),
    "not-an-object": (lambda: [sample_input()], "input: expected an object, got array"),
    "string-of-json": (lambda: json.dumps(sample_input()), "input: expected an object, got string"),
    "bucket-outside-deployment": (lambda: sample_input(job_config={"output_prefix": "s3://other-bucket/out"}),
                                  "job_config.output_prefix: bucket 'other-bucket'"),
    "name-too-long": (lambda: sample_input(job_config={"name": "n" * 27}), "job_config.name: 'nnn"),
    "unknown-placeholder": (lambda: sample_input(training={"hyperparameters_template": {
        "num_classes": "${classes}", "num_training_samples": "${num_training_samples}"}}),
                            "training.hyperparameters_template.num_classes: unknown placeholder ${classes}"),
    "hyperparameter-not-a-string": (lambda: csv_input(training={"hyperparameters_template": {"layers": [1, 2]}}),
                                    "training.hyperparameters_template.layers: expected string"),
    "spot-wait-too-short": (lambda: sample_input(training={"stopping_condition": {"MaxRuntimeInSeconds": 600,
                                                                                  "MaxWaitTimeInSeconds": 60}}),
                            "training.stopping_condition.MaxWaitTimeInSeconds: 60 is less"),
}


@pytest.mark.parametrize("case", INPUT_CASES)
def test_validate_prints_the_split_functions_problems_for_a_bad_input(split, tmp_path, capsys, case):
    # GIVEN one bad input
    make_input, first_problem = INPUT_CASES[case]
    document = make_input()
    # WHEN the split function runs it AND validate checks it
    problems = split.rejects(document, data=manifest(), key="path/input.jsonl").problems
    assert problems[0].startswith(first_problem)
    exit_code, printed = validate(tmp_path, capsys, document)
    # THEN validate prints exactly the function's problems, one per line, and exits 2
    assert (exit_code, printed) == (EXIT_USAGE, problems)


# case: (the input for a data key, the dataset, its file name, how the first problem starts)
DATA_CASES = {
    "malformed-line": (sample_input, manifest(8) + b'{"source-ref": "s3://smx-in/a.jpg", "class": 1\n', "input.jsonl",
                       "line 9: is not valid JSON"),
    "csv-in-jsonl": (sample_input, manifest(8) + b"1,2,3\n" + b"not json\n", "input.jsonl",
                     "line 9: looks like a CSV row, not JSON"),
    "non-utf8": (sample_input, manifest(8) + b'{"source-ref": "s3://smx-in/\xe9.jpg", "class": "1"}\n', "input.jsonl",
                 "line 9: is not UTF-8 text (byte 0xe9 at column 29)"),
    "byte-order-mark": (csv_input, b"\xef\xbb\xbf" + csv_rows(8), "input.csv", "line 1: starts with a byte order mark"),
    "empty": (sample_input, b"", "input.jsonl", "job_config.input_path: the dataset is empty"),
    "csv-header": (csv_input, b"label,a,b\n" + csv_rows(8), "input.csv", "line 1: looks like a header"),
    "rare-classes": (sample_input, manifest(20) + b'{"source-ref": "s3://smx-in/z.jpg", "class": "2"}\n',
                     "input.jsonl", "crossvalidation.n_splits: stratifying into 5 folds"),
    "more-folds-than-lines": (lambda key: csv_input(key, crossvalidation={"strategy": "kfold"}), csv_rows(3),
                              "input.csv", "crossvalidation.n_splits: 5 folds need at least 5 lines"),
    "num-classes-without-labels": (sample_input, without_labels(10), "input.jsonl",
                                   "crossvalidation.label_attribute: no line of the dataset has a 'class' attribute"),
    "fewer-groups-than-folds": (lambda key: csv_input(key, crossvalidation={"group_attribute": 2}),
                                b"".join(f"{i % 2},{i}.5,{i % 3}\n".encode() for i in range(20)), "input.csv",
                                "crossvalidation.group_attribute: 5 folds need at least 5 distinct groups"),
}


@pytest.mark.parametrize("case", DATA_CASES)
def test_validate_with_data_prints_the_split_functions_problems_for_a_bad_dataset(split, tmp_path, capsys, case):
    # GIVEN a dataset on S3 and the same bytes in a local file
    make_input, data, name, first_problem = DATA_CASES[case]
    document = make_input(f"path/{name}")
    # WHEN the split function reads it from S3 AND validate --data reads the local copy
    problems = split.rejects(document, data=data).problems
    assert problems[0].startswith(first_problem)
    exit_code, printed = validate(tmp_path, capsys, document, data, name)
    # THEN both say the same
    assert (exit_code, printed) == (EXIT_USAGE, problems)


def test_validate_prints_the_same_normalisations_the_split_function_logs(split, tmp_path, capsys):
    # GIVEN a valid input whose name and hyperparameters are normalised
    document = csv_input(training={"hyperparameters_template": {"epochs": 10, "verbose": True}},
                         crossvalidation={"n_splits": 4.0, "random_state": 3})
    document["job_config"]["name"] = "my_training"
    split.upload("path/input.csv", csv_rows(40))
    # WHEN the split function plans it AND validate checks it
    plan = split.run(document)
    exit_code, printed = validate(tmp_path, capsys, document, csv_rows(40), "input.csv")
    # THEN validate shows every note and name mapping the plan reports, in the same words
    assert exit_code == EXIT_OK
    assert printed[0] == f"valid: 4 folds of s3://{INPUT_BUCKET}/path/input.csv (csv, custom channels)"
    assert "  job_config.name: 'my_training' is used as 'my-training'" in printed
    assert [line.strip() for line in printed if line.startswith("  ") and "is used as" not in line
            and not line.startswith("  data:")] == plan["job_config"]["notes"]
    assert printed[-1] == "  data: 40 lines, 2 classes, stratified folds of 10, 10, 10, 10 lines"
    assert plan["crossvalidation"]["fold_sizes"] == [10, 10, 10, 10]


def test_the_installed_command_prints_the_same_problems(split, tmp_path):
    # GIVEN a bad dataset and the smx-validator command the package installs
    document = sample_input()
    data = manifest(8) + b"__label__1 not a manifest line\n"
    problems = split.rejects(document, data=data).problems
    (tmp_path / "input.json").write_text(json.dumps(document))
    (tmp_path / "input.jsonl").write_bytes(data)
    # WHEN it is run as a user runs it
    completed = subprocess.run(
        [str(SMX_VALIDATOR), "validate", str(tmp_path / "input.json"), "--data", str(tmp_path / "input.jsonl"),
         "--input-bucket", INPUT_BUCKET, "--output-bucket", OUTPUT_BUCKET],
        capture_output=True, text=True, cwd=REPO, timeout=120,
    )
    # THEN it exits 2 and prints the function's problems, and no traceback
    assert (completed.returncode, completed.stdout.splitlines()) == (EXIT_USAGE, problems)
    assert "Traceback" not in completed.stderr
