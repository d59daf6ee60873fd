"""What the track step records in MLflow, read from a run's summary.json (the untrimmed execution output). Pure.

One parent run for the cross-validation: the input's settings and the hyperparameter template as parameters,
each metric's ``<metric>_mean`` and ``<metric>_std`` (the summary's statistics: a search's are its best
candidate's), the out-of-fold pooled metrics as ``out_of_fold_<metric>``. One nested run per training job (a
search's every candidate, repeat and fold, and its refit job): the job's hyperparameters and final metrics.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smx_common.fold_labels import job_label

# MLflow's limits (mlflow.utils.validation): a param value of 6000 characters, a tag value of 8000.
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
# What MLflow accepts in a metric or param name on every platform but Windows (validate_param_and_metric_name).
_UNSAFE_NAME = re.compile(r"[^/\w.\- :]")
# MLflow's run statuses (mlflow.entities.RunStatus) for SageMaker's TrainingJobStatus.
_JOB_STATUS = {"Completed": "FINISHED", "Failed": "FAILED", "Stopped": "KILLED"}


@dataclass(frozen=True)
class RunRecord:
    name: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    status: str = "FINISHED"
    start_ms: int | None = None
    end_ms: int | None = None


def mlflow_name(name: str) -> str:
    """A metric or param name MLflow accepts: characters it refuses become "_"."""
    return _UNSAFE_NAME.sub("_", name)[:250]


def parent_run(document: Mapping[str, Any]) -> RunRecord:
    job_config, summary = document["job_config"], document["summary"]
    crossvalidation, training = document.get("crossvalidation") or {}, document.get("training") or {}
    resources = training.get("resource_config") or {}
    settings = {
        "algorithm": training.get("algorithm_family"),
        "training_image": (training.get("algorithm_specification") or {}).get("TrainingImage"),
        "instance_type": resources.get("InstanceType"),
        "instance_count": resources.get("InstanceCount"),
        "n_splits": crossvalidation.get("n_splits"),
        "n_repeats": crossvalidation.get("n_repeats", 1),
        "random_state": crossvalidation.get("random_state"),
        "strategy": crossvalidation.get("strategy"),
        "num_samples": crossvalidation.get("num_samples"),
        "num_classes": crossvalidation.get("num_classes"),
        "input_path": job_config.get("input_path"),
    }
    params = {f"cv.{key}": value for key, value in settings.items() if value is not None}
    # The hyperparameters by their own names, as the jobs got them (the template: a search's candidates vary it).
    params.update((training.get("hyperparameters_template") or {}).items())
    metrics: dict[str, float] = {}
    for name, stats in (summary.get("metrics") or {}).items():
        for statistic in ("mean", "std"):
            if _finite(stats.get(statistic)):
                metrics[mlflow_name(f"{name}_{statistic}")] = float(stats[statistic])
    for name, value in ((summary.get("out_of_fold") or {}).get("metrics") or {}).items():
        if _finite(value):
            metrics[mlflow_name(f"out_of_fold_{name}")] = float(value)
    metrics["failed_jobs"] = float(summary.get("failed_fold_count") or 0)
    tags = {
        "smx.run_id": job_config["run_id"],
        "smx.execution_name": job_config.get("execution_name"),
        "smx.run_prefix": job_config.get("run_prefix"),
        "smx.summary_json": summary.get("summary_json"),
        "sagemaker.experiment_name": job_config.get("experiment_name"),
        "sagemaker.trial_name": job_config.get("trial_name"),
    }
    tuning = summary.get("tuning")
    if tuning:
        params["tuning.objective"] = f"{tuning['objective']['metric']} ({tuning['objective']['type']})"
        best = next((c for c in tuning["candidates"] if c["index"] == tuning.get("best_index")), None)
        if best is not None:
            params.update({f"best.{key}": value for key, value in best["overrides"].items()})
            tags["smx.best_candidate"] = f"c{best['index']}"
    return RunRecord(name=job_config["run_id"], params=_params(params), metrics=metrics, tags=_tags(tags),
                     status="FAILED" if summary.get("failure_message") else "FINISHED",
                     start_ms=_epoch_ms(job_config.get("created_at")))


def job_runs(document: Mapping[str, Any]) -> list[RunRecord]:
    """One record per training job, in the plan's order, then the refit job of a search."""
    jobs = list(document.get("splits") or [])
    refit = ((document.get("summary") or {}).get("tuning") or {}).get("refit")
    if refit and refit.get("TrainingJobName"):
        jobs.append({**refit, "fold_index": None,
                     "note": "the best candidate refit on every line: its validation metrics are training-set figures"})
    return [_job_run(job) for job in jobs]


def _job_run(job: Mapping[str, Any]) -> RunRecord:
    metrics = {mlflow_name(metric["MetricName"]): float(metric["Value"])
               for metric in job.get("FinalMetricDataList") or [] if _finite(metric.get("Value"))}
    if job.get("TrainingTimeInSeconds") is not None:
        metrics["training_seconds"] = float(job["TrainingTimeInSeconds"])
    tags = {
        "sagemaker.training_job_name": job.get("TrainingJobName"),
        "sagemaker.training_job_arn": job.get("TrainingJobArn"),
        "sagemaker.training_job_status": job.get("TrainingJobStatus"),
        "sagemaker.failure_reason": job.get("FailureReason"),
        "sagemaker.model_artifacts": (job.get("ModelArtifacts") or {}).get("S3ModelArtifacts"),
        "smx.note": job.get("note"),
        **{f"smx.{key}": job.get(key) for key in ("fold_index", "repeat_index", "candidate_index")},
    }
    return RunRecord(name=job_label(job), params=_params(job.get("HyperParameters") or {}), metrics=metrics,
                     tags=_tags(tags), status=_JOB_STATUS.get(job.get("TrainingJobStatus"), "FAILED"),
                     start_ms=_epoch_ms(job.get("TrainingStartTime") or job.get("CreationTime")),
                     end_ms=_epoch_ms(job.get("TrainingEndTime")))


def _params(values: Mapping[str, Any]) -> dict[str, str]:
    return {mlflow_name(str(key)): str(value)[:MAX_PARAM_VALUE] for key, value in values.items() if value is not None}


def _tags(values: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(value)[:MAX_TAG_VALUE] for key, value in values.items() if value is not None}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _epoch_ms(value: Any) -> int | None:
    """An ISO-8601 time (summary.json's) as MLflow's milliseconds since the epoch."""
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
    except ValueError:
        return None
