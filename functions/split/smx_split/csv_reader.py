"""The CSV reader: comma-separated rows without a header, the label in column 0 (SageMaker's CSV
convention), the group in a column of its own. Pure."""

from __future__ import annotations

import csv
import re

import numpy as np

from . import csv_shape
from .errors import InvalidInputError
from .line_problems import LineProblem, is_utf8


class CsvReader:
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
        if (first_line == 1 and self.header) or b'"' in block or not block.isascii() and not is_utf8(block):
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
            raise LineProblem(
                f"looks like {what}; a CSV dataset has no header (the split would take it for a sample)",
                "remove it (pandas writes one, and a first column of row numbers, unless told "
                "to_csv(path, header=False, index=False))")
        if self._JSON_ROW.match(text.encode()):
            raise LineProblem(
                "looks like JSON, not a CSV row",
                "a CSV dataset has comma-separated values only; if the file is JSON Lines, set job_config.input_format to jsonl",
            )
        if "\r" in text:
            raise LineProblem(
                "has a carriage return (\\r) inside the row",
                "end every row with \\n or \\r\\n (convert a file saved with \\r-only line endings)",
            )
        try:
            fields = _csv_fields(text)
        except csv.Error as error:
            raise LineProblem(
                f"is not a CSV row ({error})",
                "close every quote on the row it opens (a record may not span lines) and double quotes inside quoted fields",
            ) from None
        if len(fields) != self.field_count:
            looks_like_text = "__label__" in text
            raise LineProblem(
                f"has {len(fields)} fields but line 1 has {self.field_count}",
                "if the file is BlazingText text (__label__ tokens), set job_config.input_format to text"
                if looks_like_text else "give every row the same comma-separated columns, the label first",
            )
        if not fields[0]:
            raise LineProblem("has an empty label (column 0)", "put each row's label in its first column")
        if not self.has_groups:
            return fields[0], None
        if not fields[self.group_column]:
            raise LineProblem(
                f"has an empty group (column {self.group_column}, crossvalidation.group_attribute)",
                "give every row its group, so that rows of one group stay in one fold",
            )
        return fields[0], fields[self.group_column]

    def mixed_labels_problems(self, unlabeled_lines, unlabeled: int, num_lines: int) -> list[str]:
        return []  # never called: a row without a label is a problem of its own line (parse_line)


def _csv_fields(text: str) -> list[str]:
    # strict: an unclosed quote is an error, not a field that silently swallows the next rows
    return next(csv.reader([text], strict=True), [])


def _csv_start_fields(text: str) -> list[str]:
    """A row's fields as well as they can be read; the per-line path reports what is wrong with it."""
    try:
        return _csv_fields(text)
    except csv.Error:
        return text.split(",")

