"""Logs never print the dataset's content beyond the first characters of a bad line.

Every line of the dataset carries a marker after its 40th character (the most of a bad line a
message may show). Runs through the engine, which writes each function's output to CloudWatch
Logs (/aws/lambda/<function>) as Lambda does, uncaught errors included: the marker must appear
in no log line, no execution history event and no error cause."""

from __future__ import annotations

import json

import pytest

from .conftest import INPUT_BUCKET, REPO, deployed, function_logs, run_input

MARKER = "SMX-CANARY-7F3A"


def _lines(bad_line: int | None = None) -> list[str]:
    """Iris with a padding column and the marker after character 40 of every line; ``bad_line`` (1-based)
    loses a column."""
    lines = []
    for number, row in enumerate((REPO / "resources" / "datasets" / "iris.csv").read_text().splitlines(), 1):
        fields = row.split(",")
        if number == bad_line:
            fields = fields[:-1]
        line = ",".join(fields) + "," + "p" * 30 + f"{MARKER}-{number:04d}"
        assert line.index(MARKER) > 40
        lines.append(line)
    return lines


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    directory = tmp_path_factory.mktemp("canary")
    with deployed() as deployment:
        for name, bad_line in (("good.csv", None), ("bad.csv", 8)):
            (directory / name).write_text("\n".join(_lines(bad_line)) + "\n")
            deployment.upload(directory / name, f"s3://{INPUT_BUCKET}/canary/{name}")
        yield deployment


def _everything_the_user_and_the_logs_see(engine, result) -> str:
    return "\n".join([*function_logs(engine), json.dumps(result.history, default=str), result.cause or "",
                      json.dumps(result.output or {})])


def test_a_run_over_marked_data_never_logs_the_data(engine, output_prefix):
    # GIVEN a valid dataset whose every line carries the marker
    document = run_input(output_prefix, name="sec-canary", input_path=f"s3://{INPUT_BUCKET}/canary/good.csv")
    # WHEN it runs
    result = engine.run(document)
    # THEN it succeeds, and the marker is in no log line, history event or output
    assert result.status == "SUCCEEDED", result.cause
    seen = _everything_the_user_and_the_logs_see(engine, result)
    assert "assigned folds" in seen  # the logs were read
    assert MARKER not in seen


def test_a_bad_line_is_shown_by_its_first_characters_only(engine, output_prefix):
    # GIVEN the same data with line 8 one column short
    document = run_input(output_prefix, name="sec-canary-bad", input_path=f"s3://{INPUT_BUCKET}/canary/bad.csv")
    # WHEN it runs
    result = engine.run(document)
    # THEN the split step rejects it naming the line and showing how it starts ...
    assert (result.status, result.error) == ("FAILED", "InvalidInputError")
    message = json.loads(result.cause)["errorMessage"]
    bad = _lines(8)[7]
    assert "line 8" in message and bad[:20] in message
    # AND neither the cause, the history nor any log line shows the rest of the line
    seen = _everything_the_user_and_the_logs_see(engine, result)
    assert "invalid input" in seen and "line 8" in seen
    assert MARKER not in seen
