"""Labels and groups coded as small integers, numbered in the sorted order of their names. Pure.

The scan keeps a code per line instead of its label (a few bytes instead of a string), and
splitters see the codes in the order they would see the names.
"""

from __future__ import annotations

import json
import math
from typing import NamedTuple

import numpy as np

# What a line without a label (or group) is coded as.
MISSING_CODE = -1


class Distinct(NamedTuple):
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


class Codes:
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

    def encode(self, values: list | Distinct) -> np.ndarray:
        """The code of each line's value."""
        distinct = values.values if isinstance(values, Distinct) else dict.fromkeys(values)  # C-speed distinct
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
        if isinstance(values, Distinct):
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

