"""The plan the split step returns keeps its contract with the state machine and the gather step
(resources/schemas/plan.schema.json): every shape the split produces validates, and a drifted one does not."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import boto3
import pytest
from jsonschema import Draft202012Validator
from moto import mock_aws

REPO = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO / "resources" / "schemas" / "plan.schema.json").read_text())
SAMPLE_EVENT = json.loads((REPO / "doc" / "sample_event.json").read_text())
KNN_EXAMPLE = json.loads((REPO / "doc" / "examples" / "knn.json").read_text())
DEPLOYMENT = {"input_bucket": "smx-in", "output_bucket": "smx-out", "default_max_concurrency": "2",
              "output_kms_key_id": ""}


def manifest() -> bytes:
    return b"".join(json.dumps({"source-ref": f"s3://smx-in/img/{i}.png", "class": str(i % 2)}).encode() + b"\n"
                    for i in range(40))


def sample_event() -> tuple[dict, bytes, str]:
    document = copy.deepcopy(SAMPLE_EVENT)
    document["job_config"].update(input_path="s3://smx-in/data/input.jsonl", output_prefix="s3://smx-out/out")
    return document, manifest(), "data/input.jsonl"


def knn_on_iris() -> tuple[dict, bytes, str]:
    document = copy.deepcopy(KNN_EXAMPLE)
    document["job_config"].update(input_path="s3://smx-in/iris/iris.csv", output_prefix="s3://smx-out/knn")
    return document, (REPO / "resources" / "datasets" / "iris.csv").read_bytes(), "iris/iris.csv"


def custom_in_a_vpc_grouped() -> tuple[dict, bytes, str]:
    document, data, key = knn_on_iris()
    document["training"] = {
        "hyperparameters_template": {"epochs": "3", "classes": "${num_classes}"},
        "algorithm_specification": {"TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1"},
        "resource_config": {"InstanceType": "ml.m5.large"},
        "vpc_config": {"SecurityGroupIds": ["sg-0123456789abcdef0"], "Subnets": ["subnet-0123456789abcdef0"]},
    }
    document["crossvalidation"].update(group_attribute=1)
    return document, data, key


def knn_predicting_out_of_fold_in_a_vpc() -> tuple[dict, bytes, str]:
    document, data, key = knn_on_iris()
    document["crossvalidation"]["out_of_fold_predictions"] = {"instance_type": "ml.c5.xlarge", "instance_count": 2}
    document["training"]["vpc_config"] = {"SecurityGroupIds": ["sg-0123456789abcdef0"],
                                          "Subnets": ["subnet-0123456789abcdef0"]}
    return document, data, key


@pytest.fixture
def run_split(function_handler, lambda_context):
    handler = function_handler("SplitFunction")

    def run(document: dict, data: bytes, key: str) -> dict:
        with mock_aws():
            s3 = boto3.client("s3")
            for bucket in ("smx-in", "smx-out"):
                s3.create_bucket(Bucket=bucket)
            s3.put_object(Bucket="smx-in", Key=key, Body=data)
            return handler({"input": document, "execution_name": "plan-contract", "deployment": DEPLOYMENT},
                           lambda_context)
    return run


@pytest.mark.parametrize("make_input", [sample_event, knn_on_iris, custom_in_a_vpc_grouped,
                                        knn_predicting_out_of_fold_in_a_vpc])
def test_every_plan_the_split_returns_keeps_the_contract(run_split, make_input):
    # GIVEN an input of each shape (a manifest, a CSV built-in, a grouped custom container in a VPC)
    plan = run_split(*make_input())
    # THEN the plan validates against the contract the ASL and the gather read
    errors = sorted(Draft202012Validator(SCHEMA).iter_errors(plan), key=lambda error: list(error.path))
    assert errors == [], [f"{'/'.join(map(str, error.path))}: {error.message}" for error in errors]


@pytest.mark.parametrize("drift", [
    lambda plan: plan["folds"][0].pop("TrainingJobName"),          # TrainFold reads $.fold.TrainingJobName
    lambda plan: plan["job"].pop("OutputDataConfig"),               # ... and $.job.OutputDataConfig
    lambda plan: plan.update(extra_section={}),                     # a field nobody documented
    lambda plan: plan["job_config"].update(created_at="30/11/2026"),  # the gather parses this date
    lambda plan: plan["folds"][0].update(transform={"ModelName": "m"}),  # PredictFold reads $.fold.transform.*
], ids=["fold-without-job-name", "job-without-output", "undocumented-section", "other-date-format",
        "transform-without-its-requests"])
def test_a_drifted_plan_is_refused_by_the_contract(run_split, drift):
    plan = run_split(*sample_event())
    drift(plan)
    assert list(Draft202012Validator(SCHEMA).iter_errors(plan)), "the schema let a drifted plan through"


FOLD_RESULTS_SCHEMA = json.loads((REPO / "resources" / "schemas" / "fold-results.schema.json").read_text())
JOB = "crossvalidator-plan-20261130-090000-fold0"


@pytest.mark.parametrize("fold_results, valid", [
    ([{"fold_index": 0, "TrainingJobName": JOB, "status": "Completed"}], True),
    ([{"fold_index": 0, "TrainingJobName": JOB, "status": "Failed", "error": "States.TaskFailed"}], True),
    ([{"fold_index": 0, "TrainingJobName": JOB, "status": "Failed", "error": "SageMaker.AmazonSageMakerException",
       "cause": "Rate exceeded"}], True),
    ([{"fold_index": 0, "TrainingJobName": JOB, "Status": "Completed"}], False),   # the gather reads "status"
    ([{"fold_index": 0, "TrainingJobName": JOB, "status": "Failed"}], False),      # a failure says which error
    ([{"fold_index": "0", "TrainingJobName": JOB, "status": "Completed"}], False),  # fold_index is an integer
], ids=["succeeded", "job-failed", "create-failed", "renamed-status", "failure-without-error", "string-index"])
def test_the_fold_results_contract_takes_the_maps_three_shapes_and_nothing_else(fold_results, valid):
    assert (not list(Draft202012Validator(FOLD_RESULTS_SCHEMA).iter_errors(fold_results))) == valid
