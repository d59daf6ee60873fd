"""`smx-validator report` and `local run --report`: the report a user gets from the CLI, and the paths it
refuses before anything is run or written."""

from __future__ import annotations

import json

import pytest

from smx_validator.cli import main as cli_main

from .conftest import DATASETS, EXAMPLES

IRIS = f"{DATASETS / 'iris.csv'}=s3://smx-demo-input/iris/iris.csv"


def test_local_run_writes_the_report_that_report_renders_from_its_output(tmp_path, capsys):
    # GIVEN the knn example run offline, asking for its output and its report
    code = cli_main(["local", "run", str(EXAMPLES / "knn.json"), "--data", IRIS, "--output", str(tmp_path / "out.json"),
                     "--report", str(tmp_path / "run.html")])
    assert code == 0, capsys.readouterr().out
    assert f"wrote the report {tmp_path / 'run.html'}" in capsys.readouterr().out
    # WHEN the report is rendered again from the saved output
    assert cli_main(["report", str(tmp_path / "out.json"), "--html", str(tmp_path / "again.html")]) == 0
    # THEN both are the same page, with this run's identity and every fold's job
    page = (tmp_path / "run.html").read_text()
    assert page == (tmp_path / "again.html").read_text()
    output = json.loads((tmp_path / "out.json").read_text())
    assert output["job_config"]["run_id"] in page
    assert all(split["TrainingJobName"] in page for split in output["splits"])
    # AND a later report replaces a previous one
    assert cli_main(["report", str(tmp_path / "out.json"), "--html", str(tmp_path / "run.html")]) == 0


@pytest.mark.parametrize("source, html, message", [
    ("missing.json", "r.html", "error: {tmp}/missing.json: no such file (give the execution output JSON or a run's "
                               "summary.json)"),
    ("notjson.json", "r.html", "error: {tmp}/notjson.json is not JSON"),
    ("input.json", "r.html", "error: {tmp}/input.json is an execution input, not its output: give what `local run "
                             "--output` wrote"),
    ("lists.json", "r.html", "error: {tmp}/lists.json is not a run's execution output or summary.json"),
    ("folder", "r.html", "error: {tmp}/folder is a folder: give the execution output JSON file"),
    ("odd.json", "r.html", "error: {tmp}/odd.json does not have the shape of a run's execution output (TypeError"),
    ("out.json", "folder/", "error: --html {tmp}/folder is a folder: give the path of an HTML file"),
    ("out.json", "notes.txt", "error: --html {tmp}/notes.txt exists and is not a report of a previous run"),
], ids=["missing", "not-json", "an-input-not-an-output", "not-objects", "a-folder", "edited-output", "html-folder",
        "html-other-file"])
def test_report_refuses_what_it_cannot_use_in_one_line(tmp_path, capsys, source, html, message):
    (tmp_path / "notjson.json").write_text("{not json")
    (tmp_path / "input.json").write_text((EXAMPLES / "knn.json").read_text())
    (tmp_path / "out.json").write_text(json.dumps({"job_config": {}, "summary": {}}))
    (tmp_path / "notes.txt").write_text("my notes")
    (tmp_path / "lists.json").write_text(json.dumps({"job_config": [], "summary": []}))
    (tmp_path / "odd.json").write_text(json.dumps({"job_config": {}, "summary": {"metrics": {"a": {"values": "x"}}}}))
    (tmp_path / "folder").mkdir()
    assert cli_main(["report", str(tmp_path / source), "--html", f"{tmp_path}/{html}"]) == 2
    assert capsys.readouterr().err.startswith(message.format(tmp=tmp_path))
    assert (tmp_path / "notes.txt").read_text() == "my notes" and not (tmp_path / "r.html").exists()


def test_start_refuses_report_without_wait(tmp_path, capsys):
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:CrossValidator"
    assert cli_main(["start", str(EXAMPLES / "knn.json"), "--state-machine-arn", arn,
                     "--report", str(tmp_path / "r.html")]) == 2
    assert "--report needs --wait" in capsys.readouterr().err
