"""Claiming a run prefix of its own, so that no run ever writes into another run's objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from botocore.exceptions import ClientError

from smx_common.s3uri import S3Uri, encryption_args

from . import naming
from .experiments import create_trial, trial_name_taken
from .job_spec import JobSpec

RUN_MARKER = "run.json"
# Conditional PutObject answers 412 when the key exists, 409 when a concurrent put races it.
_TAKEN = {"PreconditionFailed", "ConditionalRequestConflict"}
_MAX_ATTEMPTS = 120


# How the plan, run.json and the output state when a run started (ISO 8601, UTC, seconds).
CREATED_AT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class RunIdentity:
    """What makes a run unique: its id (the job-name stem) and the prefix it alone writes to."""

    run_id: str
    run_prefix: S3Uri
    started_at: datetime
    execution_name: str

    @classmethod
    def at(cls, spec: JobSpec, started_at: datetime, execution_name: str) -> "RunIdentity":
        """The identity a run started at ``started_at`` asks for (``reserve_run`` claims it, or a later one)."""
        run_id = naming.run_id(spec.job_name, started_at)
        return cls(run_id=run_id, run_prefix=spec.output_prefix.child(run_id + "/"), started_at=started_at,
                   execution_name=execution_name)

    @property
    def trial_name(self) -> str:
        return self.run_id

    @property
    def created_at(self) -> str:
        return self.started_at.strftime(CREATED_AT_FORMAT)


class RunPrefixUnavailable(RuntimeError):
    """Every candidate run id in the window was already taken."""


def reserve_run(s3_client, sagemaker_client, spec: JobSpec, *, started_at: datetime, execution_name: str,
                kms_key_id: str | None) -> RunIdentity:
    """The first free ``crossvalidator-{name}-{timestamp}`` from ``started_at`` on, with its trial.

    A run id names the training jobs, which are unique per account, and a prefix under
    ``output_prefix``. Both are claimed atomically: the trial (CreateTrial refuses a name that
    exists anywhere in the account), then ``run.json`` with ``If-None-Match: *`` (S3 grants it to
    exactly one writer). Two executions started in the same second, under the same or different
    output prefixes, get consecutive timestamps instead of sharing job names or objects.
    """
    for attempt in range(_MAX_ATTEMPTS):
        run = RunIdentity.at(spec, started_at + timedelta(seconds=attempt), execution_name)
        try:
            create_trial(sagemaker_client, trial_name=run.trial_name, experiment_name=spec.experiment_name,
                         tags=spec.tags)
        except ClientError as error:
            if trial_name_taken(error):
                continue
            raise
        marker = run.run_prefix.child(RUN_MARKER)
        try:
            s3_client.put_object(
                Bucket=marker.bucket,
                Key=marker.key,
                Body=_marker_body(spec, run),
                ContentType="application/json",
                IfNoneMatch="*",
                **encryption_args(kms_key_id),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _TAKEN:
                continue
            raise
        return run
    raise RunPrefixUnavailable(
        f"no free run prefix under {spec.output_prefix} for {_MAX_ATTEMPTS} seconds from {started_at:%H:%M:%S}"
    )


def _marker_body(spec: JobSpec, run: RunIdentity) -> bytes:
    return json.dumps({
        "run_id": run.run_id,
        "execution_name": run.execution_name,
        "created_at": run.created_at,
        "input": spec.raw,
        "job_config": spec.job_config_section(),
        "crossvalidation": spec.crossvalidation_section(),
        "training": spec.training_section(),
        "notes": spec.notes,
    }, indent=2).encode()
