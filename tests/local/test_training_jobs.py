"""The emulated SageMaker training API: jobs run on local trainers and read back through
DescribeTrainingJob as SageMaker shows them (no state machine involved)."""

from __future__ import annotations

import io
import tarfile

import joblib
import numpy as np
import pytest
from botocore.exceptions import ClientError

from .conftest import LINEAR_LEARNER_IMAGE, TEST_SCRIPT, list_keys, wait_for_job

DATA = "s3://mini-data/api/"
ROLE = "arn:aws:iam::123456789012:role/training"


@pytest.fixture(scope="module")
def data(mini_engine):
    """A small separable binary problem, label first, no header, in train/ and validation/."""
    rng = np.random.default_rng(0)
    s3 = mini_engine.client("s3")
    for channel, rows in (("train", 120), ("validation", 40)):
        labels = rng.integers(0, 2, rows)
        features = rng.normal(size=(rows, 3)) + labels[:, None] * 2.0
        body = "\n".join(",".join([str(label), *(f"{value:.4f}" for value in row)]) for label, row in zip(labels, features))
        s3.put_object(Bucket="mini-data", Key=f"api/{channel}/{channel}.csv", Body=body.encode())
    return DATA


def request(name: str, *, image: str = LINEAR_LEARNER_IMAGE, hyperparameters: dict | None = None,
            content_type: str | None = "text/csv", **overrides) -> dict:
    channels = []
    for channel in ("train", "validation"):
        config = {"ChannelName": channel, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": DATA + channel + "/"}}}
        if content_type:
            config["ContentType"] = content_type
        channels.append(config)
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        "HyperParameters": {"predictor_type": "binary_classifier", "epochs": "5"} if hyperparameters is None else hyperparameters,
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": "s3://mini-data/api-models/"},
        "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
        **overrides,
    }


def test_a_built_in_job_trains_a_real_model_and_reports_the_algorithms_metrics(mini_engine, data):
    # GIVEN a linear-learner request on label-first CSV channels
    sagemaker = mini_engine.client("sagemaker")
    # WHEN it is created
    sagemaker.create_training_job(**request("api-ll"))
    # THEN it starts InProgress, without results yet
    started = sagemaker.describe_training_job(TrainingJobName="api-ll")
    assert started["TrainingJobStatus"] in {"InProgress", "Completed"}
    # AND ends Completed with the algorithm's metric names, times and a real model on S3
    job = wait_for_job(mini_engine, "api-ll", {"Completed", "Failed"})
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    metrics = {metric["MetricName"]: metric["Value"] for metric in job["FinalMetricDataList"]}
    assert {"train:objective_loss", "validation:objective_loss", "validation:binary_classification_accuracy",
            "validation:binary_f_beta", "validation:precision", "validation:recall"} <= set(metrics)
    assert metrics["validation:binary_classification_accuracy"] > 0.8
    assert job["TrainingEndTime"] >= job["TrainingStartTime"] >= job["CreationTime"]
    assert job["BillableTimeInSeconds"] == job["TrainingTimeInSeconds"] >= 1
    assert [t["Status"] for t in job["SecondaryStatusTransitions"]] == [
        "Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert job["ModelArtifacts"]["S3ModelArtifacts"] == "s3://mini-data/api-models/api-ll/output/model.tar.gz"
    archive = mini_engine.client("s3").get_object(Bucket="mini-data", Key="api-models/api-ll/output/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        model = joblib.load(tar.extractfile("model.joblib"))
    assert model["model"].predict(model["scaler"].transform(np.array([[2.0, 2.0, 2.0]]))).tolist() == [1]


def test_a_job_name_is_refused_the_second_time(mini_engine, data):
    sagemaker = mini_engine.client("sagemaker")
    sagemaker.create_training_job(**request("api-twice"))
    with pytest.raises(ClientError) as refused:
        sagemaker.create_training_job(**request("api-twice"))
    assert refused.value.response["Error"]["Code"] == "ResourceInUse"


def test_unknown_hyperparameters_fail_the_job_as_the_algorithm_does(mini_engine, data):
    mini_engine.client("sagemaker").create_training_job(
        **request("api-unknown-hp", hyperparameters={"predictor_type": "binary_classifier", "foo": "bar"}))
    job = wait_for_job(mini_engine, "api-unknown-hp", {"Completed", "Failed"})
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: Additional hyperparameters are not allowed ('foo' was unexpected)")
    assert "ModelArtifacts" not in job


@pytest.mark.parametrize("name, image, hyperparameters, reason", [
    # an image of the user's own account is not AWS's linear-learner, whatever its repository is called
    ("api-own-ll", "123456789012.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1", None,
     "ClientError: The local engine cannot run the image '123456789012.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1'"),
    ("api-xgb-script", "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
     {"sagemaker_program": "train.py"}, "ClientError: The local engine does not emulate script mode (sagemaker_program)"),
])
def test_an_image_the_engine_cannot_play_fails_the_job_saying_so(mini_engine, data, name, image, hyperparameters,
                                                                 reason):
    mini_engine.client("sagemaker").create_training_job(**request(name, image=image, hyperparameters=hyperparameters))
    job = wait_for_job(mini_engine, name, {"Completed", "Failed"})
    assert job["TrainingJobStatus"] == "Failed" and job["FailureReason"].startswith(reason)


def test_csv_without_a_content_type_fails_like_the_protobuf_default(mini_engine, data):
    mini_engine.client("sagemaker").create_training_job(**request("api-no-content-type", content_type=None))
    job = wait_for_job(mini_engine, "api-no-content-type", {"Completed", "Failed"})
    assert job["TrainingJobStatus"] == "Failed"
    assert "application/x-recordio-protobuf" in job["FailureReason"]


def test_a_custom_script_gets_the_training_contract_and_its_metrics_are_parsed(mini_engine, data):
    # GIVEN a local script image, MetricDefinitions and a job Environment
    spec = request("api-custom", image=f"local:{TEST_SCRIPT}", hyperparameters={"seconds": "0"},
                   Environment={"FAIL_JOB_SUFFIX": "never"})
    spec["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "train:lines", "Regex": r"train_lines: (\d+)"}, {"Name": "validation:score", "Regex": r"score: ([0-9.]+)"}]
    # WHEN it runs
    mini_engine.client("sagemaker").create_training_job(**spec)
    job = wait_for_job(mini_engine, "api-custom", {"Completed", "Failed"})
    # THEN the script saw its channels and hyperparameters, and its printed metrics are final metrics
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert {m["MetricName"]: m["Value"] for m in job["FinalMetricDataList"]} == {"train:lines": 120.0, "validation:score": 0.5}
    assert job["Environment"] == {"FAIL_JOB_SUFFIX": "never"}
    assert job["AlgorithmSpecification"]["MetricDefinitions"] == spec["AlgorithmSpecification"]["MetricDefinitions"]
    assert "api-models/api-custom/output/model.tar.gz" in list_keys(mini_engine, "s3://mini-data/api-models/api-custom/")


def test_a_custom_scripts_failure_file_is_the_failure_reason(mini_engine, data):
    mini_engine.client("sagemaker").create_training_job(
        **request("api-custom-fails", image=f"local:{TEST_SCRIPT}", hyperparameters={"fail_suffix": "fails"}))
    job = wait_for_job(mini_engine, "api-custom-fails", {"Completed", "Failed"})
    assert job["TrainingJobStatus"] == "Failed"
    assert job["FailureReason"] == "AlgorithmError: injected failure for api-custom-fails"


def test_max_runtime_stops_the_job(mini_engine, data):
    mini_engine.client("sagemaker").create_training_job(
        **request("api-too-long", image=f"local:{TEST_SCRIPT}", hyperparameters={"seconds": "30"},
                  StoppingCondition={"MaxRuntimeInSeconds": 1}))
    job = wait_for_job(mini_engine, "api-too-long", {"Completed", "Failed", "Stopped"}, timeout=10)
    assert (job["TrainingJobStatus"], job["SecondaryStatus"]) == ("Stopped", "MaxRuntimeExceeded")
    assert job["SecondaryStatusTransitions"][-1]["StatusMessage"] == "Training job runtime exceeded MaxRuntimeInSeconds provided"


def test_stop_training_job_stops_a_running_job_once(mini_engine, data):
    sagemaker = mini_engine.client("sagemaker")
    sagemaker.create_training_job(**request("api-stopped", image=f"local:{TEST_SCRIPT}", hyperparameters={"seconds": "30"}))
    wait_for_job(mini_engine, "api-stopped", {"InProgress"})
    sagemaker.stop_training_job(TrainingJobName="api-stopped")
    job = wait_for_job(mini_engine, "api-stopped", {"Stopped"}, timeout=10)
    assert job["SecondaryStatus"] == "Stopped"
    with pytest.raises(ClientError) as again:
        sagemaker.stop_training_job(TrainingJobName="api-stopped")
    assert again.value.response["Error"]["Code"] == "ValidationException"


def test_managed_spot_training_needs_max_wait_time(mini_engine, data):
    with pytest.raises(ClientError) as refused:
        mini_engine.client("sagemaker").create_training_job(**request("api-spot", EnableManagedSpotTraining=True))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert "MaxWaitTimeInSeconds" in refused.value.response["Error"]["Message"]


def test_injected_throttling_refuses_the_request_before_the_job_exists(mini_engine, data):
    # GIVEN one throttled CreateTrainingJob
    mini_engine.training.inject_create_error("ThrottlingException", "Rate exceeded", times=1,
                                             job_names=lambda name: name == "api-throttled")
    sagemaker = mini_engine.client("sagemaker")
    # WHEN it is called twice with the same name
    with pytest.raises(ClientError) as throttled:
        sagemaker.create_training_job(**request("api-throttled"))
    sagemaker.create_training_job(**request("api-throttled"))
    # THEN the first was refused with the code, and only the retry created a job
    assert throttled.value.response["Error"]["Code"] == "ThrottlingException"
    assert wait_for_job(mini_engine, "api-throttled", {"Completed", "Failed"})["TrainingJobStatus"] == "Completed"


def test_a_job_of_a_trial_is_recorded_as_its_trial_component(mini_engine, data):
    sagemaker = mini_engine.client("sagemaker")
    sagemaker.create_experiment(ExperimentName="api-experiment")
    sagemaker.create_trial(TrialName="api-trial", ExperimentName="api-experiment")
    sagemaker.create_training_job(**request("api-in-trial", ExperimentConfig={
        "ExperimentName": "api-experiment", "TrialName": "api-trial", "TrialComponentDisplayName": "fold0"}))
    component = sagemaker.describe_trial_component(TrialComponentName="api-in-trial-aws-training-job")
    assert component["DisplayName"] == "fold0"
    wait_for_job(mini_engine, "api-in-trial", {"Completed", "Failed"})
