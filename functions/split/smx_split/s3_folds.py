"""The split step's S3 I/O: stream the input, upload the fold chunks, compose each training object.

Training objects are composed on the S3 side: fold i's training object is a multipart upload
whose parts are UploadPartCopy requests of the other folds' validation objects, so the
function uploads each line once (about 1x the input) instead of k times. S3 wants every part
but the last to be at least 5 MiB; when chunks are smaller than that the training file is
concatenated locally and uploaded (small data: the extra upload costs little). A search that refits its
best candidate also gets the whole dataset as one object, composed the same way from every chunk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from smx_common.s3uri import S3Uri, encryption_args

from .errors import InvalidInputError
from .fold_files import concatenate_training_file
from .folds import FoldAssignment

MIN_PART_BYTES = 5 << 20  # S3's minimum for every part of a multipart upload but the last
MAX_PART_BYTES = 5 << 30  # S3's maximum for one part (and one UploadPartCopy)
COPY_CONCURRENCY = 8  # UploadPartCopy requests in flight: server-side copies, no local memory
# Multipart uploads of chunks: parts of 16 MiB, four at a time, bound the memory they take.
UPLOAD_CONFIG = TransferConfig(multipart_threshold=16 << 20, multipart_chunksize=16 << 20, max_concurrency=4)


@dataclass(frozen=True)
class FoldObjects:
    fold_index: int
    train_prefix: str  # the S3Prefix channel URIs SageMaker reads
    validation_prefix: str
    train_uri: str  # the objects themselves
    validation_uri: str
    num_training_samples: int
    num_validation_samples: int
    repeat_index: int | None = None  # set in a repeated k-fold run only


@dataclass(frozen=True)
class UploadReport:
    folds: list[FoldObjects]
    bytes_uploaded: int  # request bodies sent to S3 (server-side copies send none)
    composed_server_side: bool  # every training object was composed from the chunks on S3


def s3_block_reader(s3_client, uri: str, block_size: int = 8 << 20) -> Callable[[], Iterable[bytes]]:
    """A function that streams the object at ``uri`` in blocks, from the start, each time it is called.

    Every pass reads the version the first HeadObject saw (If-Match on its ETag): a dataset
    replaced between the scan and the write would otherwise get folds computed for other lines.
    """
    source = S3Uri.parse(uri)
    head = _head_input(s3_client, source, uri)
    size, etag = head["ContentLength"], head["ETag"]

    def read_range(start: int) -> bytes:
        last = min(start + block_size, size) - 1
        try:
            response = s3_client.get_object(
                Bucket=source.bucket, Key=source.key, Range=f"bytes={start}-{last}", IfMatch=etag
            )
        except ClientError as error:
            if _error_code(error) in ("PreconditionFailed", "412"):
                raise InvalidInputError(
                    [f"job_config.input_path: {uri} changed while it was being split: run again once it no longer changes"]
                ) from None
            raise
        return response["Body"].read()

    def read_blocks() -> Iterator[bytes]:
        # One block is fetched ahead while the caller works on the current one.
        starts = range(0, size, block_size)
        if not starts:
            return
        with ThreadPoolExecutor(max_workers=1) as prefetch:
            pending = prefetch.submit(read_range, starts[0])
            for start in starts[1:]:
                block = pending.result()
                pending = prefetch.submit(read_range, start)
                yield block
            yield pending.result()

    return read_blocks


def upload_folds(
    s3_client,
    chunks: list[Path],
    assignment: FoldAssignment,
    run_prefix: str,
    extension: str,
    kms_key_id: str | None,
    repeat_index: int | None = None,
) -> UploadReport:
    """Upload chunk i as fold i's validation object and build every fold's training object (a repeat's
    under ``repeat{r}/``)."""
    written = encryption_args(kms_key_id)
    sizes = [chunk.stat().st_size for chunk in chunks]
    folds = fold_objects(run_prefix, extension, assignment.fold_sizes, repeat_index)
    validation = [S3Uri.parse(fold.validation_uri) for fold in folds]
    training = [S3Uri.parse(fold.train_uri) for fold in folds]
    for chunk, target in zip(chunks, validation):
        s3_client.upload_file(str(chunk), target.bucket, target.key, ExtraArgs=written, Config=UPLOAD_CONFIG)
    bytes_uploaded = sum(sizes)
    composed_server_side = True
    for fold, target in enumerate(training):
        parts = [other for other in range(len(chunks)) if other != fold and sizes[other]]
        if parts and all(sizes[other] >= MIN_PART_BYTES for other in parts[:-1]):
            _compose(s3_client, target, [(validation[other], sizes[other]) for other in parts], written)
            continue
        composed_server_side = False
        local = concatenate_training_file(chunks, fold, chunks[fold].with_name(f"train{fold}.{extension}"))
        s3_client.upload_file(str(local), target.bucket, target.key, ExtraArgs=written, Config=UPLOAD_CONFIG)
        bytes_uploaded += local.stat().st_size
        local.unlink()
    return UploadReport(folds=folds, bytes_uploaded=bytes_uploaded, composed_server_side=composed_server_side)


def upload_whole_dataset(s3_client, chunks: list[Path], folds: list[FoldObjects], run_prefix: str, extension: str,
                         kms_key_id: str | None) -> tuple[str, int]:
    """Every chunk, in fold order, as ``refit/data/dataset.{extension}``: each line of the dataset once,
    for the refit job. ``folds`` are the chunks' uploaded folds (composing on S3 copies their validation
    objects). Returns the object's URI and the bytes sent (none when composed on S3)."""
    target = S3Uri.parse(whole_dataset_uri(run_prefix, extension))
    written = encryption_args(kms_key_id)
    sizes = [chunk.stat().st_size for chunk in chunks]
    parts = [index for index, size in enumerate(sizes) if size]
    if len(parts) > 1 and all(sizes[index] >= MIN_PART_BYTES for index in parts[:-1]):
        _compose(s3_client, target, [(S3Uri.parse(folds[index].validation_uri), sizes[index]) for index in parts],
                 written)
        return str(target), 0
    local = concatenate_training_file(chunks, None, chunks[0].with_name(f"dataset.{extension}"))
    s3_client.upload_file(str(local), target.bucket, target.key, ExtraArgs=written, Config=UPLOAD_CONFIG)
    sent = local.stat().st_size
    local.unlink()
    return str(target), sent


def whole_dataset_uri(run_prefix: str, extension: str) -> str:
    """Where the refit job's data lives: alone under its folder, so an S3Prefix channel reads it only."""
    return str(S3Uri.parse(run_prefix).child(f"refit/data/dataset.{extension}"))


def fold_objects(run_prefix: str, extension: str, fold_sizes: Sequence[int],
                 repeat_index: int | None = None) -> list[FoldObjects]:
    """Where each fold's files live under the run prefix (a repeat's under ``repeat{r}/``), and its sample
    counts (pure: nothing is written)."""
    run = S3Uri.parse(run_prefix)
    if repeat_index is not None:
        run = run.child(f"repeat{repeat_index}/")
    total = sum(fold_sizes)
    return [
        FoldObjects(
            fold_index=fold,
            train_prefix=str(run.child(f"fold{fold}/train/")),
            validation_prefix=str(run.child(f"fold{fold}/validation/")),
            train_uri=str(run.child(f"fold{fold}/train/train.{extension}")),
            validation_uri=str(run.child(f"fold{fold}/validation/validation.{extension}")),
            num_training_samples=total - size,
            num_validation_samples=size,
            repeat_index=repeat_index,
        )
        for fold, size in enumerate(fold_sizes)
    ]


def _head_input(s3_client, source: S3Uri, uri: str) -> dict:
    try:
        return s3_client.head_object(Bucket=source.bucket, Key=source.key)
    except ClientError as error:
        code = _error_code(error)
        if code in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
            raise InvalidInputError(
                [f"job_config.input_path: {uri} does not exist: check the bucket and key of the dataset"]
            ) from None
        if code in ("403", "AccessDenied", "Forbidden"):
            # Without s3:ListBucket, S3 answers 403 for a missing key too.
            raise InvalidInputError(
                [
                    f"job_config.input_path: {uri} cannot be read (access denied): check that the key exists "
                    "and that the dataset is in the deployment's input bucket"
                ]
            ) from None
        raise


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _compose(s3_client, target: S3Uri, sources: list[tuple[S3Uri, int]], written: dict[str, str]) -> None:
    """Make ``target`` the concatenation of ``sources`` with a multipart upload of server-side copies."""
    upload_id = s3_client.create_multipart_upload(Bucket=target.bucket, Key=target.key, **written)["UploadId"]

    def copy_part(numbered: tuple[int, tuple[S3Uri, str | None]]) -> dict:
        number, (source, byte_range) = numbered
        result = s3_client.upload_part_copy(
            Bucket=target.bucket,
            Key=target.key,
            UploadId=upload_id,
            PartNumber=number,
            CopySource={"Bucket": source.bucket, "Key": source.key},
            **({"CopySourceRange": byte_range} if byte_range else {}),
        )
        return {"PartNumber": number, "ETag": result["CopyPartResult"]["ETag"]}

    try:
        with ThreadPoolExecutor(max_workers=COPY_CONCURRENCY) as pool:
            parts = list(pool.map(copy_part, enumerate(_part_ranges(sources), 1)))
        s3_client.complete_multipart_upload(
            Bucket=target.bucket, Key=target.key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        s3_client.abort_multipart_upload(Bucket=target.bucket, Key=target.key, UploadId=upload_id)
        raise


def _part_ranges(sources: list[tuple[S3Uri, int]]) -> list[tuple[S3Uri, str | None]]:
    """One part per source; a source over S3's part limit is cut into equal ranges (each far above 5 MiB)."""
    ranges: list[tuple[S3Uri, str | None]] = []
    for source, size in sources:
        if size <= MAX_PART_BYTES:
            ranges.append((source, None))
            continue
        pieces = -(-size // MAX_PART_BYTES)
        step = -(-size // pieces)
        ranges.extend((source, f"bytes={start}-{min(start + step, size) - 1}") for start in range(0, size, step))
    return ranges
