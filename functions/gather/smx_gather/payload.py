"""Keeps the execution output under Step Functions' 256 KiB state limit (pure).

summary.json on S3 always holds everything; only the returned output is trimmed, and
summary.trimmed_fields says which per-fold fields were dropped from every entry of ``splits``.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Mapping

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
    search = fitted["summary"].get("tuning")
    if payload_size(fitted) > limit and search:
        # A search's per-candidate statistics of every metric (summary.json keeps them); the ranking stays.
        for candidate in search["candidates"]:
            candidate.pop("metrics", None)
        trimmed.append("tuning.candidates.metrics")
    return fitted
