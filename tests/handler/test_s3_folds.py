"""The split's S3 I/O on moto: streamed reads, fold objects, and the bytes the function uploads."""

from __future__ import annotations

import boto3
import numpy as np
import pytest
from moto import mock_aws

from smx_split.dataset import scan_dataset
from smx_split.errors import InvalidInputError
from smx_split.fold_files import split_in_memory, write_validation_chunks
from smx_split.folds import assign_folds
from smx_split.s3_folds import MIN_PART_BYTES, s3_block_reader, upload_folds

INPUT, OUTPUT = "smx-input", "smx-output"
RUN_PREFIX = f"s3://{OUTPUT}/runs/crossvalidator-demo-20261122-120000/"


@pytest.fixture
def s3():
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=INPUT)
        client.create_bucket(Bucket=OUTPUT)
        yield client


@pytest.fixture
def uploaded_bytes(s3):
    """Payload bytes of every PutObject and UploadPart sent to the output bucket (server-side copies send none)."""
    sent = []

    def count(request, event_name, **_):
        if event_name.endswith((".PutObject", ".UploadPart")) and OUTPUT in request.url:
            headers = request.headers
            sent.append(int(headers.get("X-Amz-Decoded-Content-Length") or headers.get("Content-Length") or 0))

    s3.meta.events.register("before-send.s3.*", count)
    return sent


def csv_rows(num_rows: int, row_bytes: int) -> bytes:
    rng = np.random.default_rng(4)
    padding = "0." + "7" * (row_bytes - 6)
    return b"".join(f"{label},{padding}\n".encode() for label in rng.integers(0, 4, num_rows))


def split_on_s3(s3, data: bytes, tmp_path, *, n_splits: int, kms_key_id=None):
    s3.put_object(Bucket=INPUT, Key="data/train.csv", Body=data)
    read_blocks = s3_block_reader(s3, f"s3://{INPUT}/data/train.csv", block_size=1 << 20)
    assignment = assign_folds(scan_dataset(read_blocks(), "csv"), n_splits=n_splits, random_state=8, strategy="auto")
    chunks = write_validation_chunks(read_blocks, assignment, tmp_path / "work")
    return assignment, upload_folds(s3, chunks, assignment, RUN_PREFIX, "csv", kms_key_id)


def object_bytes(s3, uri: str) -> bytes:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_given_an_object_then_the_reader_streams_all_of_it_in_blocks_every_time_it_is_called(s3):
    data = bytes(range(256)) * 41
    s3.put_object(Bucket=INPUT, Key="blob.txt", Body=data)
    read_blocks = s3_block_reader(s3, f"s3://{INPUT}/blob.txt", block_size=1000)
    first, second = list(read_blocks()), list(read_blocks())
    assert b"".join(first) == b"".join(second) == data
    assert [len(block) for block in first] == [1000] * 10 + [496]


def test_given_a_missing_input_then_the_input_path_is_named(s3):
    with pytest.raises(InvalidInputError) as raised:
        s3_block_reader(s3, f"s3://{INPUT}/nowhere.csv")
    assert raised.value.problems == [
        f"job_config.input_path: s3://{INPUT}/nowhere.csv does not exist: check the bucket and key of the dataset"
    ]


def test_given_an_input_replaced_between_passes_then_the_second_pass_stops(s3):
    s3.put_object(Bucket=INPUT, Key="data.csv", Body=b"1,2\n0,3\n")
    read_blocks = s3_block_reader(s3, f"s3://{INPUT}/data.csv")
    list(read_blocks())
    s3.put_object(Bucket=INPUT, Key="data.csv", Body=b"1,2\n0,3\n1,4\n")
    with pytest.raises(InvalidInputError) as raised:
        list(read_blocks())
    assert "changed while it was being split" in raised.value.problems[0]


def test_given_chunks_of_5_mib_then_training_objects_are_composed_on_s3_and_each_byte_is_uploaded_once(
    s3, uploaded_bytes, tmp_path
):
    data = csv_rows(num_rows=8_200, row_bytes=2_000)  # three folds of about 5.5 MB
    assignment, report = split_on_s3(s3, data, tmp_path, n_splits=3)
    assert min(assignment.fold_sizes) * 2_000 > MIN_PART_BYTES
    assert report.composed_server_side
    assert sum(uploaded_bytes) == report.bytes_uploaded == len(data)
    validation, training = split_in_memory(data, assignment)
    for fold in report.folds:
        assert object_bytes(s3, fold.validation_uri) == validation[fold.fold_index]
        assert object_bytes(s3, fold.train_uri) == training[fold.fold_index]


def test_given_small_chunks_then_training_files_are_uploaded_whole_and_still_correct(s3, uploaded_bytes, tmp_path):
    data = csv_rows(num_rows=200, row_bytes=40)
    assignment, report = split_on_s3(s3, data, tmp_path, n_splits=4)
    assert not report.composed_server_side
    assert sum(uploaded_bytes) == report.bytes_uploaded == 4 * len(data)  # 1x validation + 3x training
    validation, training = split_in_memory(data, assignment)
    for fold in report.folds:
        assert object_bytes(s3, fold.validation_uri) == validation[fold.fold_index]
        assert object_bytes(s3, fold.train_uri) == training[fold.fold_index]
    assert sorted(path.name for path in (tmp_path / "work").iterdir()) == ["chunk0", "chunk1", "chunk2", "chunk3"]


def test_given_the_folds_then_channel_prefixes_objects_and_sample_counts_are_reported(s3, tmp_path):
    data = csv_rows(num_rows=50, row_bytes=20)
    assignment, report = split_on_s3(s3, data, tmp_path, n_splits=5)
    fold = report.folds[2]
    assert fold.train_prefix == f"{RUN_PREFIX}fold2/train/"
    assert fold.validation_prefix == f"{RUN_PREFIX}fold2/validation/"
    assert fold.train_uri == f"{RUN_PREFIX}fold2/train/train.csv"
    assert fold.validation_uri == f"{RUN_PREFIX}fold2/validation/validation.csv"
    assert (fold.num_training_samples, fold.num_validation_samples) == (50 - assignment.fold_sizes[2], assignment.fold_sizes[2])
    listed = s3.list_objects_v2(Bucket=OUTPUT, Prefix="runs/")["Contents"]
    assert len(listed) == 10


@pytest.mark.parametrize(("kms_key_id", "expected"), [(None, {"ServerSideEncryption": "AES256"}),
                                                      ("alias/smx", {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/smx"})])
def test_given_a_kms_key_or_none_then_every_written_object_is_encrypted_with_it(s3, tmp_path, kms_key_id, expected):
    for n_splits, data in [(3, csv_rows(num_rows=8_200, row_bytes=2_000)), (2, csv_rows(num_rows=20, row_bytes=20))]:
        _, report = split_on_s3(s3, data, tmp_path / str(n_splits), n_splits=n_splits, kms_key_id=kms_key_id)
        for fold in report.folds:
            for uri in (fold.train_uri, fold.validation_uri):
                head = s3.head_object(Bucket=OUTPUT, Key=uri.removeprefix(f"s3://{OUTPUT}/"))
                assert {name: head.get(name) for name in expected} == expected
