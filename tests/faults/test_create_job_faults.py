"""CreateTrainingJob refused before any job exists: throttled, or over the account's instance quota
(ResourceLimitExceeded). The Map's Retry backs off and retries with the documented job name,
which cannot collide because the refused request created nothing; a quota that never frees
fails only that fold, and the execution says so."""

from __future__ import annotations

import json

from .conftest import (
    DOCUMENTED_JOB_NAME,
    INSTANCE_TYPE,
    REPO,
    created_jobs,
    failed_states,
    gathered,
    keys_under,
    plan_of,
    run_input,
)

RETRIED_CREATE_ERRORS = {"SageMaker.ThrottlingException", "SageMaker.ResourceLimitExceeded"}


def _train_fold_tasks(definition: dict) -> dict[str, dict]:
    states = definition["States"]["TrainFolds"]["ItemProcessor"]["States"]
    return {name: states[name] for name in ("TrainFold", "TrainFoldInVpc")}


def test_create_errors_raised_before_the_job_exists_are_retried_with_exponential_backoff():
    # GIVEN the ASL as written (the engine tests deploy it with shortened waits)
    definition = json.loads((REPO / "statemachines" / "crossvalidator.asl.json").read_text())
    for name, task in _train_fold_tasks(definition).items():
        retriers = [r for r in task["Retry"] if RETRIED_CREATE_ERRORS <= set(r["ErrorEquals"])]
        # THEN both training tasks retry throttling and quota errors, backing off exponentially with jitter
        assert len(retriers) == 1, name
        retrier = retriers[0]
        assert retrier["BackoffRate"] >= 2 and retrier["IntervalSeconds"] >= 30 and retrier["MaxAttempts"] >= 8, name
        assert retrier["JitterStrategy"] == "FULL" and retrier["MaxDelaySeconds"] <= 900, name
        # AND never retry an error a created job can raise (a retry would reuse its name)
        assert not {"States.ALL", "States.TaskFailed", "SageMaker.ResourceInUse"} & set(retrier["ErrorEquals"]), name


def test_throttled_and_over_quota_creates_are_retried_and_every_job_is_created_once_under_its_documented_name(
        engine, output_prefix):
    # GIVEN an account quota of 2 ml.m5.large training instances for a run of 4 folds, 4 at a time,
    # and SageMaker throttling fold 0's first two CreateTrainingJob calls
    engine.training.set_instance_limit(INSTANCE_TYPE, 2)
    engine.training.inject_create_error("ThrottlingException", "Rate exceeded", times=2,
                                        job_names=lambda name: "flt-quota" in name and name.endswith("-fold0"))
    document = run_input(output_prefix, name="flt-quota", n_splits=4, max_concurrency=4, seconds=0.3)
    # WHEN the run executes
    try:
        result = engine.run(document, timeout=120)
    finally:
        engine.training.set_instance_limit(INSTANCE_TYPE, None)
    # THEN it succeeds: every fold trained
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["summary"]["completed_folds"] == [0, 1, 2, 3]
    # AND SageMaker refused creates both ways, and the Retry absorbed every refusal
    errors = [error for _, error, _ in failed_states(result)]
    assert "SageMaker.ThrottlingException" in errors and "SageMaker.ResourceLimitExceeded" in errors
    assert set(errors) <= RETRIED_CREATE_ERRORS
    quota_cause = next(cause for _, error, cause in failed_states(result) if error == "SageMaker.ResourceLimitExceeded")
    assert f"The account-level service limit '{INSTANCE_TYPE} for training job usage' is 2 Instances" in quota_cause
    # AND every job was created exactly once, under the documented name of its fold (no collision, no suffix)
    run_id = result.output["job_config"]["run_id"]
    created = created_jobs(engine, run_id)
    assert sorted(created) == [f"{run_id}-fold{i}" for i in range(4)]
    for fold, name in enumerate(sorted(created)):
        match = DOCUMENTED_JOB_NAME.match(name)
        assert match and match["name"] == "flt-quota" and int(match["fold"]) == fold
    # AND never more than the quota trained at once
    records = [record for record in engine.training.records if record.name in created]
    events = sorted([(r.created_at, 1) for r in records] + [(r.ended_at, -1) for r in records], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak <= 2


def test_a_quota_that_never_frees_fails_only_that_fold_and_the_cause_names_the_error(engine, output_prefix):
    # GIVEN fold 1's CreateTrainingJob refused for the quota every time (more often than the Retry's attempts)
    quota = ("The account-level service limit 'ml.m5.large for training job usage' is 0 Instances, with current "
             "utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to request "
             "an increase for this quota.")
    engine.training.inject_create_error("ResourceLimitExceeded", quota, times=100,
                                        job_names=lambda name: "flt-no-quota" in name and name.endswith("-fold1"))
    document = run_input(output_prefix, name="flt-no-quota")
    # WHEN the run executes
    result = engine.run(document, timeout=120)
    # THEN fold 1 failed after 1 + MaxAttempts (8) refused creates, and the other folds trained
    jobs = [fold["TrainingJobName"] for fold in plan_of(result)["folds"]]
    refusals = [error for event, error, _ in failed_states(result) if event == "TaskFailed"]
    assert refusals == ["SageMaker.ResourceLimitExceeded"] * 9
    # AND the execution fails with FoldsFailed naming fold 1, its job, the error and SageMaker's message
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    assert result.cause.startswith(f"1 of 3 folds failed: fold1 ({jobs[1]}): SageMaker.ResourceLimitExceeded: {quota}")
    # AND no job exists for fold 1; the others' models and the summary are kept
    output = gathered(result)
    assert output["splits"][1]["TrainingJobStatus"] == "NotCreated"
    run_id = output["job_config"]["run_id"]
    assert sorted(created_jobs(engine, run_id)) == [jobs[0], jobs[2]]
    keys = keys_under(engine, output["job_config"]["run_prefix"])
    assert sorted(key for key in keys if key.endswith("model.tar.gz")) == [
        f"models/{jobs[0]}/output/model.tar.gz", f"models/{jobs[2]}/output/model.tar.gz"]
    assert "summary.json" in keys


PASS_ROLE_DENIED = ("User: arn:aws:sts::123456789012:assumed-role/smx-validator-local-CrossValidatorStateMachineRole/x "
                    "is not authorized to perform: iam:PassRole")


def test_a_create_refused_for_another_reason_is_not_retried_and_fails_only_that_fold(engine, output_prefix):
    # GIVEN fold 2's CreateTrainingJob refused with an error the Retry does not cover (a PassRole denial)
    engine.training.inject_create_error("AccessDeniedException", PASS_ROLE_DENIED, times=1,
                                        job_names=lambda name: "flt-denied" in name and name.endswith("-fold2"))
    # WHEN the run executes
    result = engine.run(run_input(output_prefix, name="flt-denied"), timeout=60)
    # THEN the refusal was not retried, and the other folds trained
    jobs = [fold["TrainingJobName"] for fold in plan_of(result)["folds"]]
    assert [error for event, error, _ in failed_states(result) if event == "TaskFailed"] == [
        "SageMaker.AccessDeniedException"]
    assert gathered(result)["summary"]["completed_folds"] == [0, 1]
    assert sorted(created_jobs(engine, gathered(result)["job_config"]["run_id"])) == jobs[:2]
    # AND the cause names fold 2, its job, the error and SageMaker's explanation
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    assert result.cause.startswith(
        f"1 of 3 folds failed: fold2 ({jobs[2]}): SageMaker.AccessDeniedException: {PASS_ROLE_DENIED}")
