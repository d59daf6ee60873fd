"""Files in and out of the emulated S3: the user's datasets up, a run's outputs down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smx_common.s3uri import S3Uri


def create_bucket(s3: Any, name: str, region: str) -> None:
    """The bucket, unless it exists (outside us-east-1 S3 wants the region as LocationConstraint)."""
    try:
        s3.head_bucket(Bucket=name)
    except s3.exceptions.ClientError:
        arguments = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=name, **arguments)


def upload(s3: Any, local: Path, uri: str, region: str) -> list[str]:
    """Upload a file to ``s3://bucket/key``, or a directory under ``s3://bucket/prefix/``."""
    target_uri = S3Uri.parse(uri)
    bucket, key = target_uri.bucket, target_uri.key
    create_bucket(s3, bucket, region)
    if not local.is_dir():
        s3.upload_file(str(local), bucket, key)
        return [uri]
    uploaded = []
    prefix = target_uri.folder
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        target = prefix + path.relative_to(local).as_posix()
        s3.upload_file(str(path), bucket, target)
        uploaded.append(f"s3://{bucket}/{target}")
    return uploaded


def download_prefix(s3: Any, uri: str, directory: Path) -> list[Path]:
    """Copy every object under an S3 prefix to ``directory/<key relative to the prefix>``. A key that
    would land outside ``directory`` (``..`` in it) is refused: S3 keys are any text."""
    source = S3Uri.parse(uri)
    bucket, prefix = source.bucket, source.folder
    root = Path(directory).resolve()
    written = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            target = (root / item["Key"][len(prefix):]).resolve()
            if root not in target.parents:
                raise ValueError(f"s3://{bucket}/{item['Key']} would be written outside {directory}")
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, item["Key"], str(target))
            written.append(target)
    return written
