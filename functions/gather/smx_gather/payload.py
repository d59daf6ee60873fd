"""Keeps the execution output under Step Functions' 256 KiB state limit (pure).

summary.json on S3 always holds everything; only the returned output is trimmed, and
summary.trimmed_fields says what was dropped: per-fold fields from every entry of ``splits`` first, then,
for runs of hundreds of jobs, ``splits`` itself and the search's per-candidate detail.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Callable, Mapping

from smx_common.step_functions_limits import BUDGET_BYTES

# The output is trimmed to the budget the split plans every state within.
LIMIT_BYTES = BUDGET_BYTES

# Bulkiest and least needed first: status history, then metrics (summary.metrics has them),
# then hyperparameters and channels (the plan and summary.json have them).
TRIM_ORDER = ("SecondaryStatusTransitions", "FinalMetricDataList", "HyperParameters", "InputDataConfig")

# Last resort when the four above are not enough: what identifies a fold and what it cost.
KEEP_FIELDS = frozenset({
    "candidate_index", "repeat_index", "fold_index", "TrainingJobName", "TrainingJobArn", "TrainingJobStatus", "SecondaryStatus",
    "FailureReason", "ModelArtifacts", "TrainingStartTime", "TrainingEndTime",
    "TrainingTimeInSeconds", "BillableTimeInSeconds",
})


def payload_size(output: Mapping[str, Any]) -> int:
    # Default separators and ASCII escapes: an upper bound of how the Lambda runtime serialises it.
    return len(json.dumps(output).encode("utf-8"))


def fit_to_limit(output: Mapping[str, Any], limit: int = LIMIT_BYTES) -> dict[str, Any]:
    """A copy of ``output`` whose JSON is at most ``limit`` bytes if trimming ``splits`` can get it there."""
    fitted = copy.deepcopy(dict(output))
    trimmed: list[str] = []
    fitted["summary"]["trimmed_fields"] = trimmed
    if payload_size(fitted) > limit:
        # A confusion matrix of hundreds of classes goes first: it alone can fill the state (its labels and the
        # pooled metrics stay), and the jobs' detail is worth more in the output.
        trimmed.extend(_confusion_matrix(fitted))
    for field in TRIM_ORDER:
        if payload_size(fitted) <= limit:
            return fitted
        if any(field in split for split in fitted["splits"]):
            for split in fitted["splits"]:
                split.pop(field, None)
            trimmed.append(field)
    if payload_size(fitted) > limit:
        extra = sorted({key for split in fitted["splits"] for key in split} - KEEP_FIELDS)
        fitted["splits"] = [{k: v for k, v in split.items() if k in KEEP_FIELDS} for split in fitted["splits"]]
        trimmed.extend(extra)
    for stage in _LAST_RESORTS:
        if payload_size(fitted) <= limit:
            break
        trimmed.extend(stage(fitted))
    return fitted


# A run through the Distributed Map may have hundreds of jobs and candidates: past the fields above, what grows
# with them goes too, in this order, until the output fits (summary.json and summary.csv keep all of it).

def _drop_splits(output: dict[str, Any]) -> list[str]:
    output["splits"] = []
    return ["splits"]


def _drop_candidate_fields(*fields: str) -> Callable[[dict[str, Any]], list[str]]:
    """A stage that drops ``fields`` from every candidate of a search (summary.json keeps them)."""
    def stage(output: dict[str, Any]) -> list[str]:
        search = output["summary"].get("tuning")
        if not search:
            return []
        for candidate in search["candidates"]:
            for field in fields:
                candidate.pop(field, None)
        return [f"tuning.candidates.{field}" for field in fields]
    return stage


def _first_failures(output: dict[str, Any]) -> list[str]:
    summary = output["summary"]
    if len(summary.get("failed_folds") or []) <= KEPT_FAILURES:
        return []
    summary["failed_folds"] = summary["failed_folds"][:KEPT_FAILURES]
    return [f"failed_folds after the first {KEPT_FAILURES}"]


def _best_candidates(output: dict[str, Any]) -> list[str]:
    search = output["summary"].get("tuning")
    if not search or len(search["candidates"]) <= KEPT_CANDIDATES:
        return []
    search["candidates"] = sorted(search["candidates"], key=lambda c: (c["rank"], c["index"]))[:KEPT_CANDIDATES]
    return [f"tuning.candidates ranked after {KEPT_CANDIDATES}"]


def _confusion_matrix(output: dict[str, Any]) -> list[str]:
    """A confusion matrix of many classes (its size grows with their square); its labels and the pooled metrics
    stay."""
    matrix = (output["summary"].get("out_of_fold") or {}).get("confusion_matrix")
    if not matrix or "matrix" not in matrix:
        return []
    del matrix["matrix"]
    return ["out_of_fold.confusion_matrix.matrix"]


KEPT_FAILURES = 20
KEPT_CANDIDATES = 50
_LAST_RESORTS = (
    _drop_splits,
    # every metric's statistics per candidate; the ranking stays
    _drop_candidate_fields("metrics"),
    # the template plus the overrides (the overrides stay), and the per-job values (mean, std, completed stay)
    _drop_candidate_fields("hyperparameters", "values"),
    _first_failures,
    _best_candidates,
)
