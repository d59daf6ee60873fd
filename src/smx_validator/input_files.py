"""Reading what a user points the CLI at: the execution input file and ``--data`` files.

One reader for every command, so that ``validate``, ``local run`` and ``start`` accept and refuse
the same files with the same words. Problems are one line each and raise ``UsageError``
(exit code 2), before any work is done.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from smx_common.s3uri import S3Uri


class UsageError(Exception):
    """A mistake in how a command was called (a path, a file, an option): one line for the user."""


def read_execution_input(path: Path) -> Any:
    """The JSON in ``path``: UTF-8 (a byte-order mark is allowed), or UTF-16/32 with a byte-order mark.

    The text is parsed by the split function's own parser (``smx_split.inputs.parse_input``), so NaN,
    Infinity and other non-JSON constants are refused as Step Functions refuses them: that raises
    ``InvalidInputError`` ("input: not valid JSON at line 3, column 5: ..."), a problem of the input
    itself; a file that cannot be read raises ``UsageError``.
    """
    from smx_split.inputs import parse_input

    data = _read_bytes(path, "the input")
    if not data.strip():
        raise UsageError(f"{path} is empty: write the execution input JSON there (doc/examples/ has one per algorithm)")
    return parse_input(data)


def data_file(spec: str, option: str = "--data") -> tuple[Path, str | None]:
    """``FILE`` or ``FILE=s3://bucket/key`` (``local run``'s form): the local path, and the S3 URI if given."""
    local, separator, uri = spec.rpartition("=") if "=s3://" in spec or spec.endswith("=") else (spec, "", "")
    if not separator and "=" in spec and not Path(spec).exists():
        left, right = spec.rsplit("=", 1)
        if left.startswith("s3://"):
            raise UsageError(f"{option} {spec!r}: the local file comes first: {right}={left}")
        raise UsageError(f"{option} {spec!r}: {right!r} is not an S3 URI: write LOCAL_FILE=s3://bucket/key")
    if separator:
        bucket = bucket_of(uri)
        if not local or not bucket:
            raise UsageError(f"{option} {spec!r}: expected LOCAL_FILE=s3://bucket/key")
        if not S3Uri.parse(uri).key and not uri.endswith("/"):
            raise UsageError(f"{option} {spec!r}: {uri} names a bucket, not an object: write s3://{bucket}/key "
                             f"(or s3://{bucket}/prefix/ to keep the file's name)")
    path = Path(local)
    if not path.exists():
        raise UsageError(f"{option} {spec!r}: {path} does not exist")
    return path, (uri if separator else None)


def dataset_file(spec: str, option: str = "--data") -> tuple[Path, str | None]:
    """A dataset to read: a readable file (not a folder), and the S3 URI given with it, if any."""
    path, uri = data_file(spec, option)
    if path.is_dir():
        raise UsageError(f"{option} {spec!r}: {path} is a folder; give the dataset file itself "
                         "(the CSV, the JSON Lines manifest or the text file)")
    _read_bytes(path, option, probe=True)
    return path, uri


def _read_bytes(path: Path, what: str, probe: bool = False) -> bytes:
    try:
        if Path(path).is_dir():
            raise UsageError(f"{path} is a folder: give {what} file")
        with open(path, "rb") as stream:
            return stream.read(1) if probe else stream.read()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def output_file(given: str | Path, *, input_path: Path) -> Path:
    """Where ``--output`` may write the execution output, checked before the run: not a folder, not the
    input, and not a file that is something else than a previous output (which is replaced)."""
    path = Path(given)
    if path.is_dir() or str(given).endswith(("/", os.sep)):
        raise UsageError(f"--output {path} is a folder: give the path of a JSON file, such as {path / 'output.json'}")
    if path.exists() and path.resolve() == Path(input_path).resolve():
        raise UsageError(f"--output {path} is the input file: write the output to another path")
    if path.exists() and not _is_previous_output(path):
        raise UsageError(f"--output {path} exists and is not the output of a previous run: choose another path "
                         "(a previous output is replaced)")
    _check_writable_folder(path.parent, "--output")
    return path


def report_file(given: str | Path, *, input_path: Path | None = None, option: str = "--report") -> Path:
    """Where a run's HTML report may be written, checked before the run: not a folder, not the input, and not
    a file that is something else than a previous report (which is replaced)."""
    path = Path(given)
    if path.is_dir() or str(given).endswith(("/", os.sep)):
        raise UsageError(f"{option} {path} is a folder: give the path of an HTML file, such as {path / 'report.html'}")
    if input_path is not None and path.exists() and path.resolve() == Path(input_path).resolve():
        raise UsageError(f"{option} {path} is the input file: write the report to another path")
    if path.exists() and not _is_previous_report(path):
        raise UsageError(f"{option} {path} exists and is not a report of a previous run: choose another path "
                         "(a previous report is replaced)")
    _check_writable_folder(path.parent, option)
    return path


def artifacts_folder(path: Path, *, input_path: Path) -> Path:
    """Where ``--artifacts`` may copy a run's objects (into ``path/<run id>/``), checked before the run."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        what = "the input file" if path.resolve() == Path(input_path).resolve() else "a file"
        raise UsageError(f"--artifacts {path} is {what}: give a folder (it is created if missing)")
    _check_writable_folder(path, "--artifacts")
    return path


def _is_previous_report(path: Path) -> bool:
    from smx_validator.html_report import is_report

    return is_report(path)


def _is_previous_output(path: Path) -> bool:
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and {"job_config", "summary"} <= set(document)


def _check_writable_folder(folder: Path, option: str) -> None:
    existing = next((parent for parent in [folder, *folder.parents] if parent.exists()), None)
    if existing is None or not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{option}: cannot write under {folder} ({existing} is not a writable folder)")


def bucket_of(uri: object) -> str:
    """The bucket of an ``s3://bucket/...`` URI, or "" for anything else."""
    try:
        return S3Uri.parse(uri).bucket if isinstance(uri, str) else ""
    except ValueError:
        return ""
