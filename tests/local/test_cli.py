"""`smx-validator local run`, `local serve` (driven by the real aws CLI) and `start`."""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from smx_validator.cli import main as cli_main
from smx_validator.local import commands

from .conftest import DATASETS, EXAMPLES, REPO

BIN = Path(sys.executable).parent
DEMO_DATA = f"{DATASETS / 'breast_cancer.csv'}=s3://smx-demo-input/breast_cancer/breast_cancer.csv"


def run_args(input_path: Path, *data: str, output: Path | None = None, artifacts: Path | None = None) -> argparse.Namespace:
    return argparse.Namespace(input=input_path, data=list(data), output=output, artifacts=artifacts)


def test_local_run_prints_each_fold_and_the_cross_validated_metrics(tmp_path):
    # GIVEN the demo: the linear-learner example on the bundled breast cancer data
    out = io.StringIO()
    # WHEN `local run` runs it, asking for the output and the artifacts
    code = commands.run_command(run_args(EXAMPLES / "linear-learner.json", DEMO_DATA,
                                         output=tmp_path / "out.json", artifacts=tmp_path / "artifacts"), out=out)
    # THEN it exits 0 after a per-fold table with mean ± std of the algorithm's metrics
    text = out.getvalue()
    assert code == 0, text
    assert re.search(r"fold4\s+Completed\s+crossvalidator-breast-cancer-ll-\d{8}-\d{6}-fold4", text)
    assert re.search(r"validation:binary_classification_accuracy(\s+0\.\d{4}){5}\s+0\.\d{4} ± 0\.\d{4}", text)
    assert "execution SUCCEEDED" in text
    # AND the output JSON and everything the run wrote to S3 are on disk
    output = json.loads((tmp_path / "out.json").read_text())
    assert output["summary"]["metrics"]["validation:binary_classification_accuracy"]["count"] == 5
    files = [path.name for path in (tmp_path / "artifacts").rglob("*") if path.is_file()]
    assert files.count("model.tar.gz") == 5 and {"summary.json", "summary.csv", "run.json"} <= set(files)


def test_local_run_exits_1_with_the_error_when_the_execution_fails(tmp_path):
    document = json.loads((EXAMPLES / "linear-learner.json").read_text())
    document["crossvalidation"]["n_splits"] = 1
    (tmp_path / "bad.json").write_text(json.dumps(document))
    out = io.StringIO()
    assert commands.run_command(run_args(tmp_path / "bad.json", DEMO_DATA), out=out) == 1
    assert "error: InvalidInputError" in out.getvalue()
    assert "crossvalidation.n_splits" in out.getvalue()


@pytest.mark.parametrize("data", ["no-equals-sign", "missing.csv=s3://bucket/key", f"{DATASETS / 'iris.csv'}=/not/s3"])
def test_local_run_exits_2_for_unusable_data_options(data, capsys):
    assert commands.run_command(run_args(EXAMPLES / "knn.json", data)) == 2
    assert "--data" in capsys.readouterr().err


@pytest.mark.parametrize("content, message", [
    (b"{not json", "input.json: not valid JSON at line 1, column 2: Expecting property name enclosed in double quotes"),
    (b"", "input.json is empty: write the execution input JSON there"),
    ('{"a": "caf\u00e9"}'.encode("latin-1"), "input.json: not UTF-8 text; save the input JSON as UTF-8"),
    (b'{"n": NaN}', "input.json: not valid JSON: NaN is not a JSON value"),
], ids=["not-json", "empty", "latin-1", "nan"])
def test_local_run_and_start_exit_2_with_one_line_for_an_unusable_input_file(tmp_path, capsys, content, message):
    # GIVEN an input file local run and start cannot use
    path = tmp_path / "input.json"
    path.write_bytes(content)
    # WHEN local run or start reads it THEN each exits 2 before any work, with one line naming the file
    assert commands.run_command(run_args(path)) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: ") and message in errors[0]
    start = argparse.Namespace(input=path, state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:x",
                               endpoint_url=None, wait=False)
    assert commands.start_command(start) == 2
    assert capsys.readouterr().err.splitlines() == errors


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_an_input_file_with_a_byte_order_mark_is_read_by_every_command(tmp_path, encoding):
    # GIVEN the knn example saved by an editor that writes a byte-order mark
    path = tmp_path / "knn.json"
    path.write_text((EXAMPLES / "knn.json").read_text(encoding="utf-8"), encoding=encoding)
    # THEN validate and local run/start read the same document from it
    assert cli_main(["validate", str(path)]) == 0
    assert commands._read_input(path) == json.loads((EXAMPLES / "knn.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`smx-validator local serve --port 0` in a subprocess: (endpoint, state machine ARN, env)."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    server = subprocess.Popen([str(BIN / "smx-validator"), "local", "serve", "--port", "0"], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    printed = {}
    try:
        for line in server.stdout:
            if line.startswith(("endpoint:", "state machine ARN:")):
                key, _, value = line.partition(":")
                printed[key] = value.strip()
            if line.startswith("Ctrl-C"):
                break
        assert {"endpoint", "state machine ARN"} <= set(printed), f"serve printed {printed}"
        yield printed["endpoint"], printed["state machine ARN"], env
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def aws(served, *arguments: str) -> str:
    endpoint, _, env = served
    completed = subprocess.run([str(BIN / "aws"), "--endpoint-url", endpoint, *arguments], env=env, cwd=REPO,
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_the_aws_cli_runs_an_execution_on_local_serve(served):
    endpoint, arn, _ = served
    # GIVEN the dataset copied with `aws s3 cp`
    aws(served, "s3", "cp", str(DATASETS / "iris.csv"), "s3://smx-demo-input/iris/iris.csv")
    # WHEN `aws stepfunctions start-execution` starts the knn example (no --name, as users type it)
    started = json.loads(aws(served, "stepfunctions", "start-execution", "--state-machine-arn", arn,
                             "--input", f"file://{EXAMPLES / 'knn.json'}"))
    # THEN describe-execution reaches SUCCEEDED and the output carries the cross-validated metrics
    deadline = time.monotonic() + 60
    while True:
        description = json.loads(aws(served, "stepfunctions", "describe-execution",
                                     "--execution-arn", started["executionArn"]))
        if description["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert description["status"] == "SUCCEEDED", description
    assert json.loads(description["output"])["summary"]["metrics"]["test:accuracy"]["count"] == 5
    history = json.loads(aws(served, "stepfunctions", "get-execution-history", "--execution-arn", started["executionArn"]))
    assert history["events"][-1]["type"] == "ExecutionSucceeded"


def test_start_follows_an_execution_on_a_local_endpoint(served):
    endpoint, arn, _ = served
    aws(served, "s3", "cp", str(DATASETS / "iris.csv"), "s3://smx-demo-input/iris/iris.csv")
    out = io.StringIO()
    code = commands.start_command(argparse.Namespace(
        input=EXAMPLES / "knn.json", state_machine_arn=arn, endpoint_url=endpoint, wait=True), out=out)
    text = out.getvalue()
    assert code == 0, text
    assert re.search(r"fold\d\s+completed\s+crossvalidator-iris-knn-", text)  # live progress
    assert re.search(r"test:accuracy(\s+\d\.\d{4}){5}\s+\d\.\d{4} ± \d\.\d{4}", text)  # the same table


@pytest.mark.parametrize("data, message", [
    ("nope.csv", "error: --data 'nope.csv': nope.csv does not exist"),
    (str(DATASETS / "digits"), f"error: --data '{DATASETS / 'digits'}': {DATASETS / 'digits'} is a folder; give the "
                               "dataset file itself (the CSV, the JSON Lines manifest or the text file)"),
    (f"{DATASETS / 'iris.csv'}=s3://", f"error: --data '{DATASETS / 'iris.csv'}=s3://': expected "
                                       "LOCAL_FILE=s3://bucket/key"),
], ids=["missing", "folder", "uri-without-bucket"])
def test_validate_refuses_an_unusable_data_option_in_one_line(capsys, data, message):
    assert cli_main(["validate", str(EXAMPLES / "knn.json"), "--data", data]) == 2
    assert capsys.readouterr().err.splitlines() == [message]


def test_validate_takes_local_runs_data_form(capsys):
    # GIVEN --data written as local run writes it (FILE=s3://bucket/key), which users copy between commands
    data = f"{DATASETS / 'iris.csv'}=s3://smx-demo-input/iris/iris.csv"
    # THEN validate checks the local file
    assert cli_main(["validate", str(EXAMPLES / "knn.json"), "--data", data]) == 0
    assert "data: 150 lines, 3 classes, stratified folds of 30, 30, 30, 30, 30 lines" in capsys.readouterr().out
