"""``tuning`` normalised: the search's candidates, each checked against the algorithm's contract as the
template is, and its objective against the metrics the jobs emit. Pure."""

from __future__ import annotations

from dataclasses import dataclass

from . import builtin_hyperparameters, builtin_metrics, hyperparameters, tuning
from .schema_wording import field_key

_TEMPLATE_FIELD = "training.hyperparameters_template."


@dataclass(frozen=True)
class TuningSpec:
    metric: str
    direction: str  # "Maximize" or "Minimize"
    candidates: list[tuning.Candidate]
    grid_size: int  # the first grid_size candidates come from the grid
    refit: bool = False  # train the best candidate on the whole dataset after the search

    def section(self) -> dict:
        """The plan's and the output's ``tuning``: the objective and every candidate's overrides."""
        return {"objective": {"metric": self.metric, "type": self.direction},
                "candidates": [{"index": c.index, "hyperparameters": c.overrides} for c in self.candidates]}

    def where(self, candidate: tuning.Candidate, name: str) -> str:
        """The input field a candidate's value of ``name`` comes from, for messages (a grid value's problem
        then reads the same for every combination that holds it, and is said once)."""
        if candidate.index < self.grid_size:
            return f"tuning.grid.{field_key(name)}"
        return f"tuning.candidates[{candidate.index - self.grid_size}].{field_key(name)}"


def normalise(raw: dict | None, *, family: str, template: dict[str, str], algorithm_specification: dict,
              n_splits: int, n_repeats: int, problems: list[str], channel_layout=None) -> dict:
    """JobSpec's ``tuning`` (None without a search); problems are appended."""
    if raw is None:
        return {"tuning": None}
    grid = raw.get("grid") or {}
    found = tuning.candidates(grid, raw.get("candidates"))
    spec = TuningSpec(metric=raw["objective"]["metric"], direction=raw["objective"]["type"], candidates=found,
                      grid_size=tuning.grid_size(grid), refit=bool(raw.get("refit", False)))
    found_problems = tuning.search_problems(found, n_splits=n_splits, n_repeats=n_repeats, template=template)
    for candidate in found:
        found_problems += _candidate_problems(spec, candidate, family, template)
    found_problems += once_or_per_candidate(spec, lambda candidate: builtin_metrics.objective_problems(
        family, candidate.hyperparameters(template), spec.metric, spec.direction,
        algorithm_specification.get("MetricDefinitions"), channels=_channel_names(channel_layout)))
    problems += list(dict.fromkeys(found_problems))  # a grid value's problem once, not once per combination
    return {"tuning": spec}


def _channel_names(layout) -> frozenset[str] | None:
    """The channels every job has (a built-in reports a "<channel>:" metric only for a channel it was given)."""
    if layout is None:
        return None
    return frozenset({layout.train_channel_name, layout.validation_channel_name})


def once_or_per_candidate(spec: TuningSpec, problems_of) -> list[str]:
    """A problem every candidate has, said once; one only some have, said for each of those candidates, at the
    search's own field when the problem is about a hyperparameter the candidate sets."""
    found = spec.candidates
    per_candidate = {candidate.index: problems_of(candidate) for candidate in found}
    common = [problem for problem in per_candidate[found[0].index]
              if all(problem in problems for problems in per_candidate.values())] if found else []
    problems = list(common)
    for candidate in found:
        for problem in per_candidate[candidate.index]:
            if problem in common:
                continue
            field, _, rest = problem.partition(": ")
            name = field[len(_TEMPLATE_FIELD):] if field.startswith(_TEMPLATE_FIELD) else None
            if name is not None and name in {field_key(key) for key in candidate.overrides}:
                problems.append(f"{spec.where(candidate, name)}: {rest}")
            else:
                problems.append(f"{field}: for candidate {candidate.index} ({tuning.shown(candidate.overrides)}), {rest}")
    return problems


def _candidate_problems(spec: TuningSpec, candidate: tuning.Candidate, family: str, template: dict[str, str]) -> list[str]:
    """What the algorithm's container would refuse in this candidate's own values."""
    problems = []
    for name in builtin_hyperparameters.rejected_names(family, candidate.overrides):
        close = builtin_hyperparameters.closest_name(family, name)
        hint = f"; did you mean {close!r}?" if close else ""
        problems.append(f"{spec.where(candidate, name)}: {family} has no hyperparameter {name!r}{hint} (its "
                        "container fails a job that names a hyperparameter it does not know)")
    merged = candidate.hyperparameters(template)
    for problem in builtin_hyperparameters.input_problems(family, merged):
        for name in candidate.overrides:
            prefix = f"{_TEMPLATE_FIELD}{field_key(name)}:"
            if problem.startswith(prefix):
                problems.append(f"{spec.where(candidate, name)}:{problem[len(prefix):]}")
    for name, placeholders in hyperparameters.unknown_placeholders(candidate.overrides).items():
        problems.append(f"{spec.where(candidate, name)}: unknown placeholder "
                        f"{', '.join('${' + placeholder + '}' for placeholder in placeholders)}")
    return problems
