"""The split handler on emulated S3 and SageMaker, called exactly as the state machine calls it."""

from __future__ import annotations

import copy
import inspect
import json
from datetime import datetime, timezone
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from smx_split.errors import InvalidInputError

SAMPLE_EVENT = json.loads((Path(__file__).resolve().parents[2] / "doc" / "sample_event.json").read_text())
INPUT_KEY = "path/input.jsonl"
NUM_LINES = 100


def manifest_sorted_by_class() -> bytes:
    lines = [
        json.dumps({"source-ref": f"s3://smx-in/images/img{i:03d}.jpg", "class": str(i * 2 // NUM_LINES)})
        for i in range(NUM_LINES)
    ]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def aws():
    with mock_aws():
        s3 = boto3.client("s3")
        for bucket in ("smx-in", "smx-out"):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(Bucket="smx-in", Key=INPUT_KEY, Body=manifest_sorted_by_class())
        yield s3, boto3.client("sagemaker")


@pytest.fixture
def split_handler(function_handler):
    return function_handler("SplitFunction")


def event_for(**job_config) -> dict:
    document = copy.deepcopy(SAMPLE_EVENT)
    document["job_config"].update({"input_path": f"s3://smx-in/{INPUT_KEY}", "output_prefix": "s3://smx-out/output_prefix",
                                   **job_config})
    return {
        "input": document,
        "execution_name": "test-execution",
        "deployment": {"input_bucket": "smx-in", "output_bucket": "smx-out", "default_max_concurrency": "2",
                       "output_kms_key_id": ""},
    }


def read_lines(s3, uri: str) -> list[bytes]:
    bucket, key = uri[len("s3://"):].split("/", 1)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()


def keys_under(s3, bucket: str, prefix: str = "") -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_documented_example_plans_five_stratified_training_jobs(aws, split_handler, lambda_context):
    s3, sagemaker = aws
    # GIVEN the README's example pointed at a 100-line, 2-class manifest sorted by class
    # WHEN the split step runs
    plan = split_handler(event_for(), lambda_context)
    # THEN there is one request per fold, named by the documented template
    run_id = plan["job_config"]["run_id"]
    assert run_id.startswith("crossvalidator-my-training-")
    assert [fold["TrainingJobName"] for fold in plan["folds"]] == [f"{run_id}-fold{i}" for i in range(5)]
    # AND every line is validated exactly once, in stratified folds (10 of each class per fold)
    validation_sets = []
    for fold in plan["folds"]:
        channels = {channel["ChannelName"]: channel["DataSource"]["S3DataSource"]["S3Uri"] for channel in fold["InputDataConfig"]}
        validation, train = read_lines(s3, channels["validation"]), read_lines(s3, channels["train"])
        assert len(validation) == fold["num_validation_samples"] == 20
        assert len(train) == fold["num_training_samples"] == 80
        assert not set(validation) & set(train)
        assert sorted(json.loads(line)["class"] for line in validation) == ["0"] * 10 + ["1"] * 10
        validation_sets.append(set(validation))
    assert set().union(*validation_sets) == set(manifest_sorted_by_class().splitlines())
    # AND the hyperparameter placeholders are filled per fold
    assert plan["folds"][0]["HyperParameters"] == {"num_classes": "2", "num_training_samples": "80"}
    # AND "foo", which the image-classification container would refuse in every fold, is left out and noted
    assert any("'foo'" in note and "left out" in note for note in plan["job_config"]["notes"])
    # AND the example's MaxWaitTimeInSeconds became a valid spot-training request
    assert plan["job"]["EnableManagedSpotTraining"] is True
    assert plan["job"]["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    # AND the jobs are tagged and registered in the run's trial
    assert {"Key": "project", "Value": "my_project"} in plan["folds"][1]["Tags"]
    assert {"Key": "fold", "Value": "fold1"} in plan["folds"][1]["Tags"]
    assert {"Key": "crossvalidation_job", "Value": run_id} in plan["folds"][1]["Tags"]
    assert plan["folds"][1]["ExperimentConfig"] == {
        "ExperimentName": "my-training-experiment", "TrialName": run_id, "TrialComponentDisplayName": "fold1"}
    assert sagemaker.describe_trial(TrialName=run_id)["ExperimentName"] == "my-training-experiment"
    assert plan["max_concurrency"] == 2


def test_everything_is_written_under_the_runs_own_prefix_encrypted(aws, split_handler, lambda_context):
    s3, _ = aws
    plan = split_handler(event_for(), lambda_context)
    prefix = f"output_prefix/{plan['job_config']['run_id']}/"
    assert plan["job_config"]["run_prefix"] == f"s3://smx-out/{prefix}"
    written = keys_under(s3, "smx-out")
    assert written and all(key.startswith(prefix) for key in written)
    assert f"{prefix}run.json" in written
    for key in written:
        assert s3.head_object(Bucket="smx-out", Key=key)["ServerSideEncryption"] == "AES256"
    assert plan["job"]["OutputDataConfig"] == {"S3OutputPath": f"s3://smx-out/{prefix}models/"}


def test_the_input_object_is_left_untouched(aws, split_handler, lambda_context):
    s3, _ = aws
    before = s3.head_object(Bucket="smx-in", Key=INPUT_KEY)["ETag"]
    split_handler(event_for(), lambda_context)
    assert keys_under(s3, "smx-in") == [INPUT_KEY]
    assert s3.head_object(Bucket="smx-in", Key=INPUT_KEY)["ETag"] == before


def test_two_runs_started_in_the_same_second_never_share_a_prefix(aws, split_handler, lambda_context, monkeypatch):
    s3, _ = aws
    frozen = datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc)

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return frozen

    monkeypatch.setitem(inspect.unwrap(split_handler).__globals__, "datetime", FrozenClock)
    first = split_handler(event_for(), lambda_context)
    second = split_handler(event_for(), lambda_context)
    assert first["job_config"]["run_id"] == "crossvalidator-my-training-20261122-120000"
    assert second["job_config"]["run_id"] == "crossvalidator-my-training-20261122-120001"
    assert {f["TrainingJobName"] for f in first["folds"]}.isdisjoint(f["TrainingJobName"] for f in second["folds"])
    for plan in (first, second):
        assert len(keys_under(s3, "smx-out", f"output_prefix/{plan['job_config']['run_id']}/")) == 11


def test_bad_input_fails_before_anything_is_written(aws, split_handler, lambda_context):
    s3, _ = aws
    event = event_for()
    event["input"]["crossvalidation"]["n_splits"] = 20
    event["input"]["job_config"]["name"] = "x" * 40
    with pytest.raises(InvalidInputError) as raised:
        split_handler(event, lambda_context)
    assert any(problem.startswith("job_config.name:") for problem in raised.value.problems)
    assert keys_under(s3, "smx-out") == []


def test_a_missing_dataset_is_named(aws, split_handler, lambda_context):
    s3, _ = aws
    with pytest.raises(InvalidInputError) as raised:
        split_handler(event_for(input_path="s3://smx-in/path/missing.jsonl"), lambda_context)
    assert "job_config.input_path" in str(raised.value) and "missing.jsonl" in str(raised.value)
    assert keys_under(s3, "smx-out") == []


def test_out_of_fold_predictions_get_each_folds_index_and_transform_input(aws, split_handler, lambda_context):
    # GIVEN the documented image-classification example asking for out-of-fold predictions
    s3, _ = aws
    event = event_for()
    event["input"]["crossvalidation"]["out_of_fold_predictions"] = True
    # WHEN the split step runs
    plan = split_handler(event, lambda_context)
    # THEN every fold's index names its validation lines as the dataset numbers them, in the file's order, with
    # their labels, and its transform reads a manifest of those lines' images, in the same order
    dataset = manifest_sorted_by_class().splitlines()
    seen = []
    for fold in plan["folds"]:
        transform = fold["transform"]
        index = json.loads(b"".join(read_lines(s3, transform["index"])))
        validation = read_lines(s3, fold["InputDataConfig"][1]["DataSource"]["S3DataSource"]["S3Uri"])
        assert [dataset[line] for line in index["lines"]] == validation
        assert index["labels"] == [json.loads(line)["class"] for line in validation]
        source = transform["TransformInput"]["DataSource"]["S3DataSource"]
        assert source["S3DataType"] == "ManifestFile"
        images = json.loads(b"".join(read_lines(s3, source["S3Uri"])))
        assert images == [{"prefix": "s3://smx-in/"}, *(json.loads(line)["source-ref"][len("s3://smx-in/"):]
                                                       for line in validation)]
        assert transform["TransformJobName"] == transform["ModelName"] == fold["TrainingJobName"]
        assert transform["TransformOutput"]["S3OutputPath"].startswith(plan["job_config"]["run_prefix"])
        seen += index["lines"]
    assert sorted(seen) == list(range(NUM_LINES))  # every line predicted once
    assert plan["job"]["transform"]["TransformResources"] == {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1}
    assert plan["out_of_fold"]["predictions"] == plan["job_config"]["run_prefix"] + "oof_predictions.jsonl"
