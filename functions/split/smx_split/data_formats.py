"""The dataset formats, how a file's extension names one, and what each format can be grouped by. Pure.

A dataset is a sequence of newline-separated records ("lines") in one of three formats: CSV
(label in the first column, as SageMaker's built-in CSV algorithms expect), JSON Lines (an
augmented manifest, label in an attribute) or text (BlazingText's ``__label__`` prefixes).
"""

from __future__ import annotations

from .errors import InvalidInputError

DATA_FORMATS = ("csv", "jsonl", "text")
# The extension of the fold files written for each format.
FILE_EXTENSIONS = {"csv": "csv", "jsonl": "jsonl", "text": "txt"}
_FORMAT_OF_EXTENSION = {".csv": "csv", ".jsonl": "jsonl", ".json": "jsonl", ".manifest": "jsonl", ".txt": "text"}


def data_format_for(input_key: str, explicit: str | None) -> str:
    """The dataset's format: ``job_config.input_format`` when given, else the key's extension."""
    if explicit:
        return explicit
    name = input_key.rsplit("/", 1)[-1].lower()
    extension = name[name.rfind("."):] if "." in name else ""
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
    if data_format == "csv" and (isinstance(group_attribute, bool) or not isinstance(group_attribute, int)
                                 or group_attribute < 1):
        return ("crossvalidation.group_attribute: a CSV dataset is grouped by a zero-based column number of at "
                f"least 1 (column 0 is the label), not {group_attribute!r}: give the number of the column that "
                "holds each row's group")
    return None
