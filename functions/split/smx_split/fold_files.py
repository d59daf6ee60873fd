"""Fold files: the streaming writer the split step uses, and the in-memory reference it must match.

Chunk i is fold i's validation file; fold i's training file is every other chunk in fold
order. The streaming writer never holds the input: a second pass scatters each line to a
bucket file of its fold (a bucket holds a range of ranks, about BUCKET_BYTES of lines), then
each bucket is read back, put in rank order and appended to its fold's chunk. All per-line
work is done per block by ``bytes.splitlines``, numpy (including gathers of object arrays)
and ``join``: a Python loop over lines would cost more than the I/O.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .dataset import line_blocks
from .errors import InvalidInputError
from .folds import FoldAssignment

# A bucket's lines are put in rank order by a random gather: buckets that fit the CPU's
# cache make that gather faster (measured at 1M lines: 0.22 s to order all buckets of 2 MiB,
# 0.57 s with 16 MiB ones) and keep memory low.
BUCKET_BYTES = 2 << 20
# A file is open per bucket while the input is scattered: huge inputs get larger buckets
# rather than more files than Lambda's 1024 descriptors. Bucket numbers (at most this plus
# one per fold) then also fit in 16 bits, which numpy sorts with a linear-time radix sort.
MAX_BUCKETS = 512
COPY_BUFFER_BYTES = 1 << 20


def write_validation_chunks(
    read_blocks: Callable[[], Iterable[bytes]],
    assignment: FoldAssignment,
    workdir: Path,
    *,
    bucket_bytes: int = BUCKET_BYTES,
) -> list[Path]:
    """Write ``workdir/chunk{i}`` = fold i's validation file for every fold; ``read_blocks()`` re-reads the input."""
    workdir.mkdir(parents=True, exist_ok=True)
    layout = _BucketLayout(assignment, bucket_bytes)
    buckets = [workdir / f"bucket{index:05d}" for index in range(layout.num_buckets)]
    _scatter_to_buckets(read_blocks(), assignment, layout, buckets)
    return [_write_chunk(fold, assignment, layout, buckets, workdir / f"chunk{fold}") for fold in range(assignment.n_splits)]


def concatenate_training_file(chunks: list[Path], fold: int, destination: Path) -> Path:
    """Fold ``fold``'s training file: every other chunk, in fold order."""
    with destination.open("wb") as out:
        for index, chunk in enumerate(chunks):
            if index != fold:
                with chunk.open("rb") as source:
                    shutil.copyfileobj(source, out, COPY_BUFFER_BYTES)
    return destination


def split_in_memory(data: bytes, assignment: FoldAssignment) -> tuple[list[bytes], list[bytes]]:
    """(validation files, training files) of a whole dataset held in memory: the reference implementation."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()  # a final newline ends the last line; it does not start another
    if len(lines) != assignment.num_lines:
        raise ValueError(f"the data has {len(lines)} lines but the assignment {assignment.num_lines}")
    validation = [
        b"".join(lines[index] + b"\n" for index in assignment.validation_indices(fold))
        for fold in range(assignment.n_splits)
    ]
    training = [b"".join(validation[:fold] + validation[fold + 1:]) for fold in range(assignment.n_splits)]
    return validation, training


class _BucketLayout:
    """Buckets of each fold: bucket b of a fold holds the lines ranked [b * L, (b + 1) * L).

    Ranks are a random permutation, so every bucket is a random sample of its fold and holds
    about L times the mean line size in bytes, wherever its lines sit in the file.
    """

    def __init__(self, assignment: FoldAssignment, bucket_bytes: int):
        bucket_bytes = max(bucket_bytes, assignment.num_bytes // MAX_BUCKETS)
        mean_line_bytes = max(1, assignment.num_bytes // max(1, assignment.num_lines))
        self.lines_per_bucket = max(1, bucket_bytes // mean_line_bytes)
        per_fold = [-(-size // self.lines_per_bucket) for size in assignment.fold_sizes]
        self.first_bucket = np.cumsum([0, *per_fold])
        self.num_buckets = int(self.first_bucket[-1])

    def buckets_of(self, fold_of: np.ndarray, rank: np.ndarray) -> np.ndarray:
        return (self.first_bucket[fold_of] + rank // self.lines_per_bucket).astype(np.uint16)


def _scatter_to_buckets(
    blocks: Iterable[bytes], assignment: FoldAssignment, layout: _BucketLayout, buckets: list[Path]
) -> None:
    files = [path.open("wb") for path in buckets]
    start = stop = 0
    try:
        for block in line_blocks(blocks):
            lines = _lines_of(block)
            stop = start + len(lines)
            if stop > assignment.num_lines:
                break
            keys = layout.buckets_of(assignment.fold_of[start:stop], assignment.rank[start:stop])
            grouped = _gather(lines, np.argsort(keys, kind="stable"))  # file order within each bucket
            counts = np.bincount(keys, minlength=layout.num_buckets)
            offset = 0
            for bucket, count in zip(np.flatnonzero(counts).tolist(), counts[counts > 0].tolist()):
                files[bucket].write(b"".join(grouped[offset: offset + count]))
                offset += count
            start = stop
    finally:
        for file in files:
            file.close()
    if stop != assignment.num_lines:
        raise InvalidInputError(
            [
                f"job_config.input_path: the dataset changed while it was split ({assignment.num_lines} lines "
                "when scanned, a different number when written): run again once the input no longer changes"
            ]
        )


def _write_chunk(fold: int, assignment: FoldAssignment, layout: _BucketLayout, buckets: list[Path], chunk: Path) -> Path:
    ranks = assignment.rank[assignment.members(fold)]  # file order, as the buckets hold them
    bucket_of = (ranks // layout.lines_per_bucket).astype(np.uint16)  # radix-sortable, see MAX_BUCKETS
    by_bucket = np.argsort(bucket_of, kind="stable")
    first = int(layout.first_bucket[fold])
    num_local = int(layout.first_bucket[fold + 1]) - first
    bounds = np.searchsorted(bucket_of[by_bucket], np.arange(num_local))
    with chunk.open("wb") as out:
        for local in range(num_local):
            path = buckets[first + local]
            lines = _lines_of(path.read_bytes())
            # Ranks in bucket b are exactly b * L ... b * L + len - 1: invert them without sorting.
            positions = ranks[by_bucket[bounds[local]: bounds[local] + len(lines)]] - local * layout.lines_per_bucket
            order = np.empty(len(lines), dtype=np.int64)
            order[positions] = np.arange(len(lines))
            out.write(b"".join(_gather(lines, order)))
            os.remove(path)
    return chunk


def _lines_of(block: bytes) -> list[bytes]:
    """A block's lines, each with its newline (a block of whole lines ends with one)."""
    if b"\r" not in block or block.count(b"\r") == block.count(b"\r\n"):
        return block.splitlines(keepends=True)  # safe: it also splits at a lone \r, and there is none
    return [line + b"\n" for line in block.split(b"\n")[:-1]]


def _gather(lines: list[bytes], order: np.ndarray) -> list[bytes]:
    """``lines`` in ``order``: a numpy gather of object pointers, faster than any Python-level pick."""
    objects = np.empty(len(lines), dtype=object)
    objects[:] = lines
    return objects[order].tolist()
