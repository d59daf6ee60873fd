"""Local stand-ins for SageMaker training images.

The built-in algorithms (linear-learner, knn, xgboost, image-classification, blazingtext) are
played when the image is AWS's, by the rule SageMaker itself applies: the registry AWS publishes
for the region (``smx_split.builtin_images``, which holds AWS's registry list). ``local:path/to/train.py``
is a custom container played by that script. Any other image, including one in the user's own
account named like a built-in, fails the job with a ClientError: the engine cannot run it.

The same rule picks the local inference container of a model (``predictor_for``) for a batch transform:
each built-in algorithm's predictor sits beside its trainer and reads back the model the trainer saved.
A ``local:`` script has no inference server to play, and any other image none either.
"""

from __future__ import annotations

from pathlib import Path

from smx_split import builtin_images

from .base import Trainer, TrainingAlgorithmError, TrainingClientError, TrainingContext, TrainingStopped
from .blazingtext import BlazingText, BlazingTextPredictor
from .custom_script import CustomScript
from .image_classification import ImageClassification, ImageClassificationPredictor
from .knn import KNearestNeighbours, KNearestNeighboursPredictor
from .linear_learner import LinearLearner, LinearLearnerPredictor
from .serving import Predictor
from .xgboost import XGBoost, XGBoostPredictor

LOCAL_SCRIPT_PREFIX = "local:"

BUILT_IN_TRAINERS: dict[str, type] = {
    "linear-learner": LinearLearner,
    "knn": KNearestNeighbours,
    "xgboost": XGBoost,
    "sagemaker-xgboost": XGBoost,
    "image-classification": ImageClassification,
    "blazingtext": BlazingText,
}

# The inference container of each built-in image, keyed as BUILT_IN_TRAINERS is.
BUILT_IN_PREDICTORS: dict[str, type] = {
    "linear-learner": LinearLearnerPredictor,
    "knn": KNearestNeighboursPredictor,
    "xgboost": XGBoostPredictor,
    "sagemaker-xgboost": XGBoostPredictor,
    "image-classification": ImageClassificationPredictor,
    "blazingtext": BlazingTextPredictor,
}

__all__ = [
    "BUILT_IN_PREDICTORS", "BUILT_IN_TRAINERS", "LOCAL_SCRIPT_PREFIX", "Predictor", "Trainer",
    "TrainingAlgorithmError", "TrainingClientError", "TrainingContext", "TrainingStopped", "predictor_class_for",
    "trainer_for",
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


def predictor_class_for(image: str, environment: dict[str, str] | None = None) -> type:
    """The local inference container of a model's image, chosen as ``trainer_for`` chooses the trainer; raises
    TrainingClientError (the transform job fails with a ClientError) for an image whose inference is not
    emulated. Instantiate it with the directory the model's artifacts were extracted into."""
    if image.startswith(LOCAL_SCRIPT_PREFIX):
        raise TrainingClientError(
            f"The local engine does not emulate the inference of {image!r}: a '{LOCAL_SCRIPT_PREFIX}' custom script "
            f"trains only; batch transforms run with the built-in algorithms "
            f"{', '.join(sorted(set(BUILT_IN_PREDICTORS)))}")
    repository = builtin_images.repository_of(image)
    registry_is_aws = builtin_images.identify(image).family != builtin_images.CUSTOM
    if registry_is_aws and "SAGEMAKER_PROGRAM" in (environment or {}):
        raise TrainingClientError(
            f"The local engine does not emulate script mode (SAGEMAKER_PROGRAM) inference of {image!r}")
    predictor_class = BUILT_IN_PREDICTORS.get(repository) if registry_is_aws else None
    if predictor_class is None:
        raise TrainingClientError(
            f"The local engine does not emulate the inference of the image {image!r}: it plays the inference "
            f"of the built-in algorithms {', '.join(sorted(set(BUILT_IN_PREDICTORS)))} from AWS's registries")
    return predictor_class
