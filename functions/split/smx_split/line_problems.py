"""How a bad line is reported: its number, a short escaped preview, what is wrong and how to fix it. Pure.

Every reader raises ``LineProblem`` from its exact per-line path; the scan collects them in
``Problems``, which keeps the first MAX_REPORTED_LINES in full and counts the rest.
"""

from __future__ import annotations

from .errors import InvalidInputError

MAX_REPORTED_LINES = 20
# All of a line a message may ever show (a line may be megabytes, or hold data the user keeps private).
PREVIEW_CHARS = 40


class LineProblem(Exception):
    """One line's problem, in two parts: what is wrong, and how to fix it."""

    def __init__(self, what: str, fix: str):
        super().__init__(what)
        self.what, self.fix = what, fix


def preview(raw: bytes) -> str:
    """The first characters of a line, escaped."""
    return repr(raw[: PREVIEW_CHARS * 4].decode("utf-8", "backslashreplace")[:PREVIEW_CHARS])


def line_problem(line_number: int, raw: bytes, what: str, fix: str) -> str:
    return f"line {line_number}: {what} (starts with: {preview(raw)}): {fix}"


class Problems:
    """The first MAX_REPORTED_LINES bad lines in full, and how many more there are."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.more = 0

    def __bool__(self) -> bool:
        return bool(self.messages)

    def add(self, line_number: int, raw: bytes, problem: LineProblem) -> None:
        if len(self.messages) < MAX_REPORTED_LINES:
            self.messages.append(line_problem(line_number, raw, problem.what, problem.fix))
        else:
            self.more += 1

    def error(self) -> InvalidInputError:
        more = [f"... and {self.more} more lines with problems"] if self.more else []
        return InvalidInputError(self.messages + more)


def decode_line(raw: bytes) -> str:
    """A line as text without its carriage return; raises LineProblem for what no format accepts."""
    try:
        text = raw.decode()
    except UnicodeDecodeError as error:
        raise LineProblem(
            f"is not UTF-8 text (byte 0x{raw[error.start]:02x} at column {error.start + 1})",
            "save the dataset as UTF-8",
        ) from None
    text = text.removesuffix("\r")
    if text.startswith("\ufeff"):
        raise LineProblem(
            "starts with a byte order mark (BOM, bytes ef bb bf)",
            "save the dataset as UTF-8 without a BOM; every line is copied into the fold files as it is",
        )
    if not text:
        raise LineProblem("is empty", "remove empty lines: only one final newline may end the data")
    return text


def is_utf8(block: bytes) -> bool:
    try:
        block.decode()
    except UnicodeDecodeError:
        return False
    return True


def mixed_labels_problems(
    unlabeled_lines: list[tuple[int, bytes]], unlabeled: int, num_lines: int, what: str, fix: str
) -> list[str]:
    """The lines without a label in a dataset whose other lines have one, in the words of their format."""
    labeled = num_lines - unlabeled
    messages = [
        line_problem(number, raw, f"{what} although {labeled} other lines have one", fix)
        for number, raw in unlabeled_lines
    ]
    if unlabeled > len(unlabeled_lines):
        messages.append(f"... and {unlabeled - len(unlabeled_lines)} more lines with problems")
    return messages
