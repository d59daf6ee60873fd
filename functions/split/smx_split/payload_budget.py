"""The largest Step Functions state a run will carry, measured from its plan before anything is written.

Step Functions fails a state whose input or output is over 256 KiB of UTF-8 (States.DataLimitExceeded:
https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). Past the split step that
would happen after the folds, the trial, and perhaps the training jobs exist, so the split step
measures every state the definition builds from the plan and refuses an input whose run would go
over ``BUDGET_BYTES``, saying what to shrink. Pure: sizes only.

The states (statemachines/crossvalidator.asl.json):
- after SplitDataset: the execution input with the plan at ``$.plan``;
- a fold's iteration of TrainFolds: ``{fold, job, create_retry}`` plus, at most, a failure's error and
  cause; and the .sync task's own result, the whole DescribeTrainingJob of the fold's job;
- after TrainFolds: the above with every fold's result at ``$.fold_results``;
- the gather step's input ``{plan, fold_results}`` and its output, which the gather trims down to
  the run's sections, a few fields per fold and the summary (functions/gather/smx_gather/payload.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from smx_common.step_functions_limits import BUDGET_BYTES, LIMIT_BYTES  # noqa: F401 (the budget's home)

# Upper bounds of what the definition adds to the plan, per fold and per state (bytes):
# a failed fold's result keeps SageMaker's cause (messages of up to about 1 KiB are common);
FOLD_RESULT_BYTES: Final = 2 * 1024
# the iteration's failure (error + cause) and retry bookkeeping;
ITERATION_EXTRA_BYTES: Final = 4 * 1024
# what DescribeTrainingJob returns beyond the request's own fields (status history, times, ARNs, metrics);
DESCRIBE_EXTRA_BYTES: Final = 12 * 1024
# the gather output per fold once trimmed: its kept fields (FailureReason up to 1 KiB, ARNs, model URI),
# its metrics in the summary and its part of the failure message.
GATHER_FOLD_BYTES: Final = 5 * 1024


@dataclass(frozen=True)
class StateSize:
    where: str
    bytes: int


def size(value: Any) -> int:
    """Bytes of ``value`` as JSON in UTF-8, the way Step Functions counts a payload."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def state_sizes(execution_input: Any, plan: Mapping[str, Any]) -> list[StateSize]:
    """The states of one run, largest first."""
    folds = plan["folds"]
    k = len(folds)
    input_bytes, plan_bytes, job_bytes = size(execution_input), size(plan), size(plan["job"])
    largest_fold = max((size(fold) for fold in folds), default=0)
    sections = size({key: plan[key] for key in ("job_config", "crossvalidation", "training")})
    states = [
        StateSize("after SplitDataset (your input plus the plan)", input_bytes + plan_bytes),
        StateSize("after TrainFolds (your input, the plan and every fold's result)",
                  input_bytes + plan_bytes + k * FOLD_RESULT_BYTES),
        StateSize("GatherResults' input (the plan and every fold's result)", plan_bytes + k * FOLD_RESULT_BYTES),
        StateSize("GatherResults' output (the run's settings and every fold's outcome)",
                  sections + k * GATHER_FOLD_BYTES),
        StateSize("a fold's training task (the fold's request, the shared job settings and a failure)",
                  largest_fold + job_bytes + ITERATION_EXTRA_BYTES),
        StateSize("a fold's DescribeTrainingJob result", largest_fold + job_bytes + DESCRIBE_EXTRA_BYTES),
    ]
    return sorted(states, key=lambda state: -state.bytes)


def budget_problems(execution_input: Any, plan: Mapping[str, Any]) -> list[str]:
    """One problem naming the largest state and what makes it big, or none when the run fits."""
    largest = state_sizes(execution_input, plan)[0]
    if largest.bytes <= BUDGET_BYTES:
        return []
    return [
        f"the run's largest Step Functions state would be {_kib(largest.bytes)} ({largest.where}), over the "
        f"{_kib(BUDGET_BYTES)} SMX-Validator allows under Step Functions' {_kib(LIMIT_BYTES)} limit; "
        f"the biggest parts: {_contributors(execution_input, plan)}. Shorten or remove what is largest, "
        f"or lower crossvalidation.n_splits"
    ] + _job_count_problems(plan)


def _job_count_problems(plan: Mapping[str, Any]) -> list[str]:
    """With more jobs than folds (a search, repeats), their number is the lever: every job is an entry of the
    plan and of the gather's output."""
    jobs, crossvalidation = len(plan["folds"]), plan.get("crossvalidation") or {}
    if jobs <= crossvalidation.get("n_splits", jobs):
        return []
    candidates = len(plan["tuning"]["candidates"]) if "tuning" in plan else 1
    repeats = crossvalidation.get("n_repeats", 1)
    return [
        f"{'tuning' if 'tuning' in plan else 'crossvalidation.n_repeats'}: this run plans {jobs} training jobs "
        f"({candidates} candidate{'s' if candidates != 1 else ''} x {repeats} repeat{'s' if repeats != 1 else ''} x "
        f"{crossvalidation['n_splits']} folds), each carried in the state machine's states: narrow tuning.grid or "
        "tuning.candidates, or lower crossvalidation.n_repeats"
    ]


def _contributors(execution_input: Any, plan: Mapping[str, Any]) -> str:
    k = len(plan["folds"])
    training = execution_input.get("training", {}) if isinstance(execution_input, Mapping) else {}
    job_config = execution_input.get("job_config", {}) if isinstance(execution_input, Mapping) else {}
    hyperparameters = training.get("hyperparameters_template", training.get("hyperparameter_template"))
    parts = [
        ("job_config.tags", size(job_config.get("tags", [])), k + 2, "in each fold's request, the plan and your input"),
        ("training.hyperparameters_template", size(hyperparameters or {}), k + 2,
         "in each fold's request, the plan and your input"),
        ("training.environment", size(training.get("environment", {})), 3, "in the shared request, the plan and your input"),
        ("your whole input", size(execution_input), 2, "your input and the plan's copy of its settings"),
    ]
    parts.sort(key=lambda part: -part[1] * part[2])
    parts = [part for part in parts if part[1] >= 256] or parts[:1]  # a few bytes are not worth naming
    return "; ".join(f"{name} {_kib(one)} x {times} ({where})" for name, one, times, where in parts[:3])


def _kib(value: int) -> str:
    return f"{value / 1024:.1f} KiB"
