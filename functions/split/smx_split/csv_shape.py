"""What a CSV's first rows say about its shape: which character separates the fields, and
whether line 1 is a header. SageMaker's text/csv is comma-separated with no header
(https://docs.aws.amazon.com/sagemaker/latest/dg/cdf-training.html), so either mistake would
make every built-in job fail or, worse, train on a misread file.

Pure: decoded rows in, a verdict out.
"""

from __future__ import annotations

import csv
from typing import Final

# Separators people export by mistake: Excel in locales with a decimal comma writes ";".
OTHER_DELIMITERS: Final = (";", "\t", "|")
SAMPLE_ROWS: Final = 20
_SHOWN = {";": "';' (semicolons)", "\t": "tabs", "|": "'|' (pipes)"}


def wrong_delimiter(rows: list[str]) -> str | None:
    """The problem when the rows are separated by another character than a comma, else None.

    A separator is the file's when every sampled row has it the same number of times outside quotes,
    and either no row has a comma, or the commas sit inside its fields as decimal marks (``5,1;3,5``).
    """
    rows = [row for row in rows[:SAMPLE_ROWS] if row]
    if not rows:
        return None
    for delimiter in OTHER_DELIMITERS:
        widths = {len(_fields(row, delimiter)) for row in rows}
        if len(widths) != 1 or widths == {1}:
            continue
        no_commas = all(len(_fields(row, ",")) == 1 for row in rows)
        decimal_commas = not no_commas and all(_decimal_comma_row(row, delimiter) for row in rows)
        if no_commas or decimal_commas:
            return _message(delimiter, rows[0], decimal_commas)
    return None


def header_kind(rows: list[list[str]]) -> str | None:
    """Whether line 1 is a header, judged against the rows below it (up to SAMPLE_ROWS):

    - "numbered": column numbers (``0,1,2,...``; ``,0,1,2`` with pandas' index column; ``label,1,2,...``),
      as pandas writes a frame without column names;
    - "named": names where the data has numbers: no field of line 1 is a number while line 2 has some,
      or line 1's first column is a word while every row below has a number there (``target,2019,2020``).
    """
    if len(rows) < 2:
        return None
    first, below = rows[0], rows[1:SAMPLE_ROWS]
    if numeric_header(first, below):
        return "numbered"
    if not any(map(_is_number, first)) and any(map(_is_number, below[0])):
        return "named"
    if first and not _is_number(first[0]) and all(row and _is_number(row[0]) for row in below):
        return "named"
    return None


def numeric_header(first: list[str], below: list[list[str]]) -> bool:
    """Line 1 is a row of column numbers (``0,1,2,...``, ``label,1,2,...``), as pandas writes for
    unnamed columns, while line 2 is data.

    Integers in column order in at least 3 columns: from 0 (pandas numbers unnamed columns from 0), or
    after a first field that is a name or empty (a label's name, pandas' index column). A data row of
    0,1,2,... is possible in all-integer data, so unless some row below holds a number that is not an
    integer, the row must also be at least 8 columns wide.
    """
    if not below or not _column_numbers(first) or _column_numbers(below[0]):
        return False
    if _is_integer(first[0]) and first[0] != "0":
        return False  # 1,2,3,...: pandas does not number columns from 1
    return len(first) >= 8 or any(_is_number(field) and not _is_integer(field) for row in below for field in row)


def _column_numbers(fields: list[str]) -> bool:
    numbered = [(position, int(field)) for position, field in enumerate(fields) if _is_integer(field)]
    if len(numbered) < 3 or any(_is_number(field) for field in fields if not _is_integer(field)):
        return False
    offsets = {value - position for position, value in numbered}
    return len(offsets) == 1 and offsets <= {-1, 0, 1}


def _message(delimiter: str, first_row: str, decimal_commas: bool) -> str:
    options = f"sep={delimiter!r}" + (", decimal=','" if decimal_commas else "")
    return (
        f"job_config.input_path: the fields are separated by {_SHOWN[delimiter]}, not commas (line 1 starts with "
        f"{first_row[:40]!r}); a CSV dataset is comma-separated (text/csv), so every job would misread it: re-save "
        f"it as comma-separated{' with . as the decimal mark' if decimal_commas else ''}, for example "
        f"pandas.read_csv(path, {options}, header=None).to_csv(out, header=False, index=False) "
        "(replacing the separator character alone breaks any field that holds a comma); a custom container that "
        "reads this separator itself can take the file as job_config.input_format \"text\""
    )


def _decimal_comma_row(row: str, delimiter: str) -> bool:
    """Every comma of the row sits inside a number written with a decimal comma (``3,5``)."""
    fields = _fields(row, delimiter)
    with_commas = [field for field in fields if "," in field]
    return bool(with_commas) and all(_is_number(field.replace(",", ".", 1)) for field in with_commas)


def _fields(row: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([row], delimiter=delimiter), [])
    except csv.Error:
        return row.split(delimiter)


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def _is_integer(field: str) -> bool:
    return field.isascii() and field.isdigit()
