"""CreateTrainingJob refused before any job exists, in the shapes AWS documents for the optimized
SageMaker integration (smx_validator.local.error_shapes): throttled (SageMaker.AmazonSageMakerException,
"Error Code: ThrottlingException" in the cause) or over the account's instance quota
(SageMaker.ResourceLimitExceededException, or the generic name in some accounts). The fold's backoff
loop (ClassifyFoldFailure -> BackOffBeforeCreateRetry -> WaitBeforeCreateRetry) retries them with the
documented job name, which cannot collide because the refused request created nothing; a refusal
that never clears, or one that can never succeed, fails only that fold, and the execution says so."""

from __future__ import annotations

import json
import re

import pytest

from .conftest import (
    fold_results_problems,
    gather_input,
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

GENERIC = "SageMaker.AmazonSageMakerException"
QUOTA = "SageMaker.ResourceLimitExceededException"
# ClassifyFoldFailure's bound on CreateTrainingJob attempts after the first (the ASL's backoff schedule).
CREATE_RETRIES = 8


def _fold_states(definition: dict) -> dict[str, dict]:
    return definition["States"]["TrainFolds"]["ItemProcessor"]["States"]


def test_the_backoff_schedule_is_exponential_with_jitter_and_as_long_as_the_retry_bound():
    # GIVEN the ASL as written (the engine tests deploy it with waits capped at 1 s)
    states = _fold_states(json.loads((REPO / "statemachines" / "crossvalidator.asl.json").read_text()))
    backoff = states["BackOffBeforeCreateRetry"]["Parameters"]["wait_seconds.$"]
    floors, ceilings = (list(map(int, group.split(", "))) for group in re.findall(r"States\.Array\(([0-9, ]+)\)", backoff))
    bounds = {rule["And"][-1]["NumericLessThan"] for rule in states["ClassifyFoldFailure"]["Choices"] if "And" in rule}
    # THEN every retry rule has one bound, and the schedule has one wait per allowed retry
    assert bounds == {CREATE_RETRIES} and len(floors) == len(ceilings) == CREATE_RETRIES
    # AND the waits double from 30 s up to 900 s, each drawn between half and all of its ceiling (jitter)
    assert ceilings == [min(30 * 2 ** n, 900) for n in range(CREATE_RETRIES)]
    assert floors == [ceiling // 2 for ceiling in ceilings]
    assert backoff.startswith("States.MathRandom(")
    # AND the loop goes back to the training task with the same fold, hence the same job name
    assert states["WaitBeforeCreateRetry"]["Next"] == "ChooseNetworkPlacement"
    assert states["BackOffBeforeCreateRetry"]["ResultPath"] == "$.create_retry"
    # AND no training task has a Retry of its own: a Retry matches error names only, and can't read the cause
    assert not any("Retry" in states[name] for name in ("TrainFold", "TrainFoldInVpc"))


def test_a_throttled_create_in_aws_documented_shape_is_retried_and_the_job_completes_under_its_documented_name(
        engine, output_prefix):
    # GIVEN SageMaker throttling fold 0's first two CreateTrainingJob calls
    engine.training.inject_create_error("ThrottlingException", "Rate exceeded", times=2,
                                        job_names=lambda name: "flt-throttle" in name and name.endswith("-fold0"))
    # WHEN the run executes
    result = engine.run(run_input(output_prefix, name="flt-throttle"), timeout=120)
    # THEN it succeeds: every fold trained
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["summary"]["completed_folds"] == [0, 1, 2]
    # AND the Task failed twice the way Step Functions reports SageMaker's throttling
    refusals = [(error, cause) for event, error, cause in failed_states(result) if event == "TaskFailed"]
    assert [error for error, _ in refusals] == [GENERIC, GENERIC]
    assert all("Error Code: ThrottlingException;" in cause and cause.startswith("Rate exceeded (Service: AmazonSageMaker;")
               for _, cause in refusals)
    # AND the history shows the backoff: two waits before the two retries
    assert sum(event["type"] == "WaitStateEntered" for event in result.history) == 2
    # AND fold 0's job was created once, under the documented name
    run_id = result.output["job_config"]["run_id"]
    created = created_jobs(engine, run_id)
    assert sorted(created) == [f"{run_id}-fold{i}" for i in range(3)]
    match = DOCUMENTED_JOB_NAME.match(f"{run_id}-fold0")
    assert match and match["name"] == "flt-throttle"


@pytest.mark.parametrize("variant, expected_error", [("modeled", QUOTA), ("generic", GENERIC)])
def test_quota_refusals_in_either_documented_shape_are_retried_and_never_exceed_the_quota(
        engine, output_prefix, variant, expected_error):
    # GIVEN an account quota of 2 ml.m5.large training instances for a run of 4 folds, 4 at a time,
    # in an account whose Step Functions names quota refusals one of the two documented ways
    engine.training.set_instance_limit(INSTANCE_TYPE, 2)
    engine.report_sagemaker_errors_as(variant)
    document = run_input(output_prefix, name=f"flt-quota-{variant}", n_splits=4, max_concurrency=4, seconds=0.3)
    # WHEN the run executes
    try:
        result = engine.run(document, timeout=120)
    finally:
        engine.training.set_instance_limit(INSTANCE_TYPE, None)
        engine.report_sagemaker_errors_as("modeled")
    # THEN it succeeds: every fold trained
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["summary"]["completed_folds"] == [0, 1, 2, 3]
    # AND SageMaker refused creates for the quota, in that shape, and the backoff loop absorbed them
    refusals = [(error, cause) for event, error, cause in failed_states(result) if event == "TaskFailed"]
    assert refusals and {error for error, _ in refusals} == {expected_error}
    assert all("Error Code: ResourceLimitExceeded;" in cause for _, cause in refusals)
    assert f"The account-level service limit '{INSTANCE_TYPE} for training job usage' is 2 Instances" in refusals[0][1]
    # AND every job was created exactly once, under the documented name of its fold (no collision, no suffix)
    run_id = result.output["job_config"]["run_id"]
    created = created_jobs(engine, run_id)
    assert sorted(created) == [f"{run_id}-fold{i}" for i in range(4)]
    # AND never more than the quota trained at once
    records = [record for record in engine.training.records if record.name in created]
    events = sorted([(r.created_at, 1) for r in records] + [(r.ended_at, -1) for r in records], key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak <= 2


def test_a_validation_refusal_is_not_retried_and_fails_the_fold_at_once_with_its_cause(engine, output_prefix):
    # GIVEN fold 1's CreateTrainingJob refused as invalid (it can never succeed)
    message = "1 validation error detected: Value 'ml.bogus.xlarge' at 'resourceConfig.instanceType' failed to satisfy constraint"
    engine.training.inject_create_error("ValidationException", message, times=1,
                                        job_names=lambda name: "flt-invalid" in name and name.endswith("-fold1"))
    # WHEN the run executes
    result = engine.run(run_input(output_prefix, name="flt-invalid"), timeout=60)
    # THEN the refusal was not retried: one failed Task, no backoff
    refusals = [error for event, error, _ in failed_states(result) if event == "TaskFailed"]
    assert refusals == [GENERIC]
    assert not any(event["type"] == "WaitStateEntered" for event in result.history)
    # AND the fold failed with SageMaker's cause, while the other folds trained
    jobs = [fold["TrainingJobName"] for fold in plan_of(result)["folds"]]
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    assert result.cause.startswith(f"1 of 3 folds failed: fold1 ({jobs[1]}): {GENERIC}: {message} (Service: AmazonSageMaker;")
    assert "Error Code: ValidationException;" in result.cause
    assert gathered(result)["summary"]["completed_folds"] == [0, 2]
    # AND the failed create reached the gather step in FoldFailed's documented shape, with its cause
    fold_results = gather_input(result)["fold_results"]
    assert fold_results[1]["cause"].startswith(message) and fold_results_problems(fold_results) == []


QUOTA_MESSAGE = ("The account-level service limit 'ml.m5.large for training job usage' is 0 Instances, with current "
                 "utilization of 0 Instances and a request delta of 1 Instances. Please use AWS Service Quotas to "
                 "request an increase for this quota.")


@pytest.mark.parametrize("code, message, expected_error", [
    ("ResourceLimitExceeded", QUOTA_MESSAGE, QUOTA),
    ("ThrottlingException", "Rate exceeded", GENERIC),
], ids=["quota", "throttle"])
def test_a_refusal_that_never_clears_fails_only_that_fold_after_the_bounded_retries(
        engine, output_prefix, code, message, expected_error):
    # GIVEN fold 1's CreateTrainingJob refused every time (more often than the backoff loop retries)
    name = f"flt-never-{code[:8].lower()}"
    engine.training.inject_create_error(code, message, times=100,
                                        job_names=lambda job: name in job and job.endswith("-fold1"))
    # WHEN the run executes
    result = engine.run(run_input(output_prefix, name=name), timeout=120)
    # THEN fold 1 failed after 1 + 8 refused creates, and the other folds trained
    jobs = [fold["TrainingJobName"] for fold in plan_of(result)["folds"]]
    refusals = [error for event, error, _ in failed_states(result) if event == "TaskFailed"]
    assert refusals == [expected_error] * (1 + CREATE_RETRIES)
    # AND the execution fails with FoldsFailed naming fold 1, its job, the error and SageMaker's message and code
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    assert result.cause.startswith(f"1 of 3 folds failed: fold1 ({jobs[1]}): {expected_error}: {message}")
    assert f"Error Code: {code};" in result.cause
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
    assert [error for event, error, _ in failed_states(result) if event == "TaskFailed"] == [GENERIC]
    assert gathered(result)["summary"]["completed_folds"] == [0, 1]
    assert sorted(created_jobs(engine, gathered(result)["job_config"]["run_id"])) == jobs[:2]
    # AND the cause names fold 2, its job, the error and SageMaker's explanation
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    assert result.cause.startswith(
        f"1 of 3 folds failed: fold2 ({jobs[2]}): {GENERIC}: {PASS_ROLE_DENIED} (Service: AmazonSageMaker;")
