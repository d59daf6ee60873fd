"""The placeholders a hyperparameter value may hold, and how a job's values fill them. Pure.

The split fills them per fold; the gather fills them for the refit job, which trains the search's best
candidate on the whole dataset once the search has chosen it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDERS = ("num_training_samples", "num_validation_samples", "num_classes")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


def placeholders_in(value: str) -> list[str]:
    return _PLACEHOLDER.findall(value)


def without_placeholders(value: str) -> str:
    """``value`` with every complete placeholder removed (what is left of an unclosed ``${`` shows)."""
    return _PLACEHOLDER.sub("", value)


def placeholder_values(*, num_training_samples: int, num_validation_samples: int,
                       num_classes: int | None) -> dict[str, int | None]:
    """What each of PLACEHOLDERS stands for in one job. num_classes is None without labels, and a
    template that uses ${num_classes} is refused for such data before any job is rendered."""
    return {"num_training_samples": num_training_samples, "num_validation_samples": num_validation_samples,
            "num_classes": num_classes}


def render(template: Mapping[str, str], values: Mapping[str, int | None]) -> dict[str, str]:
    """The job's hyperparameters: each ``${name}`` replaced by ``values[name]``."""
    return {key: _PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), value) for key, value in template.items()}
