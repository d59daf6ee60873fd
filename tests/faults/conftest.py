"""Fixtures of the fault tests: the real template.yaml, ASL and handlers deployed offline
(smx_validator.local), with faults injected where AWS would raise them: in the training jobs
(a failing script, a runtime or spot wait that runs out), in CreateTrainingJob (throttling, the
account's instance quota), in the Lambda functions (an S3 write refused or never completing)
and in the clock.

The output bucket is versioned, so a test can prove that no object was ever overwritten.
Every execution uses a job name of its own (``job_config.name``), so runs of one module
never share a run id or a training-job name.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from jsonschema import Draft202012Validator

from smx_common.repository import repository_path
from smx_validator.local.engine import LocalEngine
from smx_validator.local.executions import ExecutionResult
from engine_support import FAST, wait_for_job  # noqa: F401 (re-exported to the tests)

REPO = Path(__file__).resolve().parents[2]
DATASETS = REPO / "resources" / "datasets"
INPUT_BUCKET, OUTPUT_BUCKET = "smx-faults-input", "smx-faults-output"
IRIS_URI = f"s3://{INPUT_BUCKET}/iris/iris.csv"
SCRIPT_IMAGE = "local:tests/faults/scripts/fault_train.py"
INSTANCE_TYPE = "ml.m5.large"
# README "Training jobs": crossvalidator-{job_config.name}-{YYYYMMDD}-{HHMMSS}-fold{fold_idx}
DOCUMENTED_JOB_NAME = re.compile(r"^crossvalidator-(?P<name>[a-zA-Z0-9-]+)-(?P<stamp>\d{8}-\d{6})-fold(?P<fold>\d+)$")




@contextlib.contextmanager
def deployed(**options: Any) -> Iterator[LocalEngine]:
    """template.yaml deployed offline, iris on the input bucket, a versioned output bucket."""
    settings = {**FAST, **options}
    with LocalEngine(parameters={"InputBucketName": INPUT_BUCKET, "OutputBucketName": OUTPUT_BUCKET},
                     script_root=REPO, **settings) as engine:
        engine.create_bucket(OUTPUT_BUCKET)
        engine.client("s3").put_bucket_versioning(Bucket=OUTPUT_BUCKET,
                                                  VersioningConfiguration={"Status": "Enabled"})
        engine.upload(DATASETS / "iris.csv", IRIS_URI)
        yield engine


@pytest.fixture(scope="module")
def engine() -> Iterator[LocalEngine]:
    with deployed() as deployment:
        yield deployment


@pytest.fixture
def output_prefix(request: pytest.FixtureRequest) -> str:
    """A prefix of the output bucket no other test writes to."""
    return f"s3://{OUTPUT_BUCKET}/faults/{re.sub(r'[^a-z0-9]+', '-', request.node.name.lower())}/{time.time_ns()}"


def run_input(output_prefix: str, *, name: str, n_splits: int = 3, seconds: float = 0.0,
              environment: dict[str, str] | None = None, stopping: dict[str, int] | None = None,
              spot: bool | None = None, max_concurrency: int | None = None) -> dict[str, Any]:
    """The bundled iris data cross-validated by tests/faults/scripts/fault_train.py (a custom container)."""
    crossvalidation: dict[str, Any] = {"n_splits": n_splits, "random_state": 7}
    if max_concurrency is not None:
        crossvalidation["max_concurrency"] = max_concurrency
    training: dict[str, Any] = {
        "hyperparameters_template": {"seconds": str(seconds)},
        "algorithm_specification": {
            "TrainingImage": SCRIPT_IMAGE, "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "validation:score", "Regex": r"score: ([0-9.]+)"}],
        },
        "resource_config": {"InstanceCount": 1, "InstanceType": INSTANCE_TYPE},
        "stopping_condition": stopping or {"MaxRuntimeInSeconds": 600},
        "environment": environment or {},
    }
    if spot is not None:
        training["managed_spot_training"] = spot
    return {
        "job_config": {"input_path": IRIS_URI, "output_prefix": output_prefix, "name": name},
        "crossvalidation": crossvalidation,
        "training": training,
    }


# -- what an execution left behind -------------------------------------------------------------

def lambda_outputs(result: ExecutionResult) -> list[dict[str, Any]]:
    """The outputs of the execution's Lambda tasks, in order (split's plan, then gather's output)."""
    return [json.loads(event["lambdaFunctionSucceededEventDetails"]["output"])
            for event in result.history if event["type"] == "LambdaFunctionSucceeded"]


FOLD_RESULTS_SCHEMA = json.loads(repository_path("resources/schemas/fold-results.schema.json").read_text())


def fold_results_problems(fold_results: list) -> list[str]:
    """Where the Map's fold results break resources/schemas/fold-results.schema.json."""
    return [error.message for error in Draft202012Validator(FOLD_RESULTS_SCHEMA).iter_errors(fold_results)]


def gather_input(result: ExecutionResult) -> dict[str, Any]:
    """What the gather step received: the plan and the Map's fold results."""
    (entered,) = [event["stateEnteredEventDetails"]["input"] for event in result.history
                  if event.get("stateEnteredEventDetails", {}).get("name") == "GatherResults"]
    return json.loads(entered)


def plan_of(result: ExecutionResult) -> dict[str, Any]:
    """The split step's plan (what the state machine ran)."""
    return next(output for output in lambda_outputs(result) if "folds" in output)


def gathered(result: ExecutionResult) -> dict[str, Any] | None:
    """The gather step's output (the execution's output unless a Fail state followed), if it ran."""
    return next((output for output in lambda_outputs(result) if "summary" in output), None)


def failed_states(result: ExecutionResult) -> list[tuple[str, str, str]]:
    """(event type, error, cause) of every failure event in the history."""
    failures = []
    for event in result.history:
        for key, details in event.items():
            if key.endswith("FailedEventDetails") and isinstance(details, dict):
                failures.append((event["type"], details.get("error", ""), details.get("cause", "")))
    return failures


def keys_under(engine: LocalEngine, uri: str) -> list[str]:
    """Keys under an S3 prefix, relative to it."""
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    pages = engine.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"][len(prefix):] for page in pages for item in page.get("Contents", []))


def versions_under(engine: LocalEngine, uri: str) -> dict[str, int]:
    """How many versions each key under an S3 prefix has (1 everywhere: nothing was overwritten)."""
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    counts: dict[str, int] = {}
    for page in engine.client("s3").get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
        for version in page.get("Versions", []):
            counts[version["Key"]] = counts.get(version["Key"], 0) + 1
    return counts


def read_json(engine: LocalEngine, uri: str) -> Any:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return json.loads(engine.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def created_jobs(engine: LocalEngine, run_id: str) -> list[str]:
    """Names of the training jobs SageMaker created for a run, once per creation."""
    return [record.name for record in engine.training.records if record.name.startswith(run_id + "-fold")]


def describe_job(engine: LocalEngine, name: str) -> dict[str, Any]:
    return engine.client("sagemaker").describe_training_job(TrainingJobName=name)


def trial_components(engine: LocalEngine, trial_name: str) -> dict[str, dict[str, Any]]:
    """The run's trial components in SageMaker Experiments, by name."""
    sagemaker = engine.client("sagemaker")
    summaries = sagemaker.list_trial_components(TrialName=trial_name)["TrialComponentSummaries"]
    return {summary["TrialComponentName"]: sagemaker.describe_trial_component(
        TrialComponentName=summary["TrialComponentName"]) for summary in summaries}


def function_logs(engine: LocalEngine, logical_id: str) -> list[str]:
    """Every line the function wrote to its log group /aws/lambda/<function>."""
    logs = engine.client("logs")
    group = f"/aws/lambda/{engine.function_names[logical_id]}"
    messages, token = [], None
    while True:
        page = logs.filter_log_events(logGroupName=group, **({"nextToken": token} if token else {}))
        messages.extend(event["message"] for event in page["events"])
        token = page.get("nextToken")
        if not token:
            return messages
