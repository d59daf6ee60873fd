"""A cross-validated search's candidates: the grid expanded as scikit-learn's ParameterGrid expands it,
then the explicit candidates, each a set of hyperparameters overriding the template. Pure.

Every candidate trains on the same folds (a paired comparison), so a search of C candidates, R
repeats and k folds runs C x R x k training jobs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from sklearn.model_selection import ParameterGrid

from . import hyperparameters

# The most training jobs one search may start: every job is one Map iteration of one execution, whose
# history Step Functions caps at 25,000 events (a job's iteration writes about 12), and which the
# account's training-job quotas must absorb. doc/architecture.md gives the reckoning.
MAX_JOBS = 1000


@dataclass(frozen=True)
class Candidate:
    index: int
    overrides: dict[str, str]  # the hyperparameters the search sets, as strings

    def hyperparameters(self, template: Mapping[str, str]) -> dict[str, str]:
        """The template with this candidate's values (placeholders in either are still filled per fold)."""
        return {**template, **self.overrides}


def candidates(grid: Mapping[str, list] | None, explicit: list[Mapping[str, object]] | None) -> list[Candidate]:
    """The grid's combinations (keys sorted, the last key varying fastest, as ParameterGrid yields them),
    then the explicit candidates in their order."""
    combinations = list(ParameterGrid(dict(grid))) if grid else []
    sets = [*combinations, *(dict(candidate) for candidate in explicit or [])]
    return [Candidate(index, hyperparameters.normalise(values)[0]) for index, values in enumerate(sets)]


def grid_size(grid: Mapping[str, list] | None) -> int:
    """How many combinations a grid expands to (the first candidates of a search)."""
    return len(ParameterGrid(dict(grid))) if grid else 0


def candidate_count(raw: Mapping | None) -> int | None:
    """How many candidates an input's ``tuning`` section holds (None without one), before they are checked."""
    if raw is None:
        return None
    return grid_size(raw.get("grid")) + len(raw.get("candidates") or [])


def search_problems(found: list[Candidate], *, n_splits: int, n_repeats: int,
                    template: Mapping[str, str] | None = None) -> list[str]:
    """An empty search, one candidate given twice (the same hyperparameters once the template's are added),
    or more jobs than one execution can run."""
    if not found:
        return ["tuning: the search has no candidate; give tuning.grid values or tuning.candidates"]
    problems = []
    seen: dict[tuple, int] = {}
    for candidate in found:
        key = tuple(sorted((name, _comparable(value)) for name, value in candidate.hyperparameters(template or {}).items()))
        if key in seen:
            problems.append(f"tuning: candidate {candidate.index} repeats candidate {seen[key]} "
                            f"({shown(candidate.overrides)}); remove one of them")
        seen.setdefault(key, candidate.index)
    jobs = len(found) * n_repeats * n_splits
    if jobs > MAX_JOBS:
        problems.append(
            f"tuning: {len(found)} candidates x {n_repeats} repeat{'s' if n_repeats != 1 else ''} x {n_splits} folds = "
            f"{jobs} training jobs, more "
            f"than the {MAX_JOBS} one run may start; narrow the grid, or lower crossvalidation.n_repeats or n_splits")
    return problems


def _comparable(value: str) -> object:
    """A value as a container reads it: "0.1", "0.10" and "1e-1" are one number (the same candidate twice)."""
    try:
        number = float(value)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def shown(values: Mapping[str, str]) -> str:
    """A candidate's overrides as a message shows them: "l1=0, learning_rate=0.1"."""
    return ", ".join(f"{key}={value}" for key, value in sorted(values.items())) or "the template unchanged"
