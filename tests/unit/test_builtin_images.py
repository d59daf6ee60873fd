"""An image is a built-in algorithm only when AWS's registry holds it and no script runs in it."""

from __future__ import annotations

import re

import pytest

from smx_split.builtin_images import CUSTOM, identify, registries, registry_of, registry_problem

BUILT_IN = [
    ("382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1", "linear-learner"),
    ("404615174143.dkr.ecr.us-east-2.amazonaws.com/knn:1", "knn"),
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "xgboost"),
    ("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1", "xgboost"),
    ("685385470294.dkr.ecr.eu-west-1.amazonaws.com/image-classification:1", "image-classification"),
    ("811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext@sha256:" + "a" * 64, "blazingtext"),
    # FIPS endpoints and the China partition's domain name the same registries.
    ("382416733822.dkr.ecr-fips.us-east-1.amazonaws.com/linear-learner:1", "linear-learner"),
    ("390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/linear-learner:1", "linear-learner"),
]


@pytest.mark.parametrize("image, family", BUILT_IN)
def test_an_image_in_aws_registry_is_the_built_in_algorithm(image, family):
    assert identify(image) == identify(image, ["epochs"])
    assert identify(image).family == family and identify(image).note is None


@pytest.mark.parametrize("image, where", [
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/xgboost:1", "account 123456789012 in us-east-1"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/linear-learner:latest", "account 123456789012 in us-east-1"),
    # The right account, the wrong region: us-east-1's linear-learner account is not eu-west-1's.
    ("382416733822.dkr.ecr.eu-west-1.amazonaws.com/linear-learner:1", "account 382416733822 in eu-west-1"),
    ("docker.io/library/xgboost:latest", "a registry that is not Amazon ECR"),
    ("knn", "a registry that is not Amazon ECR"),
])
def test_an_image_named_like_a_built_in_elsewhere_is_a_custom_container_and_the_note_says_why(image, where):
    identity = identify(image)
    assert identity.family == CUSTOM
    assert identity.note.startswith("training.algorithm_specification.TrainingImage: named like the built-in ")
    assert where in identity.note and "every hyperparameter is passed" in identity.note


def test_the_note_names_the_registry_aws_publishes_for_that_region():
    note = identify("123456789012.dkr.ecr.eu-west-1.amazonaws.com/linear-learner:1").note
    assert "not 438346466558.dkr.ecr.eu-west-1.amazonaws.com/linear-learner" in note


def test_xgboost_with_a_script_runs_the_users_script_so_it_is_custom():
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    identity = identify(image, ["sagemaker_program", "sagemaker_submit_directory", "my_option"])
    assert identity.family == CUSTOM
    assert identity.note.startswith("training.hyperparameters_template.sagemaker_program: the xgboost container runs")


def test_sagemaker_program_does_not_make_another_built_in_a_script_container():
    # linear-learner has no script mode: its container refuses the name like any other unknown one.
    identity = identify("382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1", ["sagemaker_program"])
    assert identity.family == "linear-learner"


@pytest.mark.parametrize("image", ["local:train.py", "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:1"])
def test_any_other_image_is_custom_without_a_note(image):
    assert identify(image).family == CUSTOM and identify(image).note is None


def test_the_registry_table_is_well_formed():
    table = registries()
    assert set(table) == {"linear-learner", "knn", "xgboost", "image-classification", "blazingtext"}
    for repositories in table.values():
        for regions in repositories.values():
            assert len(regions) >= 30, "AWS publishes a registry for every commercial region"
            for region, account in regions.items():
                assert re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region) and re.fullmatch(r"\d{12}", account)
                assert registry_of(f"{account}.dkr.ecr.{region}.amazonaws.com/x:1") == (account, region)


@pytest.mark.parametrize("image, expected", [
    ("docker.io/library/python:3.12", "'docker.io/library/python:3.12' is not in Amazon ECR"),
    ("public.ecr.aws/xgboost:1", "is not in Amazon ECR"),
    ("683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
     "account 683313688378 is AWS's sagemaker-xgboost registry in us-east-1, not in eu-west-1, so SageMaker would find "
     "no such image: use 141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"),
])
def test_an_image_sagemaker_cannot_pull_is_named_with_the_fix(image, expected):
    problem = registry_problem(image)
    assert problem.startswith("training.algorithm_specification.TrainingImage: ") and expected in problem


@pytest.mark.parametrize("image", [
    "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com/xgboost:latest",   # the user's own repository
    # AWS's account hosts other images too (the scikit-learn framework): not a built-in, not refused
    "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
])
def test_an_image_in_ecr_is_not_refused_for_its_registry(image):
    assert registry_problem(image) is None
