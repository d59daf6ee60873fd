"""The dataset formats, how a file's extension names one, and what each format can be grouped by. Pure.

A dataset is a sequence of newline-separated records ("lines") in one of three formats: CSV
(label in the first column, as SageMaker's built-in CSV algorithms expect), JSON Lines (an
augmented manifest, label in an attribute) or text (BlazingText's ``__label__`` prefixes).
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import InvalidInputError

DATA_FORMATS = ("csv", "jsonl", "text")
# The extension of the fold files written for each format.
FILE_EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "text": "txt"}
_FORMAT_OF_EXTENSION = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".manifest": "jsonl", ".txt": "text"}


class Compression(NamedTuple):
    name: str
    signature: bytes  # the file's first bytes
    extension: str
    command: str  # how to decompress it


# Compressed files, which the split refuses: it reads newline-separated text and writes the folds as it reads them.
COMPRESSIONS = (Compression("gzip", b"\x1f\x8b", ".gz", "gunzip FILE.gz"),
                Compression("bzip2", b"BZh", ".bz2", "bunzip2 FILE.bz2"),
                Compression("xz", b"\xfd7zXZ\x00", ".xz", "unxz FILE.xz"),
                Compression("zip", b"PK\x03\x04", ".zip", "unzip FILE.zip"),
                Compression("zstd", b"\x28\xb5\x2f\xfd", ".zst", "unzstd FILE.zst"))


def compressed_problem(compression: Compression, evidence: str) -> str:
    return (f"job_config.input_path: the dataset is {compression.name}-compressed ({evidence}); SMX-Validator splits "
            "newline-separated text and writes the folds uncompressed: upload the decompressed file "
            f"({compression.command}) and point input_path at it")


def data_format_for(input_key: str, explicit: str | None) -> str:
    """The dataset's format: ``job_config.input_format`` when given, else the key's extension."""
    if explicit:
        return explicit  # a compressed file is still named by its first bytes (the scan)
    name = input_key.rsplit("/", 1)[-1].lower()
    extension = name[name.rfind("."):] if "." in name else ""
    for compression in COMPRESSIONS:
        if extension == compression.extension:
            raise InvalidInputError([compressed_problem(compression, f"its name ends with {compression.extension}")])
    if extension not in _FORMAT_OF_EXTENSION:
        raise InvalidInputError(
            [
                f"job_config.input_format: cannot tell the format of '{input_key}' from its extension; "
                "set job_config.input_format to csv, jsonl or text"
            ]
        )
    return _FORMAT_OF_EXTENSION[extension]


def group_attribute_problem(group_attribute: object, data_format: str) -> str | None:
    """What is wrong with ``crossvalidation.group_attribute`` for this format, or None.

    The one rule, as the input schema states it: JSON Lines groups by an attribute name; CSV by a
    zero-based column number of at least 1 (column 0 is the label, which stratification already
    uses); text has no fields to group by.
    """
    if group_attribute is None:
        return None
    if data_format == "text":
        return ("crossvalidation.group_attribute: text datasets have no fields to group by: "
                "remove group_attribute, or use a JSON Lines manifest with a group attribute")
    if data_format == "jsonl" and not isinstance(group_attribute, str):
        return ("crossvalidation.group_attribute: a JSON Lines dataset is grouped by an attribute name, "
                f"not {group_attribute!r}: give the name of the attribute that holds each line's group, "
                'such as "patient_id"')
    if data_format == "csv" and isinstance(group_attribute, str) and group_attribute.strip().isdigit():
        return (f"crossvalidation.group_attribute: {group_attribute!r} is a string; a CSV dataset is grouped by a "
                f"column number: write it without quotes, {int(group_attribute)}")
    if data_format == "csv" and (isinstance(group_attribute, bool) or not isinstance(group_attribute, int)
                                 or group_attribute < 1):
        return ("crossvalidation.group_attribute: a CSV dataset is grouped by a zero-based column number of at "
                f"least 1 (column 0 is the label), not {group_attribute!r}: give the number of the column that "
                "holds each row's group")
    return None
