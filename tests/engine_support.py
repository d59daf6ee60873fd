"""Helpers every offline-engine test layer shares (tests/local, tests/faults, tests/security)."""

from __future__ import annotations

import time
from typing import Any

from smx_validator.local.engine import LocalEngine

# Short Retry waits and quick .sync polling keep the suites fast; the definition's logic is unchanged.
FAST = {"retry_delay_cap_seconds": 1, "sync_poll_seconds": 0.05}


def wait_for_job(engine: LocalEngine, name: str, statuses: set[str], timeout: float = 30.0) -> dict[str, Any]:
    """The training job's description once its status is one of ``statuses``."""
    sagemaker = engine.client("sagemaker")
    return _wait_for(lambda: sagemaker.describe_training_job(TrainingJobName=name), "TrainingJobStatus",
                     sagemaker, name, statuses, timeout)


def wait_for_transform_job(engine: LocalEngine, name: str, statuses: set[str], timeout: float = 30.0) -> dict[str, Any]:
    """The transform job's description once its status is one of ``statuses``."""
    sagemaker = engine.client("sagemaker")
    return _wait_for(lambda: sagemaker.describe_transform_job(TransformJobName=name), "TransformJobStatus",
                     sagemaker, name, statuses, timeout)


def _wait_for(describe, status_field: str, sagemaker, name: str, statuses: set[str], timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    status = "not created"
    while True:
        try:
            description = describe()
            status = description[status_field]
            if status in statuses:
                return description
        except sagemaker.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "ValidationException":
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} still {status} after {timeout} s")
        time.sleep(0.05)
