"""Data at rest: every object a run writes (run.json, every fold's files, the models, the summaries)
is encrypted on S3: with the KMS key the deployer passes as OutputKmsKeyId (SSE-KMS, and the
training jobs' OutputDataConfig.KmsKeyId), else S3-managed keys (SSE-S3) for what the functions
write and SageMaker's default KMS key for S3 for the models.

moto does not apply S3's default bucket encryption, so an object written without encryption
arguments shows no ServerSideEncryption here: these tests see exactly what the app asks for."""

from __future__ import annotations

import json

import moto.s3.models
import pytest
import smx_split.s3_folds

from .conftest import KMS_KEY_ARN, deployed, function_logs, objects_under, run_input


def _encryption(engine, bucket: str, key: str) -> tuple[str | None, str | None]:
    head = engine.client("s3").head_object(Bucket=bucket, Key=key)
    return head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")


def _run_and_list(engine, output_prefix: str, name: str) -> tuple[dict, list[str]]:
    result = engine.run(run_input(output_prefix, name=name))
    assert result.status == "SUCCEEDED", result.cause
    keys = objects_under(engine, output_prefix + "/")
    # Everything the run wrote is under its run prefix: fold files, models, summaries and run.json.
    run_key = result.output["job_config"]["run_prefix"].split("/", 3)[3]
    assert keys and all(key.startswith(run_key) for key in keys)
    assert {run_key + "run.json", run_key + "summary.json", run_key + "summary.csv"} <= set(keys)
    assert sum(key.endswith("model.tar.gz") for key in keys) == 3
    assert sum("/fold" in key and key.endswith(".csv") for key in keys) == 6
    return result.output, keys


@pytest.fixture
def training_files_composed_on_s3(monkeypatch):
    """Small folds still take the large-data path: training files composed from the validation
    files with multipart UploadPartCopy (S3's 5 MiB part minimum lowered on both sides)."""
    monkeypatch.setattr(smx_split.s3_folds, "MIN_PART_BYTES", 1)
    monkeypatch.setattr(moto.s3.models, "S3_UPLOAD_PART_MIN_SIZE", 1)


def test_with_a_kms_key_every_object_of_a_run_is_encrypted_with_that_key(output_prefix, training_files_composed_on_s3):
    # GIVEN a deployment with OutputKmsKeyId, and training files composed on S3 (the multipart path)
    with deployed(OutputKmsKeyId=KMS_KEY_ARN) as engine:
        # WHEN a run executes
        output, keys = _run_and_list(engine, output_prefix, "sec-kms")
        assert any('"composed_server_side":true' in line.replace(" ", "") for line in function_logs(engine))
        # THEN every object it wrote is SSE-KMS with the deployer's key
        bucket = output_prefix.split("/")[2]
        assert {key: _encryption(engine, bucket, key) for key in keys} == {key: ("aws:kms", KMS_KEY_ARN) for key in keys}
        # AND every training job was told to encrypt its model with that key
        for split in output["splits"]:
            job = engine.client("sagemaker").describe_training_job(TrainingJobName=split["TrainingJobName"])
            assert job["OutputDataConfig"]["KmsKeyId"] == KMS_KEY_ARN


def test_without_a_kms_key_every_object_of_a_run_is_still_encrypted(output_prefix):
    # GIVEN a deployment without OutputKmsKeyId
    with deployed() as engine:
        # WHEN a run executes
        output, keys = _run_and_list(engine, output_prefix, "sec-sse-s3")
        bucket = output_prefix.split("/")[2]
        encryption = {key: _encryption(engine, bucket, key)[0] for key in keys}
        # THEN what the functions wrote is SSE-S3, and the models SageMaker wrote are SSE-KMS (aws/s3)
        assert {key: algorithm for key, algorithm in encryption.items() if not key.endswith("model.tar.gz")} == {
            key: "AES256" for key in keys if not key.endswith("model.tar.gz")}
        assert {algorithm for key, algorithm in encryption.items() if key.endswith("model.tar.gz")} == {"aws:kms"}
        # AND no training job names a key of its own
        for split in output["splits"]:
            job = engine.client("sagemaker").describe_training_job(TrainingJobName=split["TrainingJobName"])
            assert "KmsKeyId" not in job["OutputDataConfig"]
        assert json.dumps(output).count(KMS_KEY_ARN) == 0
