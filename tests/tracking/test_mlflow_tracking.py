"""MLflow tracking end to end: runs on the offline engine record themselves in a real MLflow server, read back
with MlflowClient: one parent run whose metrics are the summary's statistics, one nested run per training job
whose metrics are that job's final metrics."""

from __future__ import annotations

import json
import re

import pytest
from mlflow.tracking import MlflowClient

from smx_validator import CrossValidationFailed, cross_validate
from smx_validator.cli import main as cli_main

from .conftest import BREAST_CANCER, EXAMPLES, IRIS, TEST_SCRIPT, free_port

pytestmark = pytest.mark.slow


def tracked(example: str, tracking_uri: str, experiment: str) -> dict:
    document = json.loads((EXAMPLES / example).read_text())
    document["tracking"] = {"mlflow": {"tracking_uri": tracking_uri, "experiment_name": experiment}}
    return document


def runs_of(client: MlflowClient, experiment: str, run_id: str):
    """(parent, nested runs) recorded for one run id."""
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    runs = client.search_runs([experiment_id], filter_string=f"tags.`smx.run_id` = '{run_id}'")
    [parent] = [run for run in runs if "mlflow.parentRunId" not in run.data.tags]
    return parent, [run for run in runs if run.data.tags.get("mlflow.parentRunId") == parent.info.run_id]


def test_a_run_is_one_parent_run_with_the_summary_and_a_nested_run_per_job(mlflow_server, tmp_path):
    # GIVEN linear-learner with out-of-fold predictions, asked to be tracked in MLflow
    result = cross_validate(tracked("linear-learner-oof.json", mlflow_server, "oof"), local=True, data=BREAST_CANCER,
                            progress=False)
    client = MlflowClient(mlflow_server)
    # WHEN its runs are read back
    recorded = result.summary["mlflow"]
    parent, nested = runs_of(client, "oof", result.output["job_config"]["run_id"])
    # THEN the output names the parent run, which is finished and holds every metric's mean and std
    assert recorded["run_id"] == parent.info.run_id and recorded["nested_runs"] == 5
    assert parent.info.status == "FINISHED" and parent.info.run_name == result.output["job_config"]["run_id"]
    for name, stats in result.summary["metrics"].items():
        assert parent.data.metrics[f"{name}_mean"] == pytest.approx(stats["mean"])
        assert parent.data.metrics[f"{name}_std"] == pytest.approx(stats["std"])
    for name, value in result.out_of_fold["metrics"].items():
        assert parent.data.metrics[f"out_of_fold_{name}"] == pytest.approx(value)
    # AND its parameters are the input's settings and the hyperparameter template
    assert parent.data.params["cv.n_splits"] == "5" and parent.data.params["cv.random_state"] == "42"
    assert parent.data.params["predictor_type"] == "binary_classifier"
    # AND the summaries are its artifacts, summary.json the one on S3
    assert {artifact.path for artifact in client.list_artifacts(parent.info.run_id)} == {"summary.json", "summary.csv"}
    local = client.download_artifacts(parent.info.run_id, "summary.json", str(tmp_path))
    assert json.loads(open(local).read())["summary"]["metrics"] == result.summary["metrics"]
    # AND each training job is a nested run with its hyperparameters and final metrics
    by_job = {run.data.tags["sagemaker.training_job_name"]: run for run in nested}
    assert set(by_job) == {split["TrainingJobName"] for split in result.splits}
    for split in result.splits:
        run = by_job[split["TrainingJobName"]]
        assert run.info.status == "FINISHED" and run.info.run_name == f"fold{split['fold_index']}"
        assert run.data.params == split["HyperParameters"]
        assert {name: value for name, value in run.data.metrics.items() if name != "training_seconds"} == {
            metric["MetricName"]: pytest.approx(metric["Value"]) for metric in split["FinalMetricDataList"]}


def test_a_search_nests_every_candidates_jobs_and_its_refit(mlflow_server):
    # GIVEN the knn search (4 candidates x 5 folds), tracked
    document = tracked("knn-search.json", mlflow_server, "searches")
    document["tuning"]["refit"] = True
    result = cross_validate(document, local=True, data=IRIS, progress=False)
    parent, nested = runs_of(MlflowClient(mlflow_server), "searches", result.output["job_config"]["run_id"])
    # THEN every job of every candidate and the refit job are nested runs, named as the run names them
    names = sorted(run.info.run_name for run in nested)
    assert len(nested) == 21 and "refit" in names and "c3-fold4" in names
    # AND the refit's run, like every job's, has its training job's ARN and final metrics (training-set figures)
    [refit] = [run for run in nested if run.info.run_name == "refit"]
    assert refit.data.tags["sagemaker.training_job_arn"] == result.tuning["refit"]["TrainingJobArn"]
    assert "test:accuracy" in refit.data.metrics and "training-set figures" in refit.data.tags["smx.note"]
    # AND the parent says which candidate won, with its statistics (the summary's are the best candidate's)
    best = result.tuning["best_index"]
    assert parent.data.tags["smx.best_candidate"] == f"c{best}"
    overrides = next(c for c in result.tuning["candidates"] if c["index"] == best)["overrides"]
    assert {f"best.{key}": str(value) for key, value in overrides.items()}.items() <= parent.data.params.items()
    assert parent.data.metrics["test:accuracy_mean"] == pytest.approx(result.summary["metrics"]["test:accuracy"]["mean"])


def test_a_run_with_a_failed_fold_is_recorded_as_failed_with_the_jobs_reason(mlflow_server):
    # GIVEN the custom-container example whose fold 1 fails, tracked
    document = tracked("custom.json", mlflow_server, "failures")
    document["training"]["algorithm_specification"]["TrainingImage"] = f"local:{TEST_SCRIPT}"
    document["training"]["hyperparameters_template"] = {"fail_suffix": "fold1"}
    with pytest.raises(CrossValidationFailed) as raised:
        cross_validate(document, local=True, data=BREAST_CANCER, progress=False)
    run_id = raised.value.result.output["job_config"]["run_id"]
    parent, nested = runs_of(MlflowClient(mlflow_server), "failures", run_id)
    # AND the failed run's result names its MLflow record, as a successful run's does
    assert raised.value.result.summary["mlflow"]["run_id"] == parent.info.run_id
    # THEN the parent run is FAILED, and so is the failed job's nested run, with SageMaker's reason
    assert parent.info.status == "FAILED"
    failed = [run for run in nested if run.info.status == "FAILED"]
    assert [run.info.run_name for run in failed] == ["fold1"]
    assert failed[0].data.tags["sagemaker.failure_reason"]


def test_local_run_tracks_with_mlflow_tracking_uri_and_says_where(mlflow_server, capsys):
    # GIVEN the knn example, which asks for no tracking, run with --mlflow-tracking-uri
    code = cli_main(["local", "run", str(EXAMPLES / "knn.json"), "--data",
                     f"{next(iter(IRIS))}={next(iter(IRIS.values()))}", "--mlflow-tracking-uri", mlflow_server])
    text = capsys.readouterr().out
    assert code == 0, text
    # THEN it prints the parent run's address, and the run is in the experiment named as its SageMaker Experiment
    found = re.search(rf"MLflow: run (\w+) with 5 nested runs \(one per training job\) in experiment 'iris-knn': "
                      rf"{re.escape(mlflow_server)}/#/experiments/(\d+)/runs/(\w+)", text)
    assert found and found.group(1) == found.group(3), text
    assert MlflowClient(mlflow_server).get_run(found.group(1)).info.experiment_id == found.group(2)


def test_an_unreachable_tracking_server_leaves_the_run_succeeded_with_a_warning(capsys):
    # GIVEN a tracking URI where no server listens
    closed = f"http://127.0.0.1:{free_port()}"
    code = cli_main(["local", "run", str(EXAMPLES / "knn.json"), "--data",
                     f"{next(iter(IRIS))}={next(iter(IRIS.values()))}", "--mlflow-tracking-uri", closed])
    text = capsys.readouterr().out
    # THEN the run still succeeds (its summaries are written), and the user is told what was not recorded and why
    assert code == 0, text
    assert f"warning: MLflow tracking failed (MlflowTrackingFailed): could not record the run in MLflow " \
           f"at {closed}:" in text
    assert "Connection refused" in text


def test_artifacts_the_store_refuses_leave_the_run_recorded_without_them(s3_artifact_server, capsys):
    # GIVEN a server whose clients must upload artifacts to an S3 bucket they cannot write (a managed server
    # deployed without MlflowArtifactBucketName)
    code = cli_main(["local", "run", str(EXAMPLES / "knn.json"), "--data",
                     f"{next(iter(IRIS))}={next(iter(IRIS.values()))}", "--mlflow-tracking-uri", s3_artifact_server])
    text = capsys.readouterr().out
    assert code == 0, text
    # THEN the run is recorded, finished, with its nested runs, and the user is told the files are missing and why
    run_id = re.search(r"MLflow: run (\w+) with 5 nested runs", text).group(1)
    assert "note: summary.json and summary.csv are not among its artifacts: S3UploadFailedError" in text
    assert MlflowClient(s3_artifact_server).get_run(run_id).info.status == "FINISHED"


def test_validate_says_where_the_run_will_be_tracked(capsys, tmp_path):
    path = tmp_path / "input.json"
    path.write_text(json.dumps(tracked("knn.json", "https://mlflow.example.com", "team")))
    assert cli_main(["validate", str(path)]) == 0
    assert ("tracked in MLflow at https://mlflow.example.com, experiment 'team': one parent run, one nested run per "
            "training job; the track function must reach this URL") in capsys.readouterr().out


def test_an_experiment_deleted_in_mlflow_is_restored_and_the_user_told(mlflow_server):
    # GIVEN an experiment that was deleted in MLflow (its name stays reserved there)
    client = MlflowClient(mlflow_server)
    client.delete_experiment(client.create_experiment("deleted-before"))
    document = tracked("knn.json", mlflow_server, "deleted-before")
    # WHEN a run is tracked under that name
    result = cross_validate(document, local=True, data=IRIS, progress=False)
    # THEN the experiment is active again with the run in it, and the output says it was restored
    assert client.get_experiment_by_name("deleted-before").lifecycle_stage == "active"
    assert result.summary["mlflow"]["experiment_restored"] is True
    from smx_validator.local.report import mlflow_lines

    assert "note: the experiment 'deleted-before' had been deleted in MLflow; it is restored" in "\n".join(
        mlflow_lines(result.summary))


def test_a_record_that_breaks_half_way_names_the_parent_run_left_incomplete(mlflow_server):
    # GIVEN the track step's writer, and a server that stops answering after the parent and two nested runs
    import sys

    sys.path.insert(0, str(EXAMPLES.parents[1] / "functions" / "track"))
    from smx_track import mlflow_writer, records

    class BreaksAfter:
        def __init__(self, client, runs):
            self.client, self.runs = client, runs

        def create_run(self, *args, **kwargs):
            self.runs -= 1
            if self.runs < 0:
                raise OSError("Connection refused")
            return self.client.create_run(*args, **kwargs)

        def __getattr__(self, name):
            return getattr(self.client, name)

    output = json.loads(json.dumps(cross_validate(EXAMPLES / "knn.json", local=True, data=IRIS, progress=False).output))
    client = MlflowClient(mlflow_server)
    mlflow_writer.CONCURRENT_REQUESTS = 1  # the order of the writes, for the count above
    try:
        with pytest.raises(mlflow_writer.PartialRecord) as raised:
            mlflow_writer.record_run(BreaksAfter(client, 3), "half-way", records.parent_run(output),
                                     records.job_runs(output), [])
    finally:
        mlflow_writer.CONCURRENT_REQUESTS = 8
    # THEN the error names the parent run, which is marked FAILED and incomplete (the server still answers here)
    parent = client.get_run(raised.value.parent_id)
    assert str(raised.value).startswith(f"recorded in part: parent run {parent.info.run_id} (experiment ")
    assert parent.info.status == "FAILED" and "smx.incomplete" in parent.data.tags


def test_a_retried_step_replaces_its_own_record_and_never_another_executions(mlflow_server):
    import sys

    sys.path.insert(0, str(EXAMPLES.parents[1] / "functions" / "track"))
    from smx_track import mlflow_writer, records

    def document(execution: str) -> dict:
        return {"job_config": {"run_id": "crossvalidator-same-20261130-120000", "execution_name": execution},
                "splits": [{"fold_index": 0, "TrainingJobName": "j-fold0", "TrainingJobStatus": "Completed"}],
                "summary": {"metrics": {}}}

    def record(execution: str) -> str:
        output = document(execution)
        return mlflow_writer.record_run(MlflowClient(mlflow_server), "same-run-id", records.parent_run(output),
                                        records.job_runs(output), [])["run_id"]

    client = MlflowClient(mlflow_server)
    experiment_id = client.create_experiment("same-run-id")
    # GIVEN two executions that share a run id (two offline runs started in the same second), the first retried
    first, second, retried = record("local-a"), record("local-b"), record("local-a")
    # THEN the retry replaced the first record, and the other execution's record stands
    live = {run.info.run_id for run in client.search_runs([experiment_id])
            if "mlflow.parentRunId" not in run.data.tags}
    assert live == {second, retried} and first not in live
