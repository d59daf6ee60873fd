"""The summary trial component: a request the real SageMaker API accepts, and how recording behaves."""

from __future__ import annotations

import re

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber

from smx_gather.experiments import record_summary, trial_component_name, trial_component_request

RUN = "crossvalidator-demo-20261122-120000"
PLAN = {"job_config": {"run_id": RUN, "trial_name": RUN, "created_at": "2026-11-22T12:00:00Z"},
        "crossvalidation": {"n_splits": 5}, "folds": [{"fold_index": i} for i in range(5)]}
MODEL = botocore.session.get_session().get_service_model("sagemaker")


def summary(metric_names=("validation:accuracy",), failed=0):
    return {
        "metrics": {name: {"values": [0.5], "mean": 0.5, "std": 0.0, "min": 0.5, "max": 0.5, "count": 1}
                    for name in metric_names},
        "completed_folds": list(range(5 - failed)), "failed_fold_count": failed,
        "failure_message": "" if not failed else f"{failed} of 5 folds failed: " + "fold4 (x): reason; " * 200,
        "summary_json": f"s3://out/{RUN}/summary.json", "summary_csv": f"s3://out/{RUN}/summary.csv",
        "trial_component_name": f"{RUN}-summary",
    }


def violations(shape, value, path="request"):
    """What the service model forbids in ``value``: unknown or missing members, lengths, patterns, enums.
    (botocore itself checks types and minimums only; the service rejects the rest.)"""
    problems, meta = [], shape.metadata
    if shape.type_name == "structure":
        problems += [f"{path}: unknown member {k}" for k in value if k not in shape.members]
        problems += [f"{path}: missing {k}" for k in shape.required_members if k not in value]
        for key, item in value.items():
            if key in shape.members:
                problems += violations(shape.members[key], item, f"{path}.{key}")
    elif shape.type_name == "map":
        if len(value) > meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} entries > {meta['max']}")
        for key, item in value.items():
            problems += violations(shape.key, key, f"{path} key {key!r}")
            problems += violations(shape.value, item, f"{path}[{key!r}]")
    elif shape.type_name == "string":
        if len(value) > meta.get("max", len(value)):
            problems.append(f"{path}: {len(value)} chars > {meta['max']}")
        if "pattern" in meta and not re.fullmatch(meta["pattern"], value, re.DOTALL):
            problems.append(f"{path}: {value!r} does not match {meta['pattern']}")
        if shape.enum and value not in shape.enum:
            problems.append(f"{path}: {value!r} not in {shape.enum}")
    return problems


def create_request_problems(request):
    return violations(MODEL.operation_model("CreateTrialComponent").input_shape, request)


def test_given_a_completed_run_when_the_request_is_built_then_the_api_model_accepts_it_and_holds_the_statistics():
    request = trial_component_request(PLAN, summary())

    assert create_request_problems(request) == []
    assert request["TrialComponentName"] == f"{RUN}-summary"
    assert request["Status"] == {"PrimaryStatus": "Completed"}
    assert {k: v["NumberValue"] for k, v in request["Parameters"].items()} == {
        "n_splits": 5, "completed_folds": 5, "failed_folds": 0, "validation:accuracy:mean": 0.5,
        "validation:accuracy:std": 0.0, "validation:accuracy:min": 0.5, "validation:accuracy:max": 0.5}
    assert request["OutputArtifacts"]["summary_json"] == {"MediaType": "application/json", "Value": f"s3://out/{RUN}/summary.json"}


def test_given_failed_folds_and_a_long_failure_message_when_built_then_status_is_failed_and_message_fits():
    request = trial_component_request(PLAN, summary(failed=2))

    assert create_request_problems(request) == []
    assert request["Status"]["PrimaryStatus"] == "Failed"
    assert request["Status"]["Message"].startswith("2 of 5 folds failed")


def test_given_more_metrics_than_parameters_allowed_and_longest_names_when_built_then_the_request_stays_valid():
    names = [f"validation:{i:03d}:" + "m" * 240 for i in range(100)]  # SageMaker metric names: up to 255 chars

    request = trial_component_request(PLAN, summary(names))

    assert create_request_problems(request) == []
    assert len(request["Parameters"]) == 3 + 4 * 74
    assert f"{names[0]}:mean" in request["Parameters"]


@pytest.mark.parametrize("run_id", [RUN, "crossvalidator-" + "a" * 200, "odd_run.id"])
def test_given_a_run_id_when_naming_the_component_then_the_name_is_valid_and_ends_in_summary(run_id):
    name = trial_component_name(run_id)

    assert violations(MODEL.shape_for("ExperimentEntityName"), name) == []
    assert name.endswith("-summary")


def stubbed():
    client = boto3.client("sagemaker", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return client, Stubber(client)


def test_given_the_component_exists_from_an_earlier_attempt_when_recorded_then_it_is_still_associated():
    client, stub = stubbed()
    stub.add_client_error("create_trial_component", "ValidationException",
                          f"Trial Component with name {RUN}-summary already exists.")
    stub.add_response("associate_trial_component", {"TrialComponentArn": "arn:tc", "TrialArn": "arn:t"},
                      {"TrialComponentName": f"{RUN}-summary", "TrialName": RUN})

    with stub:
        record_summary(client, PLAN, summary())
    stub.assert_no_pending_responses()


def test_given_experiments_refuses_when_recorded_then_the_error_reaches_the_caller():
    client, stub = stubbed()
    stub.add_client_error("create_trial_component", "AccessDeniedException", "not authorized",
                          expected_params={"TrialComponentName": f"{RUN}-summary", "DisplayName": ANY, "Status": ANY,
                                           "Parameters": ANY, "OutputArtifacts": ANY, "StartTime": ANY, "EndTime": ANY})

    with stub, pytest.raises(ClientError, match="AccessDenied"):
        record_summary(client, PLAN, summary())
