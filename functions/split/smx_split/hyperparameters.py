"""The hyperparameter template: normalising values to strings and filling per-fold placeholders."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

PLACEHOLDERS = ("num_training_samples", "num_validation_samples", "num_classes")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


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


def placeholders_in(value: str) -> list[str]:
    return _PLACEHOLDER.findall(value)


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
    return [key for key, value in template.items() if "${" in _PLACEHOLDER.sub("", value)]


def uses_placeholder(template: Mapping[str, str], name: str) -> bool:
    return any(name in placeholders_in(value) for value in template.values())


def placeholder_values(*, num_training_samples: int, num_validation_samples: int,
                       num_classes: int | None) -> dict[str, int | None]:
    """What each of PLACEHOLDERS stands for in one fold's job. num_classes is None without labels, and a
    template that uses ${num_classes} is refused for such data before any fold is rendered."""
    return {"num_training_samples": num_training_samples, "num_validation_samples": num_validation_samples,
            "num_classes": num_classes}


def render(template: Mapping[str, str], values: Mapping[str, int | None]) -> dict[str, str]:
    """The fold's hyperparameters: each ``${name}`` replaced by ``values[name]``."""
    return {key: _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), value) for key, value in template.items()}
