"""A search's candidates ranked on their cross-validated objective, as GridSearchCV ranks them. Pure.

Each candidate's objective values are its jobs' final values, in repeat then fold order (None for a
job that did not complete, diverged or did not report it); its mean and population std cover the
values present. Ranks follow ``GridSearchCV.cv_results_["rank_test_score"]`` with its default
``error_score=nan``: a candidate missing any value has no score (its mean over the other folds would
flatter it: the fold it missed may be the hardest), so it ranks last, tied with the others missing one;
among complete candidates 1 is best and tied means share the lowest rank (scipy's rankdata "min").
"""

from __future__ import annotations

import statistics
from typing import Any, Mapping

from .summary import COMPLETED, final_metrics, led_by, metric_statistics


def tuning_summary(plan: Mapping[str, Any], splits: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    """``summary.tuning``, or None for a run without a search."""
    search = plan.get("tuning")
    if not search:
        return None
    metric, direction = search["objective"]["metric"], search["objective"]["type"]
    template = plan["training"]["hyperparameters_template"]
    candidates = [_candidate(entry, metric, splits, template) for entry in search["candidates"]]
    _rank(candidates, maximize=direction == "Maximize")
    best = min(candidates, key=lambda candidate: (candidate["rank"], candidate["index"]))
    return {
        "objective": {"metric": metric, "type": direction},
        "candidates": candidates,
        "best_index": best["index"] if best["complete"] else None,
        "best_hyperparameters": best["hyperparameters"] if best["complete"] else None,
    }


def _candidate(entry: Mapping[str, Any], metric: str, splits: list[Mapping[str, Any]],
               template: Mapping[str, str]) -> dict[str, Any]:
    positions = [position for position, split in enumerate(splits) if split.get("candidate_index") == entry["index"]]
    completed = [position for position in positions if splits[position].get("TrainingJobStatus") == COMPLETED]
    done = set(completed)
    values = [final_metrics(splits[position]).get(metric) if position in done else None for position in positions]
    present = [value for value in values if value is not None]
    return {
        "index": entry["index"],
        "overrides": dict(entry["hyperparameters"]),
        # What the candidate's jobs trained with (placeholders as the template wrote them).
        "hyperparameters": {**template, **entry["hyperparameters"]},
        "values": values,
        "mean": statistics.fmean(present) if present else None,
        "std": statistics.pstdev(present) if present else None,
        "completed": len(completed),
        "jobs": len(positions),
        # Every job reported the objective: only then does the candidate have a score to rank.
        "complete": bool(positions) and len(present) == len(positions),
        "metrics": metric_statistics([splits[position] for position in completed], completed),
    }


def _rank(candidates: list[dict[str, Any]], *, maximize: bool) -> None:
    scored = [candidate for candidate in candidates if candidate["complete"]]
    for candidate in scored:
        better = sum(1 for other in scored if (other["mean"] > candidate["mean"] if maximize
                                                else other["mean"] < candidate["mean"]))
        candidate["rank"] = better + 1
    for candidate in candidates:
        if not candidate["complete"]:
            candidate["rank"] = len(scored) + 1


def focus_on_best(summary: dict[str, Any], search: Mapping[str, Any], splits: list[Mapping[str, Any]],
                  *, refit_asked: bool = False) -> None:
    """In a search, the summary's ``metrics``, ``completed_folds`` and ``diverged_*`` describe the best
    candidate: the cross-validated estimate of the hyperparameters the search chose (its other candidates
    are in ``summary.tuning``). Failures and seconds still cover every job. Without a best candidate (none
    is complete) there is no such estimate: ``metrics`` is empty, and ``search_failure_message`` says why
    the search chose none (the run then fails, as GridSearchCV raises when every fit failed)."""
    if search.get("best_index") is None:
        summary["metrics"] = {}
        metric = search["objective"]["metric"]
        said = (f"no candidate has {metric} from every one of its jobs (each misses at least one: a failed job, "
                f"or a job that did not report the metric), so the search chose none"
                + (" and nothing was refit" if refit_asked else "")
                + "; check that the jobs report the objective (summary.csv has every job's metrics)")
        summary["search_failure_message"] = said
        if summary.get("failure_message"):
            summary["failure_message"] = led_by(said, summary["failure_message"])
        return
    best = next(candidate for candidate in search["candidates"] if candidate["index"] == search["best_index"])
    summary["completed_folds"] = [position for position, split in enumerate(splits)
                                  if split.get("candidate_index") == best["index"]
                                  and split.get("TrainingJobStatus") == COMPLETED]
    summary["metrics"] = best["metrics"]
    diverged = sorted({fold for stats in best["metrics"].values() for fold in stats["diverged_folds"]})
    summary["diverged_folds"], summary["diverged_fold_count"] = diverged, len(diverged)
