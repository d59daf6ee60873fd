"""A training job's input channels, read from S3 the way SageMaker delivers them.

- ``S3Prefix``: every object whose key starts with the prefix, in key order.
- ``ManifestFile``: the objects a manifest lists (``[{"prefix": "s3://b/p/"}, "rel/key", ...]``).
- ``AugmentedManifestFile``: one JSON object per line; only ``AttributeNames`` are delivered,
  in that order, and an attribute ending in ``-ref`` is an S3 URI whose object is delivered.
- ``CompressionType: Gzip`` objects are decompressed.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from smx_common.s3uri import S3Uri


class ChannelDataError(Exception):
    """The channel's data cannot be delivered (SageMaker fails the job with a ClientError)."""


@dataclass(frozen=True)
class Channel:
    name: str
    s3_data_type: str
    s3_uri: str
    content_type: str | None = None
    compression_type: str = "None"
    record_wrapper_type: str = "None"
    input_mode: str = "File"
    attribute_names: tuple[str, ...] = ()

    @classmethod
    def from_request(cls, config: dict[str, Any], training_input_mode: str) -> "Channel":
        source = config.get("DataSource", {}).get("S3DataSource")
        if source is None:
            raise ChannelDataError(f"Channel {config.get('ChannelName')!r}: only S3DataSource channels are emulated")
        return cls(
            name=config["ChannelName"],
            s3_data_type=source.get("S3DataType", "S3Prefix"),
            s3_uri=source["S3Uri"],
            content_type=config.get("ContentType"),
            compression_type=config.get("CompressionType") or "None",
            record_wrapper_type=config.get("RecordWrapperType") or "None",
            input_mode=config.get("InputMode") or training_input_mode or "File",
            attribute_names=tuple(source.get("AttributeNames") or ()),
        )

    @property
    def media_type(self) -> str | None:
        """ContentType without parameters (``text/csv;label_size=1`` -> ``text/csv``)."""
        return self.content_type.split(";", 1)[0].strip().lower() if self.content_type else None


def split_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an S3 URI the request names; a channel SageMaker cannot read fails the job."""
    try:
        parsed = S3Uri.parse(uri)
    except ValueError as error:
        raise ChannelDataError(str(error)) from None
    return parsed.bucket, parsed.key


class ChannelReader:
    """Reads one channel through an S3 client (the emulated S3, as the container would)."""

    def __init__(self, s3: Any, channel: Channel):
        self._s3 = s3
        self.channel = channel

    def objects(self) -> list[tuple[str, str, str]]:
        """(bucket, key, path relative to the channel) of every object the channel delivers."""
        bucket, key = split_s3_uri(self.channel.s3_uri)
        if self.channel.s3_data_type == "S3Prefix":
            # SageMaker keeps the path below the prefix's folder ("s3://b/data/" + "data/x/1.csv" -> "x/1.csv").
            folder = key[:key.rfind("/") + 1]
            found = [(bucket, item, item[len(folder):]) for item in self._list(bucket, key)]
            if not found:
                raise ChannelDataError(
                    f"Data download failed:No S3 objects found under S3 URL \"{self.channel.s3_uri}\" given in "
                    f"input data source. Please ensure that the bucket exists in the selected region (us-east-1), "
                    f"that objects exist under that S3 prefix, and that the role has access to those objects.")
            return found
        if self.channel.s3_data_type == "ManifestFile":
            return self._manifest_objects(bucket, key)
        if self.channel.s3_data_type == "AugmentedManifestFile":
            return [(bucket, key, key.rsplit("/", 1)[-1])]
        raise ChannelDataError(f"Channel {self.channel.name!r}: unknown S3DataType {self.channel.s3_data_type!r}")

    def read(self, bucket: str, key: str) -> bytes:
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except Exception as error:  # botocore ClientError: NoSuchKey, AccessDenied...
            raise ChannelDataError(f"Channel {self.channel.name!r}: cannot read s3://{bucket}/{key}: {error}") from None
        if self.channel.compression_type == "Gzip":
            try:
                body = gzip.decompress(body)
            except OSError as error:
                raise ChannelDataError(f"Channel {self.channel.name!r}: s3://{bucket}/{key} is not gzip: {error}") from None
        return body

    def text_lines(self) -> list[str]:
        """The records of a file channel: non-empty lines of every object, in delivery order."""
        if self.channel.s3_data_type == "AugmentedManifestFile":
            raise ChannelDataError(f"Channel {self.channel.name!r} is an augmented manifest, not a file channel")
        lines: list[str] = []
        for bucket, key, _ in self.objects():
            try:
                text = self.read(bucket, key).decode("utf-8")
            except UnicodeDecodeError:
                raise ChannelDataError(f"Channel {self.channel.name!r}: s3://{bucket}/{key} is not UTF-8 text") from None
            lines.extend(line for line in text.splitlines() if line.strip())
        return lines

    def manifest_records(self) -> Iterator[list[Any]]:
        """Each line's AttributeNames values, in order; ``-ref`` attributes as the object's bytes."""
        if self.channel.s3_data_type != "AugmentedManifestFile":
            raise ChannelDataError(
                f"Channel {self.channel.name!r} is {self.channel.s3_data_type}; this algorithm reads an AugmentedManifestFile")
        if not self.channel.attribute_names:
            raise ChannelDataError(f"Channel {self.channel.name!r}: an AugmentedManifestFile needs AttributeNames")
        bucket, key, _ = self.objects()[0]
        for number, line in enumerate(self.read(bucket, key).decode("utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                document = json.loads(line)
            except json.JSONDecodeError as error:
                raise ChannelDataError(
                    f"Channel {self.channel.name!r}: line {number} of the augmented manifest is not JSON: {error}") from None
            record = []
            for attribute in self.channel.attribute_names:
                if attribute not in document:
                    raise ChannelDataError(
                        f"Channel {self.channel.name!r}: line {number} of the augmented manifest has no attribute {attribute!r}")
                value = document[attribute]
                if attribute.endswith("-ref"):
                    value = self.read(*split_s3_uri(value))
                record.append(value)
            yield record

    def download_to(self, directory: Path) -> None:
        """File mode: every object under ``directory`` at its path relative to the channel."""
        directory.mkdir(parents=True, exist_ok=True)
        for bucket, key, relative in self.objects():
            target = directory / (relative or key.rsplit("/", 1)[-1])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.read(bucket, key))

    def _list(self, bucket: str, prefix: str) -> list[str]:
        keys: list[str] = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []) if not item["Key"].endswith("/"))
        return sorted(keys)

    def _manifest_objects(self, bucket: str, key: str) -> list[tuple[str, str, str]]:
        try:
            entries = json.loads(self.read(bucket, key))
            prefix_bucket, prefix_key = split_s3_uri(entries[0]["prefix"])
        except (ValueError, KeyError, IndexError, TypeError):
            raise ChannelDataError(f"Channel {self.channel.name!r}: s3://{bucket}/{key} is not a manifest file "
                                   "([{\"prefix\": \"s3://bucket/prefix/\"}, \"relative/key\", ...])") from None
        return [(prefix_bucket, prefix_key + relative, relative) for relative in entries[1:]]
