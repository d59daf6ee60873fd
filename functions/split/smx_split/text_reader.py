"""The text reader: BlazingText's lines, ``__label__<class>`` tokens among the words. Pure."""

from __future__ import annotations

import re

import numpy as np

from .line_blocks import has_empty_line
from .line_problems import LineProblem, is_utf8, mixed_labels_problems


class TextReader:
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
        if has_empty_line(block) or not block.isascii() and not is_utf8(block) or self._EMPTY_LABEL.search(block):
            return None
        return self._LABEL.findall(block)[:count], None  # b"" (no label) is coded missing

    def parse_line(self, text: str, line_number: int) -> tuple[object, None]:
        match = self._LINE_LABEL.search(text)
        if match is None:
            return None, None
        if not match.group(1):
            raise LineProblem("has an empty __label__", "write the class right after __label__, such as __label__positive")
        return match.group(1), None

    def mixed_labels_problems(self, unlabeled_lines, unlabeled: int, num_lines: int) -> list[str]:
        return mixed_labels_problems(
            unlabeled_lines,
            unlabeled,
            num_lines,
            "has no __label__ label",
            "give every line its __label__<class>, or remove the labels from every line to split without them",
        )
