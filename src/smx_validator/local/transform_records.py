"""How Batch Transform feeds one input object to the container and assembles its answers. Pure: no AWS calls.

Each step follows SageMaker's documentation:

- **Records** (TransformInput.SplitType, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TransformInput.html):
  ``None`` sends the whole object as one record, ``Line`` one record a line (blank lines carry no record).
  RecordIO and TFRecord splitting are not emulated.
- **Filters** (DataProcessing, "Associate Prediction Results with Input Records",
  https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html): the subset of JSONPath
  the page lists: ``$``, ``.<name>``, ``*``, ``['<name>'(,'<name>')]``, ``[<number>(,<number>)]`` (negative
  indexes count from the end) and ``[<start>:<end>]`` (end excluded). "For CSV data, each row is taken as a JSON
  array, so only index based JSONPaths can be applied". CSV rows are read as RFC 4180. A filter other than
  ``$`` needs text/csv, application/json or application/jsonlines records ("You can use input files in JSON and
  CSV format only"). JoinSource ``Input`` appends a CSV answer to its input row, and puts a JSON answer under
  ``SageMakerOutput`` (``SageMakerInput``/``SageMakerOutput`` when the input is not an object); it needs Line
  records in and out (the page: SplitType and AssembleWith must match, and so must ContentType and Accept).
- **Requests** (CreateTransformJob's BatchStrategy and MaxPayloadInMB,
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTransformJob.html): ``SingleRecord`` one
  record a request, ``MultiRecord`` as many consecutive records as fit in MaxPayloadInMB (default 6 MB; 0:
  no limit), newline-separated. A record larger than MaxPayloadInMB fails the job ("The value in
  MaxPayloadInMB must be greater than, or equal to, the size of a single record").
- **Output** (TransformOutput.AssembleWith, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TransformOutput.html):
  ``None`` concatenates the answers as they are, ``Line`` "add[s] a newline character at the end of every
  transformed record": each line of an answer is a record.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any, Final

MEBIBYTE: Final = 1024 * 1024
DEFAULT_MAX_PAYLOAD_MB: Final = 6
_CSV_TYPES: Final = frozenset({"text/csv"})
_JSON_TYPES: Final = frozenset({"application/json", "application/jsonlines"})


class DataProcessingError(Exception):
    """The job's data cannot be processed as asked: SageMaker fails the job with a ClientError."""


def record_format(content_type: str | None) -> str:
    """"csv", "json" or "opaque" (an image, protobuf...) for a ContentType or Accept."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media in _CSV_TYPES:
        return "csv"
    if media in _JSON_TYPES:
        return "json"
    return "opaque"


def split_records(body: bytes, split_type: str) -> list[bytes]:
    if split_type == "None":
        return [body]
    if split_type == "Line":
        return [line.rstrip(b"\r") for line in body.split(b"\n") if line.strip()]
    raise DataProcessingError(f"SplitType {split_type} is not emulated by the local engine; use None or Line")


# --- JSONPath filters -------------------------------------------------------------------------

_NAME = re.compile(r"\.([^.\[\]*]+)")
_BRACKET = re.compile(r"\[([^\]]*)\]")
_QUOTED = re.compile(r"""\s*(?:'([^']*)'|"([^"]*)")\s*""")
_INTEGER = re.compile(r"\s*-?\d+\s*")
_SLICE = re.compile(r"\s*(-?\d+)?\s*:\s*(-?\d+)?\s*")


@dataclass(frozen=True)
class _Step:
    kind: str  # "names", "indexes", "slice", "wildcard"
    names: tuple[str, ...] = ()
    indexes: tuple[int, ...] = ()
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True)
class JsonPathFilter:
    """One DataProcessing filter (InputFilter or OutputFilter), parsed once per job."""

    expression: str
    steps: tuple[_Step, ...]

    @classmethod
    def parse(cls, expression: str | None, *, field: str) -> "JsonPathFilter":
        text = "$" if expression is None else expression.strip()
        if not text.startswith("$"):
            raise DataProcessingError(f"{field} {expression!r} is not a JSONPath: it must start with $")
        steps, position = [], 1
        while position < len(text):
            if text.startswith(".*", position):
                steps.append(_Step("wildcard"))
                position += 2
                continue
            name = _NAME.match(text, position)
            if name:
                steps.append(_Step("names", names=(name.group(1),)))
                position = name.end()
                continue
            bracket = _BRACKET.match(text, position)
            if bracket is None:
                raise DataProcessingError(
                    f"{field} {expression!r} is not a JSONPath SageMaker supports (at {text[position:]!r}); the "
                    "operators are $, .<name>, *, ['<name>',...], [<index>,...] and [<start>:<end>]")
            steps.append(_bracket_step(bracket.group(1), expression, field))
            position = bracket.end()
        return cls(text, tuple(steps))

    @property
    def is_identity(self) -> bool:
        return not self.steps

    def apply(self, record: bytes, fmt: str) -> bytes:
        """The record filtered, in its own format (``fmt`` from ``record_format``)."""
        if self.is_identity:
            return record
        if fmt == "csv":
            return _csv_line(self._select_csv(_csv_fields(record)))
        if fmt == "json":
            return json.dumps(self._select(_json_value(record), self.steps)).encode("utf-8")
        raise DataProcessingError(
            f"The JSONPath {self.expression!r} applies to CSV and JSON records only (text/csv, application/json, "
            "application/jsonlines)")

    def _select_csv(self, fields: list[str]) -> list[str]:
        if len(self.steps) != 1 or self.steps[0].kind not in {"indexes", "slice"}:
            raise DataProcessingError(
                f"The JSONPath {self.expression!r} cannot select CSV columns: each row is taken as a JSON array, "
                "so only index based JSONPaths apply (e.g. $[0], $[1:], $[0,2])")
        selected = self._select(fields, self.steps)
        return selected if isinstance(selected, list) else [selected]

    def _select(self, value: Any, steps: tuple[_Step, ...]) -> Any:
        for step in steps:
            value = _apply_step(value, step, self.expression)
        return value


def _bracket_step(inside: str, expression: str, field: str) -> _Step:
    if inside.strip() == "*":
        return _Step("wildcard")
    parts = inside.split(",")
    quoted = [_QUOTED.fullmatch(part) for part in parts]
    if all(quoted):
        return _Step("names", names=tuple(match.group(1) if match.group(1) is not None else match.group(2)
                                          for match in quoted))
    if all(_INTEGER.fullmatch(part) for part in parts):
        return _Step("indexes", indexes=tuple(int(part) for part in parts))
    piece = _SLICE.fullmatch(inside)
    if piece and len(parts) == 1:
        return _Step("slice", start=int(piece.group(1)) if piece.group(1) else None,
                     end=int(piece.group(2)) if piece.group(2) else None)
    raise DataProcessingError(f"{field} {expression!r}: [{inside}] is not a JSONPath operator SageMaker supports")


def _apply_step(value: Any, step: _Step, expression: str) -> Any:
    if step.kind == "wildcard":
        if isinstance(value, dict):
            return list(value.values())
        if isinstance(value, list):
            return value
        raise DataProcessingError(f"{expression!r}: * needs an object or an array")
    if step.kind == "names":
        if not isinstance(value, dict):
            raise DataProcessingError(f"{expression!r}: the record is not a JSON object, it has no attribute "
                                      f"{step.names[0]!r}")
        missing = [name for name in step.names if name not in value]
        if missing:
            raise DataProcessingError(f"{expression!r}: the record has no attribute {missing[0]!r}")
        return value[step.names[0]] if len(step.names) == 1 else {name: value[name] for name in step.names}
    if not isinstance(value, list):
        raise DataProcessingError(f"{expression!r}: an index or a slice needs an array")
    if step.kind == "slice":
        return value[step.start:step.end]
    try:
        chosen = [value[index] for index in step.indexes]
    except IndexError:
        raise DataProcessingError(f"{expression!r}: index out of range for a record of {len(value)} fields") from None
    return chosen[0] if len(chosen) == 1 else chosen


def _csv_fields(record: bytes) -> list[str]:
    try:
        rows = list(csv.reader(io.StringIO(record.decode("utf-8"))))
    except (UnicodeDecodeError, csv.Error) as error:
        raise DataProcessingError(f"a text/csv record cannot be read as CSV: {error}") from None
    if len(rows) != 1:
        raise DataProcessingError("a text/csv record must be one line (CSV records cannot embed newlines)")
    return rows[0]


def _csv_line(fields: list[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(fields)
    return buffer.getvalue().encode("utf-8")


def _json_value(record: bytes) -> Any:
    try:
        return json.loads(record)
    except (ValueError, UnicodeDecodeError) as error:
        raise DataProcessingError(f"a JSON record is not JSON: {error}") from None


# --- the job's data processing ------------------------------------------------------------------

@dataclass(frozen=True)
class DataProcessing:
    """A job's TransformInput/TransformOutput/DataProcessing settings, checked once before any record is read."""

    content_type: str | None
    accept: str | None
    split_type: str
    assemble_with: str
    batch_strategy: str
    max_payload_bytes: int | None  # None: no limit (MaxPayloadInMB 0)
    input_filter: JsonPathFilter
    output_filter: JsonPathFilter
    join_input: bool

    @classmethod
    def from_request(cls, request: dict[str, Any]) -> "DataProcessing":
        transform_input, transform_output = request["TransformInput"], request["TransformOutput"]
        processing = request.get("DataProcessing") or {}
        max_payload = request.get("MaxPayloadInMB")
        max_payload = DEFAULT_MAX_PAYLOAD_MB if max_payload is None else int(max_payload)
        settings = cls(
            content_type=transform_input.get("ContentType"),
            accept=transform_output.get("Accept"),
            split_type=transform_input.get("SplitType") or "None",
            assemble_with=transform_output.get("AssembleWith") or "None",
            batch_strategy=request.get("BatchStrategy") or "MultiRecord",
            max_payload_bytes=max_payload * MEBIBYTE if max_payload else None,
            input_filter=JsonPathFilter.parse(processing.get("InputFilter"), field="InputFilter"),
            output_filter=JsonPathFilter.parse(processing.get("OutputFilter"), field="OutputFilter"),
            join_input=(processing.get("JoinSource") or "None") == "Input",
        )
        settings._check()
        return settings

    def _check(self) -> None:
        if self.split_type not in {"None", "Line"}:
            raise DataProcessingError(f"SplitType {self.split_type} is not emulated by the local engine; use None or Line")
        if not self.input_filter.is_identity and record_format(self.content_type) == "opaque":
            raise DataProcessingError(f"InputFilter {self.input_filter.expression!r} needs CSV or JSON input "
                                      f"(ContentType text/csv, application/json or application/jsonlines), not "
                                      f"{self.content_type}")
        if self.join_input:
            if (self.split_type, self.assemble_with) != ("Line", "Line"):
                raise DataProcessingError("JoinSource Input is emulated for SplitType Line and AssembleWith Line only")
            if record_format(self.content_type) == "opaque" or (
                    record_format(self.content_type) != record_format(self.accept)):
                raise DataProcessingError(
                    "JoinSource Input needs ContentType and Accept of one format, text/csv or JSON "
                    f"(got {self.content_type} and {self.accept})")
        if not self.output_filter.is_identity:
            if self.assemble_with != "Line":
                raise DataProcessingError("an OutputFilter other than $ is emulated for AssembleWith Line only")
            fmt = record_format(self.content_type if self.join_input else self.accept)
            if fmt == "opaque":
                raise DataProcessingError(f"OutputFilter {self.output_filter.expression!r} needs CSV or JSON output")

    def requests(self, records: list[bytes]) -> list["Request"]:
        """The records of one object, filtered and grouped into the requests the container gets."""
        fmt = record_format(self.content_type)
        filtered = [(record, self.input_filter.apply(record, fmt)) for record in records]
        for _, record in filtered:
            if self.max_payload_bytes is not None and len(record) > self.max_payload_bytes:
                raise DataProcessingError(
                    f"a record of {len(record)} bytes is larger than MaxPayloadInMB "
                    f"({self.max_payload_bytes // MEBIBYTE} MB)")
        if self.split_type == "None" or self.batch_strategy == "SingleRecord":
            return [Request((raw,), (record,)) for raw, record in filtered]
        groups: list[list[tuple[bytes, bytes]]] = []
        size = 0
        for pair in filtered:
            length = len(pair[1])
            if groups and (self.max_payload_bytes is None or size + 1 + length <= self.max_payload_bytes):
                groups[-1].append(pair)
                size += 1 + length
            else:
                groups.append([pair])
                size = length
        return [Request(tuple(raw for raw, _ in group), tuple(record for _, record in group)) for group in groups]

    def assemble(self, requests: list["Request"], answers: list[bytes]) -> bytes:
        """One object's output from its requests and the container's answer to each."""
        if self.assemble_with != "Line":
            return b"".join(answers)
        records: list[bytes] = []
        for request, answer in zip(requests, answers, strict=True):
            batch = request.raw
            lines = [line.rstrip(b"\r") for line in answer.split(b"\n")]
            while lines and not lines[-1].strip():
                lines.pop()
            if self.join_input:
                if len(lines) != len(batch):
                    raise DataProcessingError(
                        f"JoinSource Input: the container answered {len(lines)} records for a request of "
                        f"{len(batch)}; each input record needs one answer")
                lines = [_join(record, line, record_format(self.content_type)) for record, line in zip(batch, lines)]
            records.extend(lines)
        if not self.output_filter.is_identity:
            fmt = record_format(self.content_type if self.join_input else self.accept)
            records = [self.output_filter.apply(record, fmt) for record in records]
        return b"".join(record + b"\n" for record in records)


@dataclass(frozen=True)
class Request:
    """One /invocations request: the input records it carries (as read) and what the container is sent."""

    raw: tuple[bytes, ...]
    records: tuple[bytes, ...]

    @property
    def body(self) -> bytes:
        return b"\n".join(self.records)


def _join(record: bytes, answer: bytes, fmt: str) -> bytes:
    if fmt == "csv":
        return record + b"," + answer
    original = _json_value(record)
    try:
        output = json.loads(answer)
    except (ValueError, UnicodeDecodeError):
        output = answer.decode("utf-8", errors="replace")
    joined = ({**original, "SageMakerOutput": output} if isinstance(original, dict)
              else {"SageMakerInput": original, "SageMakerOutput": output})
    return json.dumps(joined).encode("utf-8")
