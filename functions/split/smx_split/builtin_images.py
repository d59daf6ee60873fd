"""Which training images are SageMaker's built-in algorithms: the one home of that rule.

An image is a built-in algorithm only when both hold (``builtin_registries.json`` holds AWS's
published registries, with its source):

- its registry is AWS's for that algorithm in the region the host names
  (``<account>.dkr.ecr.<region>.amazonaws.com``), and its repository is the algorithm's;
- for XGBoost, the job does not run a script: with ``sagemaker_program`` among the hyperparameters
  the XGBoost container runs the user's script ("script mode", the SDK's framework estimator),
  which reads whatever hyperparameters and data it likes.

Anything else, including an image named ``xgboost`` in the user's own account, is a custom
container: every hyperparameter reaches it and no built-in data contract applies.

Pure: the image name and the hyperparameter names in, the family and a note out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CUSTOM = "custom"
SCRIPT_MODE_HYPERPARAMETER = "sagemaker_program"
# The families that can run a user's script (the SageMaker XGBoost framework container).
_SCRIPT_MODE_FAMILIES = frozenset({"xgboost"})
_REGISTRY_FILE = Path(__file__).with_name("builtin_registries.json")
# ECR's host: <account>.dkr.ecr[-fips].<region>.<partition's domain>
_ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.")


@dataclass(frozen=True)
class ImageIdentity:
    family: str           # a built-in family, or CUSTOM
    note: str | None = None  # why an image that looks built-in is treated as custom


@lru_cache(maxsize=1)
def registries() -> dict[str, dict[str, dict[str, str]]]:
    """family -> repository -> region -> AWS account of the registry."""
    return json.loads(_REGISTRY_FILE.read_text(encoding="utf-8"))["registries"]


def repository_of(training_image: str) -> str:
    """``382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1`` -> ``linear-learner``."""
    return repository_path_of(training_image).rsplit("/", 1)[-1]


def repository_path_of(training_image: str) -> str:
    """Everything between the registry host and the tag: ``team/xgboost`` for ``host/team/xgboost:1``."""
    path = training_image.split("/", 1)[1] if "/" in training_image else training_image
    return path.split("@", 1)[0].split(":", 1)[0].lower()


def registry_of(training_image: str) -> tuple[str, str] | None:
    """(account, region) of an ECR image, or None for any other registry."""
    if "/" not in training_image:
        return None
    match = _ECR_HOST.match(training_image.split("/", 1)[0].lower())
    return (match["account"], match["region"]) if match else None


def identify(training_image: str, hyperparameter_names: Iterable[str] = ()) -> ImageIdentity:
    repository = repository_of(training_image)
    family = next((name for name, repositories in registries().items() if repository in repositories), None)
    if family is None:
        return ImageIdentity(CUSTOM)
    registry = registry_of(training_image)
    published = registries()[family][repository]
    exact = repository_path_of(training_image) == repository
    if registry is None or not exact or published.get(registry[1]) != registry[0]:
        where = (f"account {registry[0]} in {registry[1]}" if registry else "a registry that is not Amazon ECR")
        expected = (f"{published[registry[1]]}.dkr.ecr.{registry[1]}.amazonaws.com/{repository}"
                    if registry and registry[1] in published else f"AWS's {repository} registry of your region")
        return ImageIdentity(CUSTOM, (
            f"training.algorithm_specification.TrainingImage: named like the built-in {family} but in {where}, not "
            f"{expected}: run as a custom container (every hyperparameter is passed, no built-in {family} checks)"))
    if family in _SCRIPT_MODE_FAMILIES and SCRIPT_MODE_HYPERPARAMETER in set(hyperparameter_names):
        return ImageIdentity(CUSTOM, (
            f"training.hyperparameters_template.{SCRIPT_MODE_HYPERPARAMETER}: the {family} container runs your script "
            f"(script mode): every hyperparameter is passed to it and no built-in {family} checks apply"))
    return ImageIdentity(family)


def registry_problem(training_image: str) -> str | None:
    """Why SageMaker could not pull the image, when the name alone shows it; else None.

    - Not Amazon ECR: SageMaker pulls training images from ECR; another registry needs
      TrainingImageConfig (VPC access to it), which the input does not pass
      (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_AlgorithmSpecification.html).
    - A built-in's repository in AWS's registry of another region: AWS publishes each built-in under a
      per-region account, so that account has no such image in this region.
    """
    registry = registry_of(training_image)
    if registry is None:
        return (f"training.algorithm_specification.TrainingImage: {training_image[:80]!r} is not in Amazon ECR; "
                "SageMaker pulls training images from ECR (another registry needs TrainingImageConfig, which this "
                "input does not take): push the image to an ECR repository, such as "
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:1")
    account, region = registry
    repository = repository_path_of(training_image)
    for repositories in registries().values():
        published = repositories.get(repository)
        if published and account in published.values() and published.get(region) != account:
            home = next(name for name, owner in published.items() if owner == account)
            tag = training_image.split("/", 1)[1][len(repository):]
            fix = (f"use {published[region]}.dkr.ecr.{region}.amazonaws.com/{repository}{tag}" if region in published
                   else f"AWS publishes no {repository} image in {region}")
            return (f"training.algorithm_specification.TrainingImage: account {account} is AWS's {repository} "
                    f"registry in {home}, not in {region}, so SageMaker would find no such image: {fix}")
    return None
