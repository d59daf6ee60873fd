"""Fold files: the streaming writer produces byte for byte what the in-memory reference produces."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smx_split.dataset import scan_dataset
from smx_split.errors import InvalidInputError
from smx_split.fold_files import concatenate_training_file, split_in_memory, write_validation_chunks
from smx_split.folds import assign_folds


def reader(data: bytes, block_size: int):
    return lambda: (data[start: start + block_size] for start in range(0, len(data), block_size))


def split_streaming(data, data_format, tmp_path, *, block_size=1 << 20, window_bytes=16 << 20, strategy="auto", n_splits=3, **options):
    scan = scan_dataset(reader(data, block_size)(), data_format, **options)
    assignment = assign_folds(scan, n_splits=n_splits, random_state=17, strategy=strategy)
    chunks = write_validation_chunks(reader(data, block_size), assignment, tmp_path / "work", window_bytes=window_bytes)
    training = [concatenate_training_file(chunks, fold, tmp_path / f"train{fold}") for fold in range(n_splits)]
    return assignment, [chunk.read_bytes() for chunk in chunks], [path.read_bytes() for path in training]


def sample_csv(lines=60):
    rng = np.random.default_rng(1)
    return b"".join(f"{label},{group},{value:.4f}\n".encode() for label, group, value in
                    zip(rng.integers(0, 3, lines), rng.integers(0, 9, lines), rng.random(lines)))


def sample_manifest(lines=60):
    rng = np.random.default_rng(2)
    return b"".join(
        json.dumps({"source-ref": f"s3://b/img_{index:04d}.jpg", "class": str(label), "patient": f"p{group}"}).encode() + b"\n"
        for index, (label, group) in enumerate(zip(rng.integers(0, 3, lines), rng.integers(0, 9, lines)))
    )


def sample_text(lines=60):
    rng = np.random.default_rng(3)
    return b"".join(f"__label__{label} words of review {index}\n".encode() for index, label in enumerate(rng.integers(0, 3, lines)))


FORMATS = {
    "csv": (sample_csv(), {"group_attribute": 1}),
    "jsonl": (sample_manifest(), {"group_attribute": "patient"}),
    "text": (sample_text(), {}),
}
CASES = [
    (data_format, strategy)
    for data_format in FORMATS
    for strategy in ("kfold", "stratified", "group", "stratified_group")
    if data_format != "text" or "group" not in strategy
]


@pytest.mark.parametrize(("data_format", "strategy"), CASES)
@pytest.mark.parametrize(("block_size", "window_bytes"), [(1 << 20, 16 << 20), (7, 16 << 20), (64, 200), (1, 1)])
def test_given_a_format_and_strategy_then_streamed_files_equal_the_in_memory_split(
    tmp_path, data_format, strategy, block_size, window_bytes
):
    data, options = FORMATS[data_format]
    if "group" not in strategy:
        options = {}
    assignment, validation, training = split_streaming(
        data, data_format, tmp_path, block_size=block_size, window_bytes=window_bytes, strategy=strategy, **options
    )
    assert (validation, training) == split_in_memory(data, assignment)


def test_given_an_assignment_then_the_reference_writes_each_fold_in_rank_order():
    data = sample_manifest(30)
    assignment = assign_folds(scan_dataset([data], "jsonl"), n_splits=3, random_state=5, strategy="stratified")
    lines = data.splitlines(keepends=True)
    validation, training = split_in_memory(data, assignment)
    for fold in range(3):
        assert validation[fold] == b"".join(lines[index] for index in assignment.validation_indices(fold))
        assert training[fold] == b"".join(validation[other] for other in range(3) if other != fold)


def test_given_crlf_lines_and_no_final_newline_then_lines_are_written_unchanged_and_every_file_ends_with_a_newline(tmp_path):
    data = b"\r\n".join(f"{index % 2},{index}".encode() for index in range(20))  # no final newline
    _, validation, training = split_streaming(data, "csv", tmp_path, block_size=5)
    assert all(content.endswith(b"\n") for content in validation + training)
    written = sorted(line for content in validation for line in content.split(b"\n")[:-1])
    assert written == sorted(data.split(b"\n"))  # "0,0\r" ... "1,19": carriage returns kept


def test_given_several_windows_then_only_the_chunks_remain_in_the_workdir(tmp_path):
    split_streaming(sample_manifest(200), "jsonl", tmp_path, window_bytes=500)
    assert sorted(path.name for path in (tmp_path / "work").iterdir()) == ["chunk0", "chunk1", "chunk2"]


def test_given_an_input_that_grew_between_the_passes_then_the_split_stops(tmp_path):
    data = sample_csv(30)
    assignment = assign_folds(scan_dataset([data], "csv"), n_splits=3, random_state=0, strategy="kfold")
    with pytest.raises(InvalidInputError) as raised:
        write_validation_chunks(lambda: [data, b"2,0,0.5\n"], assignment, tmp_path)
    assert raised.value.problems[0].startswith("job_config.input_path: the dataset changed while it was split")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(st.tuples(st.sampled_from(["a", "b"]), st.text(alphabet="xyz é,\r", max_size=12)), min_size=4, max_size=40),
    block_size=st.integers(1, 64),
    window_bytes=st.integers(1, 300),
    n_splits=st.integers(2, 4),
)
def test_given_any_text_dataset_then_streaming_matches_the_reference(tmp_path_factory, lines, block_size, window_bytes, n_splits):
    data = b"".join(f"__label__{label} {words}\n".encode() for label, words in lines)
    tmp_path = tmp_path_factory.mktemp("split")
    assignment, validation, training = split_streaming(
        data, "text", tmp_path, block_size=block_size, window_bytes=window_bytes, strategy="kfold", n_splits=n_splits
    )
    assert (validation, training) == split_in_memory(data, assignment)


@pytest.mark.parametrize("window_bytes", [1 << 20, 100])
def test_given_lines_that_changed_length_between_the_passes_then_the_split_stops(tmp_path, window_bytes):
    # GIVEN a dataset scanned and folded, then rewritten with as many lines but one of them longer
    data = sample_csv(30)
    assignment = assign_folds(scan_dataset([data], "csv"), n_splits=3, random_state=0, strategy="kfold")
    changed = data.replace(b"\n", b"9\n", 1)
    # WHEN the fold files are written from the changed data
    with pytest.raises(InvalidInputError) as raised:
        write_validation_chunks(lambda: [changed], assignment, tmp_path, window_bytes=window_bytes)
    # THEN the split stops rather than place lines at offsets computed for other lines
    assert raised.value.problems[0].startswith("job_config.input_path: the dataset changed while it was split")
