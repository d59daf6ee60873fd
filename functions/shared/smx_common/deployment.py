"""The deployment's settings, as the state machine hands them to each function. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Deployment:
    """Facts fixed when the application was deployed (template parameters).

    The state machine passes the same ``deployment`` block to the split and the gather task
    (statemachines/crossvalidator.asl.json); both read it here. An empty parameter ("") is unset.
    """

    input_bucket: str | None = None
    output_bucket: str | None = None
    default_max_concurrency: int = 2
    output_kms_key_id: str | None = None
    # The SageMaker managed MLflow tracking server the track step may write to (MlflowTrackingServerArn): "" when
    # deployed without one, None when not known (``smx-validator validate`` without a deployment).
    mlflow_tracking_server_arn: str | None = None

    @classmethod
    def from_event(cls, raw: Mapping[str, Any] | None) -> "Deployment":
        raw = raw or {}
        return cls(
            input_bucket=raw.get("input_bucket") or None,
            output_bucket=raw.get("output_bucket") or None,
            default_max_concurrency=int(raw.get("default_max_concurrency") or 2),
            output_kms_key_id=raw.get("output_kms_key_id") or None,
            mlflow_tracking_server_arn=raw.get("mlflow_tracking_server_arn"),
        )
