"""Local stand-ins for SageMaker training images.

The built-in algorithms (linear-learner, knn, xgboost, image-classification, blazingtext) are
played when the image is AWS's, by the rule SageMaker itself applies: the registry AWS publishes
for the region (``smx_split.builtin_images``, which holds AWS's registry list). ``local:path/to/train.py``
is a custom container played by that script. Any other image, including one in the user's own
account named like a built-in, fails the job with a ClientError: the engine cannot run it.
"""

from __future__ import annotations

from pathlib import Path

from smx_split import builtin_images

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
    "TrainingContext", "TrainingStopped", "trainer_for",
]


def trainer_for(training_image: str, hyperparameters: dict[str, str], *, script_root: Path) -> Trainer:
    """The local trainer of an image; ``script_root`` anchors relative ``local:`` script paths."""
    if training_image.startswith(LOCAL_SCRIPT_PREFIX):
        script = Path(training_image[len(LOCAL_SCRIPT_PREFIX):]).expanduser()
        return CustomScript(script if script.is_absolute() else (script_root / script).resolve())
    repository = builtin_images.repository_of(training_image)
    registry_is_aws = builtin_images.identify(training_image).family != builtin_images.CUSTOM
    if registry_is_aws and builtin_images.SCRIPT_MODE_HYPERPARAMETER in hyperparameters:
        raise TrainingClientError(
            f"The local engine does not emulate script mode ({builtin_images.SCRIPT_MODE_HYPERPARAMETER}) of "
            f"{training_image!r}; run your script offline as '{LOCAL_SCRIPT_PREFIX}path/to/train.py'")
    trainer_class = BUILT_IN_TRAINERS.get(repository) if registry_is_aws else None
    if trainer_class is None:
        raise TrainingClientError(
            f"The local engine cannot run the image {training_image!r}: it plays the built-in algorithms "
            f"{', '.join(sorted(set(BUILT_IN_TRAINERS)))} from AWS's registries and custom scripts named "
            f"'{LOCAL_SCRIPT_PREFIX}path/to/train.py'")
    return trainer_class()
