"""Fixtures of the security tests: the real template.yaml, ASL and handlers deployed offline
(smx_validator.local), optionally with the OutputKmsKeyId parameter, and a custom training
script that reports what its container can reach."""

from __future__ import annotations

import contextlib
import json
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from smx_validator.local.engine import LocalEngine
from smx_validator.local.executions import ExecutionResult
from engine_support import FAST

REPO = Path(__file__).resolve().parents[2]
INPUT_BUCKET, OUTPUT_BUCKET = "smx-security-input", "smx-security-output"
IRIS_URI = f"s3://{INPUT_BUCKET}/iris/iris.csv"
SCRIPT_IMAGE = "local:tests/security/scripts/report_access.py"
# The KMS key of AWS's documentation examples, in moto's account (moto's S3 does not resolve keys).
KMS_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"




@contextlib.contextmanager
def deployed(**parameters: str) -> Iterator[LocalEngine]:
    """template.yaml deployed offline with iris on the input bucket."""
    with LocalEngine(parameters={"InputBucketName": INPUT_BUCKET, "OutputBucketName": OUTPUT_BUCKET, **parameters},
                     script_root=REPO, **FAST) as engine:
        engine.create_bucket(OUTPUT_BUCKET)
        engine.upload(REPO / "resources" / "datasets" / "iris.csv", IRIS_URI)
        yield engine


@pytest.fixture
def output_prefix(request: pytest.FixtureRequest) -> str:
    return f"s3://{OUTPUT_BUCKET}/security/{re.sub(r'[^a-z0-9]+', '-', request.node.name.lower())}/{time.time_ns()}"


def run_input(output_prefix: str, *, name: str, input_path: str = IRIS_URI, n_splits: int = 3,
              **training: Any) -> dict[str, Any]:
    """A cross-validation of ``input_path`` by tests/security/scripts/report_access.py (a custom container)."""
    return {
        "job_config": {"input_path": input_path, "output_prefix": output_prefix, "name": name},
        "crossvalidation": {"n_splits": n_splits, "random_state": 3},
        "training": {
            "hyperparameters_template": {},
            "algorithm_specification": {
                "TrainingImage": SCRIPT_IMAGE, "TrainingInputMode": "File",
                "MetricDefinitions": [{"Name": "aws_credentials", "Regex": r"aws_credentials: ([01])"},
                                      {"Name": "validation:score", "Regex": r"score: ([0-9.]+)"}],
            },
            "resource_config": {"InstanceCount": 1, "InstanceType": "ml.m5.large"},
            "stopping_condition": {"MaxRuntimeInSeconds": 600},
            **training,
        },
    }


def objects_under(engine: LocalEngine, uri: str) -> list[str]:
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    pages = engine.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def function_logs(engine: LocalEngine) -> list[str]:
    """Every line every function of the template wrote to CloudWatch Logs (/aws/lambda/<function>)."""
    logs = engine.client("logs")
    messages = []
    for name in engine.function_names.values():
        group, token = f"/aws/lambda/{name}", None
        while True:
            try:
                page = logs.filter_log_events(logGroupName=group, **({"nextToken": token} if token else {}))
            except logs.exceptions.ResourceNotFoundException:
                break
            messages.extend(event["message"] for event in page["events"])
            token = page.get("nextToken")
            if not token:
                break
    return messages


def gathered(result: ExecutionResult) -> dict[str, Any] | None:
    outputs = [json.loads(event["lambdaFunctionSucceededEventDetails"]["output"])
               for event in result.history if event["type"] == "LambdaFunctionSucceeded"]
    return next((output for output in outputs if "summary" in output), None)
