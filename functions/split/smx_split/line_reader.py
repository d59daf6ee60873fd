"""The interface every format's reader offers the scan, and which reader reads a dataset.

A reader has two paths over a block of whole lines. ``parse_block`` is the vectorised fast
path: it returns every line's label and group, or None when it cannot vouch for the block.
``parse_line`` is the exact path the scan then runs line by line: it decides what is valid
and words the problem (``LineProblem``), so a bad line is always reported with its own number.
Both paths must agree on every line the fast path accepts (tests/robustness/test_properties.py).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .csv_reader import CsvReader
from .data_formats import DATA_FORMATS, group_attribute_problem
from .errors import InvalidInputError
from .jsonl_reader import JsonLinesReader
from .records_reader import RecordsReader
from .text_reader import TextReader


class LineReader(Protocol):
    has_groups: bool

    def start(self, block: bytes) -> None:
        """Learn what the first block says about the whole file (a CSV's width and header); raise on a
        problem of the whole file."""

    def parse_block(self, block: bytes, newlines: np.ndarray, first_line: int) -> tuple | None:
        """Each line's label and group (a list each, or ``label_codes.Distinct``; groups None without
        groups), or None to send the block to the per-line path. A missing label is None or b""."""

    def parse_line(self, text: str, line_number: int) -> tuple[object, object]:
        """One line's label and group; raises ``line_problems.LineProblem``."""

    def mixed_labels_problems(self, unlabeled_lines: list[tuple[int, bytes]], unlabeled: int,
                              num_lines: int) -> list[str]:
        """The problems of a dataset where some lines have no label, in this format's words."""


def line_reader_for(data_format: str, label_attribute: str, group_attribute: str | int | None,
                    streamed_attributes: tuple[str, ...] = (), *, read_labels: bool = True) -> LineReader:
    """The reader of a dataset. ``read_labels=False``: its lines are opaque records (RecordsReader)."""
    if data_format not in DATA_FORMATS:
        raise InvalidInputError([
            f"job_config.input_format: {data_format!r} is not a supported format: use one of {', '.join(DATA_FORMATS)}"
        ])
    if not read_labels:
        return RecordsReader(data_format)
    problem = group_attribute_problem(group_attribute, data_format)
    if problem:
        raise InvalidInputError([problem])
    if data_format == "jsonl":
        return JsonLinesReader(label_attribute, group_attribute, streamed_attributes)
    if data_format == "csv":
        return CsvReader(group_attribute)
    return TextReader()
