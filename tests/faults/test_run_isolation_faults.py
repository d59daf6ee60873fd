"""The user stops a running execution; the same input is started twice at once. A stopped run
ends ABORTED with its jobs stopped; concurrent runs each get a run prefix and job names of their
own and never touch each other's objects (the output bucket is versioned: one version per key)."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from .conftest import (
    OUTPUT_BUCKET,
    created_jobs,
    keys_under,
    read_json,
    run_input,
    trial_components,
    versions_under,
    wait_for_job,
)


def test_stopping_a_run_aborts_it_stops_its_training_jobs_and_keeps_the_folds(engine, output_prefix):
    # GIVEN a run whose fold jobs train for a minute, two at a time (the deployment's default)
    arn = engine.start_execution(run_input(output_prefix, name="flt-stopped", seconds=60))
    deadline = time.monotonic() + 30
    while len(running := [r for r in engine.training.records if "flt-stopped" in r.name]) < 2:
        assert time.monotonic() < deadline, "the fold jobs never started"
        time.sleep(0.05)
    for record in running:
        wait_for_job(engine, record.name, {"InProgress"})
    # WHEN the user stops the execution
    engine.stop_execution(arn, error="UserStopped", cause="stopped by the user")
    result = engine.wait(arn, timeout=30)
    # THEN it ends ABORTED, and every job it had started ends Stopped (no job keeps billing)
    assert result.status == "ABORTED"
    run_id = running[0].name.rsplit("-fold", 1)[0]
    jobs = created_jobs(engine, run_id)
    assert len(jobs) == 2
    for job in jobs:
        description = wait_for_job(engine, job, {"Stopped", "Completed", "Failed"}, timeout=15)
        assert (description["TrainingJobStatus"], description["SecondaryStatus"]) == ("Stopped", "Stopped")
    # AND no further job starts afterwards; the folds and run.json are kept, no summary is written
    time.sleep(0.5)
    assert created_jobs(engine, run_id) == jobs
    keys = keys_under(engine, output_prefix + "/")
    assert {f"{run_id}/run.json", f"{run_id}/fold2/train/train.csv"} <= set(keys)
    assert not any(key.endswith(("summary.json", "model.tar.gz")) for key in keys)
    # AND Experiments keeps the started jobs' components, marked Stopped
    components = trial_components(engine, run_id)
    assert {name: c["Status"]["PrimaryStatus"] for name, c in components.items()} == {
        f"{job}-aws-training-job": "Stopped" for job in jobs}


def _assert_isolated(engine, results) -> None:
    """Each run kept to its own prefix, job names and data, and no object was written twice."""
    outputs = [result.output for result in results]
    run_ids = [output["job_config"]["run_id"] for output in outputs]
    prefixes = [output["job_config"]["run_prefix"] for output in outputs]
    assert len(set(run_ids)) == len(set(prefixes)) == len(results)
    for result, output in zip(results, outputs):
        run_id, prefix = output["job_config"]["run_id"], output["job_config"]["run_prefix"]
        names = [split["TrainingJobName"] for split in output["splits"]]
        assert names == [f"{run_id}-fold{i}" for i in range(len(names))]
        assert sorted(created_jobs(engine, run_id)) == names  # each job created once, by this run
        for split in output["splits"]:  # and it trained on this run's folds, into this run's prefix
            assert all(channel["DataSource"]["S3DataSource"]["S3Uri"].startswith(prefix)
                       for channel in split["InputDataConfig"])
            assert split["ModelArtifacts"]["S3ModelArtifacts"].startswith(prefix)
        marker = read_json(engine, prefix + "run.json")
        assert marker["execution_name"] == result.execution_arn.rsplit(":", 1)[1]
    for prefix in prefixes:
        versions = versions_under(engine, prefix)
        assert versions and set(versions.values()) == {1}, versions


def test_the_same_input_started_twice_at_once_gets_two_runs_that_never_overwrite_each_other(engine, output_prefix):
    # GIVEN one input
    document = run_input(output_prefix, name="flt-twice")
    # WHEN it is started twice, back to back
    arns = [engine.start_execution(document), engine.start_execution(document)]
    results = [engine.wait(arn, timeout=60) for arn in arns]
    # THEN both succeed, each with a run prefix and job names of its own, whatever second each started in
    assert [result.status for result in results] == ["SUCCEEDED", "SUCCEEDED"], [r.cause for r in results]
    _assert_isolated(engine, results)


class _FrozenClock(dt.datetime):
    """datetime whose now() is always 2031-01-02 03:04:05 (UTC)."""

    @classmethod
    def now(cls, tz=None):
        return dt.datetime(2031, 1, 2, 3, 4, 5, tzinfo=tz)


@pytest.fixture
def split_clock_frozen(engine, monkeypatch):
    """The split handler's clock stopped at one second, so that two runs certainly start in it."""
    module = engine.lambda_function("SplitFunction").module
    assert getattr(module, "datetime", None) is dt.datetime, "the split handler no longer reads datetime.now()"
    monkeypatch.setattr(module, "datetime", _FrozenClock)


def test_the_same_input_started_twice_in_the_same_second_gets_two_runs_that_never_overwrite_each_other(
        engine, output_prefix, split_clock_frozen):
    # GIVEN one input, and both executions' split steps seeing the same second
    document = run_input(output_prefix, name="flt-same-second")
    # WHEN it is started twice, back to back
    arns = [engine.start_execution(document), engine.start_execution(document)]
    results = [engine.wait(arn, timeout=60) for arn in arns]
    # THEN both succeed: the second to reserve the run prefix moved one second on
    assert [result.status for result in results] == ["SUCCEEDED", "SUCCEEDED"], [r.cause for r in results]
    assert sorted(result.output["job_config"]["run_id"] for result in results) == [
        "crossvalidator-flt-same-second-20310102-030405", "crossvalidator-flt-same-second-20310102-030406"]
    _assert_isolated(engine, results)


def test_two_runs_of_one_name_under_different_prefixes_in_the_same_second_never_share_a_job(
        engine, output_prefix, split_clock_frozen):
    # GIVEN the same job_config.name sent to two output prefixes, both split in the same second
    documents = [run_input(f"{output_prefix}/{team}", name="flt-two-prefixes") for team in ("a", "b")]
    # WHEN both start at once
    arns = [engine.start_execution(document) for document in documents]
    results = [engine.wait(arn, timeout=60) for arn in arns]
    # THEN both succeed: the run ids are claimed account-wide (the trial), so the second moved one
    # second on, and each run trained its own folds under job names of its own
    assert [result.status for result in results] == ["SUCCEEDED", "SUCCEEDED"], [r.cause for r in results]
    assert sorted(result.output["job_config"]["run_id"] for result in results) == [
        "crossvalidator-flt-two-prefixes-20310102-030405", "crossvalidator-flt-two-prefixes-20310102-030406"]
    _assert_isolated(engine, results)


def test_the_output_bucket_is_versioned_so_an_overwrite_would_show(engine):
    # The isolation checks above count versions: they mean something only on a versioned bucket.
    assert engine.client("s3").get_bucket_versioning(Bucket=OUTPUT_BUCKET)["Status"] == "Enabled"
