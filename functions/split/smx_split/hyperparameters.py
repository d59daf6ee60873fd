"""The hyperparameter template: normalising values to strings, and which placeholders it uses."""

from __future__ import annotations

import json
from collections.abc import Mapping

# The placeholders and their filling have one home, shared with the gather (which renders the refit job's).
from smx_common.hyperparameter_placeholders import PLACEHOLDERS, placeholders_in, without_placeholders


def normalise(template: Mapping[str, object]) -> tuple[dict[str, str], list[str]]:
    """Every value as the string SageMaker expects, and a note for each value that was converted.

    Booleans become ``true``/``false`` (the spelling the built-in algorithms parse), numbers
    their JSON text, so ``{"epochs": 10}`` trains exactly like ``{"epochs": "10"}``.
    """
    normalised: dict[str, str] = {}
    notes: list[str] = []
    for key, value in template.items():
        if isinstance(value, str):
            normalised[key] = value
            continue
        normalised[key] = json.dumps(value)
        notes.append(f"hyperparameter {key!r}: converted {type(value).__name__} {value!r} to the string {normalised[key]!r}")
    return normalised, notes


def unknown_placeholders(template: Mapping[str, str]) -> dict[str, list[str]]:
    """Placeholders per key that SMX-Validator cannot fill (typos such as ``${num_class}``)."""
    unknown = {}
    for key, value in template.items():
        bad = [name for name in placeholders_in(value) if name not in PLACEHOLDERS]
        if bad:
            unknown[key] = bad
    return unknown


def unclosed_placeholders(template: Mapping[str, str]) -> list[str]:
    """Keys whose value has a ``${`` that starts no complete placeholder (``${num_classes``)."""
    return [key for key, value in template.items() if "${" in without_placeholders(value)]


def uses_placeholder(template: Mapping[str, str], name: str) -> bool:
    return any(name in placeholders_in(value) for value in template.values())
