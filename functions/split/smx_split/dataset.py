"""The streaming scan: the split step's first pass over the input.

The scan reads the input once, block by block, and keeps only what fold assignment and the
writer need: a label code, a group code and a length per line (a few bytes). Nothing the size
of the input stays in memory. Each block goes to its format's reader (``line_reader``): the
fast path when the reader vouches for the block, else the exact per-line path, which words
every bad line with its own number.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .data_formats import COMPRESSIONS, compressed_problem
from .errors import InvalidInputError
from .label_codes import MISSING_CODE, Codes
from .line_blocks import block_lines, line_blocks, newlines
from .line_problems import MAX_REPORTED_LINES, LineProblem, Problems, decode_line
from .line_reader import LineReader, line_reader_for
from .memory import release_freed_memory

_BOM = "\ufeff".encode()


@dataclass(frozen=True, eq=False)
class DatasetScan:
    """What the first pass learned about a dataset, per line in file order."""

    num_lines: int
    # Bytes of all lines with their newlines, as they are written to the fold files (a
    # missing final newline is counted, since every written file ends with one).
    num_bytes: int
    # Bytes of each line with its newline (file order; the narrowest unsigned type that holds the
    # longest line, usually 2 bytes a line): the writer places lines by them.
    line_bytes: np.ndarray
    # Codes per line (the narrowest unsigned type: 1 byte up to 256 classes), numbered in the
    # sorted order of the label (group) names, so splitters see the same order as with the
    # names themselves. None: no labels (groups).
    labels: np.ndarray | None
    label_names: tuple[str, ...]  # code -> label name
    groups: np.ndarray | None
    # Labels written more than one way that name one number ("1", "1.0", " 1"): (name, spellings).
    label_spellings: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def num_classes(self) -> int | None:
        """How many classes the labels have; None when the dataset has no labels (never 0)."""
        return len(self.label_names) if self.labels is not None else None

    def class_counts(self) -> dict[str, int]:
        if self.labels is None:
            return {}
        counts = np.bincount(self.labels, minlength=len(self.label_names))
        return dict(zip(self.label_names, counts.tolist()))



def scan_dataset(
    blocks: Iterable[bytes],
    data_format: str,
    *,
    label_attribute: str = "class",
    group_attribute: str | int | None = None,
    streamed_attributes: tuple[str, ...] = (),
    read_labels: bool = True,
) -> DatasetScan:
    """Read the dataset once and code every line's label and group; raise on any bad line.

    ``streamed_attributes``: the AttributeNames an augmented manifest's channels stream; SageMaker
    needs them on every line (https://docs.aws.amazon.com/sagemaker/latest/dg/augmented-manifest.html).
    ``read_labels=False``: the lines are opaque records (a custom container's own format, split without
    labels): only what the split itself needs is checked.
    """
    scan = _Scan(line_reader_for(data_format, label_attribute, group_attribute, streamed_attributes,
                                 read_labels=read_labels))
    for block in line_blocks(blocks):
        scan.read(block)
    return scan.result()


class _Scan:
    """The codes and lengths of the lines read so far, block by block."""

    def __init__(self, reader: LineReader):
        self.reader = reader
        self.problems = Problems()
        # A number is one class however it is written; group values stay as written ("007" is not "7").
        self.label_codes, self.group_codes = Codes(one_name_per_number=True), Codes()
        self.label_parts: list[np.ndarray] = []
        self.group_parts: list[np.ndarray] = []
        self.length_parts: list[np.ndarray] = []
        self.unlabeled_lines: list[tuple[int, bytes]] = []  # the first lines without a label
        self.num_lines = self.num_bytes = 0

    def read(self, block: bytes) -> None:
        first_line = self.num_lines + 1
        ends = newlines(block)
        self.length_parts.append(np.diff(ends, prepend=-1).astype(np.uint32))
        if first_line == 1:
            _refuse_compressed(block)
            _refuse_utf16(block)
            self.reader.start(block)
        # A byte order mark would end up inside a label or a record: the per-line path names it.
        # (isascii first: it rules the mark out about 20 times faster than searching for it.)
        has_bom = not block.isascii() and _BOM in block
        fields = None if has_bom else self.reader.parse_block(block, ends, first_line)
        if fields is None:
            fields = _parse_lines(self.reader, block, first_line, self.problems)
        self.num_lines += len(ends)
        self.num_bytes += len(block)
        if self.problems:
            return  # the scan only goes on to count the remaining bad lines
        labels, groups = fields
        if labels is not None:
            codes = self.label_codes.encode(labels)
            self.label_parts.append(codes)
            self._remember_unlabeled(codes, block, first_line)
        if groups is not None:
            self.group_parts.append(self.group_codes.encode(groups))

    def _remember_unlabeled(self, codes: np.ndarray, block: bytes, first_line: int) -> None:
        """Keep the first lines without a label, to name them if other lines do have one."""
        indices = np.flatnonzero(codes == MISSING_CODE)[: MAX_REPORTED_LINES - len(self.unlabeled_lines)].tolist()
        if indices:
            self.unlabeled_lines.extend(
                (first_line + index, raw) for index, raw in zip(indices, block_lines(block, indices)))

    def result(self) -> DatasetScan:
        if self.problems:
            raise self.problems.error()
        if self.num_lines == 0:
            raise InvalidInputError([
                "job_config.input_path: the dataset is empty (0 bytes); upload the data, one record per line, "
                "or point input_path at the object that holds it"
            ])
        labels, label_names = self._labels()
        groups = self.group_codes.in_name_order(np.concatenate(self.group_parts))[0] if self.group_parts else None
        line_bytes = np.concatenate(self.length_parts)
        line_bytes = line_bytes.astype(np.min_scalar_type(int(line_bytes.max())), copy=False)
        self.label_parts, self.group_parts, self.length_parts = [], [], []
        release_freed_memory()  # before the splitter's peak, see smx_split.memory
        return DatasetScan(num_lines=self.num_lines, num_bytes=self.num_bytes, line_bytes=line_bytes,
                           labels=labels, label_names=label_names, groups=groups,
                           label_spellings=self.label_codes.merged_spellings() if labels is not None else ())

    def _labels(self) -> tuple[np.ndarray | None, tuple[str, ...]]:
        """Every line's label code in name order, or None when no line has a label."""
        if not self.label_parts:
            return None, ()
        labels = np.concatenate(self.label_parts)
        unlabeled = int(np.count_nonzero(labels == MISSING_CODE))
        if unlabeled == self.num_lines:
            return None, ()
        if unlabeled:
            raise InvalidInputError(self.reader.mixed_labels_problems(self.unlabeled_lines, unlabeled, self.num_lines))
        return self.label_codes.in_name_order(labels)


def _parse_lines(reader: LineReader, block: bytes, first_line: int, problems: Problems) -> tuple[list, list | None]:
    """The exact per-line path: every line parsed alone, every bad line recorded."""
    labels, groups = [], []
    for line_number, raw in enumerate(block.split(b"\n")[:-1], first_line):
        try:
            label, group = reader.parse_line(decode_line(raw), line_number)
        except LineProblem as problem:
            problems.add(line_number, raw, problem)
            label = group = None
        labels.append(label)
        groups.append(group)
    return labels, (groups if reader.has_groups else None)


def _refuse_compressed(first_block: bytes) -> None:
    for compression in COMPRESSIONS:
        if first_block.startswith(compression.signature):
            raise InvalidInputError([compressed_problem(
                compression, f"it starts with {compression.name}'s signature, bytes {compression.signature.hex(' ')}")])


def _refuse_utf16(first_block: bytes) -> None:
    """UTF-16 text (a UTF-16 byte order mark, or a NUL in every other byte, as UTF-16 writes ASCII): one
    problem for the file, not one per line its NUL bytes would break."""
    head = first_block[:4096]
    marked = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if marked or (len(head) >= 16 and head[1::2].count(0) > 0.9 * len(head[1::2])):
        raise InvalidInputError([
            "job_config.input_path: the dataset is UTF-16 text"
            f"{' (it starts with a UTF-16 byte order mark)' if marked else ' (every other byte is NUL)'}; "
            "SMX-Validator and SageMaker's algorithms read UTF-8: save it as UTF-8 (for example iconv -f UTF-16 "
            "-t UTF-8 FILE > FILE.utf8, or Excel's \"CSV UTF-8\") and upload that"
        ])

