"""Fixtures of the offline-engine tests: emulated deployments of the real template (with the real
handlers) and of a small test application, plus the bundled datasets on the emulated S3.

Engines are module-scoped: deploying costs about a second, and executions of one deployment
never share a run prefix or job name (each run gets its own run id), so tests stay independent.
"""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from smx_validator.local.engine import LocalEngine
from engine_support import FAST, wait_for_job  # noqa: F401 (re-exported to the tests)

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MINI_APP_TEMPLATE = HERE / "mini_app" / "template.yaml"
TEST_SCRIPT = HERE / "scripts" / "configurable_train.py"
EXAMPLES = REPO / "doc" / "examples"
DATASETS = REPO / "resources" / "datasets"
INPUT_BUCKET, OUTPUT_BUCKET = "smx-demo-input", "smx-demo-output"
LINEAR_LEARNER_IMAGE = "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1"

# Where the examples (doc/examples/*.json) expect the bundled datasets (doc/examples/README.md).
BUNDLED_DATA = {
    DATASETS / "breast_cancer.csv": f"s3://{INPUT_BUCKET}/breast_cancer/breast_cancer.csv",
    DATASETS / "iris.csv": f"s3://{INPUT_BUCKET}/iris/iris.csv",
    DATASETS / "digits": f"s3://{INPUT_BUCKET}/digits/",
    DATASETS / "scipy_docs.txt": f"s3://{INPUT_BUCKET}/scipy_docs/scipy_docs.txt",
    DATASETS / "scipy_docs.jsonl": f"s3://{INPUT_BUCKET}/scipy_docs/scipy_docs.jsonl",
}





@pytest.fixture(scope="module")
def app_engine() -> Iterator[LocalEngine]:
    """template.yaml deployed offline, with the bundled datasets uploaded."""
    with LocalEngine(parameters={"InputBucketName": INPUT_BUCKET, "OutputBucketName": OUTPUT_BUCKET},
                     script_root=REPO, **FAST) as engine:
        engine.create_bucket(OUTPUT_BUCKET)
        for local, uri in BUNDLED_DATA.items():
            engine.upload(local, uri)
        yield engine


@pytest.fixture(scope="module")
def mini_engine() -> Iterator[LocalEngine]:
    """tests/local/mini_app deployed offline (its own handler, no Catch in its Map)."""
    with LocalEngine(MINI_APP_TEMPLATE, parameters={"DataBucket": "mini-data"}, script_root=REPO, **FAST) as engine:
        engine.create_bucket("mini-data")
        yield engine


@pytest.fixture
def example() -> Callable[[str], dict[str, Any]]:
    """``example("linear-learner")``: doc/examples/linear-learner.json, with a unique output prefix."""

    def load(name: str, **changes: Any) -> dict[str, Any]:
        document = json.loads((EXAMPLES / f"{name}.json").read_text())
        document = copy.deepcopy(document)
        document["job_config"]["output_prefix"] = f"s3://{OUTPUT_BUCKET}/tests/{name}/{time.time_ns()}"
        return document

    return load


def describe_jobs(engine: LocalEngine, names: list[str]) -> list[dict[str, Any]]:
    sagemaker = engine.client("sagemaker")
    return [sagemaker.describe_training_job(TrainingJobName=name) for name in names]


def list_keys(engine: LocalEngine, uri: str) -> list[str]:
    bucket, _, prefix = uri[len("s3://"):].partition("/")
    pages = engine.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]
