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
    run_folders = [path for path in (tmp_path / "artifacts").iterdir()]
    assert [folder.name for folder in run_folders] == [output["job_config"]["run_id"]]
    files = [path.name for path in run_folders[0].rglob("*") if path.is_file()]
    assert files.count("model.tar.gz") == 5 and {"summary.json", "summary.csv", "run.json"} <= set(files)
    # AND a second run into the same folders keeps the first run's artifacts and replaces the previous output
    assert commands.run_command(run_args(EXAMPLES / "linear-learner.json", DEMO_DATA, output=tmp_path / "out.json",
                                         artifacts=tmp_path / "artifacts"), out=io.StringIO()) == 0
    assert len(list((tmp_path / "artifacts").iterdir())) == 2
    assert json.loads((tmp_path / "out.json").read_text())["job_config"]["run_id"] != output["job_config"]["run_id"]


def test_local_run_shows_folds_predicting_and_the_pooled_metrics_beside_the_per_fold_ones(tmp_path):
    # GIVEN the example with out-of-fold predictions
    out = io.StringIO()
    # WHEN `local run` runs it, asking for the artifacts
    code = commands.run_command(run_args(EXAMPLES / "linear-learner-oof.json", DEMO_DATA,
                                         artifacts=tmp_path / "artifacts"), out=out)
    text = out.getvalue()
    assert code == 0, text
    # THEN each fold is seen predicting once trained, and completed only once its predictions are done
    fold0 = re.findall(r"^\[\s*[\d.]+s\]\s+fold0\s+(\w+)", text, re.MULTILINE)
    assert fold0[-2:] == ["predicting", "completed"] and fold0.count("completed") == 1, fold0  # (a poll may miss
    # "trained": training's end and the prediction's start can fall between two)
    assert re.search(r"fold0\s+predicting\s+crossvalidator-breast-cancer-ll-oof-", text)
    assert re.search(r"fold0\s+completed\s+crossvalidator-\S+-fold0  \(predicted its validation lines\)", text)
    # AND the pooled accuracy stands beside the per-fold mean ± std of the same measure, with the confusion matrix
    assert "Out-of-fold predictions: 569 of 569 lines predicted" in text
    assert re.search(r"accuracy\s+0\.\d{4}\s+0\.\d{4} ± 0\.\d{4} \(validation:binary_classification_accuracy\)", text)
    assert "confusion matrix (rows: label, columns: prediction)" in text
    # AND the artifacts hold the predictions and each fold's index and transform answers
    files = [path.relative_to(tmp_path / "artifacts") for path in (tmp_path / "artifacts").rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"oof_predictions.jsonl", "index.json", "validation.csv.out"} <= names
    assert sum(path.name == "validation.csv.out" for path in files) == 5


@pytest.mark.parametrize("option, target, message", [
    ("output", "folder", "--output {path} is a folder: give the path of a JSON file"),
    ("output", "new-folder/", "--output {path} is a folder: give the path of a JSON file"),
    ("output", "input", "--output {path} is the input file: write the output to another path"),
    ("output", "other-file", "--output {path} exists and is not the output of a previous run: choose another path"),
    ("artifacts", "other-file", "--artifacts {path} is a file: give a folder (it is created if missing)"),
    ("artifacts", "input", "--artifacts {path} is the input file: give a folder (it is created if missing)"),
], ids=["output-folder", "output-new-folder", "output-is-input", "output-other-file", "artifacts-file",
        "artifacts-is-input"])
def test_local_run_refuses_an_output_or_artifacts_path_before_the_run(tmp_path, capsys, option, target, message):
    # GIVEN an input, and a file that is not a run's output
    source = tmp_path / "knn.json"
    source.write_text((EXAMPLES / "knn.json").read_text())
    other = tmp_path / "notes.txt"
    other.write_text("my notes")
    path = {"folder": tmp_path, "new-folder/": f"{tmp_path / 'new'}/", "input": source, "other-file": other}[target]
    # WHEN local run is asked to write there THEN it refuses at once (exit 2, nothing run) and the file is untouched
    assert commands.run_command(run_args(source, **{option: path})) == 2
    assert capsys.readouterr().err.strip().startswith(f"error: {message.format(path=str(path).rstrip('/'))}")
    assert other.read_text() == "my notes" and json.loads(source.read_text())["job_config"]


def test_artifacts_are_never_written_outside_their_folder(tmp_path):
    # GIVEN an object whose key climbs out of the prefix being copied
    from smx_validator.local.engine import LocalEngine

    with LocalEngine(parameters={"InputBucketName": "in-bucket", "OutputBucketName": "out-bucket"}) as engine:
        engine.create_bucket("out-bucket")
        engine.client("s3").put_object(Bucket="out-bucket", Key="runs/r1/../../escaped.txt", Body=b"x")
        # WHEN the prefix is copied THEN the copy is refused, and nothing lands outside the folder
        with pytest.raises(ValueError, match="would be written outside"):
            engine.download_prefix("s3://out-bucket/runs/r1/", tmp_path / "artifacts")
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()


def test_local_run_exits_1_with_the_error_when_the_execution_fails(tmp_path):
    document = json.loads((EXAMPLES / "linear-learner.json").read_text())
    document["crossvalidation"]["n_splits"] = 1
    (tmp_path / "bad.json").write_text(json.dumps(document))
    out = io.StringIO()
    assert commands.run_command(run_args(tmp_path / "bad.json", DEMO_DATA), out=out) == 1
    # THEN the error and each problem are shown one per line, not the Lambda runtime's JSON and stack trace
    lines = out.getvalue().splitlines()
    assert "error: InvalidInputError" in lines
    assert lines[lines.index("error: InvalidInputError") + 1:][:2] == [
        "cause: ", "  crossvalidation.n_splits: 1 is out of range; it must be at least 2"]
    assert "stackTrace" not in out.getvalue() and "errorMessage" not in out.getvalue()


def test_local_run_shows_what_the_split_step_changed_in_the_input(tmp_path):
    # GIVEN the documented example's kind of input: a name SageMaker cannot take and a hyperparameter knn refuses
    document = json.loads((EXAMPLES / "knn.json").read_text())
    document["job_config"]["name"] = "iris_knn.v2"
    document["training"]["hyperparameters_template"]["foo"] = "bar"
    (tmp_path / "knn.json").write_text(json.dumps(document))
    out = io.StringIO()
    # WHEN it runs offline
    assert commands.run_command(run_args(tmp_path / "knn.json", f"{DATASETS / 'iris.csv'}=s3://smx-demo-input/iris/iris.csv"),
                                out=out) == 0
    # THEN the notes validate would print are shown too (the dropped hyperparameter above all)
    text = out.getvalue()
    assert "notes (also in the output's job_config.notes):" in text
    assert "  job_config.name: 'iris_knn.v2' is used as 'iris-knn-v2'" in text
    assert "  hyperparameter 'foo': left out of the training jobs; knn does not accept it" in text


def test_interrupting_start_wait_says_the_execution_keeps_running_and_how_to_stop_it(served, tmp_path):
    endpoint, arn, env = served
    aws(served, "s3", "cp", str(DATASETS / "breast_cancer.csv"), "s3://smx-demo-input/breast_cancer/breast_cancer.csv")
    # GIVEN `start --wait` following an execution whose jobs train for a minute
    follow = subprocess.Popen([str(BIN / "smx-validator"), "start", str(_slow_input(tmp_path, "60.5")),
                               "--state-machine-arn", arn, "--endpoint-url", endpoint, "--wait"], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    started = follow.stdout.readline()
    assert started.startswith("started "), started
    execution = started.split()[1]
    # WHEN the user presses Ctrl-C
    follow.send_signal(signal.SIGINT)
    output, _ = follow.communicate(timeout=30)
    # THEN it exits 130, saying the execution keeps running and how to stop it; the execution indeed runs on
    assert follow.returncode == 130 and "Traceback" not in output
    assert f"interrupted: the execution keeps running on {endpoint} (and its training jobs keep billing): {execution}" \
        in output
    assert f"  stop it with: aws stepfunctions stop-execution --endpoint-url {endpoint} --execution-arn {execution}" \
        in output
    assert json.loads(aws(served, "stepfunctions", "describe-execution", "--execution-arn", execution))["status"] == \
        "RUNNING"
    aws(served, "stepfunctions", "stop-execution", "--execution-arn", execution)


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


def test_start_follows_an_execution_on_a_local_endpoint(served, tmp_path, monkeypatch):
    endpoint, arn, _ = served
    aws(served, "s3", "cp", str(DATASETS / "iris.csv"), "s3://smx-demo-input/iris/iris.csv")
    out = io.StringIO()
    code = commands.start_command(argparse.Namespace(
        input=EXAMPLES / "knn.json", state_machine_arn=arn, endpoint_url=endpoint, wait=True,
        report=str(tmp_path / "run.html")), out=out)
    text = out.getvalue()
    assert code == 0, text
    assert re.search(r"fold\d\s+completed\s+crossvalidator-iris-knn-", text)  # live progress
    assert re.search(r"test:accuracy(\s+\d\.\d{4}){5}\s+\d\.\d{4} ± \d\.\d{4}", text)  # the same table
    # AND the report it wrote is the one `report` renders from the run's summary.json on S3
    summary_json = re.search(r"Summary: (s3://\S+/summary\.json)", text).group(1)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert cli_main(["report", summary_json, "--endpoint-url", endpoint, "--html", str(tmp_path / "again.html")]) == 0
    assert (tmp_path / "run.html").read_text() == (tmp_path / "again.html").read_text()


@pytest.mark.parametrize("data, message", [
    ("nope.csv", "error: --data 'nope.csv': nope.csv does not exist"),
    (str(DATASETS / "digits"), f"error: --data '{DATASETS / 'digits'}': {DATASETS / 'digits'} is a folder; give the "
                               "dataset file itself (the CSV, the JSON Lines manifest or the text file)"),
    (f"{DATASETS / 'iris.csv'}=s3://", f"error: --data '{DATASETS / 'iris.csv'}=s3://': expected "
                                       "LOCAL_FILE=s3://bucket/key"),
    (f"{DATASETS / 'iris.csv'}=s3://smx-demo-input", f"error: --data '{DATASETS / 'iris.csv'}=s3://smx-demo-input': "
     "s3://smx-demo-input names a bucket, not an object: write s3://smx-demo-input/key (or s3://smx-demo-input/prefix/ "
     "to keep the file's name)"),
    (f"{DATASETS / 'iris.csv'}=notanuri", f"error: --data '{DATASETS / 'iris.csv'}=notanuri': 'notanuri' is not an S3 "
                                          "URI: write LOCAL_FILE=s3://bucket/key"),
    (f"s3://smx-demo-input/iris.csv={DATASETS / 'iris.csv'}", f"error: --data 's3://smx-demo-input/iris.csv="
     f"{DATASETS / 'iris.csv'}': the local file comes first: {DATASETS / 'iris.csv'}=s3://smx-demo-input/iris.csv"),
], ids=["missing", "folder", "uri-without-bucket", "bucket-without-key", "not-a-uri", "swapped"])
def test_validate_refuses_an_unusable_data_option_in_one_line(capsys, data, message):
    assert cli_main(["validate", str(EXAMPLES / "knn.json"), "--data", data]) == 2
    assert capsys.readouterr().err.splitlines() == [message]


@pytest.mark.parametrize("data", [[], [f"{DATASETS / 'iris.csv'}=s3://smx-demo-input/iris/other.csv"]],
                         ids=["no-data", "another-key"])
def test_local_run_refuses_at_once_a_run_whose_dataset_it_does_not_upload(capsys, data):
    # GIVEN a local run whose --data does not upload job_config.input_path (the emulated S3 holds nothing else)
    args = run_args(EXAMPLES / "knn.json", *data)
    # WHEN it runs THEN it stops before deploying, naming the upload that would work
    assert commands.run_command(args) == 2
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        ": the offline run reads only what --data uploads; give --data LOCAL_FILE=s3://smx-demo-input/iris/iris.csv")


def test_validate_takes_local_runs_data_form(capsys):
    # GIVEN --data written as local run writes it (FILE=s3://bucket/key), which users copy between commands
    data = f"{DATASETS / 'iris.csv'}=s3://smx-demo-input/iris/iris.csv"
    # THEN validate checks the local file
    assert cli_main(["validate", str(EXAMPLES / "knn.json"), "--data", data]) == 0
    assert "data: 150 lines, 3 classes, stratified folds of 30, 30, 30, 30, 30 lines" in capsys.readouterr().out
    # AND a URI other than the input's input_path is pointed out (the run would not read that object)
    other = f"{DATASETS / 'iris.csv'}=s3://other-bucket/iris.csv"
    assert cli_main(["validate", str(EXAMPLES / "knn.json"), "--data", other]) == 0
    assert ("  note: --data names s3://other-bucket/iris.csv, but job_config.input_path is "
            "s3://smx-demo-input/iris/iris.csv: the run reads input_path, so upload the file there") \
        in capsys.readouterr().out.splitlines()


def test_validate_says_what_out_of_fold_predictions_will_run(capsys):
    # GIVEN the example with out-of-fold predictions
    # WHEN it is validated
    assert cli_main(["validate", str(EXAMPLES / "linear-learner-oof.json")]) == 0
    # THEN validate says how many transform jobs run, where, and in which format their answers are read
    assert ("  out-of-fold predictions (classification): 5 Batch Transform jobs, one per fold, each on 1 "
            "ml.m5.xlarge; answers read as application/jsonlines") in capsys.readouterr().out.splitlines()


# -- interrupts: what a user's Ctrl-C (or a supervisor's SIGTERM) does to the offline tools ----------------

def _slow_input(tmp_path: Path, marker: str) -> Path:
    """A custom-script run whose jobs train for a minute; ``marker`` tells its scripts' command lines apart."""
    document = json.loads((EXAMPLES / "custom.json").read_text())
    document["job_config"].update(name="interrupted", output_prefix="s3://smx-demo-output/interrupted")
    document["training"]["hyperparameters_template"] = {"seconds": marker}
    document["training"]["algorithm_specification"] = {"TrainingImage": "local:tests/faults/scripts/fault_train.py",
                                                       "TrainingInputMode": "File"}
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(document))
    return path


def _processes_with(marker: str) -> list[str]:
    listed = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True).stdout.splitlines()
    return [line for line in listed if marker in line and "ps -eo" not in line]


def _start_training_run(tmp_path: Path, marker: str) -> subprocess.Popen:
    """`smx-validator local run` in a subprocess, returned once its training scripts (``marker``) run."""
    command = [str(BIN / "smx-validator"), "local", "run", str(_slow_input(tmp_path, marker)), "--data", DEMO_DATA]
    run = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if not _wait_for(lambda: len(_processes_with(marker)) >= 2, 60):
        run.kill()
        pytest.fail(f"the training scripts never started: {run.communicate()[0][-3000:]}")
    return run


def _wait_for(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("signum, exit_code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_interrupting_local_run_mid_training_stops_it_within_seconds_and_leaves_no_process(tmp_path, signum, exit_code):
    # GIVEN `smx-validator local run` whose training scripts run for a minute
    marker = f"60.{os.getpid()}{signum}"
    run = _start_training_run(tmp_path, marker)
    try:
        # WHEN the user presses Ctrl-C (or a supervisor sends SIGTERM) mid-training
        interrupted = time.monotonic()
        run.send_signal(signum)
        output, _ = run.communicate(timeout=30)
        elapsed = time.monotonic() - interrupted
    finally:
        if run.poll() is None:
            run.kill()
    # THEN it exits with the shell's code for that signal within seconds, with no traceback
    assert run.returncode == exit_code and elapsed < 15, (run.returncode, elapsed, output[-2000:])
    assert "Traceback" not in output
    # AND its last line says what happened and what is kept
    assert output.strip().splitlines()[-1].startswith(
        "interrupted: the execution and its SageMaker jobs were stopped; nothing is kept")
    # AND no training script outlives the command
    assert _processes_with(marker) == []


def test_two_quick_ctrl_c_end_local_run_at_once_and_still_leave_no_process(tmp_path):
    # GIVEN `local run` training scripts for a minute
    marker = f"60.{os.getpid()}9"
    run = _start_training_run(tmp_path, marker)
    try:
        # WHEN the user presses Ctrl-C twice in quick succession (the second lands in the first one's cleanup)
        run.send_signal(signal.SIGINT)
        time.sleep(0.05)
        run.send_signal(signal.SIGINT)
        output, _ = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    # THEN it ends with 130 and an "interrupted:" line, without a traceback, and no training script survives it
    assert run.returncode == 130 and "Traceback" not in output
    assert output.strip().splitlines()[-1].startswith("interrupted: ")
    assert _wait_for(lambda: _processes_with(marker) == [], 5), _processes_with(marker)


def test_sigterm_to_local_serve_stops_its_executions_and_leaves_no_process(tmp_path):
    # GIVEN `local serve` running an execution whose training scripts run for a minute
    marker = f"60.{os.getpid()}7"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    server = subprocess.Popen([str(BIN / "smx-validator"), "local", "serve", "--port", "0"], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        printed = {}
        for line in server.stdout:
            key, _, value = line.partition(":")
            printed[key] = value.strip()
            if line.startswith("Ctrl-C"):
                break
        endpoint, arn = printed["endpoint"], printed["state machine ARN"]
        subprocess.run([str(BIN / "aws"), "--endpoint-url", endpoint, "s3", "cp", str(DATASETS / "breast_cancer.csv"),
                        "s3://smx-demo-input/breast_cancer/breast_cancer.csv"], env=env, check=True, capture_output=True)
        start = subprocess.run([str(BIN / "smx-validator"), "start", str(_slow_input(tmp_path, marker)),
                                "--state-machine-arn", arn, "--endpoint-url", endpoint], cwd=REPO, env=env,
                               capture_output=True, text=True, timeout=60)
        assert start.returncode == 0, start.stderr
        assert _wait_for(lambda: len(_processes_with(marker)) >= 2, 60), "the training scripts never started"
        # WHEN a supervisor sends SIGTERM
        stopped = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=30)
        elapsed = time.monotonic() - stopped
    finally:
        if server.poll() is None:
            server.kill()
    # THEN it ends within seconds and no training script outlives it
    assert elapsed < 15
    assert _processes_with(marker) == []


def test_local_serve_on_a_port_in_use_fails_at_once(tmp_path):
    # GIVEN a port something already listens on
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # WHEN local serve is asked to use it THEN it fails at once with exit code 2 and says what to do
        completed = subprocess.run([str(BIN / "smx-validator"), "local", "serve", "--port", str(port)], cwd=REPO,
                                   capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert completed.stderr.strip() == (f"error: port {port} on 127.0.0.1 is in use: stop what listens there, or pick "
                                        "another with --port (0 picks a free one)")


@pytest.mark.parametrize("argv, command", [
    (["local", "run", str(EXAMPLES / "linear-learner.json"), "--data", DEMO_DATA], "local run"),
    (["sar-template", str(REPO / "template.yaml")], "sar-template"),
], ids=["local-run", "sar-template"])
def test_without_the_engine_extra_a_command_that_needs_it_says_how_to_install_it(argv, command):
    # GIVEN an install without the engine extra (moto and aws-sam-cli absent)
    script = ("import sys; sys.modules['moto'] = sys.modules['samcli'] = None\n"
              f"from smx_validator.cli import main; sys.exit(main({argv!r}))")
    # WHEN the command runs
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120)
    # THEN it says which command needs what, and how to install it, without a traceback (exit 2)
    assert result.returncode == 2, result.stderr
    assert f"error: smx-validator {command} needs the offline engine's packages" in result.stderr
    assert "pip install -e '.[engine]'" in result.stderr and "Traceback" not in result.stderr


def test_interrupting_a_python_api_wait_on_aws_names_the_execution_that_keeps_running(served, capsys):
    # GIVEN an execution started from the Python API on a deployed state machine (local serve stands for AWS)
    import boto3

    from smx_validator import CrossValidation

    endpoint, arn, _ = served
    aws(served, "s3", "cp", str(DATASETS / "iris.csv"), "s3://smx-demo-input/iris/iris.csv")
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing")
    run = CrossValidation(EXAMPLES / "knn.json", state_machine_arn=arn, session=session, endpoint_url=endpoint)

    def interrupt() -> None:
        raise KeyboardInterrupt

    # WHEN the user interrupts the wait (Ctrl-C, or a notebook's interrupt)
    with pytest.raises(KeyboardInterrupt):
        run.wait(progress=False, on_poll=interrupt)
    # THEN they are told that the execution keeps running, which one, and how to stop it
    said = capsys.readouterr().err
    assert f"interrupted: the execution keeps running on AWS: {run.execution_arn}" in said
    assert f"aws stepfunctions stop-execution --execution-arn {run.execution_arn}" in said
    run.stop()
