"""The cross-validated summary of a run: pure functions of the plan and the folds' outcomes.

A fold counts as completed only when DescribeTrainingJob says ``Completed``: SageMaker, not the
Map's catch, decides whether a model exists. Metric statistics cover completed folds only, and
``values[i]`` belongs to ``completed_folds[i]`` (``None`` where that fold did not report the metric).

Folds are named by their position in ``splits`` (the plan's order): in a run without repeats that is
the fold index; in a repeated k-fold run, repeat r's fold i is at r * n_splits + i, and each entry
of ``splits`` carries its ``repeat_index``.
"""

from __future__ import annotations

import math
import statistics
from typing import Any, Iterable, Mapping

from smx_common.fold_labels import job_label

COMPLETED = "Completed"
# A fold whose CreateTrainingJob was rejected has no job to describe; this status marks its entry.
NOT_CREATED = "NotCreated"
MAX_REASON_CHARS = 1000
# A Fail state's Cause is limited to 32,768 characters; failure_message becomes that cause.
MAX_FAILURE_MESSAGE_CHARS = 32_768


def fold_splits(
    plan: Mapping[str, Any],
    descriptions: Mapping[str, Mapping[str, Any] | None],
    fold_results: Iterable[Mapping[str, Any]],
) -> list[dict[str, Any]]:
    """One entry per planned job, in the plan's order: its fold (and repeat) index + its DescribeTrainingJob
    result.

    ``descriptions[name]`` is None when that job does not exist; its entry then carries the Map's error
    instead (``TrainingJobStatus`` "NotCreated").
    """
    results = _by_job(fold_results)
    splits = []
    for fold in plan["folds"]:
        identity = {key: fold[key] for key in ("candidate_index", "repeat_index", "fold_index") if key in fold}
        description = descriptions.get(fold["TrainingJobName"])
        if description is not None:
            splits.append({**identity, **description})
            continue
        reason = error_text(results.get(fold["TrainingJobName"], {})) or "the training job was never created"
        splits.append({
            **identity,
            "TrainingJobName": fold["TrainingJobName"],
            "TrainingJobStatus": NOT_CREATED,
            "FailureReason": _clip(reason, MAX_REASON_CHARS),
        })
    return splits


def build_summary(
    splits: list[Mapping[str, Any]],
    fold_results: Iterable[Mapping[str, Any]],
    *,
    summary_json: str,
    summary_csv: str,
    trial_component_name: str,
) -> dict[str, Any]:
    """The ``summary`` block of the execution output (see doc/architecture.md, "Gather step")."""
    results = _by_job(fold_results)
    completed = [position for position, s in enumerate(splits) if s.get("TrainingJobStatus") == COMPLETED]
    failed = [
        {
            **{key: s[key] for key in ("candidate_index", "repeat_index", "fold_index") if key in s},
            "TrainingJobName": s.get("TrainingJobName"),
            "TrainingJobStatus": s.get("TrainingJobStatus"),
            "FailureReason": failure_reason(s, results.get(s.get("TrainingJobName"), {})),
        }
        for s in splits
        if s.get("TrainingJobStatus") != COMPLETED
    ]
    metrics = metric_statistics([splits[position] for position in completed], completed)
    diverged_folds = sorted({fold for stats in metrics.values() for fold in stats["diverged_folds"]})
    return {
        "metrics": metrics,
        "completed_folds": completed,
        "diverged_folds": diverged_folds,
        "diverged_fold_count": len(diverged_folds),
        "failed_folds": failed,
        "failed_fold_count": len(failed),
        "failure_message": failure_message(failed, len(splits)),
        # Failed and stopped jobs are billed too, so the totals cover every fold.
        "training_seconds_total": sum(s.get("TrainingTimeInSeconds") or 0 for s in splits),
        "billable_seconds_total": sum(s.get("BillableTimeInSeconds") or 0 for s in splits),
        "summary_json": summary_json,
        "summary_csv": summary_csv,
        "trial_component_name": trial_component_name,
        "trimmed_fields": [],
    }


def final_metrics(split: Mapping[str, Any]) -> dict[str, float]:
    """A fold's final metrics by name. Non-finite values (a diverged loss) count as missing:
    they would make every statistic NaN, and NaN is not JSON."""
    metrics = {}
    for item in split.get("FinalMetricDataList") or []:
        value = item.get("Value")
        if isinstance(value, (int, float)) and math.isfinite(value):
            metrics[item["MetricName"]] = float(value)
    return metrics


def diverged_metrics(split: Mapping[str, Any]) -> list[str]:
    """The metrics a fold reported as NaN or infinite (a diverged loss, a division by zero)."""
    return sorted({item["MetricName"] for item in split.get("FinalMetricDataList") or []
                   if isinstance(item.get("Value"), float) and not math.isfinite(item["Value"])})


def metric_statistics(completed: list[Mapping[str, Any]], positions: list[int] | None = None) -> dict[str, dict[str, Any]]:
    """Per metric: every completed fold's value (None where it reported none, or a non-finite one), their
    mean, population std, min, max and count over the finite values, and the folds that diverged (by their
    position in ``splits``, ``positions``): a statistic over fewer folds than it seems must say so."""
    positions = positions if positions is not None else [split["fold_index"] for split in completed]
    per_fold = [final_metrics(s) for s in completed]
    diverged = [set(diverged_metrics(s)) for s in completed]
    names = sorted({name for metrics in per_fold for name in metrics} | {name for names in diverged for name in names})
    stats = {}
    for name in names:
        values = [metrics.get(name) for metrics in per_fold]
        present = [v for v in values if v is not None]
        stats[name] = {
            "values": values,
            "mean": statistics.fmean(present) if present else None,
            # Population std (ddof=0): numpy's and cross_val_score(...).std()'s convention.
            "std": statistics.pstdev(present) if present else None,
            "min": min(present) if present else None,
            "max": max(present) if present else None,
            "count": len(present),
            "diverged_folds": [position for position, names_ in zip(positions, diverged) if name in names_],
        }
    return stats


def strict_json(value: Any) -> Any:
    """``value`` with every NaN or infinite float replaced by None: Step Functions and strict JSON parsers
    refuse them (the summary's ``diverged_folds`` says where they were)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {key: strict_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [strict_json(item) for item in value]
    return value


def failure_reason(split: Mapping[str, Any], fold_result: Mapping[str, Any]) -> str:
    """Why a fold has no model: SageMaker's FailureReason, else what the Map caught."""
    reason = split.get("FailureReason")
    if not reason:
        # A stopped job, or one the Map gave up on (timeout) while it still ran, has no
        # FailureReason; its status plus the caught error is the best explanation there is.
        reason = f"TrainingJobStatus {split.get('TrainingJobStatus')}{_stop_explanation(split)}"
        error = error_text(fold_result)
        if error:
            reason += f"; {error}"
    return _clip(reason, MAX_REASON_CHARS)


def _stop_explanation(split: Mapping[str, Any]) -> str:
    """`` (MaxRuntimeExceeded): <SageMaker's message>``: which limit or request stopped the job."""
    secondary = split.get("SecondaryStatus")
    if not secondary or secondary == split.get("TrainingJobStatus"):
        secondary_text = ""
    else:
        secondary_text = f" ({secondary})"
    transitions = split.get("SecondaryStatusTransitions") or []
    message = transitions[-1].get("StatusMessage") if transitions else None
    return secondary_text + (f": {message}" if message else "")


def failure_message(failed: list[Mapping[str, Any]], n_folds: int) -> str:
    if not failed:
        return ""
    parts = [f"{job_label(f)} ({f['TrainingJobName']}): {f['FailureReason']}" for f in failed]
    # A search or a repeated run has more jobs than folds: say jobs.
    what = "training jobs" if any("repeat_index" in f or "candidate_index" in f for f in failed) else "folds"
    message = f"{len(failed)} of {n_folds} {what} failed: " + "; ".join(parts)
    return _clip(message, MAX_FAILURE_MESSAGE_CHARS)


def _by_job(fold_results: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The Map's results by training job name (resources/schemas/fold-results.schema.json)."""
    return {r["TrainingJobName"]: r for r in fold_results or [] if "TrainingJobName" in r}


def error_text(fold_result: Mapping[str, Any]) -> str:
    """What the Map caught for a job: "Error: Cause", or whichever it has."""
    error, cause = fold_result.get("error"), fold_result.get("cause")
    if error and cause:
        return f"{error}: {cause}"
    return error or cause or ""


def led_by(lead: str, message: str) -> str:
    """A failure message that says ``lead`` first (whether a final model exists), clipped to a Fail state's
    cause limit as a whole."""
    return _clip(f"{lead}; {message}" if message else lead, MAX_FAILURE_MESSAGE_CHARS)


def _clip(text: str, limit: int) -> str:
    marker = " [...]"
    return text if len(text) <= limit else text[: limit - len(marker)] + marker
