"""Training jobs run with network isolation and inside the user's VPC when the input asks, and not
otherwise. Through the engine, so the ASL's TrainFoldInVpc branch (VpcConfig cannot be passed
empty: a VPC job has a Task of its own) is what creates the jobs."""

from __future__ import annotations

from collections import Counter

import pytest

from .conftest import deployed, run_input

VPC = {"SecurityGroupIds": ["sg-0a1b2c3d4e5f60718"], "Subnets": ["subnet-0a1b2c3d4e5f60718", "subnet-08f7e6d5c4b3a2910"]}


@pytest.fixture(scope="module")
def engine():
    with deployed() as deployment:
        yield deployment


def _entered_states(result) -> Counter:
    return Counter(event["stateEnteredEventDetails"]["name"] for event in result.history
                   if event["type"] == "TaskStateEntered")


def _jobs(engine, result) -> list[dict]:
    sagemaker = engine.client("sagemaker")
    return [sagemaker.describe_training_job(TrainingJobName=split["TrainingJobName"])
            for split in result.output["splits"]]


def test_a_run_that_asks_trains_every_fold_isolated_inside_its_vpc(engine, output_prefix):
    # GIVEN an input asking for network isolation and a VPC
    document = run_input(output_prefix, name="sec-vpc", enable_network_isolation=True, vpc_config=VPC)
    # WHEN it runs
    result = engine.run(document)
    # THEN every fold's job went through TrainFoldInVpc
    assert result.status == "SUCCEEDED", result.cause
    entered = _entered_states(result)
    assert entered["TrainFoldInVpc"] == 3 and entered["TrainFold"] == 0
    # AND was created inside the VPC, network-isolated
    for job in _jobs(engine, result):
        assert job["VpcConfig"] == VPC
        assert job["EnableNetworkIsolation"] is True
    # AND its container had no AWS credentials to use
    credentials = result.output["summary"]["metrics"]["aws_credentials"]
    assert credentials["values"] == [0.0, 0.0, 0.0]


def test_a_run_that_does_not_ask_trains_without_vpc_or_isolation(engine, output_prefix):
    # GIVEN an input that says nothing about the network
    document = run_input(output_prefix, name="sec-no-vpc")
    # WHEN it runs
    result = engine.run(document)
    # THEN every fold went through TrainFold, with no VpcConfig and without network isolation
    assert result.status == "SUCCEEDED", result.cause
    entered = _entered_states(result)
    assert entered["TrainFold"] == 3 and entered["TrainFoldInVpc"] == 0
    for job in _jobs(engine, result):
        assert "VpcConfig" not in job
        assert job["EnableNetworkIsolation"] is False
    # AND its container had the training role's credentials, as SageMaker gives a non-isolated one
    assert result.output["summary"]["metrics"]["aws_credentials"]["values"] == [1.0, 1.0, 1.0]


def test_isolation_without_a_vpc_is_honoured_on_its_own(engine, output_prefix):
    # GIVEN network isolation asked for without a VPC
    result = engine.run(run_input(output_prefix, name="sec-isolated", enable_network_isolation=True))
    # THEN the jobs are isolated, outside any VPC
    assert result.status == "SUCCEEDED", result.cause
    assert _entered_states(result)["TrainFold"] == 3
    assert all(job["EnableNetworkIsolation"] is True and "VpcConfig" not in job for job in _jobs(engine, result))
