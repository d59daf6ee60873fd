"""DescribeTrainingJob per fold: missing jobs become None, other errors stop the step."""

from __future__ import annotations

from datetime import datetime, timezone

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from smx_gather.describe import describe_folds

PLAN = {"folds": [{"fold_index": 0, "TrainingJobName": "crossvalidator-demo-fold0"},
                  {"fold_index": 1, "TrainingJobName": "crossvalidator-demo-fold1"}]}
WHEN = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


def described(name):
    return {"TrainingJobName": name, "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:1:training-job/{name}",
            "TrainingJobStatus": "Completed", "SecondaryStatus": "Completed", "CreationTime": WHEN,
            "ModelArtifacts": {"S3ModelArtifacts": "s3://b/m.tar.gz"}, "AlgorithmSpecification": {"TrainingInputMode": "File"},
            "ResourceConfig": {"VolumeSizeInGB": 10}, "StoppingCondition": {},
            "FinalMetricDataList": [{"MetricName": "validation:accuracy", "Value": 0.9, "Timestamp": WHEN}]}


def stubbed():
    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_given_one_job_exists_and_one_never_did_when_described_then_the_missing_one_is_none_and_dates_are_iso():
    client, stub = stubbed()
    stub.add_response("describe_training_job", described("crossvalidator-demo-fold0"),
                      {"TrainingJobName": "crossvalidator-demo-fold0"})
    stub.add_client_error("describe_training_job", "ValidationException", "Requested resource not found.")

    with stub:
        descriptions = describe_folds(client, PLAN)

    fold0, fold1 = "crossvalidator-demo-fold0", "crossvalidator-demo-fold1"
    assert descriptions[fold1] is None
    assert "ResponseMetadata" not in descriptions[fold0]
    assert descriptions[fold0]["CreationTime"] == "2026-11-22T12:00:00+00:00"
    assert descriptions[fold0]["FinalMetricDataList"][0]["Timestamp"] == "2026-11-22T12:00:00+00:00"


def test_given_describe_is_not_permitted_when_described_then_the_step_fails_instead_of_reporting_failed_folds():
    client, stub = stubbed()
    stub.add_client_error("describe_training_job", "AccessDeniedException", "not authorized to DescribeTrainingJob")

    with stub, pytest.raises(ClientError, match="AccessDenied"):
        describe_folds(client, PLAN)
