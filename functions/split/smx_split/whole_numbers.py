"""Integers written as whole floats (``5.0``), made true integers where the schema wants one. Pure."""

from __future__ import annotations

from typing import Any

from .schema_wording import field_path


def whole_numbers(raw: Any, schema: dict) -> tuple[Any, list[str]]:
    """A copy of ``raw`` with every integer field given as a whole float (``5.0``) made an int.

    JSON Schema counts 5.0 as an integer, but scikit-learn (n_splits), numpy (the random seed) and
    SageMaker (counts and seconds) need a true integer. The conversion is noted.
    """
    notes: list[str] = []

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = {**schema["$defs"][node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def wants_integer(node: dict) -> bool:
        return node.get("type") == "integer" or any(option.get("type") == "integer" for option in node.get("oneOf", []))

    def walk(value: Any, node: dict, path: list) -> Any:
        node = resolve(node)
        if isinstance(value, float) and value.is_integer() and wants_integer(node):
            notes.append(f"{field_path(path)}: converted {value!r} to the integer {int(value)}")
            return int(value)
        if isinstance(value, dict):
            properties, extra = node.get("properties", {}), node.get("additionalProperties")
            return {
                key: walk(item, properties.get(key, extra if isinstance(extra, dict) else {}), [*path, key])
                for key, item in value.items()
            }
        if isinstance(value, list) and isinstance(node.get("items"), dict):
            return [walk(item, node["items"], [*path, index]) for index, item in enumerate(value)]
        return value

    return walk(raw, schema, []), notes
