"""The plan the state machine turns into training jobs."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
import copy

from smx_split.inputs import Deployment, validate_input
from smx_split.folding import data_problems
from smx_split.plan import build_plan
from smx_split.s3_folds import fold_objects
from smx_split.reservation import RunIdentity
from smx_common.s3uri import S3Uri

SAMPLE_EVENT = json.loads((Path(__file__).resolve().parents[2] / "doc" / "sample_event.json").read_text())
RUN = RunIdentity(
    run_id="crossvalidator-my-training-20261122-120000",
    run_prefix=S3Uri("bucket", "output_prefix/crossvalidator-my-training-20261122-120000/"),
    started_at=datetime(2026, 11, 22, 12, 0, 0, tzinfo=timezone.utc),
    execution_name="exec-1",
)


def folds(k: int, n: int, repeats: int = 1) -> list:
    size = n // k
    return [fold for repeat in ([None] if repeats == 1 else range(repeats))
            for fold in fold_objects(str(RUN.run_prefix), "jsonl", [size] * k, repeat)]


def plan_for(document=SAMPLE_EVENT, deployment=Deployment(), k=5, n=1000, repeats=1):
    spec = validate_input(document, deployment)
    return build_plan(spec, RUN, deployment=deployment, strategy="stratified", num_samples=n, num_classes=2,
                      folds=folds(k, n, repeats))


def test_shared_request_fields_are_sent_once_and_fold_fields_per_fold():
    plan = plan_for()
    assert set(plan["job"]) == {"AlgorithmSpecification", "OutputDataConfig", "ResourceConfig", "StoppingCondition",
                                "EnableManagedSpotTraining", "EnableNetworkIsolation", "Environment"}
    assert set(plan["folds"][0]) == {"fold_index", "TrainingJobName", "HyperParameters", "InputDataConfig",
                                     "ExperimentConfig", "Tags", "num_training_samples", "num_validation_samples"}
    assert plan["folds"][4]["TrainingJobName"] == "crossvalidator-my-training-20261122-120000-fold4"


def test_the_output_keeps_the_documented_sections_with_run_facts():
    plan = plan_for()
    assert plan["job_config"]["run_id"] == RUN.run_id
    assert plan["job_config"]["trial_name"] == RUN.run_id
    assert plan["job_config"]["experiment_name"] == "my-training-experiment"
    assert plan["crossvalidation"]["fold_sizes"] == [200] * 5
    assert plan["training"]["algorithm_family"] == "image-classification"


def test_a_vpc_request_is_present_only_when_asked_for():
    assert "VpcConfig" not in plan_for()["job"]
    document = json.loads(json.dumps(SAMPLE_EVENT))
    document["training"]["vpc_config"] = {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}
    assert plan_for(document)["job"]["VpcConfig"] == {"SecurityGroupIds": ["sg-1"], "Subnets": ["subnet-1"]}


def test_a_kms_key_from_the_deployment_encrypts_the_models():
    plan = plan_for(deployment=Deployment(output_kms_key_id="arn:aws:kms:us-east-1:111122223333:key/abc"))
    assert plan["job"]["OutputDataConfig"]["KmsKeyId"] == "arn:aws:kms:us-east-1:111122223333:key/abc"


def test_num_classes_placeholder_without_labels_is_an_input_problem():
    spec = validate_input(SAMPLE_EVENT)
    assert data_problems(spec, has_labels=True) == []
    [problem] = data_problems(spec, has_labels=False)
    assert problem.startswith("training.hyperparameters_template: ${num_classes} needs labelled data")
    assert "the 'class' attribute" in problem


def test_the_largest_allowed_plan_fits_the_step_functions_payload():
    # GIVEN the largest k and hyperparameters just within the validated budget
    document = json.loads(json.dumps(SAMPLE_EVENT))
    document["crossvalidation"]["n_splits"] = 20
    document["job_config"]["name"] = "n" * 25
    document["training"]["hyperparameters_template"] = {f"h{i:02d}": "v" * 150 for i in range(25)}
    # a custom container: a built-in's container would refuse these names, and the split would leave them out
    document["training"]["algorithm_specification"]["TrainingImage"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1"
    plan = plan_for(document, k=20, n=100_000)
    assert len(plan["folds"][0]["HyperParameters"]) == 25
    # THEN the whole plan stays well below the 256 KiB state limit
    assert len(json.dumps(plan)) < 200 * 1024


def test_given_repeats_then_each_job_names_its_repeat_and_fold_and_the_sizes_are_one_repeats():
    # GIVEN 3 folds repeated twice
    document = copy.deepcopy(SAMPLE_EVENT)
    document["crossvalidation"].update(n_splits=3, n_repeats=2)
    plan = plan_for(document, k=3, n=300, repeats=2)
    # THEN six jobs, named -r{r}-fold{i}, each reading its repeat's files, and the section says n_repeats
    assert [(f["repeat_index"], f["fold_index"]) for f in plan["folds"]] == [(r, i) for r in range(2) for i in range(3)]
    assert plan["folds"][4]["TrainingJobName"] == "crossvalidator-my-training-20261122-120000-r1-fold1"
    assert plan["folds"][4]["ExperimentConfig"]["TrialComponentDisplayName"] == "r1-fold1"
    assert "/repeat1/fold1/train/" in json.dumps(plan["folds"][4]["InputDataConfig"])
    assert (plan["crossvalidation"]["n_repeats"], plan["crossvalidation"]["fold_sizes"]) == (2, [100, 100, 100])


def test_given_no_repeats_then_the_plan_has_no_repeat_fields():
    plan = plan_for()
    assert "n_repeats" not in plan["crossvalidation"] and all("repeat_index" not in f for f in plan["folds"])
