"""Dataset formats and the streaming scan: the split step's first pass over the input.

A dataset is a sequence of newline-separated records ("lines") in one of three formats: CSV
(label in the first column, as SageMaker's built-in CSV algorithms expect), JSON Lines
(an augmented manifest, label in an attribute) or text (BlazingText's ``__label__`` prefixes).
The scan reads the input once, block by block, and keeps only what fold assignment and the
writer need: a label code, a group code and a length per line (a few bytes). Nothing the size
of the input stays in memory.

Each format has a vectorised fast path per block and an exact per-line path. The per-line
path runs only for blocks the fast path cannot vouch for; it decides what is valid and words
the problems, so a bad line is always reported with its own line number.
"""

from __future__ import annotations

import csv
import functools
import json
import math
import json.decoder
import json.scanner
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from operator import methodcaller
from typing import NamedTuple

import numpy as np

from . import csv_shape
from .errors import InvalidInputError
from .memory import release_freed_memory

DATA_FORMATS = ("csv", "jsonl", "text")
FILE_EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "text": "txt"}
_FORMAT_OF_EXTENSION = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".manifest": "jsonl", ".txt": "text"}

MAX_REPORTED_LINES = 20
_BOM = "\ufeff".encode()
PREVIEW_CHARS = 40
# Blocks the scan parses at once: its per-block temporaries stay in the CPU's cache and leave
# little freed memory behind for the writer (measured: 1 MiB scans as fast as 8 MiB).
LINE_BLOCK_BYTES = 1 << 20
# What a line without a label (or group) is coded as.
MISSING_CODE = -1


def data_format_for(input_key: str, explicit: str | None) -> str:
    """The dataset's format: ``job_config.input_format`` when given, else the key's extension."""
    if explicit:
        return explicit
    name = input_key.rsplit("/", 1)[-1].lower()
    extension = name[name.rfind("."):] if "." in name else ""
    if extension not in _FORMAT_OF_EXTENSION:
        raise InvalidInputError(
            [
                f"job_config.input_format: cannot tell the format of '{input_key}' from its extension; "
                "set job_config.input_format to csv, jsonl or text"
            ]
        )
    return _FORMAT_OF_EXTENSION[extension]


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
    def num_classes(self) -> int:
        return len(self.label_names) if self.labels is not None else 0

    def class_counts(self) -> dict[str, int]:
        if self.labels is None:
            return {}
        counts = np.bincount(self.labels, minlength=len(self.label_names))
        return dict(zip(self.label_names, counts.tolist()))


def line_blocks(blocks: Iterable[bytes], max_bytes: int = LINE_BLOCK_BYTES) -> Iterator[bytes]:
    """Regroup arbitrary byte blocks into blocks of whole lines, each line ending with a newline.

    A missing final newline is added, so every consumer sees the same lines whatever the
    block size of the source. A block holds at most ``max_bytes`` unless one line is longer.
    """
    partial: list[memoryview] = []  # the start of a line that goes on in the next block
    pending = 0
    for block in blocks:
        view, start = memoryview(block), 0
        while start < len(block):
            limit = start + max(1, max_bytes - pending)
            cut = block.rfind(b"\n", start, limit) + 1
            if cut == 0 and limit < len(block):  # a line longer than max_bytes: up to its end
                cut = block.find(b"\n", limit) + 1
            if cut == 0:
                break
            yield b"".join([*partial, view[start:cut]])  # one copy of the lines, not two
            partial, pending, start = [], 0, cut
        if start < len(block):
            partial.append(view[start:])
            pending += len(block) - start
    if partial:
        yield b"".join([*partial, b"\n"])


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
    line_format = (_line_format(data_format, label_attribute, group_attribute, streamed_attributes) if read_labels
                   else _Records(data_format))
    problems = _Problems()
    # A number is one class however it is written; group values stay as written ("007" is not "7").
    label_codes, group_codes = _Codes(one_name_per_number=True), _Codes()
    label_parts: list[np.ndarray] = []
    group_parts: list[np.ndarray] = []
    unlabeled_lines: list[tuple[int, bytes]] = []
    length_parts: list[np.ndarray] = []
    num_lines = num_bytes = 0
    for block in line_blocks(blocks):
        first_line = num_lines + 1
        newlines = _newlines(block)
        count = len(newlines)
        length_parts.append(np.diff(newlines, prepend=-1).astype(np.uint32))
        if first_line == 1:
            _refuse_compressed(block)
            _refuse_utf16(block)
            line_format.start(block)
        # A byte order mark would end up inside a label or a record: the per-line path names it.
        # (isascii first: it rules the mark out about 20 times faster than searching for it.)
        has_bom = not block.isascii() and _BOM in block
        fields = None if has_bom else line_format.parse_block(block, newlines, first_line)
        if fields is None:
            fields = _parse_lines(line_format, block, first_line, problems)
        num_lines += count
        num_bytes += len(block)
        if problems:
            continue  # the scan only goes on to count the remaining bad lines
        labels, groups = fields
        if labels is not None:
            codes = label_codes.encode(labels)
            label_parts.append(codes)
            _remember_unlabeled(codes, block, first_line, unlabeled_lines)
        if groups is not None:
            group_parts.append(group_codes.encode(groups))
    if problems:
        raise problems.error()
    if num_lines == 0:
        raise InvalidInputError([
            "job_config.input_path: the dataset is empty (0 bytes); upload the data, one record per line, "
            "or point input_path at the object that holds it"
        ])
    labels = np.concatenate(label_parts) if label_parts else None
    if labels is not None:
        unlabeled = int(np.count_nonzero(labels == MISSING_CODE))
        if unlabeled == num_lines:
            labels = None
        elif unlabeled:
            raise InvalidInputError(line_format.mixed_labels_problems(unlabeled_lines, unlabeled, num_lines))
    label_names: tuple[str, ...] = ()
    if labels is not None:
        labels, label_names = label_codes.in_name_order(labels)
    groups = group_codes.in_name_order(np.concatenate(group_parts))[0] if group_parts else None
    line_bytes = np.concatenate(length_parts)
    line_bytes = line_bytes.astype(np.min_scalar_type(int(line_bytes.max())), copy=False)
    del label_parts, group_parts, length_parts
    release_freed_memory()  # before the splitter's peak, see smx_split.memory
    return DatasetScan(num_lines=num_lines, num_bytes=num_bytes, line_bytes=line_bytes,
                       labels=labels, label_names=label_names, groups=groups,
                       label_spellings=label_codes.merged_spellings() if labels is not None else ())


# Signatures of compressed files: the split reads newline-separated text and writes the folds as it reads them.
_COMPRESSED_SIGNATURES = ((b"\x1f\x8b", "gzip", "gunzip FILE.gz"), (b"BZh", "bzip2", "bunzip2 FILE.bz2"),
                          (b"\xfd7zXZ\x00", "xz", "unxz FILE.xz"), (b"PK\x03\x04", "zip", "unzip FILE.zip"),
                          (b"\x28\xb5\x2f\xfd", "zstd", "unzstd FILE.zst"))


def _refuse_compressed(first_block: bytes) -> None:
    for signature, name, command in _COMPRESSED_SIGNATURES:
        if first_block.startswith(signature):
            raise InvalidInputError([
                f"job_config.input_path: the dataset is {name}-compressed (it starts with {name}'s signature, bytes "
                f"{signature.hex(' ')}); SMX-Validator splits newline-separated text and writes the folds "
                f"uncompressed: upload the decompressed file ({command}) and point input_path at it"
            ])


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


# --- problems -------------------------------------------------------------------------------


class _LineProblem(Exception):
    def __init__(self, what: str, fix: str):
        super().__init__(what)
        self.what, self.fix = what, fix


def _preview(raw: bytes) -> str:
    """The first characters of a line, escaped: all of a line a message may ever show."""
    return repr(raw[: PREVIEW_CHARS * 4].decode("utf-8", "backslashreplace")[:PREVIEW_CHARS])


def _line_problem(line_number: int, raw: bytes, what: str, fix: str) -> str:
    return f"line {line_number}: {what} (starts with: {_preview(raw)}): {fix}"


class _Problems:
    """The first MAX_REPORTED_LINES bad lines in full, and how many more there are."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.more = 0

    def __bool__(self) -> bool:
        return bool(self.messages)

    def add(self, line_number: int, raw: bytes, problem: _LineProblem) -> None:
        if len(self.messages) < MAX_REPORTED_LINES:
            self.messages.append(_line_problem(line_number, raw, problem.what, problem.fix))
        else:
            self.more += 1

    def error(self) -> InvalidInputError:
        more = [f"... and {self.more} more lines with problems"] if self.more else []
        return InvalidInputError(self.messages + more)


# --- coding labels and groups as small integers ----------------------------------------------


class _Distinct(NamedTuple):
    """Per-line values given as the distinct values and each line's index among them."""

    values: list
    inverse: np.ndarray


def _value_name(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    return json.dumps(value)  # a JSON number: 1 -> "1", so "1" and 1 are one label


def number_name(name: str) -> str:
    """One name per number, the same in every format: "1", "1.0", " 1", "+1" and "1e0" are "1"; "0.50" is
    "0.5". Anything that is not a finite number keeps its name."""
    text = name.strip()
    if not text or text[0] not in "+-.0123456789":
        return name  # most class names ("cat", "__label__x") stop here
    try:
        number = float(text)
    except ValueError:
        return name
    if not math.isfinite(number):
        return name
    return str(int(number)) if number.is_integer() and abs(number) < 2**53 else repr(number)


class _Codes:
    """Codes for label or group values; values with the same text share a code.

    ``None`` (and ``b""``, an absent text label) stand for a line without a value: MISSING_CODE.
    With ``one_name_per_number``, values naming one number share a code too (``number_name``), and the
    spellings that were merged are kept for the user to see.
    """

    def __init__(self, *, one_name_per_number: bool = False) -> None:
        self._code_of_value: dict[object, int] = {None: MISSING_CODE, b"": MISSING_CODE}
        self._code_of_name: dict[str, int] = {}
        self.names: list[str] = []
        self._one_name_per_number = one_name_per_number
        self._spellings: dict[str, set[str]] = {}

    def merged_spellings(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return tuple((name, tuple(sorted(spellings))) for name, spellings in sorted(self._spellings.items())
                     if len(spellings) > 1)

    def encode(self, values: list | _Distinct) -> np.ndarray:
        """The code of each line's value."""
        distinct = values.values if isinstance(values, _Distinct) else dict.fromkeys(values)  # C-speed distinct
        code_of_value = self._code_of_value
        for value in distinct:
            if value not in code_of_value:
                name = _value_name(value)
                if self._one_name_per_number:
                    written, name = name, number_name(name)
                    self._spellings.setdefault(name, set()).add(written)
                code = self._code_of_name.setdefault(name, len(self.names))
                if code == len(self.names):
                    self.names.append(name)
                code_of_value[value] = code
        if isinstance(values, _Distinct):
            return np.array([code_of_value[value] for value in values.values], dtype=np.int32)[values.inverse]
        return np.fromiter(map(code_of_value.__getitem__, values), np.int32, len(values))

    def in_name_order(self, codes: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
        """Recode so that codes sort like their names, and return the names in code order.

        Some splitters depend on the sorted order of labels and groups (they call np.unique):
        with codes in name order, splitting the codes gives the folds of splitting the names.
        """
        order = sorted(range(len(self.names)), key=self.names.__getitem__)
        # The narrowest type: at 10M lines, 1-byte labels also shrink the splitters' copies by 60 MB.
        recode = np.empty(len(order), dtype=np.min_scalar_type(max(0, len(order) - 1)))
        recode[order] = np.arange(len(order))
        return recode[codes], tuple(self.names[code] for code in order)


# --- lines of a block ----------------------------------------------------------------------


def _has_empty_line(block: bytes) -> bool:
    return block.startswith((b"\n", b"\r\n")) or b"\n\n" in block or b"\n\r\n" in block


def _newlines(block: bytes) -> np.ndarray:
    return np.flatnonzero(np.frombuffer(block, np.uint8) == ord("\n"))


def _same_zeroed_lines(block: bytes, newlines: np.ndarray) -> bool:
    """Whether every line of the block equals the first once each digit is mapped to "0".

    Equal-length lines are compared as rows of a 2-D array: a column may differ from the first
    row only where every row has a digit. (Lines of different lengths never qualify.)
    """
    width = int(newlines[0]) + 1
    if len(block) != width * len(newlines) or int(newlines[-1]) != len(block) - 1:
        return False
    rows = np.frombuffer(block, np.uint8).reshape(len(newlines), width)
    varying = np.flatnonzero((rows != rows[0]).any(axis=0))
    if not len(varying):
        return True
    digits = rows[:, varying] - np.uint8(ord("0"))  # wraps below "0": only digits stay under 10
    return bool((digits < 10).all())


def _block_lines(block: bytes, indices: list[int]) -> list[bytes]:
    """Lines ``indices`` (zero-based) of a block, without their newlines."""
    newlines = _newlines(block)
    return [block[newlines[i - 1] + 1 if i else 0: newlines[i]] for i in indices]


def _line_indices(block: bytes, offsets: Iterable[int]) -> list[int]:
    """The zero-based line index of each byte offset of a block."""
    return np.searchsorted(_newlines(block), np.fromiter(offsets, np.int64)).tolist()


def _decode_line(raw: bytes) -> str:
    try:
        text = raw.decode()
    except UnicodeDecodeError as error:
        raise _LineProblem(
            f"is not UTF-8 text (byte 0x{raw[error.start]:02x} at column {error.start + 1})",
            "save the dataset as UTF-8",
        ) from None
    text = text.removesuffix("\r")
    if text.startswith("\ufeff"):
        raise _LineProblem(
            "starts with a byte order mark (BOM, bytes ef bb bf)",
            "save the dataset as UTF-8 without a BOM; every line is copied into the fold files as it is",
        )
    if not text:
        raise _LineProblem("is empty", "remove empty lines: only one final newline may end the data")
    return text


def _parse_lines(line_format, block: bytes, first_line: int, problems: _Problems) -> tuple[list, list | None]:
    """The exact per-line path: every line parsed alone, every bad line recorded."""
    labels, groups = [], []
    for line_number, raw in enumerate(block.split(b"\n")[:-1], first_line):
        try:
            label, group = line_format.parse_line(_decode_line(raw), line_number)
        except _LineProblem as problem:
            problems.add(line_number, raw, problem)
            label = group = None
        labels.append(label)
        groups.append(group)
    return labels, (groups if line_format.has_groups else None)


def _remember_unlabeled(codes: np.ndarray, block: bytes, first_line: int, unlabeled: list[tuple[int, bytes]]) -> None:
    """Keep the first lines without a label, to name them if other lines do have one."""
    indices = np.flatnonzero(codes == MISSING_CODE)[: MAX_REPORTED_LINES - len(unlabeled)].tolist()
    if not indices:
        return
    unlabeled.extend((first_line + index, raw) for index, raw in zip(indices, _block_lines(block, indices)))


def _mixed_labels_problems(
    unlabeled_lines: list[tuple[int, bytes]], unlabeled: int, num_lines: int, what: str, fix: str
) -> list[str]:
    labeled = num_lines - unlabeled
    messages = [
        _line_problem(number, raw, f"{what} although {labeled} other lines have one", fix)
        for number, raw in unlabeled_lines
    ]
    if unlabeled > len(unlabeled_lines):
        messages.append(f"... and {unlabeled - len(unlabeled_lines)} more lines with problems")
    return messages


# --- formats --------------------------------------------------------------------------------


def _line_format(data_format: str, label_attribute: str, group_attribute: str | int | None,
                 streamed_attributes: tuple[str, ...] = ()):
    if data_format == "jsonl":
        if group_attribute is not None and not isinstance(group_attribute, str):
            raise InvalidInputError(
                [
                    "crossvalidation.group_attribute: a JSON Lines dataset is grouped by an attribute name, "
                    f"not {group_attribute!r}: give the name of the attribute that holds each line's group"
                ]
            )
        return _JsonLines(label_attribute, group_attribute, streamed_attributes)
    if data_format == "csv":
        if group_attribute is not None and (
            isinstance(group_attribute, bool) or not isinstance(group_attribute, int) or group_attribute < 0
        ):
            raise InvalidInputError(
                [
                    "crossvalidation.group_attribute: a CSV dataset is grouped by a zero-based column number, "
                    f"not {group_attribute!r}: give the number of the column that holds each row's group"
                ]
            )
        return _Csv(group_attribute)
    if data_format == "text":
        if group_attribute is not None:
            raise InvalidInputError(
                [
                    "crossvalidation.group_attribute: text datasets have no fields to group by: "
                    "remove group_attribute, or use a JSON Lines manifest with a group attribute"
                ]
            )
        return _Text()
    raise InvalidInputError(
        [f"job_config.input_format: {data_format!r} is not a supported format: use one of {', '.join(DATA_FORMATS)}"]
    )


class _JsonLines:
    """An augmented manifest: one JSON object per line, the label in ``label_attribute``.

    Two fast paths, both exact (they accept a line only if ``json.loads`` of it alone does):

    Templates. Manifest lines mostly differ in their digits (image numbers). Mapping every
    digit 1-9 to "1" and keeping "0" turns a line into a template that is valid JSON exactly
    when the line is: tokens keep their boundaries, strings stay strings, and a number stays
    valid since its grammar only tells "0" from the other digits. So each distinct template
    is parsed once, and every line's label is cut out of the line itself at the byte span
    the template gives, with numpy, as is its group. Keys must survive the mapping too, so
    templates serve only blocks without backslashes (no escapes) and attribute names without
    digits: a template key equals such a name exactly when the line's key does.

    Joined text. A block with too many templates is parsed with one ``json.loads`` of
    ``[line,\\nline,...]``, several times faster than a call per line. That could be fooled:
    a line cut inside an object can merge with the next line while another line holding two
    objects (``{...}, {...}``) restores the count. Such a pair needs a line with ``}`` ``,``
    ``{`` outside any string; the newline in each separator keeps strings from spanning lines
    (raw newlines are invalid inside JSON strings). So every line containing that pattern is
    also parsed alone.
    """

    _OBJECT_BOUNDARY = re.compile(rb"\}[ \t\r]*,[ \t\r]*\{")
    _LABEL_TYPES = {str, int, float}
    _DIGIT_CLASSES = bytes.maketrans(b"123456789", b"111111111")
    _ANY_DIGIT = bytes.maketrans(b"123456789", b"000000000")
    # Above this many distinct templates per line, parsing them costs more than the joined parse.
    _LINES_PER_TEMPLATE = 64

    def __init__(self, label_attribute: str, group_attribute: str | None, streamed_attributes: tuple[str, ...] = ()):
        self.label_attribute = label_attribute
        self.group_attribute = group_attribute
        self.has_groups = group_attribute is not None
        # The label has its own words when it is missing (mixed_labels_problems); the others are named here.
        self.streamed = tuple(name for name in streamed_attributes if name != label_attribute)
        self._templates_apply = not re.search("[0-9]", "".join((label_attribute, group_attribute or "", *self.streamed)))

    def start(self, block: bytes) -> None:
        pass

    def parse_block(self, block: bytes, newlines: np.ndarray, first_line: int) -> tuple | None:
        # json.loads(bytes) would let UTF-8-encoded surrogates through: check UTF-8 strictly first.
        if not block.isascii() and not _is_utf8(block):
            return None
        return self._parse_templates(block, newlines) or self._parse_joined(block, len(newlines))

    def _parse_templates(self, block: bytes, newlines: np.ndarray) -> tuple[_Distinct, _Distinct | None] | None:
        if not self._templates_apply or b"\\" in block:
            return None
        count = len(newlines)
        templates = self._templates(block, newlines)
        if templates is None:
            return None
        template_of_line, distinct = templates
        layouts: dict[tuple, int] = {}  # where label and group sit: usually the same in every template
        layout_of_template = []
        for template in distinct:
            attributes = _top_level_spans(template)
            if attributes is None or not all(name in attributes for name in self.streamed):
                return None  # not one JSON object, or a streamed attribute missing: the per-line path words it
            label, group = attributes.get(self.label_attribute), attributes.get(self.group_attribute)
            label_unusable = label is not None and label[2] not in self._LABEL_TYPES
            group_unusable = self.has_groups and (group is None or group[2] not in self._LABEL_TYPES)
            if label_unusable or group_unusable:
                return None
            layout_of_template.append(layouts.setdefault((label, group), len(layouts)))
        layout_of_line = (
            np.zeros(count, dtype=np.intp)
            if len(layouts) == 1
            else np.fromiter(map(dict(zip(distinct, layout_of_template)).__getitem__, template_of_line), np.intp, count)
        )
        line_starts = np.concatenate(([0], newlines[:-1] + 1))
        data = np.frombuffer(block, np.uint8)
        labels = _tokens_at(data, line_starts, layout_of_line, [label for label, _ in layouts])
        groups = _tokens_at(data, line_starts, layout_of_line, [group for _, group in layouts]) if self.has_groups else None
        return labels, groups

    def _templates(self, block: bytes, newlines: np.ndarray) -> tuple[list[bytes], list[bytes]] | None:
        """Each line's template (none listed when all lines share one) and the distinct templates.

        First, every digit mapped to "0": lines that differ only in fixed-width numbers, such
        as zero-padded image numbers, then share one template, found without splitting the
        block. That stays exact (the template of a number is valid JSON only if the number
        has a single leading digit); when it does not apply, digits 1-9 map to "1".
        """
        count = len(newlines)
        first = block[: newlines[0] + 1].translate(self._ANY_DIGIT)
        if _same_zeroed_lines(block, newlines) and _top_level_spans(first[:-1]) is not None:
            return [], [first[:-1]]
        template_of_line = block.translate(self._DIGIT_CLASSES).split(b"\n")
        template_of_line.pop()
        distinct = list(dict.fromkeys(template_of_line))
        if len(distinct) > max(1, count // self._LINES_PER_TEMPLATE):
            return None
        return template_of_line, distinct

    def _parse_joined(self, block: bytes, count: int) -> tuple[list, list | None] | None:
        # An empty line needs no check of its own here: it makes the joined text invalid JSON.
        try:
            objects = json.loads(b"[" + block[:-1].replace(b"\n", b",\n") + b"]")
        except (ValueError, RecursionError):  # the per-line path says which line is wrong, and how
            return None
        if len(objects) != count or not self._boundaries_are_lines(block):
            return None
        try:
            labels = self._values(objects, self.label_attribute, missing_allowed=True)
            groups = self._values(objects, self.group_attribute, missing_allowed=False) if self.has_groups else None
        except TypeError:  # dict.get of a line that is not an object
            return None
        if labels is None or (self.has_groups and groups is None):
            return None
        if not all(name in line for name in self.streamed for line in objects):
            return None
        return labels, groups

    def _boundaries_are_lines(self, block: bytes) -> bool:
        offsets = [match.start() for match in self._OBJECT_BOUNDARY.finditer(block)]
        if not offsets:
            return True
        suspects = dict.fromkeys(_line_indices(block, offsets))
        lines = block.split(b"\n")
        for index in suspects:
            try:
                if type(json.loads(lines[index])) is not dict:
                    return False
            except (ValueError, RecursionError):
                return False
        return True

    def _values(self, objects: list[dict], attribute: str, *, missing_allowed: bool) -> list | None:
        """Each object's attribute (None where absent), or None when the per-line path must word a problem."""
        values = list(map(dict.get, objects, repeat(attribute)))
        types = set(map(type, values))
        if types <= self._LABEL_TYPES:
            return values
        if not missing_allowed or not types <= self._LABEL_TYPES | {type(None)}:
            return None
        present = len(values) - values.count(None)
        if present != sum(map(methodcaller("__contains__", attribute), objects)):
            return None  # a value is JSON null
        return values

    def parse_line(self, text: str, line_number: int) -> tuple[object, object]:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            if not text.lstrip().startswith(("{", "[")) and "," in text:
                raise _LineProblem(
                    "looks like a CSV row, not JSON",
                    "a JSON Lines dataset has one JSON object per line; if the file is CSV, set job_config.input_format to csv",
                ) from None
            raise _LineProblem(
                f"is not valid JSON ({error.msg} at column {error.colno})",
                "write exactly one JSON object per line",
            ) from None
        except RecursionError:
            raise _LineProblem("is JSON nested too deeply to read", "flatten the line's JSON object") from None
        except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
            raise _LineProblem("has a number with too many digits to read", "write such a number as a string") from None
        if type(value) is not dict:
            raise _LineProblem(
                f"is a JSON {_json_type(value)}, not an object",
                'write one JSON object per line, such as {"source-ref": "s3://...", "class": "1"}',
            )
        for name in self.streamed:
            if name not in value:
                raise _LineProblem(f'has no "{name}" attribute, which the training channels stream (AttributeNames)',
                                   f'give every line its "{name}"')
        label = self._attribute(value, self.label_attribute, "crossvalidation.label_attribute")
        if not self.has_groups:
            return label, None
        group = self._attribute(value, self.group_attribute, "crossvalidation.group_attribute")
        if group is None:
            raise _LineProblem(
                f'has no "{self.group_attribute}" attribute (crossvalidation.group_attribute)',
                f'give every line a "{self.group_attribute}" value so its group stays in one fold',
            )
        return label, group

    def _attribute(self, value: dict, attribute: str, field: str) -> object:
        if attribute not in value:
            return None
        item = value[attribute]
        if type(item) is list and field == "crossvalidation.label_attribute":
            raise _LineProblem(
                f'has a "{attribute}" that is a JSON array (multi-label), which SMX-Validator does not split yet',
                "give each line one class; multi-label manifests (BlazingText's and image-classification's "
                "array labels) are a known limit")
        if type(item) not in self._LABEL_TYPES:
            raise _LineProblem(
                f'has a "{attribute}" that is a JSON {_json_type(item)} ({field})',
                f'make "{attribute}" a string or a number',
            )
        return item

    def mixed_labels_problems(self, unlabeled_lines, unlabeled: int, num_lines: int) -> list[str]:
        attribute = self.label_attribute
        return _mixed_labels_problems(
            unlabeled_lines,
            unlabeled,
            num_lines,
            f'has no "{attribute}" attribute (crossvalidation.label_attribute)',
            f'give every line a "{attribute}" value, or remove it from every line to split without labels',
        )


_WHITESPACE = re.compile(r"[ \t\n\r]*")  # JSON's whitespace, as json.decoder skips it
_scan_value = json.scanner.make_scanner(json.JSONDecoder())


@functools.lru_cache(maxsize=4096)  # the same templates recur block after block
def _top_level_spans(line: bytes) -> dict[str, tuple[int, int, type]] | None:
    """Byte span and value type of each top-level attribute of a JSON object line; None if it is not one.

    ``json.loads`` decides validity; the walk only locates the values (the last of a
    duplicated key, as ``json.loads`` keeps it).
    """
    text = line.decode()
    try:
        if type(json.loads(text)) is not dict:
            return None
        index = _WHITESPACE.match(text, text.index("{") + 1).end()
        spans = {}
        while text[index] == '"':
            key, index = json.decoder.scanstring(text, index + 1)
            start = _WHITESPACE.match(text, text.index(":", index) + 1).end()
            value, end = _scan_value(text, start)
            spans[key] = (start, end, type(value))
            index = _WHITESPACE.match(text, end).end()
            if text[index] == ",":
                index = _WHITESPACE.match(text, index + 1).end()
    except (ValueError, RecursionError, StopIteration):
        return None
    if text.isascii():
        return spans
    return {key: (len(text[:start].encode()), len(text[:end].encode()), kind) for key, (start, end, kind) in spans.items()}


def _tokens_at(data: np.ndarray, line_starts: np.ndarray, layout_of_line: np.ndarray, spans: list) -> _Distinct:
    """The JSON value at each line's span (None where its layout has none), decoded once per distinct token."""
    starts = np.array([span[0] if span else 0 for span in spans], dtype=np.intp)[layout_of_line] + line_starts
    widths = np.array([span[1] - span[0] if span else 0 for span in spans], dtype=np.intp)[layout_of_line]
    values: list = []
    inverse = np.empty(len(line_starts), dtype=np.intp)
    for width in np.unique(widths).tolist():
        rows = slice(None) if len(spans) == 1 else np.flatnonzero(widths == width)
        if width == 0:
            inverse[rows] = len(values)
            values.append(None)
            continue
        tokens = data[starts[rows][:, None] + np.arange(width)]
        firsts, local = _distinct_rows(tokens)
        inverse[rows] = local + len(values)
        values.extend(json.loads(tokens[first].tobytes()) for first in firsts.tolist())
    return _Distinct(values, inverse)


def _distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the first of each distinct row of a 2-D uint8 array, and each row's distinct number."""
    width = rows.shape[1]
    if width <= 8:  # as one uint64 each: numpy finds distinct integers several times faster than byte strings
        padded = np.zeros((len(rows), 8), dtype=np.uint8)
        padded[:, :width] = rows
        keys = padded.view(np.uint64).ravel()
    else:
        keys = np.ascontiguousarray(rows).view(np.dtype((np.void, width))).ravel()
    _, firsts, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return firsts, inverse.ravel()


def _json_type(value: object) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


class _Csv:
    """Comma-separated rows without a header, the label in column 0 (SageMaker's CSV convention).

    The fast path handles blocks without quotes: rows are counted by their commas with numpy
    and labels cut out by one regex over the block. Quoted fields go through the csv module.
    """

    _FIRST_FIELD = re.compile(rb"^[^,\r\n]*", re.MULTILINE)
    _JSON_ROW = re.compile(rb"^[ \t]*\{", re.MULTILINE)

    def __init__(self, group_column: int | None):
        self.group_column = group_column
        self.has_groups = group_column is not None
        self.field_count = 0
        self.header = self.numbered_header = False
        self._group_field = (
            re.compile(rb"^(?:[^,\n]*,){%d}([^,\r\n]*)" % group_column, re.MULTILINE) if self.has_groups else None
        )

    def start(self, block: bytes) -> None:
        """Learn the row width from line 1, and whether line 1 is a header (judged against line 2).

        A file separated by another character is refused here, before its rows are misread as
        one-column rows whose label is the whole line."""
        head = [raw.decode("utf-8", "replace").removesuffix("\r")
                for raw in block.split(b"\n", csv_shape.SAMPLE_ROWS)[:csv_shape.SAMPLE_ROWS]]
        delimiter_problem = csv_shape.wrong_delimiter(head)
        if delimiter_problem:
            raise InvalidInputError([delimiter_problem])
        first_rows = [_csv_start_fields(raw) for raw in head]
        self.field_count = len(first_rows[0])
        # A header names its columns, or numbers them (0,1,2,...) as pandas writes a frame without names.
        header = csv_shape.header_kind([row for row in first_rows if row != [""]])
        self.header, self.numbered_header = header is not None, header == "numbered"
        if self.has_groups and self.group_column >= self.field_count:
            raise InvalidInputError(
                [
                    f"crossvalidation.group_attribute: column {self.group_column} does not exist; "
                    f"rows have {self.field_count} columns (0 to {self.field_count - 1}): give the number of the group column"
                ]
            )

    def parse_block(self, block: bytes, newlines: np.ndarray, first_line: int) -> tuple[list, list | None] | None:
        count = len(newlines)
        # An empty row has an empty label, which sends the block to the per-line path.
        if (first_line == 1 and self.header) or b'"' in block or not block.isascii() and not _is_utf8(block):
            return None
        # A carriage return anywhere but before a newline, or a JSON row: the per-line path words it.
        if block.count(b"\r") != block.count(b"\r\n") or self._JSON_ROW.search(block):
            return None
        commas = np.flatnonzero(np.frombuffer(block, np.uint8) == ord(","))
        commas_per_line = np.bincount(np.searchsorted(newlines, commas), minlength=count)
        if (commas_per_line != self.field_count - 1).any():
            return None
        labels = self._FIRST_FIELD.findall(block)[:count]
        groups = self._group_field.findall(block)[:count] if self.has_groups else None
        if b"" in labels or groups is not None and b"" in groups:
            return None
        return labels, groups

    def parse_line(self, text: str, line_number: int) -> tuple[object, object]:
        if line_number == 1 and self.header:
            what = "a header of column numbers" if self.numbered_header else "a header"
            raise _LineProblem(
                f"looks like {what}; a CSV dataset has no header (the split would take it for a sample)",
                "remove it (pandas writes one, and a first column of row numbers, unless told "
                "to_csv(path, header=False, index=False))")
        if self._JSON_ROW.match(text.encode()):
            raise _LineProblem(
                "looks like JSON, not a CSV row",
                "a CSV dataset has comma-separated values only; if the file is JSON Lines, set job_config.input_format to jsonl",
            )
        if "\r" in text:
            raise _LineProblem(
                "has a carriage return (\\r) inside the row",
                "end every row with \\n or \\r\\n (convert a file saved with \\r-only line endings)",
            )
        try:
            fields = _csv_fields(text)
        except csv.Error as error:
            raise _LineProblem(
                f"is not a CSV row ({error})",
                "close every quote on the row it opens (a record may not span lines) and double quotes inside quoted fields",
            ) from None
        if len(fields) != self.field_count:
            raise _LineProblem(
                f"has {len(fields)} fields but line 1 has {self.field_count}",
                "give every row the same comma-separated columns, the label first",
            )
        if not fields[0]:
            raise _LineProblem("has an empty label (column 0)", "put each row's label in its first column")
        if not self.has_groups:
            return fields[0], None
        if not fields[self.group_column]:
            raise _LineProblem(
                f"has an empty group (column {self.group_column}, crossvalidation.group_attribute)",
                "give every row its group, so that rows of one group stay in one fold",
            )
        return fields[0], fields[self.group_column]


def _csv_fields(text: str) -> list[str]:
    # strict: an unclosed quote is an error, not a field that silently swallows the next rows
    return next(csv.reader([text], strict=True), [])


def _csv_start_fields(text: str) -> list[str]:
    """A row's fields as well as they can be read; the per-line path reports what is wrong with it."""
    try:
        return _csv_fields(text)
    except csv.Error:
        return text.split(",")


def _is_utf8(block: bytes) -> bool:
    try:
        block.decode()
    except UnicodeDecodeError:
        return False
    return True


class _Records:
    """Lines as opaque records, for a custom container split without labels or groups (plain k-fold):
    the container reads its own format, so only what the split needs is checked (UTF-8 lines, none
    empty) and, for CSV, what would put a wrong line into a fold (a header, another separator)."""

    has_groups = False

    def __init__(self, data_format: str):
        self._csv = _Csv(None) if data_format == "csv" else None

    def start(self, block: bytes) -> None:
        if self._csv is not None:
            self._csv.start(block)

    def parse_block(self, block: bytes, newlines: np.ndarray, first_line: int) -> tuple[list, None] | None:
        header = first_line == 1 and self._csv is not None and self._csv.header
        if header or _has_empty_line(block) or not block.isascii() and not _is_utf8(block):
            return None
        return [b""] * len(newlines), None  # no line has a label

    def parse_line(self, text: str, line_number: int) -> tuple[object, None]:
        if line_number == 1 and self._csv is not None and self._csv.header:
            self._csv.parse_line(text, line_number)  # raises: the header is named as for any CSV
        return None, None

    def mixed_labels_problems(self, unlabeled_lines, unlabeled: int, num_lines: int) -> list[str]:
        return []


class _Text:
    """BlazingText lines: ``__label__<class> [__label__<other>...] words``; the first label stratifies.

    A label is any token that starts with ``__label__``, anywhere in the line ("the order of labels within
    the sentence doesn't matter": https://docs.aws.amazon.com/sagemaker/latest/dg/blazingtext.html)."""

    has_groups = False
    # fastText splits tokens on ASCII whitespace only; both paths use the same definition. A token starts
    # the line or follows whitespace (the lookbehind: the character before is not a non-space).
    _LABEL = re.compile(rb"^(?:[^\n]*?(?<![^ \t\n\r\f\v])__label__([^ \t\n\r\f\v]+))?", re.MULTILINE)
    _LINE_LABEL = re.compile(r"(?<![^ \t\n\r\f\v])__label__([^ \t\n\r\f\v]*)")
    _EMPTY_LABEL = re.compile(rb"(?<![^ \t\n\r\f\v])__label__(?:[ \t\r\f\v\n]|$)", re.MULTILINE)

    def start(self, block: bytes) -> None:
        pass

    def parse_block(self, block: bytes, newlines: np.ndarray, first_line: int) -> tuple[list, None] | None:
        count = len(newlines)
        if _has_empty_line(block) or not block.isascii() and not _is_utf8(block) or self._EMPTY_LABEL.search(block):
            return None
        return self._LABEL.findall(block)[:count], None  # b"" (no label) is coded missing

    def parse_line(self, text: str, line_number: int) -> tuple[object, None]:
        match = self._LINE_LABEL.search(text)
        if match is None:
            return None, None
        if not match.group(1):
            raise _LineProblem("has an empty __label__", "write the class right after __label__, such as __label__positive")
        return match.group(1), None

    def mixed_labels_problems(self, unlabeled_lines, unlabeled: int, num_lines: int) -> list[str]:
        return _mixed_labels_problems(
            unlabeled_lines,
            unlabeled,
            num_lines,
            "has no __label__ label",
            "give every line its __label__<class>, or remove the labels from every line to split without them",
        )
