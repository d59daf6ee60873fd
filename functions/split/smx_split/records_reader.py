"""The records reader: lines as opaque records, for a custom container split without labels. Pure."""

from __future__ import annotations

import numpy as np

from .csv_reader import CsvReader
from .line_blocks import has_empty_line
from .line_problems import is_utf8


class RecordsReader:
    """Lines as opaque records, for a custom container split without labels or groups (plain k-fold):
    the container reads its own format, so only what the split needs is checked (UTF-8 lines, none
    empty) and, for CSV, what would put a wrong line into a fold (a header, another separator)."""

    has_groups = False

    def __init__(self, data_format: str):
        self._csv = CsvReader(None) if data_format == "csv" else None

    def start(self, block: bytes) -> None:
        if self._csv is not None:
            self._csv.start(block)

    def parse_block(self, block: bytes, newlines: np.ndarray, first_line: int) -> tuple[list, None] | None:
        header = first_line == 1 and self._csv is not None and self._csv.header
        if header or has_empty_line(block) or not block.isascii() and not is_utf8(block):
            return None
        return [b""] * len(newlines), None  # no line has a label

    def parse_line(self, text: str, line_number: int) -> tuple[object, None]:
        if line_number == 1 and self._csv is not None and self._csv.header:
            self._csv.parse_line(text, line_number)  # raises: the header is named as for any CSV
        return None, None

    def mixed_labels_problems(self, unlabeled_lines, unlabeled: int, num_lines: int) -> list[str]:
        return []

