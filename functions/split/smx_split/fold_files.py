"""Fold files: the streaming writer the split step uses, and the in-memory reference it must match.

Chunk i is fold i's validation file; fold i's training file is every other chunk in fold
order. Laid end to end, the chunks form the "output space". Once the folds are assigned, the
offset of every line in it is known (line lengths come from the scan), so the second pass
copies each line of the input straight to its offset: numpy copies all lines of one length
at once, as rows of a strided view. A Python loop over lines would cost more than the I/O.

Memory stays bounded: the output space is cut at line starts into windows of at most
WINDOW_BYTES. With one window (inputs up to that size) the input is copied into it directly.
With several, a first pass appends each line to its window's file, in file order, and each
window is then filled from its file alone.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .errors import InvalidInputError
from .folds import FoldAssignment

# The output window. Measured with make bench: 1M manifest lines (74 MB) fit in one window,
# so the input is read twice in all; 10M lines (740 MB) take 6 windows, one more write and
# read of the input on /tmp, and peak within the benchmark's 700 MiB goal (the function has
# 1769 MB, template.yaml's MemorySize).
WINDOW_BYTES = 128 << 20
# Lines are copied about this many bytes at a time: the row copies' temporaries stay small
# and in the CPU's cache.
COPY_SLICE_BYTES = 1 << 20
# A row copy costs one numpy call per distinct line length: with fewer lines per length
# than this (long, ragged lines), copying byte by byte through an index array is cheaper.
MIN_LINES_PER_LENGTH = 16
COPY_BUFFER_BYTES = 1 << 20  # training files composed from validation chunks (copyfileobj)
READ_BLOCK_BYTES = 8 << 20  # reads of the window files
# Windows are written to files in pieces of this size: measured with make bench, writing a fold's
# 15 MB in one call takes twice as long on a cold page cache (0.28 s against 0.16 s for 1M lines).
WRITE_PIECE_BYTES = 1 << 20


def write_validation_chunks(
    read_blocks: Callable[[], Iterable[bytes]],
    assignment: FoldAssignment,
    workdir: Path,
    *,
    window_bytes: int = WINDOW_BYTES,
) -> list[Path]:
    """Write ``workdir/chunk{i}`` = fold i's validation file for every fold; ``read_blocks()`` re-reads the input."""
    workdir.mkdir(parents=True, exist_ok=True)
    offsets = assignment.output_offsets()
    windows = _Windows.cut(offsets, assignment.num_bytes, window_bytes)
    chunks = [workdir / f"chunk{fold}" for fold in range(assignment.n_splits)]
    with _ChunkWriter(chunks, assignment.fold_bytes()) as writer:
        if windows.count == 1:
            window = np.empty(assignment.num_bytes, dtype=np.uint8)
            _place_lines(read_blocks(), assignment.line_bytes, offsets, window)
            writer.write(window)
            return chunks
        for index, path in enumerate(_scatter_to_windows(read_blocks(), assignment.line_bytes, windows, workdir)):
            members = np.flatnonzero(windows.of_line == index)  # file order: as the window's file holds them
            window = np.empty(windows.size(index), dtype=np.uint8)
            _place_lines(_file_blocks(path), assignment.line_bytes[members], offsets[members] - windows.starts[index],
                         window)
            path.unlink()
            writer.write(window)
            del window  # before the next window is allocated
    return chunks


def concatenate_training_file(chunks: list[Path], fold: int | None, destination: Path) -> Path:
    """Fold ``fold``'s training file: every other chunk, in fold order (``fold`` None: every chunk, the whole
    dataset)."""
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


class _Windows:
    """The output space cut at line starts into windows of at most ``window_bytes`` (a longer line: its own)."""

    def __init__(self, starts: np.ndarray, total: int, of_line: np.ndarray | None):
        self.starts = starts  # offset where each window begins
        self.total = total
        self.of_line = of_line  # each line's window, file order (None with one window)

    @property
    def count(self) -> int:
        return len(self.starts)

    def size(self, index: int) -> int:
        end = int(self.starts[index + 1]) if index + 1 < self.count else self.total
        return end - int(self.starts[index])

    @classmethod
    def cut(cls, offsets: np.ndarray, total: int, window_bytes: int) -> _Windows:
        if total <= window_bytes:
            return cls(np.zeros(1, dtype=np.int64), total, None)
        # Few windows, many lines: a pass over the offsets per window costs less memory than a sort.
        starts = [0]
        while starts[-1] + window_bytes < total:
            limit = starts[-1] + window_bytes
            inside = offsets[(offsets > starts[-1]) & (offsets <= limit)]
            if len(inside):
                starts.append(int(inside.max()))  # the last line starting inside the window
                continue
            later = offsets[offsets > starts[-1]]  # one line fills the window: the window ends with it
            if not len(later):
                break
            starts.append(int(later.min()))
        of_line = np.zeros(len(offsets), dtype=np.min_scalar_type(len(starts)))  # 1 or 2 bytes a line
        for start in starts[1:]:
            of_line += offsets >= start
        return cls(np.asarray(starts, dtype=np.int64), total, of_line)


class _ChunkWriter:
    """Appends the output space, window by window, to the chunk files (a window may span several)."""

    def __init__(self, chunks: list[Path], fold_bytes: np.ndarray):
        self.chunks = chunks
        self.fold_ends = np.cumsum(fold_bytes).tolist()
        self.position = 0
        self.fold = 0
        self.file = None

    def __enter__(self) -> _ChunkWriter:
        self.file = self.chunks[0].open("wb")
        self._next_fold_when_full()
        return self

    def __exit__(self, *exc_info) -> None:
        self.file.close()

    def write(self, window: np.ndarray) -> None:
        view = memoryview(window)
        done = 0
        while done < len(view):
            take = min(len(view) - done, self.fold_ends[self.fold] - self.position)
            if take <= 0:
                raise ValueError("the windows hold more bytes than the folds")  # offsets and sizes disagree
            _write_in_pieces(self.file, view[done: done + take])
            done += take
            self.position += take
            self._next_fold_when_full()

    def _next_fold_when_full(self) -> None:
        while self.position == self.fold_ends[self.fold] and self.fold + 1 < len(self.chunks):
            self.file.close()
            self.fold += 1
            self.file = self.chunks[self.fold].open("wb")


def _scatter_to_windows(blocks: Iterable[bytes], line_bytes: np.ndarray, windows: _Windows, workdir: Path) -> list[Path]:
    """Append every line to its window's file, in file order, so that each window can be filled alone."""
    paths = [workdir / f"window{index:05d}" for index in range(windows.count)]
    files = [path.open("wb") for path in paths]
    try:
        for source, lines, starts in _checked_blocks(blocks, line_bytes):
            window_of = windows.of_line[lines]
            sizes = line_bytes[lines]
            order = np.argsort(window_of, kind="stable")
            grouped_ends = np.cumsum(sizes[order], dtype=np.int64)
            destinations = np.empty(len(order), dtype=np.int64)
            destinations[order] = grouped_ends - sizes[order]
            grouped = np.empty(len(source), dtype=np.uint8)
            _copy_lines(source, starts, sizes, destinations, grouped)
            window_ends = grouped_ends[np.cumsum(np.bincount(window_of, minlength=windows.count)) - 1]
            position = 0
            for index in np.unique(window_of).tolist():
                end = int(window_ends[index])
                _write_in_pieces(files[index], memoryview(grouped)[position:end])
                position = end
    finally:
        for file in files:
            file.close()
    return paths


def _place_lines(blocks: Iterable[bytes], line_bytes: np.ndarray, destinations: np.ndarray, target: np.ndarray) -> None:
    """Copy the streamed lines, whose lengths are ``line_bytes``, to ``target`` at ``destinations``."""
    for source, lines, starts in _checked_blocks(blocks, line_bytes):
        _copy_lines(source, starts, line_bytes[lines], destinations[lines], target)


def _checked_blocks(blocks: Iterable[bytes], line_bytes: np.ndarray) -> Iterator[tuple[np.ndarray, slice, np.ndarray]]:
    """The streamed lines as (bytes, their slice of ``line_bytes``, each line's start in those bytes).

    A line whose length differs from the scan's would overwrite another: the dataset changed
    between the passes, and nothing may be written from it.
    """
    first = 0
    for source in _whole_lines(blocks):
        count = int(np.count_nonzero(source == ord("\n")))
        lines = slice(first, first + count)
        sizes = line_bytes[lines]
        ends = np.cumsum(sizes, dtype=np.int64)
        if len(sizes) != count or int(ends[-1]) != len(source) or not np.all(source[ends - 1] == ord("\n")):
            raise _changed_while_split(len(line_bytes))
        yield source, lines, ends - sizes
        first += count
    if first != len(line_bytes):
        raise _changed_while_split(len(line_bytes))


def _whole_lines(blocks: Iterable[bytes]) -> Iterator[np.ndarray]:
    """``line_blocks`` without copying each block: views of the whole lines in it, and the lines across blocks
    joined apart (a missing final newline is added)."""
    partial: list[bytes] = []
    for block in blocks:
        start = 0
        if partial:
            start = block.find(b"\n") + 1
            if start == 0:
                partial.append(block)
                continue
            yield np.frombuffer(b"".join([*partial, block[:start]]), np.uint8)
            partial = []
        end = block.rfind(b"\n") + 1
        if end > start:
            yield np.frombuffer(block, np.uint8, end - start, start)
        if end < len(block):
            partial.append(block[max(start, end):])
    if partial:
        yield np.frombuffer(b"".join([*partial, b"\n"]), np.uint8)


def _changed_while_split(num_lines: int) -> InvalidInputError:
    return InvalidInputError(
        [
            f"job_config.input_path: the dataset changed while it was split ({num_lines} lines when scanned, "
            "different lines when written): run again once the input no longer changes"
        ]
    )


def _copy_lines(source: np.ndarray, starts: np.ndarray, sizes: np.ndarray, destinations: np.ndarray,
                target: np.ndarray) -> None:
    """``target[destinations[i]:][:sizes[i]] = source[starts[i]:][:sizes[i]]`` for every line i, by slices."""
    per_slice = max(1, COPY_SLICE_BYTES * len(sizes) // max(1, len(source)))
    for first in range(0, len(sizes), per_slice):
        lines = slice(first, first + per_slice)
        _copy_slice(source, starts[lines], sizes[lines], destinations[lines], target)


def _copy_slice(source: np.ndarray, starts: np.ndarray, sizes: np.ndarray, destinations: np.ndarray,
                target: np.ndarray) -> None:
    # Lines sorted by length (a linear-time radix sort for 16-bit keys): each run of one length is one row copy.
    keys = sizes.astype(np.uint16) if int(sizes.max()) < 1 << 16 else sizes
    by_length = np.argsort(keys, kind="stable")
    sorted_sizes = keys[by_length]
    run_starts = np.flatnonzero(sorted_sizes[1:] != sorted_sizes[:-1]) + 1
    if (len(run_starts) + 1) * MIN_LINES_PER_LENGTH > len(sizes):
        # starts are consecutive lines of source: one index per byte, shifted to each line's destination.
        first, total = int(starts[0]), int(sizes.sum(dtype=np.int64))
        index = np.repeat(destinations - starts, sizes)
        index += np.arange(first, first + total)
        target[index] = source[first: first + total]
        return
    bounds = [0, *run_starts.tolist(), len(sizes)]
    for begin, end in zip(bounds, bounds[1:]):
        width = int(sorted_sizes[begin])
        rows = by_length[begin:end]
        _rows(target, width)[destinations[rows]] = _rows(source, width)[starts[rows]]


def _rows(array: np.ndarray, width: int) -> np.ndarray:
    """Every run of ``width`` bytes of ``array`` as a row of a 2-D view: row i starts at byte i (no copy)."""
    return as_strided(array, shape=(len(array) - width + 1, width), strides=(1, 1))


def _write_in_pieces(file, view: memoryview) -> None:
    for start in range(0, len(view), WRITE_PIECE_BYTES):
        file.write(view[start: start + WRITE_PIECE_BYTES])


def _file_blocks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while block := stream.read(READ_BLOCK_BYTES):
            yield block
