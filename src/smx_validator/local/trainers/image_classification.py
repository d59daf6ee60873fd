"""image-classification: a small neural network on the pixels of the images (scikit-learn's MLP).

Channels: ``train`` and ``validation``, augmented manifests streamed in Pipe mode with
``AttributeNames`` ``[<image>-ref, <class>]`` (RecordIO-wrapped, as the algorithm takes them).
Images are PNGs resized to ``image_shape``. Metrics: ``train:accuracy`` and
``validation:accuracy`` after every epoch; the last epoch's values are final.

Inference (``ImageClassificationPredictor``) answers as "Inference with the Image Classification
Algorithm" documents (https://docs.aws.amazon.com/sagemaker/latest/dg/IC-inference.html; the developer
guide's image-classification page, section IC-inference): one image a request, ContentType image/png,
image/jpeg or application/x-image, resized to the model's image_shape; Accept application/json (the
default) answers the JSON array of every class's probability ``[p0, p1, ..]``, application/jsonlines
(what the page recommends for batch transform) ``{"prediction": [p0, p1, ..]}``. The local decoder reads
PNG only: a JPEG fails the job saying the engine does not emulate it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score
from sklearn.neural_network import MLPClassifier

from . import png, serving
from .base import TrainingClientError, TrainingContext
from .tabular import class_labels, save_model

# The names this container accepts, from its AWS documentation. Kept here, apart from the split step's
# contract tables (smx_split), on purpose: the emulated container must fail a job the way the real one
# does even where those tables have a gap, so that a gap shows up as a failed fold in the tests.
HYPERPARAMETERS = frozenset({
    "augmentation_type", "beta_1", "beta_2", "checkpoint_frequency", "early_stopping",
    "early_stopping_min_epochs", "early_stopping_patience", "early_stopping_tolerance", "epochs", "eps",
    "gamma", "image_shape", "kv_store", "learning_rate", "lr_scheduler_factor", "lr_scheduler_step",
    "mini_batch_size", "momentum", "multi_label", "num_classes", "num_layers", "num_training_samples",
    "optimizer", "precision_dtype", "resize", "top_k", "use_pretrained_model", "use_weighted_loss",
    "weight_decay",
})
_SOLVERS = {"sgd": ("sgd", False), "nag": ("sgd", True), "adam": ("adam", False)}
_SEED = 0


class ImageClassification:
    algorithm = "image-classification"

    def train(self, context: TrainingContext) -> None:
        hp = context.hyperparameters
        hp.reject_unknown(HYPERPARAMETERS)
        num_classes = hp.integer("num_classes", minimum=2)
        hp.integer("num_training_samples", minimum=1)  # required by the algorithm (its schedules use it)
        shape = self._image_shape(hp.string("image_shape", "3,224,224"))
        optimizer = hp.string("optimizer", "sgd", choices=("sgd", "adam", "rmsprop", "nag"))
        if optimizer not in _SOLVERS:
            raise TrainingClientError(f"optimizer {optimizer!r} is not emulated; use sgd, nag or adam")

        datasets = {}
        for name in ("train", "validation"):
            reader = context.channel(name, required=name == "train")
            if reader is not None:
                datasets[name] = self._read(reader, shape, num_classes)
        context.training_started()

        solver, nesterov = _SOLVERS[optimizer]
        model = MLPClassifier(
            hidden_layer_sizes=(64,), solver=solver, nesterovs_momentum=nesterov,
            learning_rate_init=hp.number("learning_rate", 0.1, minimum=0),
            momentum=hp.number("momentum", 0.9, minimum=0, maximum=1),
            alpha=hp.number("weight_decay", 0.0001, minimum=0),
            batch_size=hp.integer("mini_batch_size", 32, minimum=1),
            random_state=_SEED,
        )
        classes = np.arange(num_classes)
        patience = hp.integer("early_stopping_patience", 5, minimum=1)
        min_epochs = hp.integer("early_stopping_min_epochs", 10, minimum=1)
        tolerance = hp.number("early_stopping_tolerance", 0.0, minimum=0)
        early_stopping = hp.boolean("early_stopping", False) and "validation" in datasets
        best, stale = -np.inf, 0
        train_x, train_y = datasets["train"]
        for epoch in range(1, hp.integer("epochs", 30, minimum=1) + 1):
            context.check_stopping()
            model.partial_fit(train_x, train_y, classes=classes)
            context.report_metric("train:accuracy", accuracy_score(train_y, model.predict(train_x)))
            if "validation" in datasets:
                accuracy = accuracy_score(datasets["validation"][1], model.predict(datasets["validation"][0]))
                context.report_metric("validation:accuracy", accuracy)
                if early_stopping:
                    best, stale = (accuracy, 0) if accuracy > best + tolerance else (best, stale + 1)
                    if epoch >= min_epochs and stale >= patience:
                        context.log(f"early stopping after epoch {epoch}")
                        break
        save_model(context.model_dir, model, {
            "algorithm": self.algorithm, "num_classes": num_classes, "image_shape": list(shape),
            "hyperparameters": hp.values,
        })

    @staticmethod
    def _image_shape(value: str) -> tuple[int, int, int]:
        try:
            channels, height, width = (int(part) for part in value.split(","))
        except ValueError:
            raise TrainingClientError(f"image_shape {value!r} is not 'channels,height,width'") from None
        if channels not in (1, 3) or height < 1 or width < 1:
            raise TrainingClientError(f"image_shape {value!r}: 1 or 3 channels and a positive size are required")
        return channels, height, width

    def _read(self, reader, shape: tuple[int, int, int], num_classes: int) -> tuple[np.ndarray, np.ndarray]:
        channel = reader.channel
        if channel.s3_data_type != "AugmentedManifestFile":
            raise TrainingClientError(
                f"Channel '{channel.name}': the local trainer reads the augmented manifest image format only "
                f"(S3DataType AugmentedManifestFile, got {channel.s3_data_type})")
        if channel.input_mode != "Pipe":
            raise TrainingClientError(f"Channel '{channel.name}': augmented manifests are read in Pipe mode only")
        if len(channel.attribute_names) != 2 or not channel.attribute_names[0].endswith("-ref"):
            raise TrainingClientError(
                f"Channel '{channel.name}': AttributeNames must be [<image>-ref, <class>], got {list(channel.attribute_names)}")
        pixels, labels = [], []
        for number, (image, label) in enumerate(reader.manifest_records(), start=1):
            try:
                pixels.append(_features(png.decode(image), shape))
            except png.PngError as error:
                raise TrainingClientError(f"Channel '{channel.name}': image of record {number}: {error}") from None
            try:
                labels.append(float(label))
            except (TypeError, ValueError):
                raise TrainingClientError(f"Channel '{channel.name}': record {number} has class {label!r}, not a number") from None
        if not labels:
            raise TrainingClientError(f"Channel '{channel.name}' has no records")
        return np.stack(pixels), class_labels(np.asarray(labels), channel.name, num_classes=num_classes)


def _features(image: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """The image resized (nearest neighbour) to image_shape, scaled to [0, 1] and flattened."""
    channels, height, width = shape
    image = image[..., :3] if image.shape[2] in (3, 4) else image[..., :1]
    if channels == 3 and image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    elif channels == 1 and image.shape[2] == 3:
        image = image.mean(axis=2, keepdims=True)
    rows = (np.arange(height) * image.shape[0] / height).astype(int)
    columns = (np.arange(width) * image.shape[1] / width).astype(int)
    return (image[rows][:, columns].astype(np.float64) / 255.0).ravel()


_IMAGE_TYPES = ("image/png", "image/jpeg", "application/x-image")
_JPEG_SIGNATURE = b"\xff\xd8\xff"


class ImageClassificationPredictor:
    """image-classification's inference container over a model ``ImageClassification`` saved (module docstring)."""

    algorithm = "image-classification"
    accepts = (serving.JSON, serving.JSONLINES)

    def __init__(self, model_dir: Path):
        description = serving.load_description(model_dir, self.algorithm)
        self._model = serving.load_estimator(model_dir)
        self._shape = tuple(int(size) for size in description["image_shape"])

    def invoke(self, body: bytes, content_type: str | None, accept: str | None) -> serving.Response:
        media = serving.MediaType.parse(content_type)
        if media is None or media.type not in _IMAGE_TYPES:
            raise serving.unsupported_content_type(content_type, self.algorithm, _IMAGE_TYPES)
        answer = serving.MediaType.parse(accept) or serving.MediaType(serving.JSON)
        if answer.type not in self.accepts:
            raise serving.unsupported_accept(accept, self.algorithm, self.accepts)
        if body.startswith(_JPEG_SIGNATURE):
            raise serving.InferenceNotEmulated("The local engine does not emulate JPEG images for image-classification: "
                                               "its decoder reads PNG only")
        try:
            pixels = png.decode(body)
        except (png.PngError, ValueError) as error:
            raise serving.InferenceError(400, f"Unable to evaluate payload provided: the image cannot be decoded ({error})") from None
        probabilities = [float(value) for value in self._model.predict_proba(_features(pixels, self._shape)[None, :])[0]]
        if answer.type == serving.JSONLINES:
            return serving.Response(serving.json_lines([{"prediction": probabilities}]), serving.JSONLINES)
        return serving.Response(json.dumps(probabilities).encode("utf-8"), serving.JSON)
