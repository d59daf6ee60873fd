"""What the input schema says is wrong, in one line per problem: where, what, and how to fix it. Pure."""

from __future__ import annotations

import difflib
import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError


def schema_problems(raw: Any, schema: dict) -> list[str]:
    """Every violation of the schema, one line each (an object with several unknown keys gives one line a key)."""
    return [line for error in _schema_errors(raw, schema) for line in _describe(error).split("\n")]


def _schema_errors(raw: Any, schema: dict) -> list[ValidationError]:
    validator = Draft202012Validator(schema)
    return sorted(validator.iter_errors(raw), key=lambda error: (list(map(str, error.absolute_path)), error.message))


def field_path(parts) -> str:
    """A field as messages name it, such as job_config.tags[0].Key ("input" for the whole document)."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{field_key(part)}" if text else field_key(part))
    return text or "input"


def field_key(name: str) -> str:
    """A key as a path shows it: quoted as JSON unless plain, so "a.b", "" or a newline stay readable."""
    return name if _PLAIN_KEY.fullmatch(name) else json.dumps(name)


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _describe(error: ValidationError) -> str:
    """One line per schema violation: where, what, and how to fix it."""
    where = field_path(error.absolute_path)
    value = error.instance
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1]
        location = f"{where}.{missing}" if error.absolute_path else missing
        return f"{location}: missing; this field is required"
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(value) - set(allowed))
        lines = []
        for key in unknown:
            guess = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else f"allowed fields: {', '.join(allowed)}"
            lines.append(f"{where + '.' if error.absolute_path else ''}{field_key(key)}: unknown field; {hint}")
        return "\n".join(lines)
    if kind == "type" and not error.absolute_path:
        return _describe_root(value)
    if kind == "type":
        shown = "" if value is None else f" {_short(value)}"
        # "true"/"yes" in quotes for a boolean: the fix is the bare JSON literal.
        hint = "; write true or false, without quotes" if error.validator_value == "boolean" else ""
        return f"{where}: expected {_expected(error.validator_value)}, got {_json_type(value)}{shown}{hint}"
    if "propertyNames" in error.schema_path:
        return _describe_name(where, error)
    if kind == "enum":
        return f"{where}: {_short(value)} is not one of {', '.join(map(json.dumps, error.validator_value))}"
    if kind == "pattern":
        field = error.absolute_path[-1]
        hint = _PATTERN_HINTS.get(field, "has characters that are not allowed")
        if field in _NAME_FIELDS and isinstance(value, str):
            hint += _name_offender(value)
        return f"{where}: {_short(value)} {hint}"
    if kind in ("minimum", "maximum"):
        bound = "at least" if kind == "minimum" else "at most"
        return f"{where}: {value} is out of range; it must be {bound} {error.validator_value}"
    if kind in ("minLength", "maxLength"):
        bound = "at least" if kind == "minLength" else "at most"
        return f"{where}: is {len(value)} characters long; it must be {bound} {error.validator_value}"
    if kind in ("minItems", "maxItems", "minProperties", "maxProperties"):
        bound = "at least" if kind.startswith("min") else "at most"
        # A grid's long list of values: the same candidates can be listed one by one.
        hint = ("; list the rest under tuning.candidates (up to 1000 sets)"
                if kind == "maxItems" and where.startswith("tuning.grid.") else "")
        return f"{where}: has {len(value)} entries; it may have {bound} {error.validator_value}{hint}"
    if kind == "oneOf" and error.absolute_path and error.absolute_path[-1] == "group_attribute":
        label_column = " (column 0 is the label)" if value == 0 and not isinstance(value, bool) else ""
        return f"{where}: must be an attribute name (JSON Lines) or a column number of at least 1 (CSV){label_column}"
    return f"{where}: {error.message}"


def _describe_root(value) -> str:
    what = f"{_json_type(value)}" if value is None else f"{_json_type(value)} {_short(value)}"
    hint = "start the execution with an object holding job_config, crossvalidation and training"
    if isinstance(value, str):
        try:
            holds_object = isinstance(json.loads(value), dict)
        except ValueError:
            holds_object = False
        if holds_object:
            hint = "the input is a string holding JSON: pass the JSON object itself, not a string of it"
    return f"input: expected an object, got {what}; {hint}"


def _describe_name(where: str, error: ValidationError) -> str:
    """A violation of propertyNames: the instance is the offending key, the path its object."""
    name, kind = error.instance, error.validator
    shown = _short(name)
    if kind == "maxLength":
        return f"{where}: the name {shown} is {len(name)} characters long; names may be at most {error.validator_value}"
    if kind == "minLength":
        return f"{where}: has an entry with an empty name; give every entry a name"
    if kind == "pattern":
        return f"{where}: the name {shown} is not allowed; use letters, digits and '_', not starting with a digit"
    return f"{where}: the name {shown}: {error.message}"


_PATTERN_HINTS = {
    "input_path": "is not an S3 object URI; write it like s3://bucket/path/data.jsonl",
    "output_prefix": "is not an S3 URI; write it like s3://bucket/prefix",
    "name": "may only contain ASCII letters, digits, '-', '_' and '.', and must start with a letter or digit",
    "experiment": "may only contain ASCII letters, digits, '-', '_' and '.', and must start with a letter or digit",
    "Key": "starts with 'aws:', which AWS reserves for its own tags",
    "InstanceType": "is not a SageMaker instance type such as ml.m5.xlarge",
}


_NAME_FIELDS = ("name", "experiment")


def _name_offender(name: str) -> str:
    """Which character of a refused name breaks the rule, so a user sees it at once."""
    if name and not (name[0].isascii() and name[0].isalnum()):
        return f": it starts with {name[0]!r}"
    bad = next((char for char in name if not (char.isascii() and (char.isalnum() or char in "-_."))), None)
    return f": {bad!r} is not allowed" if bad else ""


def _expected(types) -> str:
    return " or ".join(types) if isinstance(types, list) else types


def _json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}[type(value)]


def _short(value, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False)  # "modèle", not "mod\u00e8le"
    return text if len(text) <= limit else text[: limit - 3] + "..."
