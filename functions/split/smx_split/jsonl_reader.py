"""The JSON Lines reader: an augmented manifest, one JSON object per line, the label in an attribute. Pure."""

from __future__ import annotations

import difflib
import functools
import json
import json.decoder
import json.scanner
import re
from itertools import repeat
from operator import methodcaller

import numpy as np

from .errors import InvalidInputError
from .label_codes import Distinct
from .line_blocks import line_indices
from .line_problems import LineProblem, is_utf8, mixed_labels_problems


class JsonLinesReader:
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
        """A group attribute missing from line 1 is most likely misnamed: one problem naming the attributes the
        line has, instead of the same problem for every line."""
        if not self.has_groups:
            return
        try:
            first = json.loads(block[:block.index(b"\n")])
        except (ValueError, RecursionError):
            return  # the per-line path words what is wrong with line 1
        if type(first) is dict and self.group_attribute not in first:
            names = ", ".join(json.dumps(name) for name in first)
            close = difflib.get_close_matches(self.group_attribute, list(first), n=1, cutoff=0.6)
            close = close or [name for name in first if name.lower() == self.group_attribute.lower()]
            hint = f"did you mean {close[0]!r}?" if close else "give the name of the attribute that holds the group"
            raise InvalidInputError([
                f"crossvalidation.group_attribute: line 1 has no {self.group_attribute!r} attribute; its attributes "
                f"are {names}: {hint}"])

    def parse_block(self, block: bytes, newlines: np.ndarray, first_line: int) -> tuple | None:
        # json.loads(bytes) would let UTF-8-encoded surrogates through: check UTF-8 strictly first.
        if not block.isascii() and not is_utf8(block):
            return None
        return self._parse_templates(block, newlines) or self._parse_joined(block, len(newlines))

    def _parse_templates(self, block: bytes, newlines: np.ndarray) -> tuple[Distinct, Distinct | None] | None:
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
        suspects = dict.fromkeys(line_indices(block, offsets))
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
                raise LineProblem(
                    "looks like a CSV row, not JSON",
                    "a JSON Lines dataset has one JSON object per line; if the file is CSV, set job_config.input_format to csv",
                ) from None
            raise LineProblem(
                f"is not valid JSON ({error.msg} at column {error.colno})",
                "write exactly one JSON object per line",
            ) from None
        except RecursionError:
            raise LineProblem("is JSON nested too deeply to read", "flatten the line's JSON object") from None
        except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
            raise LineProblem("has a number with too many digits to read", "write such a number as a string") from None
        if type(value) is not dict:
            raise LineProblem(
                f"is a JSON {_json_type(value)}, not an object",
                'write one JSON object per line, such as {"source-ref": "s3://...", "class": "1"}',
            )
        for name in self.streamed:
            if name not in value:
                raise LineProblem(f'has no "{name}" attribute, which the training channels stream (AttributeNames)',
                                   f'give every line its "{name}"')
        label = self._attribute(value, self.label_attribute, "crossvalidation.label_attribute")
        if not self.has_groups:
            return label, None
        group = self._attribute(value, self.group_attribute, "crossvalidation.group_attribute")
        if group is None:
            raise LineProblem(
                f'has no "{self.group_attribute}" attribute (crossvalidation.group_attribute)',
                f'give every line a "{self.group_attribute}" value so its group stays in one fold',
            )
        return label, group

    def _attribute(self, value: dict, attribute: str, field: str) -> object:
        if attribute not in value:
            return None
        item = value[attribute]
        if type(item) is list and field == "crossvalidation.label_attribute":
            raise LineProblem(
                f'has a "{attribute}" that is a JSON array (multi-label), which SMX-Validator does not split yet',
                "give each line one class; multi-label manifests (BlazingText's and image-classification's "
                "array labels) are a known limit")
        if type(item) not in self._LABEL_TYPES:
            raise LineProblem(
                f'has a "{attribute}" that is a JSON {_json_type(item)} ({field})',
                f'make "{attribute}" a string or a number',
            )
        return item

    def mixed_labels_problems(self, unlabeled_lines, unlabeled: int, num_lines: int) -> list[str]:
        attribute = self.label_attribute
        return mixed_labels_problems(
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


def _tokens_at(data: np.ndarray, line_starts: np.ndarray, layout_of_line: np.ndarray, spans: list) -> Distinct:
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
    return Distinct(values, inverse)


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
