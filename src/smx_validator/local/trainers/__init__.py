"""Local stand-ins for SageMaker training images, chosen by the TrainingImage's repository name.

``<registry>/linear-learner:1``, ``knn``, ``xgboost`` (also ``sagemaker-xgboost``),
``image-classification`` and ``blazingtext`` are the built-in algorithms; ``local:path/to/train.py``
is a custom container played by that script. Any other image fails the job with a ClientError,
as an image SageMaker cannot run would.
"""

from __future__ import annotations

from pathlib import Path

from .base import Trainer, TrainingAlgorithmError, TrainingClientError, TrainingContext, TrainingStopped
from .blazingtext import BlazingText
from .custom_script import CustomScript
from .image_classification import ImageClassification
from .knn import KNearestNeighbours
from .linear_learner import LinearLearner
from .xgboost import XGBoost

LOCAL_SCRIPT_PREFIX = "local:"

BUILT_IN_TRAINERS: dict[str, type] = {
    "linear-learner": LinearLearner,
    "knn": KNearestNeighbours,
    "xgboost": XGBoost,
    "sagemaker-xgboost": XGBoost,
    "image-classification": ImageClassification,
    "blazingtext": BlazingText,
}

__all__ = [
    "BUILT_IN_TRAINERS", "LOCAL_SCRIPT_PREFIX", "Trainer", "TrainingAlgorithmError", "TrainingClientError",
    "TrainingContext", "TrainingStopped", "repository_name", "trainer_for",
]


def repository_name(training_image: str) -> str:
    """``123.dkr.ecr.eu-west-1.amazonaws.com/image-classification:1`` -> ``image-classification``
    (the same rule the split step uses to pick the channel layout)."""
    return training_image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0].lower()


def trainer_for(training_image: str, *, script_root: Path) -> Trainer:
    """The local trainer of an image; ``script_root`` anchors relative ``local:`` script paths."""
    if training_image.startswith(LOCAL_SCRIPT_PREFIX):
        script = Path(training_image[len(LOCAL_SCRIPT_PREFIX):]).expanduser()
        return CustomScript(script if script.is_absolute() else (script_root / script).resolve())
    trainer_class = BUILT_IN_TRAINERS.get(repository_name(training_image))
    if trainer_class is None:
        raise TrainingClientError(
            f"The local engine cannot run the image {training_image!r}: it plays the built-in algorithms "
            f"{', '.join(sorted(set(BUILT_IN_TRAINERS)))} and custom scripts named '{LOCAL_SCRIPT_PREFIX}path/to/train.py'")
    return trainer_class()
