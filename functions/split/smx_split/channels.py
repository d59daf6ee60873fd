"""Input channels per algorithm family and data format: the one home of that knowledge.

Which family an image belongs to is ``builtin_images``' rule; a custom container's channels
the user may override field by field.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from .builtin_images import CUSTOM


@dataclass(frozen=True)
class ChannelLayout:
    """How both channels of a fold are presented to the training container."""

    train_channel_name: str
    validation_channel_name: str
    content_type: str
    s3_data_type: str = "S3Prefix"
    attribute_names: tuple[str, ...] | None = None
    record_wrapper_type: str | None = None
    input_mode: str | None = None
    compression_type: str | None = None

    @property
    def is_augmented_manifest(self) -> bool:
        return self.s3_data_type == "AugmentedManifestFile"

    def as_dict(self) -> dict:
        described = {key: value for key, value in asdict(self).items() if value is not None}
        if self.attribute_names:
            described["attribute_names"] = list(self.attribute_names)
        return described


_CSV = ChannelLayout("train", "validation", "text/csv")
# Augmented manifests are streamed in Pipe mode: SageMaker accepts them in no other mode.
_IMAGE_MANIFEST = ChannelLayout(
    "train", "validation", "application/x-recordio", "AugmentedManifestFile",
    attribute_names=("source-ref", "{label}"), record_wrapper_type="RecordIO", input_mode="Pipe",
)
_TEXT_MANIFEST = ChannelLayout(
    "train", "validation", "application/jsonlines", "AugmentedManifestFile",
    attribute_names=("source", "{label}"), input_mode="Pipe",
)

# (family, data format) -> layout. A missing pair is a combination the algorithm cannot read.
LAYOUTS: dict[tuple[str, str], ChannelLayout] = {
    ("linear-learner", "csv"): _CSV,
    # k-NN calls its validation channel "test".
    ("knn", "csv"): replace(_CSV, validation_channel_name="test"),
    ("xgboost", "csv"): _CSV,
    ("image-classification", "jsonl"): _IMAGE_MANIFEST,
    ("blazingtext", "text"): ChannelLayout("train", "validation", "text/plain"),
    ("blazingtext", "jsonl"): _TEXT_MANIFEST,
    (CUSTOM, "csv"): _CSV,
    (CUSTOM, "jsonl"): ChannelLayout("train", "validation", "application/jsonlines"),
    (CUSTOM, "text"): ChannelLayout("train", "validation", "text/plain"),
}

_OVERRIDABLE = {
    "train_channel_name", "validation_channel_name", "content_type", "s3_data_type",
    "attribute_names", "record_wrapper_type", "input_mode", "compression_type",
}


def resolve_layout(
    family: str,
    data_format: str,
    *,
    label_attribute: str,
    training_input_mode: str,
    overrides: dict | None = None,
) -> tuple[ChannelLayout | None, list[str]]:
    """The fold channels for this algorithm and data, or the problems that prevent training."""
    layout = LAYOUTS.get((family, data_format))
    if layout is None:
        readable = sorted(fmt for fam, fmt in LAYOUTS if fam == family)
        return None, [
            f"job_config.input_format: {family} reads {' or '.join(readable)} input, but the dataset is {data_format}; "
            f"convert the dataset or use a custom container"
        ]
    if layout.attribute_names:
        layout = replace(layout, attribute_names=tuple(
            label_attribute if name == "{label}" else name for name in layout.attribute_names
        ))
    if overrides:
        given = {key: value for key, value in overrides.items() if key in _OVERRIDABLE}
        if "attribute_names" in given:
            given["attribute_names"] = tuple(given["attribute_names"])
        layout = replace(layout, **given)
    # The built-in algorithms read their channels the way the job's TrainingInputMode says;
    # only a channel mode the user chose overrides it.
    effective_mode = (overrides or {}).get("input_mode") or training_input_mode
    return layout, _layout_problems(layout, effective_mode)


def _layout_problems(layout: ChannelLayout, input_mode: str) -> list[str]:
    problems = []
    if layout.is_augmented_manifest:
        if not layout.attribute_names:
            problems.append("training.channels.attribute_names: an AugmentedManifestFile channel needs the attribute names to stream")
        if input_mode != "Pipe":
            problems.append(
                "training.algorithm_specification.TrainingInputMode: augmented manifests are streamed in Pipe mode only; "
                "set TrainingInputMode (or training.channels.input_mode) to \"Pipe\""
            )
    elif layout.record_wrapper_type == "RecordIO" and input_mode != "Pipe":
        problems.append("training.channels.record_wrapper_type: RecordIO wrapping needs Pipe mode")
    if layout.train_channel_name == layout.validation_channel_name:
        problems.append("training.channels: the training and validation channels need different names")
    return problems


def input_data_config(layout: ChannelLayout, *, train: str, validation: str) -> list[dict]:
    """CreateTrainingJob InputDataConfig for one fold.

    ``train``/``validation`` are the fold's object URIs; S3Prefix channels get the folder
    that holds only that object, augmented manifests the object itself.
    """
    return [
        _channel(layout, layout.train_channel_name, train),
        _channel(layout, layout.validation_channel_name, validation),
    ]


def _channel(layout: ChannelLayout, name: str, object_uri: str) -> dict:
    uri = object_uri if layout.is_augmented_manifest else object_uri.rsplit("/", 1)[0] + "/"
    data_source: dict = {"S3DataType": layout.s3_data_type, "S3Uri": uri, "S3DataDistributionType": "FullyReplicated"}
    if layout.attribute_names:
        data_source["AttributeNames"] = list(layout.attribute_names)
    channel: dict = {"ChannelName": name, "DataSource": {"S3DataSource": data_source}, "ContentType": layout.content_type}
    if layout.record_wrapper_type:
        channel["RecordWrapperType"] = layout.record_wrapper_type
    if layout.input_mode:
        channel["InputMode"] = layout.input_mode
    if layout.compression_type:
        channel["CompressionType"] = layout.compression_type
    return channel
