"""The split step holds every CreateTrainingJob request to SageMaker's service model (botocore's),
and composes the request exactly as the state machine does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smx_split import request_contract

REPO = Path(__file__).resolve().parents[2]
ASL = REPO / "statemachines" / "crossvalidator.asl.json"


def _fold_states() -> dict:
    return json.loads(ASL.read_text())["States"]["TrainFolds"]["ItemProcessor"]["States"]


@pytest.mark.parametrize("task", ["TrainFold", "TrainFoldInVpc"])
def test_the_request_is_composed_from_the_plan_as_the_state_machine_composes_it(task):
    # GIVEN the training task's Parameters in the ASL
    parameters = _fold_states()[task]["Parameters"]
    members = {name.removesuffix(".$") for name in parameters}
    from_job = {name.removesuffix(".$") for name, path in parameters.items() if str(path).startswith("$.job.")}
    from_fold = {name.removesuffix(".$") for name, path in parameters.items() if str(path).startswith("$.fold.")}
    # THEN the contract checks the same members, taken from the same parts of the plan
    assert from_job <= set(request_contract.SHARED_MEMBERS)
    assert from_fold == set(request_contract.FOLD_MEMBERS)
    assert members == from_job | from_fold | {"RoleArn"}


def test_every_pattern_of_the_operation_has_a_python_translation():
    # GIVEN every string pattern anywhere in CreateTrainingJob's input
    patterns = set()

    def walk(shape, depth=0):
        if depth > 12:
            return
        if shape.type_name == "structure":
            for member in shape.members.values():
                walk(member, depth + 1)
        elif shape.type_name == "list":
            walk(shape.member, depth + 1)
        elif shape.type_name == "map":
            walk(shape.key, depth + 1)
            walk(shape.value, depth + 1)
        elif "pattern" in shape.metadata:
            patterns.add(shape.metadata["pattern"])

    walk(request_contract.operation_model().input_shape)
    assert len(patterns) > 10
    # THEN each one compiles (a model update with a construct we do not translate fails here, not in a run)
    for pattern in patterns:
        request_contract.python_pattern(pattern)


@pytest.mark.parametrize("value, matches", [
    ("équipe data", True), ("Zürich 2026 @a/b=c+d-e_f.g:h", True), ("tab\there", False), ("*", False), ("#1", False),
])
def test_the_tag_pattern_means_what_sagemakers_java_pattern_means(value, matches):
    pattern = request_contract.python_pattern(r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)")
    assert bool(pattern.fullmatch(value)) is matches


def test_a_valid_request_has_no_problems_and_each_kind_of_break_is_named():
    # GIVEN a request SageMaker accepts
    request = {
        "TrainingJobName": "crossvalidator-x-20260101-000000-fold0",
        "RoleArn": "arn:aws:iam::123456789012:role/r",
        "AlgorithmSpecification": {"TrainingImage": "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1",
                                   "TrainingInputMode": "File"},
        "OutputDataConfig": {"S3OutputPath": "s3://b/p/models/"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 100},
        "Tags": [{"Key": "team", "Value": "a"}],
    }
    assert request_contract.request_problems(request, user_tag_count=1) == []
    # WHEN it breaks the model's types, enums and maximums
    broken = json.loads(json.dumps(request))
    broken["ResourceConfig"].update(InstanceCount="1", InstanceType="ml.m5.huge", KeepAlivePeriodInSeconds=99999)
    problems = request_contract.request_problems(broken, user_tag_count=1)
    # THEN each is named with the input's field and SageMaker's
    assert [problem.split(":")[0] for problem in problems] == [
        "training.resource_config.InstanceCount", "training.resource_config.InstanceType",
        "training.resource_config.KeepAlivePeriodInSeconds"]
    assert problems[2].endswith("99999 is more than SageMaker's maximum 21600 "
                                "(SageMaker's CreateTrainingJob.ResourceConfig.KeepAlivePeriodInSeconds)")
