"""A run claims its id account-wide (the trial) and its prefix (run.json) before writing anything."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from smx_split.inputs import validate_input
from smx_split.reservation import reserve_run

SAMPLE_EVENT = json.loads((Path(__file__).resolve().parents[2] / "doc" / "sample_event.json").read_text())
STARTED = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)


class TrialsOfAnotherPrefix:
    """SageMaker as AWS answers it: a trial name exists once per account and region."""

    def __init__(self, existing: set[str], *, code: str = "ResourceInUse", wording: str = "already exists"):
        self.names = set(existing)
        self.code, self.wording = code, wording

    def create_trial(self, *, TrialName, ExperimentName, Tags):
        if TrialName in self.names:
            raise ClientError({"Error": {"Code": self.code, "Message": f"Trial {TrialName} {self.wording}"}},
                              "CreateTrial")
        self.names.add(TrialName)


def test_a_run_id_taken_by_a_run_under_another_prefix_moves_to_the_next_second():
    spec = validate_input(SAMPLE_EVENT)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="bucket")
        # GIVEN a run of the same name, started the same second but writing under another prefix
        sagemaker = TrialsOfAnotherPrefix({"crossvalidator-my-training-20261122-120000"})
        # WHEN this run reserves its id
        run = reserve_run(s3, sagemaker, spec, started_at=STARTED, execution_name="e", kms_key_id=None)
        # THEN it takes the next second: its jobs and trial can't be confused with the other run's
        assert run.run_id == "crossvalidator-my-training-20261122-120001"
        assert "crossvalidator-my-training-20261122-120001" in sagemaker.names
        # AND only its own run.json was written, under its own prefix
        keys = [item["Key"] for item in s3.list_objects_v2(Bucket="bucket")["Contents"]]
        assert keys == ["output_prefix/crossvalidator-my-training-20261122-120001/run.json"]


@pytest.mark.parametrize("code, wording", [
    ("ResourceInUse", "already exists"),
    ("ValidationException", "must be unique within an AWS account and region"),
])
def test_both_wordings_of_a_taken_trial_name_are_recognised(code, wording):
    spec = validate_input(SAMPLE_EVENT)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="bucket")
        sagemaker = TrialsOfAnotherPrefix({"crossvalidator-my-training-20261122-120000"}, code=code, wording=wording)
        run = reserve_run(s3, sagemaker, spec, started_at=STARTED, execution_name="e", kms_key_id=None)
        assert run.run_id == "crossvalidator-my-training-20261122-120001"


def test_a_trial_refused_for_another_reason_fails_the_split():
    spec = validate_input(SAMPLE_EVENT)
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="bucket")
        sagemaker = TrialsOfAnotherPrefix({"crossvalidator-my-training-20261122-120000"}, code="AccessDeniedException",
                                          wording="is not authorized")
        with pytest.raises(ClientError):
            reserve_run(s3, sagemaker, spec, started_at=STARTED, execution_name="e", kms_key_id=None)
        assert "Contents" not in s3.list_objects_v2(Bucket="bucket")
