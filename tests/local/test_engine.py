"""The engine's Step Functions semantics, on a small application of its own (tests/local/mini_app):
in-process Lambda handlers, .sync training tasks, failure and stop propagation."""

from __future__ import annotations

import json
import time

import pytest
from botocore.exceptions import ClientError

from .conftest import LINEAR_LEARNER_IMAGE, TEST_SCRIPT, wait_for_job

SLOW_SCRIPT_JOB = {"image": f"local:{TEST_SCRIPT}", "hyperparameters": {"seconds": "30"}}


def test_a_lambda_exception_fails_the_state_with_its_class_name(mini_engine):
    # GIVEN an input the handler rejects by raising RejectedRequest
    # WHEN the execution runs
    result = mini_engine.run({"reject": "no jobs for you"})
    # THEN the execution fails with the exception's class name and the runtime's error payload as cause
    assert (result.status, result.error) == ("FAILED", "RejectedRequest")
    cause = json.loads(result.cause)
    assert cause["errorType"] == "RejectedRequest" and cause["errorMessage"] == "no jobs for you"
    assert any(event["type"] == "LambdaFunctionFailed" for event in result.history)


def test_handler_output_goes_to_its_log_group_not_the_terminal(mini_engine, capsys):
    # WHEN a handler prints during an execution
    result = mini_engine.run({"run": "logs", "jobs": []})
    # THEN the execution succeeds and the print is in /aws/lambda/<function>, as Lambda keeps it
    assert result.status == "SUCCEEDED", result.cause
    assert "preparing 0 jobs" not in capsys.readouterr().out
    logs = mini_engine.client("logs")
    group = f"/aws/lambda/{mini_engine.function_names['PrepareFunction']}"
    messages = [event["message"] for event in logs.filter_log_events(logGroupName=group)["events"]]
    assert any("preparing 0 jobs in smx-validator-local-PrepareFunction; global=from-globals" in m for m in messages)


def test_the_definition_is_deployed_with_the_templates_substitutions(mini_engine):
    definition = json.loads(mini_engine.client("stepfunctions").describe_state_machine(
        stateMachineArn=mini_engine.state_machine_arn)["definition"])
    assert definition["States"]["Prepare"]["Resource"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:smx-validator-local-PrepareFunction")
    train_job = definition["States"]["Train"]["ItemProcessor"]["States"]["TrainJob"]
    assert train_job["Parameters"]["RoleArn"] == "arn:aws:iam::123456789012:role/smx-validator-local-TrainingRole"
    # The tests asked for short retry waits: capped, everything else as written.
    assert train_job["Retry"][0] | {"IntervalSeconds": 30, "MaxDelaySeconds": None} == {
        "ErrorEquals": ["SageMaker.AmazonSageMakerException"], "IntervalSeconds": 30, "MaxAttempts": 3,
        "BackoffRate": 2, "MaxDelaySeconds": None}
    assert train_job["Retry"][0]["IntervalSeconds"] == 1


def test_each_iteration_gets_its_completed_jobs_description(mini_engine):
    # GIVEN three linear-learner jobs, two at a time
    jobs = [{"image": LINEAR_LEARNER_IMAGE, "hyperparameters": {"predictor_type": "binary_classifier"}}] * 3
    # WHEN the execution runs
    result = mini_engine.run({"run": "ok", "jobs": jobs, "max_concurrency": 2})
    # THEN every iteration ends with its job's name and Completed status (the .sync task's result)
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == [{"name": f"mini-ok-job{index}", "status": "Completed"} for index in range(3)]


def test_a_failed_job_fails_the_map_with_states_task_failed_and_stops_the_running_job(mini_engine):
    # GIVEN a job that fails at once next to one that trains for 30 s, in a Map without Catch
    jobs = [SLOW_SCRIPT_JOB, {"image": f"local:{TEST_SCRIPT}", "hyperparameters": {"fail_suffix": "job1"}}]
    # WHEN the execution runs
    result = mini_engine.run({"run": "mapfail", "jobs": jobs, "max_concurrency": 2}, timeout=20)
    # THEN the error leaving the Map keeps its name (not States.Runtime) with the job's description as cause
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    assert json.loads(result.cause)["FailureReason"] == "AlgorithmError: injected failure for mini-mapfail-job1"
    # AND the job still running was stopped, as Step Functions stops it
    assert wait_for_job(mini_engine, "mini-mapfail-job0", {"Stopped"}, timeout=10)["SecondaryStatus"] == "Stopped"


def test_stopping_the_execution_aborts_it_and_stops_its_jobs(mini_engine):
    # GIVEN an execution whose two jobs are training
    arn = mini_engine.start_execution({"run": "stop", "jobs": [SLOW_SCRIPT_JOB] * 2})
    for name in ("mini-stop-job0", "mini-stop-job1"):
        wait_for_job(mini_engine, name, {"InProgress"})
    # WHEN it is stopped with an error and a cause
    mini_engine.stop_execution(arn, error="UserStopped", cause="wrong dataset")
    # THEN it ends ABORTED, keeping the error and cause given (StopExecution's contract), and both jobs end Stopped
    deadline = time.monotonic() + 10
    while mini_engine.describe_execution(arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    description = mini_engine.describe_execution(arn)
    assert (description["status"], description.get("error"), description.get("cause")) == (
        "ABORTED", "UserStopped", "wrong dataset")
    for name in ("mini-stop-job0", "mini-stop-job1"):
        assert wait_for_job(mini_engine, name, {"Stopped", "Completed", "Failed"}, timeout=10)["TrainingJobStatus"] == "Stopped"
    assert "TaskSucceeded" not in {event["type"] for event in mini_engine.history(arn)}


def test_throttled_creates_are_retried_by_the_states_retry(mini_engine):
    # GIVEN the first two CreateTrainingJob calls of job0 throttled
    mini_engine.training.inject_create_error("ThrottlingException", "Rate exceeded", times=2,
                                             job_names=lambda name: name == "mini-throttle-job0")
    # WHEN the execution runs
    result = mini_engine.run({"run": "throttle", "jobs": [{"image": LINEAR_LEARNER_IMAGE,
                                                           "hyperparameters": {"predictor_type": "binary_classifier"}}]})
    # THEN the task's Retry absorbed both errors, named as Step Functions names SageMaker's throttling
    # (the generic SageMaker.AmazonSageMakerException, the code in the cause), and the job completed
    assert result.status == "SUCCEEDED", result.cause
    failures = [event["taskFailedEventDetails"] for event in result.history if event["type"] == "TaskFailed"]
    assert [failure["error"] for failure in failures] == ["SageMaker.AmazonSageMakerException"] * 2
    assert all("Error Code: ThrottlingException;" in failure["cause"] for failure in failures)


@pytest.mark.parametrize("document", ['{"run": "broken",', '{"run": NaN}'], ids=["cut-short", "nan"])
def test_an_input_that_is_not_json_is_refused_by_start_execution_with_invalid_execution_input(mini_engine, document):
    # WHEN an execution is started with an input that is not JSON (Python's parser would read NaN)
    with pytest.raises(ClientError) as refused:
        mini_engine.start_execution(document)
    # THEN StartExecution refuses it with Step Functions' own error code, and no execution exists
    assert refused.value.response["Error"]["Code"] == "InvalidExecutionInput"
    assert not mini_engine.client("stepfunctions").list_executions(
        stateMachineArn=mini_engine.state_machine_arn, statusFilter="RUNNING")["executions"]


def test_an_input_over_256_kib_is_refused_by_start_execution(mini_engine):
    # GIVEN an input one byte over Step Functions' 256 KiB payload quota (UTF-8 bytes, not characters)
    padding = "é" * ((262_144 - len('{"run": "big", "pad": ""}')) // 2)
    document = json.dumps({"run": "big", "pad": padding + "xx"}, ensure_ascii=False)
    assert len(document.encode("utf-8")) == 262_145
    # WHEN it is started
    with pytest.raises(ClientError) as refused:
        mini_engine.start_execution(document)
    # THEN StartExecution refuses it, as the service model's length constraint says
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "262144" in refused.value.response["Error"]["Message"]


def test_a_training_request_of_the_wrong_shape_fails_as_sagemaker_refuses_it(mini_engine):
    # GIVEN a job whose hyperparameter is a number (CreateTrainingJob's model wants strings); moto's own
    # clients for service tasks skip botocore's validation, SageMaker would refuse the request
    job = {"image": LINEAR_LEARNER_IMAGE, "hyperparameters": {"predictor_type": "binary_classifier", "epochs": 5}}
    # WHEN the execution runs
    result = mini_engine.run({"run": "badshape", "jobs": [job]})
    # THEN the task fails before any job exists, in the shape Step Functions gives SageMaker's ValidationException
    failures = [event["taskFailedEventDetails"] for event in result.history if event["type"] == "TaskFailed"]
    assert failures and failures[0]["error"] == "SageMaker.AmazonSageMakerException"
    assert "Error Code: ValidationException;" in failures[0]["cause"]
    assert "HyperParameters.epochs" in failures[0]["cause"]
    assert "mini-badshape-job0" not in [record.name for record in mini_engine.training.records]
