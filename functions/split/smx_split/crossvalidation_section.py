"""``crossvalidation`` normalised: the random seed (drawn when not given), the strategy, labels and groups. Pure."""

from __future__ import annotations

import secrets

from smx_common.deployment import Deployment

from .data_formats import group_attribute_problem


def normalise(crossvalidation: dict, data_format: str | None, deployment: Deployment,
              problems: list[str], notes: list[str]) -> dict:
    """JobSpec's crossvalidation fields; problems and notes are appended."""
    random_state = crossvalidation.get("random_state")
    if random_state is None:
        random_state = secrets.randbelow(2**32)
        notes.append(f"crossvalidation.random_state: not given; drew {random_state} (set it to repeat this split)")
    group_attribute = crossvalidation.get("group_attribute")
    problem = group_attribute_problem(group_attribute, data_format) if data_format else None
    if problem:
        problems.append(problem)
    return dict(
        n_splits=crossvalidation["n_splits"],
        n_repeats=crossvalidation.get("n_repeats", 1),
        random_state=random_state,
        strategy=crossvalidation.get("strategy", "auto"),
        label_attribute=crossvalidation.get("label_attribute", "class"),
        group_attribute=group_attribute,
        max_concurrency=crossvalidation.get("max_concurrency", deployment.default_max_concurrency),
    )
