"""The gather handler on moto S3 and SageMaker: what a user finds after GatherResults ran."""

from __future__ import annotations

import csv
import io
import json

import boto3
import numpy as np
import pytest
from moto import mock_aws

from gather_fixtures import (
    OUTPUT_BUCKET, REGION, RUN_ID, create_experiment_and_trial, create_training_job, fold_result,
    lambda_context, make_plan,
)

SUMMARY_PREFIX = f"cv/{RUN_ID}/"
ACCURACY = [0.91, 0.93, 0.95]


@pytest.fixture
def aws(monkeypatch):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_SESSION_TOKEN": "testing", "AWS_DEFAULT_REGION": REGION}.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=OUTPUT_BUCKET)
        yield boto3.client("sagemaker", region_name=REGION), s3


@pytest.fixture
def app(aws, function_handler):
    """The gather handler the template names, loaded as Lambda loads it."""
    return function_handler("GatherFunction")


def run_gather(app, plan, fold_results, deployment=None):
    """The gather as GatherResults invokes it: the plan, the Map's fold results and the deployment's settings."""
    deployment = {"input_bucket": "", "output_bucket": OUTPUT_BUCKET, "default_max_concurrency": "2",
                  "output_kms_key_id": "", **(deployment or {})}
    output = app({"plan": plan, "fold_results": fold_results, "deployment": deployment}, lambda_context())
    json.dumps(output)  # Step Functions receives it as JSON: it must serialise as is
    return output


def read_object(s3, key):
    return s3.get_object(Bucket=OUTPUT_BUCKET, Key=SUMMARY_PREFIX + key)


def test_given_three_completed_folds_when_gathered_then_metrics_are_cross_validated_and_recorded(aws, app):
    sagemaker, s3 = aws
    plan = make_plan()
    create_experiment_and_trial(sagemaker, plan)
    for i, accuracy in enumerate(ACCURACY):
        create_training_job(sagemaker, plan, i, metrics={"validation:accuracy": accuracy}, seconds=100 + i)

    output = run_gather(app, plan, [fold_result(plan, i) for i in range(3)])

    assert list(output) == ["job_config", "crossvalidation", "training", "splits", "summary"]
    assert output["job_config"] == plan["job_config"]
    assert [s["fold_index"] for s in output["splits"]] == [0, 1, 2]
    assert output["splits"][1]["TrainingJobName"] == f"{RUN_ID}-fold1"
    assert isinstance(output["splits"][1]["CreationTime"], str)  # ISO-8601, not a datetime
    summary = output["summary"]
    accuracy = summary["metrics"]["validation:accuracy"]
    assert accuracy["values"] == ACCURACY
    assert accuracy["mean"] == pytest.approx(np.mean(ACCURACY))
    assert accuracy["std"] == pytest.approx(np.std(ACCURACY))
    assert (accuracy["min"], accuracy["max"], accuracy["count"]) == (0.91, 0.95, 3)
    assert summary["completed_folds"] == [0, 1, 2]
    assert summary["failed_fold_count"] == 0 and summary["failure_message"] == ""
    assert summary["training_seconds_total"] == summary["billable_seconds_total"] == 303
    assert summary["summary_json"] == f"s3://{OUTPUT_BUCKET}/{SUMMARY_PREFIX}summary.json"
    assert "experiments_error" not in summary

    stored = read_object(s3, "summary.json")
    assert stored["ServerSideEncryption"] == "AES256"
    assert json.loads(stored["Body"].read())["summary"]["metrics"] == summary["metrics"]
    assert read_object(s3, "summary.csv")["ServerSideEncryption"] == "AES256"

    component = sagemaker.describe_trial_component(TrialComponentName=f"{RUN_ID}-summary")
    assert component["Parameters"]["validation:accuracy:mean"]["NumberValue"] == pytest.approx(0.93)
    assert component["Parameters"]["n_splits"]["NumberValue"] == 3
    assert component["Status"]["PrimaryStatus"] == "Completed"
    assert component["OutputArtifacts"]["summary_csv"]["Value"] == summary["summary_csv"]
    in_trial = sagemaker.list_trial_components(TrialName=RUN_ID)["TrialComponentSummaries"]
    assert f"{RUN_ID}-summary" in [c["TrialComponentName"] for c in in_trial]


def test_given_a_failed_job_and_a_rejected_job_when_gathered_then_both_are_reported_and_the_rest_summarised(aws, app):
    sagemaker, s3 = aws
    plan = make_plan()
    create_experiment_and_trial(sagemaker, plan)
    create_training_job(sagemaker, plan, 0, metrics={"validation:accuracy": 0.9, "validation:loss": 0.3}, seconds=120)
    create_training_job(sagemaker, plan, 1, status="Failed", metrics={"validation:accuracy": 0.1}, seconds=30,
                        failure_reason="AlgorithmError: label column has 3 classes, expected 2")
    # fold 2: CreateTrainingJob was rejected, so there is no job at all
    fold_results = [
        fold_result(plan, 0),
        fold_result(plan, 1, "Failed", error="States.TaskFailed", cause='{"TrainingJobStatus": "Failed"}'),
        fold_result(plan, 2, "Failed", error="SageMaker.ValidationException",
                    cause="Instance type ml.p9.huge is not supported (Service: AmazonSageMaker; Status Code: 400)"),
    ]

    output = run_gather(app, plan, fold_results)

    summary = output["summary"]
    assert summary["completed_folds"] == [0]
    assert summary["failed_fold_count"] == 2  # CheckFolds fails the execution on this
    assert summary["failed_folds"] == [
        {"fold_index": 1, "TrainingJobName": f"{RUN_ID}-fold1", "TrainingJobStatus": "Failed",
         "FailureReason": "AlgorithmError: label column has 3 classes, expected 2"},
        {"fold_index": 2, "TrainingJobName": f"{RUN_ID}-fold2", "TrainingJobStatus": "NotCreated",
         "FailureReason": "SageMaker.ValidationException: Instance type ml.p9.huge is not supported "
                          "(Service: AmazonSageMaker; Status Code: 400)"},
    ]
    assert summary["failure_message"].startswith(
        f"2 of 3 folds failed: fold1 ({RUN_ID}-fold1): AlgorithmError: label column has 3 classes")
    assert f"; fold2 ({RUN_ID}-fold2): SageMaker.ValidationException: Instance type" in summary["failure_message"]
    # the failed fold's partial metric does not count
    assert summary["metrics"]["validation:accuracy"]["values"] == [0.9]
    assert summary["training_seconds_total"] == 150
    assert output["splits"][2] == {"fold_index": 2, "TrainingJobName": f"{RUN_ID}-fold2",
                                   "TrainingJobStatus": "NotCreated",
                                   "FailureReason": summary["failed_folds"][1]["FailureReason"]}

    rows = list(csv.DictReader(io.StringIO(read_object(s3, "summary.csv")["Body"].read().decode())))
    assert [(r["fold_index"], r["TrainingJobStatus"]) for r in rows] == [("0", "Completed"), ("1", "Failed"), ("2", "NotCreated")]
    assert rows[1]["FailureReason"].startswith("AlgorithmError")
    assert rows[1]["validation:accuracy"] == ""  # the failed job's 0.1 is not a cross-validation score
    assert rows[0]["validation:loss"] == "0.3" and rows[2]["validation:loss"] == ""

    component = sagemaker.describe_trial_component(TrialComponentName=f"{RUN_ID}-summary")
    assert component["Status"]["PrimaryStatus"] == "Failed"
    assert component["Status"]["Message"].startswith("2 of 3 folds failed")


def test_given_an_output_kms_key_when_gathered_then_summaries_are_encrypted_with_it(aws, app):
    # GIVEN a deployment with OutputKmsKeyId, handed to the gather as to the split (the deployment block)
    sagemaker, s3 = aws
    key_arn = boto3.client("kms", region_name=REGION).create_key()["KeyMetadata"]["Arn"]
    plan = make_plan(kms_key_id=key_arn)
    create_experiment_and_trial(sagemaker, plan)
    for i in range(3):
        create_training_job(sagemaker, plan, i, metrics={"validation:accuracy": ACCURACY[i]})

    run_gather(app, plan, [fold_result(plan, i) for i in range(3)], deployment={"output_kms_key_id": key_arn})

    for name in ("summary.json", "summary.csv"):
        stored = read_object(s3, name)
        assert (stored["ServerSideEncryption"], stored["SSEKMSKeyId"]) == ("aws:kms", key_arn)


def test_given_experiments_rejects_the_record_when_gathered_then_s3_summaries_survive_and_the_error_is_reported(aws, app):
    sagemaker, s3 = aws
    plan = make_plan()
    # no experiment or trial: AssociateTrialComponent fails
    for i in range(3):
        create_training_job(sagemaker, plan, i, metrics={"validation:accuracy": ACCURACY[i]})

    output = run_gather(app, plan, [fold_result(plan, i) for i in range(3)])

    assert "ResourceNotFound" in output["summary"]["experiments_error"]
    assert output["summary"]["failed_fold_count"] == 0  # the run itself still succeeds
    assert json.loads(read_object(s3, "summary.json")["Body"].read())["summary"]["completed_folds"] == [0, 1, 2]


def test_given_twenty_folds_with_bulky_descriptions_when_gathered_then_output_fits_and_s3_keeps_everything(aws, app):
    sagemaker, s3 = aws
    # 60 hyperparameters of 250 characters: about 15 KB per fold before its other fields
    bulky = {f"custom_setting_{i:02d}": "x" * 250 for i in range(60)}
    plan = make_plan(20, num_samples=2000, hyperparameters=bulky)
    create_experiment_and_trial(sagemaker, plan)
    for i in range(20):
        create_training_job(sagemaker, plan, i, metrics={"validation:accuracy": 0.8 + i / 100})

    output = run_gather(app, plan, [fold_result(plan, i) for i in range(20)])

    assert len(json.dumps(output).encode()) <= 240 * 1024
    assert "HyperParameters" in output["summary"]["trimmed_fields"]
    assert all("HyperParameters" not in split for split in output["splits"])
    assert output["summary"]["metrics"]["validation:accuracy"]["count"] == 20
    stored = json.loads(read_object(s3, "summary.json")["Body"].read())
    assert stored["splits"][19]["HyperParameters"]["custom_setting_59"] == "x" * 250
    assert stored["summary"]["trimmed_fields"] == []
