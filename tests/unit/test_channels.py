"""Each algorithm family gets the channels its container reads."""

from __future__ import annotations

import pytest

from smx_split.builtin_images import identify
from smx_split.channels import input_data_config, resolve_layout

TRAIN = "s3://out/run/fold0/train/train.{ext}"
VALIDATION = "s3://out/run/fold0/validation/validation.{ext}"


def channels_for(image: str, data_format: str, mode: str = "File", overrides=None) -> list[dict]:
    ext = {"csv": "csv", "jsonl": "jsonl", "text": "txt"}[data_format]
    layout, problems = resolve_layout(identify(image).family, data_format, label_attribute="class",
                                      training_input_mode=mode, overrides=overrides)
    assert problems == []
    return input_data_config(layout, train=TRAIN.format(ext=ext), validation=VALIDATION.format(ext=ext))


@pytest.mark.parametrize("image, validation_channel", [
    ("382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1", "validation"),
    ("382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1", "test"),
    ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", "validation"),
])
def test_csv_algorithms_read_a_csv_folder_per_channel(image, validation_channel):
    train, validation = channels_for(image, "csv")
    assert [train["ChannelName"], validation["ChannelName"]] == ["train", validation_channel]
    assert train["ContentType"] == "text/csv"
    # S3Prefix channels point at the folder holding only that fold's file.
    assert train["DataSource"]["S3DataSource"] == {
        "S3DataType": "S3Prefix", "S3Uri": "s3://out/run/fold0/train/", "S3DataDistributionType": "FullyReplicated"}


def test_image_classification_streams_an_augmented_manifest_as_recordio():
    train, validation = channels_for("685385470294.dkr.ecr.eu-west-1.amazonaws.com/image-classification:1", "jsonl", "Pipe")
    source = validation["DataSource"]["S3DataSource"]
    assert source["S3DataType"] == "AugmentedManifestFile"
    assert source["S3Uri"] == "s3://out/run/fold0/validation/validation.jsonl"
    assert source["AttributeNames"] == ["source-ref", "class"]
    assert validation["RecordWrapperType"] == "RecordIO"
    assert validation["InputMode"] == "Pipe"
    assert validation["ContentType"] == "application/x-recordio"


def test_blazingtext_reads_label_prefixed_text_in_file_mode():
    train, _ = channels_for("811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1", "text")
    assert train["ContentType"] == "text/plain"
    assert train["DataSource"]["S3DataSource"]["S3DataType"] == "S3Prefix"
    assert "InputMode" not in train


def test_blazingtext_augmented_manifest_streams_source_and_label():
    train, _ = channels_for("811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1", "jsonl", "Pipe")
    assert train["DataSource"]["S3DataSource"]["AttributeNames"] == ["source", "class"]
    assert train["ContentType"] == "application/jsonlines"
    assert "RecordWrapperType" not in train


def test_custom_container_channels_can_be_overridden():
    train, validation = channels_for("123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:latest", "jsonl",
                                     overrides={"train_channel_name": "training", "content_type": "application/json",
                                                "compression_type": "None"})
    assert [train["ChannelName"], validation["ChannelName"]] == ["training", "validation"]
    assert train["ContentType"] == "application/json"
    assert train["CompressionType"] == "None"


def test_a_family_that_cannot_read_the_format_says_what_it_reads():
    layout, problems = resolve_layout("knn", "text", label_attribute="class", training_input_mode="File")
    assert layout is None
    assert problems == ["job_config.input_format: knn reads csv input, but the dataset is text; "
                        "convert the dataset or use a custom container"]
