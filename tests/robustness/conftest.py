"""Fixtures of the bad-input tests: the real split handler on emulated S3 and SageMaker, the
inputs it is given, and everything it wrote or logged.

A rejected input must leave no trace: no object under the output bucket, no SageMaker
experiment or trial, and the dataset exactly as it was. ``Rejection.of`` checks all of that
for every case, so each test only states the input and the message the user sees.
"""

from __future__ import annotations

import copy
import hashlib
import inspect
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
from moto import mock_aws

from smx_split.errors import InvalidInputError

REPO = Path(__file__).resolve().parents[2]
SAMPLE_EVENT = json.loads((REPO / "doc" / "sample_event.json").read_text())
EXAMPLES = {path.stem: json.loads(path.read_text()) for path in sorted((REPO / "doc" / "examples").glob("*.json"))}
INPUT_BUCKET, OUTPUT_BUCKET = "smx-in", "smx-out"
DEPLOYMENT = {"input_bucket": INPUT_BUCKET, "output_bucket": OUTPUT_BUCKET, "default_max_concurrency": "2",
              "output_kms_key_id": "", "mlflow_tracking_server_arn": ""}
IMAGE_CLASSIFICATION = "685385470294.dkr.ecr.eu-west-1.amazonaws.com/image-classification:1"
LINEAR_LEARNER = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"
CUSTOM_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:1"


# Where a problem is: the input itself, a field path under a section, an unknown top-level key
# (plain, or JSON-quoted when it is not), or a line of the dataset.
PROBLEM_START = re.compile(
    r'^(?:input|job_config|crossvalidation|training|tuning)(?:[.\[:]|$)'
    r'|^(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"): unknown field; '
    r"|^line \d+: "
    r"|^\.\.\. and \d+ more lines with problems$"
)
# The longest a message may get: a rare-class message listing 20 classes of shortened names.
MAX_PROBLEM_CHARS = 2000

def assert_clear_error(error: InvalidInputError) -> None:
    assert error.problems, "an InvalidInputError must say what is wrong"
    for problem in error.problems:
        assert isinstance(problem, str) and "\n" not in problem, problem
        assert PROBLEM_START.match(problem), f"does not start with a field path or line: {problem!r}"
        assert len(problem) <= MAX_PROBLEM_CHARS, f"{len(problem)} characters: {problem[:200]!r}..."


def manifest(num_lines: int = 20, classes: int = 2) -> bytes:
    """A valid augmented manifest: ``num_lines`` images over ``classes`` classes."""
    return b"".join(
        json.dumps({"source-ref": f"s3://{INPUT_BUCKET}/images/img{i:03d}.jpg", "class": str(i % classes)}).encode() + b"\n"
        for i in range(num_lines)
    )


def csv_rows(num_lines: int = 20, classes: int = 2) -> bytes:
    """A valid headerless CSV, label first."""
    return b"".join(f"{i % classes},{i}.5,{i * 2}\n".encode() for i in range(num_lines))


def sample_input(data_key: str = "path/input.jsonl", **sections: dict) -> dict:
    """doc/sample_event.json pointed at the emulated buckets; ``sections`` update its sections."""
    document = copy.deepcopy(SAMPLE_EVENT)
    document["job_config"].update({"input_path": f"s3://{INPUT_BUCKET}/{data_key}",
                                   "output_prefix": f"s3://{OUTPUT_BUCKET}/output_prefix"})
    for section, changes in sections.items():
        document[section].update(changes)
    return document


def csv_input(data_key: str = "path/input.csv", **sections: dict) -> dict:
    """A custom-container run on a CSV (no algorithm-specific hyperparameter filtering)."""
    document = sample_input(data_key)
    document["training"] = {
        "hyperparameters_template": {"epochs": "2"},
        "algorithm_specification": {"TrainingImage": CUSTOM_IMAGE, "TrainingInputMode": "File"},
        "resource_config": {"InstanceType": "ml.m5.large"},
    }
    for section, changes in sections.items():
        document[section].update(changes)
    return document


def event(document: Any) -> dict:
    """The split step's event, as the state machine's SplitDataset.Parameters build it."""
    return {"input": document, "execution_name": "robustness-test", "deployment": dict(DEPLOYMENT)}


def keys_under(s3, bucket: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


@dataclass
class Rejection:
    """What a user gets back from a rejected input, after checking that nothing was written."""

    problems: list[str]
    message: str  # the Lambda's errorMessage: the execution's cause
    logs: str  # everything the function logged

    @property
    def text(self) -> str:
        return self.message + "\n" + self.logs


class SplitStep:
    """The template's SplitFunction handler on emulated S3/SageMaker, with its logs captured."""

    def __init__(self, handler: Callable, context: Any, s3, sagemaker):
        self.handler, self.context, self.s3, self.sagemaker = handler, context, s3, sagemaker

    def upload(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=INPUT_BUCKET, Key=key, Body=body)

    def run(self, document: Any) -> dict:
        return self.handler(event(document), self.context)

    def run_logged(self, document: Any) -> tuple[dict, str]:
        """The plan, and everything the function logged while making it."""
        logs = io.StringIO()
        with _logs_into(self.handler, logs):
            plan = self.run(document)
        return plan, logs.getvalue()

    def rejects(self, document: Any, *, data: bytes | None = None, key: str | None = None) -> Rejection:
        """GIVEN ``data`` uploaded (to ``key``, or the input's own key) WHEN the split step runs
        THEN it raises InvalidInputError, writes nothing and leaves the input bucket as it was."""
        if data is not None:
            self.upload(key or document["job_config"]["input_path"].split("/", 3)[3], data)
        before = self._input_bucket()
        logs = io.StringIO()
        with _logs_into(self.handler, logs), pytest.raises(InvalidInputError) as raised:
            self.run(document)
        problems = raised.value.problems
        assert problems and all(problem.strip() for problem in problems)
        assert str(raised.value) == "\n".join(problems)
        assert keys_under(self.s3, OUTPUT_BUCKET) == [], "a rejected input wrote to the output bucket"
        assert self.sagemaker.list_experiments()["ExperimentSummaries"] == []
        assert self.sagemaker.list_trials()["TrialSummaries"] == []
        assert self._input_bucket() == before, "the input bucket changed"
        logged = logs.getvalue()
        # Every problem is in the function's log too (CloudWatch), not only in the execution's cause.
        assert '"message":"invalid input"' in logged
        return Rejection(problems=problems, message=str(raised.value), logs=logged)

    def _input_bucket(self) -> dict[str, str]:
        return {
            key: hashlib.sha256(self.s3.get_object(Bucket=INPUT_BUCKET, Key=key)["Body"].read()).hexdigest()
            for key in keys_under(self.s3, INPUT_BUCKET)
        }


class _logs_into:
    """Point the handler's Powertools logger at ``stream`` for one invocation.

    The logger is process-wide and keeps the stdout it first saw, so capsys only works for the
    first test that loads the handler; swapping the handler's stream works for every test.
    """

    def __init__(self, handler: Callable, stream: io.StringIO):
        self.handler = inspect.unwrap(handler).__globals__["logger"].registered_handler
        self.stream = stream

    def __enter__(self):
        # Assigned, not setStream(): that flushes the old stream, which pytest may have closed.
        self.previous, self.handler.stream = self.handler.stream, self.stream

    def __exit__(self, *exc):
        self.handler.stream = self.previous


@pytest.fixture
def split(function_handler, lambda_context):
    with mock_aws():
        s3 = boto3.client("s3")
        for bucket in (INPUT_BUCKET, OUTPUT_BUCKET):
            s3.create_bucket(Bucket=bucket)
        yield SplitStep(function_handler("SplitFunction"), lambda_context, s3, boto3.client("sagemaker"))
