"""Names SageMaker sees: the documented job-name template and SageMaker's naming rules."""

from __future__ import annotations

from datetime import datetime

JOB_NAME_PREFIX = "crossvalidator"
JOB_NAME_TEMPLATE = "crossvalidator-{name}-{YYYYMMDD}-{HHMMSS}-fold{fold_idx}"
TIMESTAMP_FORMAT = "%Y%m%d-%H%M%S"
# TrainingJobName: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$ (1-63 characters).
JOB_NAME_MAX_LENGTH = 63
EXPERIMENT_NAME_MAX_LENGTH = 120


def max_name_length(n_splits: int) -> int:
    """How long ``job_config.name`` may be so that every fold's job name fits in 63 characters."""
    longest_job_name_without_name = fold_job_name(run_id("", datetime(2000, 1, 1)), n_splits - 1)
    return JOB_NAME_MAX_LENGTH - len(longest_job_name_without_name)


def run_id(job_name: str, started_at: datetime) -> str:
    """``crossvalidator-{name}-{YYYYMMDD}-{HHMMSS}``: the run's prefix, trial and job-name stem."""
    return f"{JOB_NAME_PREFIX}-{job_name}-{started_at.strftime(TIMESTAMP_FORMAT)}"


def fold_job_name(run: str, fold_index: int) -> str:
    return f"{run}-fold{fold_index}"


def fold_display_name(fold_index: int) -> str:
    return f"fold{fold_index}"
