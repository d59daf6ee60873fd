"""The run's summary trial component in SageMaker Experiments, next to the folds' training jobs.

Limits are the SageMaker service model's (botocore ``sagemaker`` 2017-07-24): trial component
names and display names match ``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}`` (so no spaces), at most 300
parameters with keys of at most 320 characters, at most 60 artifacts with values of at most 2048
characters, and a status message of at most 1024 characters.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any, Mapping

from botocore.exceptions import ClientError
from smx_common.sagemaker_errors import name_taken
from smx_common.sagemaker_names import EXPERIMENT_ENTITY_NAME_MAX_LENGTH, sagemaker_safe

DISPLAY_NAME = "cross-validation-summary"
MAX_NAME_CHARS = EXPERIMENT_ENTITY_NAME_MAX_LENGTH
MAX_PARAMETERS = 300
MAX_PARAMETER_KEY_CHARS = 320
MAX_STATUS_MESSAGE_CHARS = 1024
STATISTICS = ("mean", "std", "min", "max")


def trial_component_name(run_id: str) -> str:
    """``{run_id}-summary``, made valid: run ids are valid already, this guards hand-made plans."""
    suffix = "-summary"
    base = sagemaker_safe(run_id)[: MAX_NAME_CHARS - len(suffix)]
    return base.rstrip("-") + suffix


def trial_component_request(plan: Mapping[str, Any], summary: Mapping[str, Any]) -> dict[str, Any]:
    """The CreateTrialComponent arguments: aggregated metrics as parameters, summaries as artifacts."""
    failed = summary["failed_fold_count"]
    status: dict[str, str] = {"PrimaryStatus": "Failed" if failed else "Completed"}
    if summary["failure_message"]:
        status["Message"] = summary["failure_message"][:MAX_STATUS_MESSAGE_CHARS]
    request: dict[str, Any] = {
        "TrialComponentName": summary["trial_component_name"],
        "DisplayName": DISPLAY_NAME,
        "Status": status,
        "Parameters": parameters(plan, summary),
        "OutputArtifacts": {
            "summary_json": {"MediaType": "application/json", "Value": summary["summary_json"]},
            "summary_csv": {"MediaType": "text/csv", "Value": summary["summary_csv"]},
            **({"oof_predictions": {"MediaType": "application/jsonlines", "Value": summary["out_of_fold"]["predictions"]}}
               if summary.get("out_of_fold") else {}),
        },
        "EndTime": datetime.now(timezone.utc),
    }
    started = _parse_time(plan["job_config"].get("created_at"))
    if started:
        request["StartTime"] = started
    return request


def parameters(plan: Mapping[str, Any], summary: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    params: dict[str, dict[str, float]] = {
        "n_splits": {"NumberValue": float(plan["crossvalidation"]["n_splits"])},
        **({"n_repeats": {"NumberValue": float(plan["crossvalidation"]["n_repeats"])}}
           if "n_repeats" in plan["crossvalidation"] else {}),
        "completed_folds": {"NumberValue": float(len(summary["completed_folds"]))},
        "failed_folds": {"NumberValue": float(summary["failed_fold_count"])},
    }
    # The out-of-fold predictions' pooled metrics first (a handful): they score the run as a whole.
    out_of_fold = summary.get("out_of_fold") or {}
    for metric, value in sorted(out_of_fold.get("metrics", {}).items()):
        params[f"out_of_fold:{metric}"] = {"NumberValue": float(value)}
    # Metrics are sorted, so when a job reports more than the 300-parameter limit allows, the
    # trial component keeps a stable subset; summary.json and the output keep them all.
    for metric, stats in summary["metrics"].items():
        if len(params) + len(STATISTICS) > MAX_PARAMETERS:
            break
        for statistic in STATISTICS:
            value = stats[statistic]
            if isinstance(value, (int, float)) and math.isfinite(value):
                params[_parameter_key(metric, statistic)] = {"NumberValue": float(value)}
    return params


def record_summary(sagemaker: Any, plan: Mapping[str, Any], summary: Mapping[str, Any]) -> None:
    """Creates the summary trial component and associates it with the run's trial.

    Re-running the step (a redriven execution) finds the component already there and only
    associates it again.
    """
    _create_and_associate(sagemaker, trial_component_request(plan, summary), plan["job_config"]["trial_name"])


def candidate_component_request(plan: Mapping[str, Any], candidate: Mapping[str, Any]) -> dict[str, Any]:
    """A search candidate's trial component: its hyperparameters, its rank and its cross-validated metrics."""
    suffix = f"-c{candidate['index']}"
    name = sagemaker_safe(plan["job_config"]["run_id"])[: MAX_NAME_CHARS - len(suffix)].rstrip("-") + suffix
    params: dict[str, dict[str, Any]] = {"rank": {"NumberValue": float(candidate["rank"])},
                                         "completed_jobs": {"NumberValue": float(candidate["completed"])}}
    for key, value in sorted(candidate["overrides"].items()):
        params[key[:MAX_PARAMETER_KEY_CHARS]] = {"StringValue": str(value)[:2500]}
    for metric, stats in candidate["metrics"].items():
        if len(params) + 2 > MAX_PARAMETERS:
            break
        for statistic in ("mean", "std"):
            value = stats[statistic]
            if isinstance(value, (int, float)) and math.isfinite(value):
                params[_parameter_key(metric, statistic)] = {"NumberValue": float(value)}
    return {"TrialComponentName": name, "DisplayName": f"candidate-{candidate['index']}",
            "Status": {"PrimaryStatus": "Completed" if candidate["completed"] == candidate["jobs"] else "Failed"},
            "Parameters": params}


def record_candidates(sagemaker: Any, plan: Mapping[str, Any], tuning: Mapping[str, Any]) -> None:
    """One trial component per candidate of a search, in the run's trial (a redriven step re-associates)."""
    for candidate in tuning["candidates"]:
        _create_and_associate(sagemaker, candidate_component_request(plan, candidate), plan["job_config"]["trial_name"])


def _create_and_associate(sagemaker: Any, request: Mapping[str, Any], trial_name: str) -> None:
    """Create a trial component (one that exists already, from a redriven step, is kept) and put it in the trial."""
    try:
        sagemaker.create_trial_component(**request)
    except ClientError as error:
        if not name_taken(error):
            raise
    sagemaker.associate_trial_component(TrialComponentName=request["TrialComponentName"], TrialName=trial_name)


def _parameter_key(metric: str, statistic: str) -> str:
    suffix = f":{statistic}"
    return metric[: MAX_PARAMETER_KEY_CHARS - len(suffix)] + suffix


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
