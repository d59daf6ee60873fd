"""The refit job: a search's best candidate trained once more on the whole dataset, as scikit-learn's
GridSearchCV(refit=True) fits ``best_estimator_``. Its model is the run's deliverable. Pure.

The search's gather asks for it (``refit_plan``): the state machine then runs it through the same Map,
with the same failure handling, as the folds. The refit's gather records how it ended (``with_refit``).
"""

from __future__ import annotations

import copy
from typing import Any, Mapping

from smx_common.hyperparameter_placeholders import placeholder_values, render

from .summary import COMPLETED, NOT_CREATED, error_text, failure_reason, led_by

# The refit's plan says which gather this is: the Map's results are then the refit job's alone.
REFIT_PHASE = "refit"


def is_refit(plan: Mapping[str, Any]) -> bool:
    return plan.get("phase") == REFIT_PHASE


def refit_plan(plan: Mapping[str, Any], search: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The plan the Map runs the refit job from, or None: without ``tuning.refit``, or with no best candidate
    (none completed all its jobs, so there is nothing the search chose)."""
    request = (plan.get("tuning") or {}).get("refit")
    if not request or not search or search.get("best_index") is None:
        return None
    best = search["best_index"]
    overrides = next(entry["hyperparameters"] for entry in plan["tuning"]["candidates"] if entry["index"] == best)
    values = placeholder_values(num_training_samples=request["num_training_samples"],
                                num_validation_samples=request["num_validation_samples"],
                                num_classes=plan["crossvalidation"]["num_classes"])
    job = {
        # No fold: a null fold_index is how the Map's results and the labels (smx_common.fold_labels) tell it.
        "fold_index": None,
        "candidate_index": best,
        **copy.deepcopy(dict(request)),
        "HyperParameters": render({**plan["training"]["hyperparameters_template"], **overrides}, values),
    }
    return {
        "phase": REFIT_PHASE,
        "job_config": plan["job_config"],
        "max_concurrency": 1,
        "job": plan["job"],
        "folds": [job],
    }


def refit_outcome(job: Mapping[str, Any], description: Mapping[str, Any] | None,
                  fold_result: Mapping[str, Any]) -> dict[str, Any]:
    """``summary.tuning.refit``: the job, how it ended and, when it completed, where its model is."""
    outcome: dict[str, Any] = {
        "candidate_index": job["candidate_index"],
        "TrainingJobName": job["TrainingJobName"],
        "TrainingJobArn": (description or {}).get("TrainingJobArn"),
        "TrainingJobStatus": (description or {}).get("TrainingJobStatus", NOT_CREATED),
        "ModelArtifacts": (description or {}).get("ModelArtifacts"),
        "HyperParameters": job["HyperParameters"],
        "num_training_samples": job["num_training_samples"],
        "TrainingTimeInSeconds": (description or {}).get("TrainingTimeInSeconds"),
        "BillableTimeInSeconds": (description or {}).get("BillableTimeInSeconds"),
        # Its final metrics (MLflow's nested run of the refit): training-set figures, its validation channel being
        # the whole dataset too.
        "FinalMetricDataList": (description or {}).get("FinalMetricDataList") or [],
    }
    if outcome["TrainingJobStatus"] != COMPLETED:
        outcome["ModelArtifacts"] = None
        outcome["FailureReason"] = (failure_reason(description, fold_result) if description
                                    else error_text(fold_result) or "the refit training job was never created")
    return outcome


def with_refit(output: Mapping[str, Any], refit: Mapping[str, Any]) -> dict[str, Any]:
    """The search's output (summary.json) with ``summary.tuning.refit``; a failed refit is part of the failure
    message, and a completed one is named in it when other jobs failed (the run then still fails)."""
    updated = copy.deepcopy(dict(output))
    summary = updated["summary"]
    summary["tuning"]["refit"] = dict(refit)
    summary["billable_seconds_total"] = summary.get("billable_seconds_total", 0) + (refit.get("BillableTimeInSeconds") or 0)
    summary["training_seconds_total"] = summary.get("training_seconds_total", 0) + (refit.get("TrainingTimeInSeconds") or 0)
    if refit["TrainingJobStatus"] == COMPLETED:
        if summary.get("failure_message"):
            # First: the run failed for other jobs, and the model exists all the same.
            summary["failure_message"] = led_by(f"the refit job completed, so the run has its final model at "
                                                f"{refit_model_uri(refit)}", summary["failure_message"])
        return updated
    said = (f"the refit job {refit['TrainingJobName']} (candidate {refit['candidate_index']}) failed, so the run has "
            f"no final model: {refit['FailureReason']}")
    # RefitFailed's cause (CheckFolds tests it first), and what else failed after it
    summary["refit_failure_message"] = led_by(said, summary.get("failure_message") or "")
    return updated


def refit_model_uri(refit: Mapping[str, Any]) -> str | None:
    return ((refit.get("ModelArtifacts") or {}).get("S3ModelArtifacts")) if refit else None

