"""A fold's training job ends Failed or Stopped (MaxRuntimeInSeconds, or MaxWaitTimeInSeconds of
managed spot training): the other folds keep training, the gather step records what succeeded,
and the execution fails with FoldsFailed naming the fold. What each leaves behind is checked too.
A job that completes with a NaN metric (diverged) is reported as such."""

from __future__ import annotations

import json

from .conftest import (
    created_jobs,
    describe_job,
    fold_results_problems,
    gather_input,
    gathered,
    keys_under,
    plan_of,
    read_json,
    run_input,
    trial_components,
)


def _fold_jobs(result) -> list[str]:
    return [fold["TrainingJobName"] for fold in plan_of(result)["folds"]]


def test_a_failed_training_job_fails_the_run_naming_the_fold_and_keeps_the_other_folds(engine, output_prefix):
    # GIVEN a custom container that fails in fold 1 only (its failure file, as SageMaker reads it)
    document = run_input(output_prefix, name="flt-failed", environment={"FAIL_JOB_SUFFIX": "-fold1"})
    # WHEN the run executes
    result = engine.run(document)
    # THEN the execution fails with FoldsFailed, and the cause names fold 1, its job and SageMaker's FailureReason
    jobs = _fold_jobs(result)
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    assert result.cause == f"1 of 3 folds failed: fold1 ({jobs[1]}): AlgorithmError: injected failure for {jobs[1]}"
    # AND the other folds completed: models for folds 0 and 2 only, next to every fold's files
    output = gathered(result)
    run_prefix = output["job_config"]["run_prefix"]
    keys = keys_under(engine, run_prefix)
    assert [key for key in keys if key.endswith("model.tar.gz")] == [
        f"models/{jobs[0]}/output/model.tar.gz", f"models/{jobs[2]}/output/model.tar.gz"]
    assert {f"fold{i}/{part}" for i in range(3) for part in ("train/train.csv", "validation/validation.csv")} <= set(keys)
    # AND summary.json keeps the completed folds' metrics and the failed fold's reason
    summary = read_json(engine, run_prefix + "summary.json")["summary"]
    assert summary["completed_folds"] == [0, 2]
    assert summary["metrics"]["validation:score"]["count"] == 2
    assert [(f["fold_index"], f["TrainingJobStatus"]) for f in summary["failed_folds"]] == [(1, "Failed")]
    # AND Experiments holds every fold's job (fold 1 Failed with its reason) and the summary, marked Failed
    components = trial_components(engine, output["job_config"]["trial_name"])
    assert components[f"{jobs[1]}-aws-training-job"]["Status"] == {
        "PrimaryStatus": "Failed", "Message": f"AlgorithmError: injected failure for {jobs[1]}"}
    assert components[f"{jobs[0]}-aws-training-job"]["Status"]["PrimaryStatus"] == "Completed"
    summary_component = components[summary["trial_component_name"]]
    assert summary_component["Status"] == {"PrimaryStatus": "Failed", "Message": result.cause}
    assert summary_component["Parameters"]["validation:score:mean"]["NumberValue"] == 0.5
    # AND each job was created once
    assert sorted(created_jobs(engine, output["job_config"]["run_id"])) == jobs
    # AND the Map handed the gather step fold results in their documented shapes (FoldSucceeded, FoldJobFailed)
    fold_results = gather_input(result)["fold_results"]
    assert [(r["fold_index"], r["status"], r.get("error")) for r in fold_results] == [
        (0, "Completed", None), (1, "Failed", "States.TaskFailed"), (2, "Completed", None)]
    assert fold_results_problems(fold_results) == []


def test_a_job_over_max_runtime_is_stopped_and_the_run_fails_naming_the_fold(engine, output_prefix):
    # GIVEN MaxRuntimeInSeconds 3 and a fold 1 whose training would take a minute
    document = run_input(output_prefix, name="flt-max-runtime", stopping={"MaxRuntimeInSeconds": 3},
                         environment={"SLOW_JOB_SUFFIX": "-fold1", "SLOW_SECONDS": "60"})
    # WHEN the run executes
    result = engine.run(document, timeout=60)
    # THEN SageMaker stopped fold 1's job at its runtime limit ...
    jobs = _fold_jobs(result)
    job = describe_job(engine, jobs[1])
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    assert job["SecondaryStatusTransitions"][-1]["StatusMessage"] == (
        "Training job runtime exceeded MaxRuntimeInSeconds provided")
    # AND the execution fails with FoldsFailed naming fold 1, its job and the limit that stopped it
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    assert result.cause.startswith(
        f"1 of 3 folds failed: fold1 ({jobs[1]}): TrainingJobStatus Stopped (MaxRuntimeExceeded): "
        "Training job runtime exceeded MaxRuntimeInSeconds provided")
    # AND the other folds' models and the summary are kept; the stopped fold has no model but is billed
    output = gathered(result)
    keys = keys_under(engine, output["job_config"]["run_prefix"])
    assert sorted(key for key in keys if key.endswith("model.tar.gz")) == [
        f"models/{jobs[0]}/output/model.tar.gz", f"models/{jobs[2]}/output/model.tar.gz"]
    assert {"summary.json", "summary.csv", "run.json"} <= set(keys)
    assert output["splits"][1]["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert output["splits"][1]["BillableTimeInSeconds"] >= 3
    assert output["summary"]["billable_seconds_total"] >= 3


def test_a_spot_job_that_never_gets_capacity_is_stopped_at_max_wait_and_the_run_fails_naming_the_fold(
        engine, output_prefix):
    # GIVEN managed spot training with MaxWaitTimeInSeconds 3, and no spot capacity ever for fold 1
    engine.training.delay_spot_capacity(None, job_names=lambda name: "flt-spot-wait" in name and name.endswith("-fold1"))
    document = run_input(output_prefix, name="flt-spot-wait", spot=True,
                         stopping={"MaxRuntimeInSeconds": 3, "MaxWaitTimeInSeconds": 3})
    # WHEN the run executes
    result = engine.run(document, timeout=60)
    # THEN fold 1's job waited for capacity, then SageMaker stopped it at MaxWaitTimeInSeconds, untrained
    jobs = _fold_jobs(result)
    job = describe_job(engine, jobs[1])
    assert job["EnableManagedSpotTraining"] is True
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxWaitTimeExceeded")
    assert [(t["Status"], t["StatusMessage"]) for t in job["SecondaryStatusTransitions"]] == [
        ("Starting", "Insufficient capacity error from EC2 while launching instances, retrying!"),
        ("MaxWaitTimeExceeded", "Training job wait time exceeded MaxWaitTimeInSeconds provided")]
    assert "TrainingStartTime" not in job and job["BillableTimeInSeconds"] == 0
    # AND the execution fails with FoldsFailed naming fold 1, its job and the limit that stopped it
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    assert result.cause.startswith(
        f"1 of 3 folds failed: fold1 ({jobs[1]}): TrainingJobStatus Stopped (MaxWaitTimeExceeded): "
        "Training job wait time exceeded MaxWaitTimeInSeconds provided")
    # AND the folds that got capacity completed and are summarised
    output = gathered(result)
    assert output["summary"]["completed_folds"] == [0, 2]
    assert output["splits"][1]["SecondaryStatus"] == "MaxWaitTimeExceeded"
    keys = keys_under(engine, output["job_config"]["run_prefix"])
    assert not any(key.startswith(f"models/{jobs[1]}/") for key in keys) and "summary.json" in keys


def test_a_fold_whose_metric_diverges_is_reported_as_diverged_and_every_output_stays_strict_json(engine, output_prefix):
    # GIVEN fold 1's job reporting its score as NaN (a diverged loss)
    document = run_input(output_prefix, name="flt-diverge", environment={"DIVERGE_JOB_SUFFIX": "-fold1"})
    document["training"]["algorithm_specification"]["MetricDefinitions"] = [
        {"Name": "validation:score", "Regex": r"score: ([0-9.]+|nan)"}]
    # WHEN the run executes
    result = engine.run(document, timeout=60)
    # THEN it succeeds (every job Completed), and the summary says fold 1 diverged and what the mean is over
    assert result.status == "SUCCEEDED", result.cause
    summary = result.output["summary"]
    assert summary["diverged_folds"] == [1] and summary["diverged_fold_count"] == 1
    score = summary["metrics"]["validation:score"]
    assert score["values"] == [0.5, None, 0.5] and score["count"] == 2 and score["diverged_folds"] == [1]
    # AND summary.json on S3 is strict JSON (a strict parser refuses NaN)
    bucket, _, key = summary["summary_json"][len("s3://"):].partition("/")
    text = engine.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()

    def refuse(constant):
        raise ValueError(f"{constant} in summary.json")

    json.loads(text, parse_constant=refuse)
    # AND the per-fold table says so instead of hiding it
    from smx_validator.local.report import summary_table

    table = summary_table(result.output)
    assert "diverged" in table and "(over 2 of 3 folds)" in table
    assert "1 fold(s) diverged (fold1): a metric was NaN or infinite" in table
