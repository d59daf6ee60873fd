"""The records written to an MLflow tracking server with MLflow's own client (I/O).

A retried step does not leave two records of one run: runs already tagged with the run id (a step that failed
half way) are deleted before the run is written again.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Sequence

from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

from .records import RunRecord

# Nested runs written at once (each a few HTTP requests that mostly wait on the server).
CONCURRENT_REQUESTS = 8
PARENT_TAG = "mlflow.parentRunId"  # how MLflow nests a run under another (mlflow.utils.mlflow_tags)


def record_run(client: MlflowClient, experiment_name: str, parent: RunRecord, children: Sequence[RunRecord],
               artifacts: Sequence[Path]) -> dict[str, Any]:
    """Write the parent run, its nested runs and the artifacts; what the execution output says about them."""
    experiment_id, restored = _experiment_id(client, experiment_name)
    _delete_earlier_attempts(client, experiment_id, parent.tags["smx.run_id"], parent.tags.get("smx.execution_name"))
    parent_id = _create(client, experiment_id, parent, {})
    nested_tags = {PARENT_TAG: parent_id, "smx.run_id": parent.tags["smx.run_id"],
                   **({"smx.execution_name": parent.tags["smx.execution_name"]}
                      if "smx.execution_name" in parent.tags else {})}

    def write_child(child: RunRecord) -> None:
        client.set_terminated(_create(client, experiment_id, child, nested_tags), child.status, end_time=child.end_ms)

    try:
        # Three requests a job, each waiting on the server: a few at a time keep a 1,000-job search well within the
        # function's 900 s (make bench-report).
        with ThreadPoolExecutor(max_workers=CONCURRENT_REQUESTS) as pool:
            for _ in pool.map(write_child, children):
                pass
    except Exception as error:
        # Not left RUNNING when the server still answers: a half-written record says so (a retried step deletes it
        # and writes the run again).
        try:
            client.set_tag(parent_id, "smx.incomplete", "the track step failed while writing the nested runs")
            client.set_terminated(parent_id, "FAILED")
        except Exception:
            pass  # the server is gone: the error below names the parent run left behind
        raise PartialRecord(parent_id, experiment_id, error) from error
    recorded = {"experiment_name": experiment_name, "experiment_id": experiment_id, "run_id": parent_id,
                "nested_runs": len(children), **({"experiment_restored": True} if restored else {})}
    try:
        for path in artifacts:
            client.log_artifact(parent_id, str(path))
    except Exception as error:  # the store is the server's choice (S3, a volume...): its errors have no one type
        # The run's record stands without its files (a managed server's S3 store needs MlflowArtifactBucketName).
        recorded["artifacts_error"] = f"{type(error).__name__}: {error_line(error, 300)}"
    client.set_terminated(parent_id, parent.status)
    return recorded


def error_line(error: BaseException, limit: int = 2000) -> str:
    """An error's first line, for the execution output (whole up to ``limit``: a connection error's useful end,
    "Connection refused", follows a long URL)."""
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:limit]


class PartialRecord(Exception):
    """The parent run was written, but not all of its nested runs: which run a user should delete or ignore."""

    def __init__(self, parent_id: str, experiment_id: str, cause: Exception):
        super().__init__(f"recorded in part: parent run {parent_id} (experiment {experiment_id}) is incomplete: "
                         f"{error_line(cause, 400)}")
        self.parent_id = parent_id


def _experiment_id(client: MlflowClient, name: str) -> tuple[str, bool]:
    """The experiment's id, and whether it had been deleted (MLflow keeps a deleted experiment's name: the only
    way to record under that name again is to restore it)."""
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        return client.create_experiment(name), False
    if experiment.lifecycle_stage == "deleted":
        client.restore_experiment(experiment.experiment_id)
        return experiment.experiment_id, True
    return experiment.experiment_id, False


def _delete_earlier_attempts(client: MlflowClient, experiment_id: str, run_id: str, execution_name: str | None) -> None:
    """This execution's own earlier record (a retried step), never another execution's: two offline runs started in
    the same second share a run id (each emulates its own account), never an execution name."""
    condition = f"tags.`smx.run_id` = '{run_id}'"
    if execution_name:
        condition += f" and tags.`smx.execution_name` = '{_quoted(execution_name)}'"
    for run in client.search_runs([experiment_id], filter_string=condition, max_results=50_000):
        client.delete_run(run.info.run_id)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _create(client: MlflowClient, experiment_id: str, record: RunRecord, extra_tags: dict[str, str]) -> str:
    """The run, then its parameters and metrics in one LogBatch (MLflow's client splits what passes its limits)."""
    run = client.create_run(experiment_id, start_time=record.start_ms, tags={**record.tags, **extra_tags},
                            run_name=record.name)
    step_time = record.end_ms or record.start_ms or 0
    client.log_batch(run.info.run_id, params=[Param(key, value) for key, value in record.params.items()],
                     metrics=[Metric(key, value, step_time, 0) for key, value in record.metrics.items()])
    return run.info.run_id
