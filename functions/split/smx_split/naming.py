"""The names a run gives what SageMaker sees: the documented job-name template, the run id, the budget
a user's name has within SageMaker's length limit, and the tags every training job carries. (Which
characters SageMaker allows, and its length limits: smx_common.sagemaker_names.)

The IAM policies in template.yaml grant access to ``crossvalidator-*`` names: tests/deploy/test_iam.py
holds them to JOB_NAME_PREFIX.
"""

from __future__ import annotations

from datetime import datetime

from smx_common.fold_labels import REFIT_LABEL, fold_label
from smx_common.sagemaker_names import EXPERIMENT_ENTITY_NAME_MAX_LENGTH, TRAINING_JOB_NAME_MAX_LENGTH

JOB_NAME_PREFIX = "crossvalidator"
JOB_NAME_TEMPLATE = "crossvalidator-{name}-{YYYYMMDD}-{HHMMSS}-fold{fold_idx}"
# With crossvalidation.n_repeats > 1 a repeat's index comes before the fold's; in a search, a candidate's first.
REPEATED_JOB_NAME_TEMPLATE = "crossvalidator-{name}-{YYYYMMDD}-{HHMMSS}-r{repeat_idx}-fold{fold_idx}"
SEARCH_JOB_NAME_TEMPLATE = "crossvalidator-{name}-{YYYYMMDD}-{HHMMSS}-c{candidate_idx}[-r{repeat_idx}]-fold{fold_idx}"
# tuning.refit's job, which trains the best candidate on the whole dataset (shorter than any search job's name).
REFIT_JOB_NAME_TEMPLATE = "crossvalidator-{name}-{YYYYMMDD}-{HHMMSS}-refit"
TIMESTAMP_FORMAT = "%Y%m%d-%H%M%S"
JOB_NAME_MAX_LENGTH = TRAINING_JOB_NAME_MAX_LENGTH
EXPERIMENT_NAME_MAX_LENGTH = EXPERIMENT_ENTITY_NAME_MAX_LENGTH
# The tags SMX-Validator sets on every training job (a user's tags may not use these keys).
FOLD_TAG, RUN_TAG, CREATED_BY_TAG = "fold", "crossvalidation_job", "created_by"
CREATED_BY = "smx-validator"


def max_name_length(n_splits: int, n_repeats: int = 1, n_candidates: int | None = None) -> int:
    """How long ``job_config.name`` may be so that every job's name fits in 63 characters
    (``n_candidates``: the size of a search; None without one)."""
    longest_job_name_without_name = fold_job_name(run_id("", datetime(2000, 1, 1)), n_splits - 1,
                                                  n_repeats - 1 if n_repeats > 1 else None,
                                                  None if n_candidates is None else max(n_candidates, 1) - 1)
    return JOB_NAME_MAX_LENGTH - len(longest_job_name_without_name)


def run_id(job_name: str, started_at: datetime) -> str:
    """``crossvalidator-{name}-{YYYYMMDD}-{HHMMSS}``: the run's prefix, trial and job-name stem."""
    return f"{JOB_NAME_PREFIX}-{job_name}-{started_at.strftime(TIMESTAMP_FORMAT)}"


def fold_job_name(run: str, fold_index: int, repeat_index: int | None = None,
                  candidate_index: int | None = None) -> str:
    """``{run_id}-fold{i}``; ``{run_id}-r{r}-fold{i}`` in a repeated k-fold run; ``{run_id}-c{c}-...`` in a search."""
    return f"{run}-{fold_display_name(fold_index, repeat_index, candidate_index)}"


def refit_job_name(run: str) -> str:
    """``{run_id}-refit``: the job that trains a search's best candidate on the whole dataset."""
    return f"{run}-{REFIT_LABEL}"


def fold_display_name(fold_index: int, repeat_index: int | None = None, candidate_index: int | None = None) -> str:
    """``fold{i}``, ``r{r}-fold{i}``, ``c{c}-...`` (smx_common.fold_labels, which the gather shares)."""
    return fold_label(fold_index, repeat_index, candidate_index)


def run_tags(run_id: str, fold_index: int | None, repeat_index: int | None = None,
             candidate_index: int | None = None) -> list[dict[str, str]]:
    """The tags SMX-Validator adds to a fold's training job (``fold_index`` None: the refit job's), after the
    user's."""
    label = REFIT_LABEL if fold_index is None else fold_display_name(fold_index, repeat_index, candidate_index)
    return [{"Key": FOLD_TAG, "Value": label},
            {"Key": RUN_TAG, "Value": run_id},
            {"Key": CREATED_BY_TAG, "Value": CREATED_BY}]
