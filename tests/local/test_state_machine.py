"""The deployed artifacts executed offline: template.yaml's wiring, the real ASL, the real split
and gather handlers, and SageMaker training jobs played by local trainers."""

from __future__ import annotations

import json
import re

import pytest

from smx_validator.local.progress import _iteration

from .conftest import INPUT_BUCKET, describe_jobs, list_keys

CONFIGURABLE_SCRIPT_IMAGE = "local:tests/local/scripts/configurable_train.py"
JOB_NAME = re.compile(r"^crossvalidator-my-training-\d{8}-\d{6}-fold(\d)$")


def seed_input(output_prefix: str) -> dict:
    """The original application's README sample input, on the bundled digits; only the hyperparameters differ:
    small images and few epochs keep it fast ("foo" is the test after this one)."""
    return {
        "job_config": {
            "output_prefix": output_prefix,
            "input_path": f"s3://{INPUT_BUCKET}/digits/manifest.jsonl",
            "name": "my_training",
            "experiment": "my_training_experiment",
            "tags": [{"Key": "project", "Value": "my_project"}],
        },
        "crossvalidation": {"n_splits": 5, "random_state": 42},
        "training": {
            "hyperparameters_template": {
                "num_classes": "${num_classes}",
                "num_training_samples": "${num_training_samples}",
                "image_shape": "1,16,16",
                "epochs": "5",
                "optimizer": "adam",
                "learning_rate": "0.01",
            },
            "algorithm_specification": {
                "TrainingImage": "685385470294.dkr.ecr.eu-west-1.amazonaws.com/image-classification:1",
                "TrainingInputMode": "Pipe",
            },
            "stopping_condition": {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
            "resource_config": {"InstanceCount": 1, "InstanceType": "ml.p3.2xlarge", "VolumeSizeInGB": 10},
        },
    }


def custom_script_input(example, *, seconds: float = 0.0, environment: dict | None = None, **crossvalidation) -> dict:
    """The iris data trained by tests/local/scripts/configurable_train.py (a plain-Python custom container)."""
    document = example("knn")
    document["training"] = {
        "hyperparameters_template": {"seconds": str(seconds)},
        "algorithm_specification": {"TrainingImage": CONFIGURABLE_SCRIPT_IMAGE, "TrainingInputMode": "File",
                                    "MetricDefinitions": [{"Name": "validation:score", "Regex": r"score: ([0-9.]+)"}]},
        "resource_config": {"InstanceType": "ml.m5.large"},
        "environment": environment or {},
    }
    document["crossvalidation"].update(crossvalidation)
    return document


def peak_training_overlap(descriptions: list[dict]) -> int:
    events = sorted([(d["TrainingStartTime"], 1) for d in descriptions] + [(d["TrainingEndTime"], -1) for d in descriptions],
                    key=lambda event: (event[0], event[1]))
    running = peak = 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    return peak


def test_the_seed_example_runs_end_to_end(app_engine, example):
    # GIVEN the original application's sample input shape: an image-classification augmented manifest, 5 folds,
    # ${num_classes}/${num_training_samples} templating, spot training, tags and an experiment
    output_prefix = example("image-classification")["job_config"]["output_prefix"]
    # WHEN one execution of the deployed state machine runs it
    result = app_engine.run(seed_input(output_prefix))
    # THEN it succeeds with the original application's output shape plus the cross-validated summary
    assert result.status == "SUCCEEDED", result.cause
    output = result.output
    assert {"job_config", "crossvalidation", "training", "splits", "summary"} <= set(output)
    splits = output["splits"]
    assert [split["fold_index"] for split in splits] == [0, 1, 2, 3, 4]
    assert [JOB_NAME.match(split["TrainingJobName"]).group(1) for split in splits] == ["0", "1", "2", "3", "4"]
    assert {split["TrainingJobStatus"] for split in splits} == {"Completed"}
    accuracy = output["summary"]["metrics"]["validation:accuracy"]
    assert accuracy["count"] == 5 and 0.5 < accuracy["mean"] <= 1.0
    # AND each fold's job was created as planned: templated hyperparameters, spot, tags, its trial
    job = describe_jobs(app_engine, [splits[0]["TrainingJobName"]])[0]
    assert job["HyperParameters"]["num_classes"] == "10"
    assert int(job["HyperParameters"]["num_training_samples"]) == 160  # 4 of 5 folds of 200 images
    assert job["EnableManagedSpotTraining"] is True
    tags = app_engine.client("sagemaker").list_tags(ResourceArn=job["TrainingJobArn"])["Tags"]
    assert {"Key": "project", "Value": "my_project"} in tags
    assert job["ExperimentConfig"]["TrialName"] == output["job_config"]["trial_name"]
    # AND the run wrote its folds, models and summaries under its own prefix
    keys = list_keys(app_engine, output["job_config"]["run_prefix"])
    run_key = output["job_config"]["run_prefix"].split("/", 3)[3]
    assert {run_key + "summary.json", run_key + "summary.csv", run_key + "run.json"} <= set(keys)
    assert sum(key.endswith("/output/model.tar.gz") for key in keys) == 5


def test_the_seeds_extra_hyperparameter_is_left_out_so_every_fold_trains(app_engine, example):
    # GIVEN the original application's hyperparameters verbatim, including "foo": "bar", which the built-in
    # image-classification container refuses ("Additional hyperparameters are not allowed")
    document = seed_input(example("image-classification")["job_config"]["output_prefix"])
    document["training"]["hyperparameters_template"]["foo"] = "bar"
    # WHEN it runs
    result = app_engine.run(document)
    # THEN every fold trains without it, and the output says why it was left out
    assert result.status == "SUCCEEDED", result.cause
    jobs = describe_jobs(app_engine, [split["TrainingJobName"] for split in result.output["splits"]])
    assert all("foo" not in job["HyperParameters"] for job in jobs)
    assert any("'foo'" in note and "left out" in note for note in result.output["job_config"]["notes"])


@pytest.mark.parametrize("family, metric", [
    ("linear-learner", "validation:binary_classification_accuracy"),
    ("knn", "test:accuracy"),
    ("xgboost", "validation:auc"),
    ("image-classification", "validation:accuracy"),
    ("blazingtext-file", "validation:accuracy"),
    ("blazingtext-augmented-manifest", "validation:accuracy"),
    ("custom", "validation:accuracy"),
])
def test_every_algorithm_familys_example_cross_validates(app_engine, example, family, metric):
    # GIVEN the family's example from doc/examples on its bundled dataset
    # WHEN it runs
    result = app_engine.run(example(family))
    # THEN every fold completes and reports the algorithm's own metric name, with a sane mean
    assert result.status == "SUCCEEDED", result.cause
    statistics = result.output["summary"]["metrics"][metric]
    assert statistics["count"] == 5
    assert 0.7 < statistics["mean"] <= 1.0, statistics


def test_a_failing_fold_lets_the_others_finish_and_fails_the_execution_naming_it(app_engine, example):
    # GIVEN a custom container that fails only in fold 2 (told through the job Environment)
    document = custom_script_input(example, environment={"FAIL_JOB_SUFFIX": "-fold2"})
    # WHEN it runs
    result = app_engine.run(document)
    # THEN the execution fails naming fold 2 and its FailureReason
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    assert result.cause.startswith("1 of 5 folds failed: fold2 (")
    assert "AlgorithmError: injected failure for" in result.cause
    # AND the other folds completed and the gather step summarised them
    gathered = next(json.loads(event["lambdaFunctionSucceededEventDetails"]["output"])
                    for event in result.history if event["type"] == "LambdaFunctionSucceeded"
                    and "summary" in event["lambdaFunctionSucceededEventDetails"]["output"])
    assert gathered["summary"]["completed_folds"] == [0, 1, 3, 4]
    assert gathered["summary"]["metrics"]["validation:score"]["count"] == 4
    assert gathered["summary"]["summary_json"].split("/", 3)[3] in list_keys(app_engine, gathered["summary"]["summary_json"])


def test_bad_input_fails_in_the_split_step_and_writes_nothing(app_engine, example):
    # GIVEN an input with one split only (the schema asks for at least 2)
    document = example("linear-learner")
    document["crossvalidation"]["n_splits"] = 1
    # WHEN it runs
    result = app_engine.run(document)
    # THEN the split Lambda's error fails the execution, naming the field
    assert (result.status, result.error) == ("FAILED", "InvalidInputError")
    assert "crossvalidation.n_splits" in json.loads(result.cause)["errorMessage"]
    # AND nothing was written under the output prefix
    assert list_keys(app_engine, document["job_config"]["output_prefix"]) == []


def test_throttled_creates_are_retried_without_job_name_collisions(app_engine, example):
    # GIVEN SageMaker throttling fold 1's CreateTrainingJob twice
    app_engine.training.inject_create_error("ThrottlingException", "Rate exceeded", times=2,
                                            job_names=lambda name: name.endswith("-fold1") and "breast-cancer-ll" in name)
    # WHEN the linear-learner example runs
    result = app_engine.run(example("linear-learner"))
    # THEN the backoff loop absorbed both refusals (named as Step Functions names SageMaker's throttling)
    # and reused the documented job name without a collision
    assert result.status == "SUCCEEDED", result.cause
    errors = [event["taskFailedEventDetails"]["error"] for event in result.history if event["type"] == "TaskFailed"]
    assert errors == ["SageMaker.AmazonSageMakerException"] * 2
    names = [split["TrainingJobName"] for split in result.output["splits"]]
    assert len(set(names)) == 5 and {split["TrainingJobStatus"] for split in result.output["splits"]} == {"Completed"}


@pytest.mark.parametrize("override, expected", [(None, 2), (3, 3)])
def test_folds_train_with_the_configured_concurrency(app_engine, example, override, expected):
    # GIVEN 5 folds whose jobs each train for 0.6 s, with the default (2) or a per-run concurrency
    extra = {"max_concurrency": override} if override else {}
    document = custom_script_input(example, seconds=0.6, **extra)
    # WHEN it runs
    result = app_engine.run(document)
    # THEN at most, and at some point exactly, that many jobs were training at once
    assert result.status == "SUCCEEDED", result.cause
    assert result.output["job_config"] and peak_training_overlap(result.output["splits"]) == expected


def test_no_lambda_runs_per_fold(app_engine, example):
    # WHEN a 5-fold execution runs
    result = app_engine.run(example("knn"))
    assert result.status == "SUCCEEDED", result.cause
    # THEN its history has exactly two Lambda invocations (split, gather; the track step runs only when asked),
    # none inside the Map,
    # and one SageMaker task per fold
    by_id = {event["id"]: event for event in result.history}
    cache: dict = {}
    lambdas = [event for event in result.history if event["type"] == "LambdaFunctionScheduled"]
    assert len(lambdas) == 2
    assert all(_iteration(event, by_id, cache) is None for event in lambdas)
    trainings = [event for event in result.history if event["type"] == "TaskScheduled"]
    assert len(trainings) == 5 and {_iteration(event, by_id, cache) for event in trainings} == {0, 1, 2, 3, 4}


def test_the_state_machine_role_is_deployed_with_the_sam_policy_templates_expanded(app_engine):
    # GIVEN the template's LambdaInvokePolicy entries (SAM policy templates, which SAR supports)
    iam = app_engine.client("iam")
    role = f"{app_engine.stack_name}-CrossValidatorStateMachineRole"
    documents = [iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
                 for name in iam.list_role_policies(RoleName=role)["PolicyNames"]]
    # THEN the emulated role grants lambda:InvokeFunction on exactly the split, gather and track functions
    invokes = sorted(statement["Resource"] for document in documents for statement in document["Statement"]
                     if statement["Action"] == ["lambda:InvokeFunction"])
    assert invokes == [f"arn:aws:lambda:us-east-1:123456789012:function:{app_engine.function_names[logical_id]}*"
                       for logical_id in ("GatherFunction", "SplitFunction", "TrackFunction")]


def _measured_state_bytes(result) -> dict[str, int]:
    """The largest payload each state entered with or left with, as the history records them (UTF-8 bytes)."""
    sizes: dict[str, int] = {}
    for event in result.history:
        for key in ("stateEnteredEventDetails", "stateExitedEventDetails"):
            details = event.get(key)
            if details:
                payload = details.get("input") or details.get("output") or ""
                sizes[details["name"]] = max(sizes.get(details["name"], 0), len(payload.encode("utf-8")))
        for key in ("taskSucceededEventDetails", "lambdaFunctionSucceededEventDetails"):
            if event.get(key):
                sizes[key] = max(sizes.get(key, 0), len(event[key].get("output", "").encode("utf-8")))
    return sizes


@pytest.mark.parametrize("name", ["image-classification", "xgboost"])
def test_the_split_steps_payload_estimate_bounds_every_state_the_run_carries(app_engine, example, name):
    # GIVEN a run of a bundled example (image classification carries the most per fold)
    from smx_split import payload_budget

    document = example(name)
    result = app_engine.run(document)
    assert result.status == "SUCCEEDED", result.cause
    plan = next(json.loads(event["lambdaFunctionSucceededEventDetails"]["output"]) for event in result.history
                if event["type"] == "LambdaFunctionSucceeded")
    # WHEN the split step's estimate is compared with what the history shows each state carried
    estimated = payload_budget.state_sizes(document, plan)
    measured = _measured_state_bytes(result)
    # THEN the estimate of the largest state bounds every measured state, with room to spare but not 10x
    largest_measured = max(measured.values())
    assert estimated[0].bytes >= largest_measured
    assert estimated[0].bytes < 10 * largest_measured
    # AND the .sync task's raw result (the whole DescribeTrainingJob) is within its own estimate
    describe = next(state for state in estimated if state.where.startswith("a fold's DescribeTrainingJob"))
    assert describe.bytes >= measured["taskSucceededEventDetails"]
