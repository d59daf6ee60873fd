"""The largest Step Functions state a run will carry, measured from its plan before anything is written.

Step Functions fails a state whose input or output is over 256 KiB of UTF-8 (States.DataLimitExceeded:
https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html). Past the split step that
would happen after the folds, the trial, and perhaps the training jobs exist, so the split step
measures every state the definition builds from the plan and refuses an input whose run would go
over ``BUDGET_BYTES``, saying what to shrink. Pure: sizes only.

A run whose inline states fit goes through the inline Map (TrainFolds), which carries every job's request in
its states. Any other run goes through the Distributed Map (TrainFoldsFromS3): the split writes the jobs to
S3, the Map's ItemReader reads them one child execution at a time, and its ResultWriter writes their results
back to S3, so no state holds more than one job's request (``map_mode``).

The inline Map's states (statemachines/crossvalidator.asl.json):
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


# What the Distributed Map's ResultWriter puts in the state instead of the results: the Map Run's ARN and
# where its manifest is (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html).
RESULT_WRITER_BYTES: Final = 1024

INLINE, DISTRIBUTED = "inline", "distributed"


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
        *_refit_states(plan, largest_fold, job_bytes),
    ]
    return sorted(states, key=lambda state: -state.bytes)


def _refit_states(plan: Mapping[str, Any], largest_fold: int, job_bytes: int) -> list[StateSize]:
    """With tuning.refit, the search's gather returns the refit's plan (one job, the best candidate's: no larger
    than the largest fold's request, plus the shared job settings and the run's identity)."""
    if not (plan.get("tuning") or {}).get("refit"):
        return []
    return [StateSize("the refit's plan (the best candidate's request and the shared job settings)",
                      largest_fold + job_bytes + size(plan["job_config"]) + ITERATION_EXTRA_BYTES)]


def distributed_state_sizes(execution_input: Any, plan: Mapping[str, Any]) -> list[StateSize]:
    """The states of a run through the Distributed Map, largest first: the plan without its jobs, one job at a
    time, and the ResultWriter's pointer instead of the results. The gather trims its own output to the budget
    (summary.json keeps everything: functions/gather/smx_gather/payload.py)."""
    folds = plan["folds"]
    without_jobs = size({key: value for key, value in plan.items() if key != "folds"}) + 256  # + where the jobs are
    input_bytes, job_bytes = size(execution_input), size(plan["job"])
    largest_fold = max((size(fold) for fold in folds), default=0)
    states = [
        StateSize("after SplitDataset (your input plus the plan)", input_bytes + without_jobs),
        StateSize("after TrainFoldsFromS3 (your input, the plan and where the results are)",
                  input_bytes + without_jobs + RESULT_WRITER_BYTES),
        StateSize("a job's training task (the job's request, the shared job settings and a failure)",
                  largest_fold + job_bytes + ITERATION_EXTRA_BYTES),
        StateSize("a job's DescribeTrainingJob result", largest_fold + job_bytes + DESCRIBE_EXTRA_BYTES),
        *_refit_states(plan, largest_fold, job_bytes),
        # Whatever the number of jobs: past the budget the gather drops per-job entries (summary.json keeps them).
        StateSize("GatherResults' output (trimmed by the gather to the budget)",
                  min(BUDGET_BYTES, size({key: plan[key] for key in ("job_config", "crossvalidation", "training")})
                      + len(folds) * GATHER_FOLD_BYTES)),
    ]
    return sorted(states, key=lambda state: -state.bytes)


def map_mode(execution_input: Any, plan: Mapping[str, Any]) -> str:
    """INLINE when every state of the run through the inline Map fits the budget; DISTRIBUTED otherwise."""
    return INLINE if state_sizes(execution_input, plan)[0].bytes <= BUDGET_BYTES else DISTRIBUTED


def budget_problems(execution_input: Any, plan: Mapping[str, Any]) -> list[str]:
    """One problem naming the largest state and what makes it big, or none when the run fits (through either
    Map)."""
    if map_mode(execution_input, plan) == INLINE:
        return []
    largest = distributed_state_sizes(execution_input, plan)[0]
    if largest.bytes <= BUDGET_BYTES:
        return []
    return [
        f"the run's largest Step Functions state would be {_kib(largest.bytes)} ({largest.where}), over the "
        f"{_kib(BUDGET_BYTES)} SMX-Validator allows under Step Functions' {_kib(LIMIT_BYTES)} limit; "
        f"the biggest parts: {_contributors(execution_input, plan, largest.where)}. Shorten or remove what is largest"
    ]


def _contributors(execution_input: Any, plan: Mapping[str, Any], where: str) -> str:
    """What makes the largest state (``where``) big: a job's states hold its request or SageMaker's description
    of it; the plan's states repeat the input's settings."""
    training = execution_input.get("training", {}) if isinstance(execution_input, Mapping) else {}
    job_config = execution_input.get("job_config", {}) if isinstance(execution_input, Mapping) else {}
    hyperparameters = training.get("hyperparameters_template", training.get("hyperparameter_template"))
    if where.startswith("a job's"):
        where_in_job = "in the job's request, and again in SageMaker's description of the job"
        parts = [
            ("training.hyperparameters_template", size(hyperparameters or {}), 1, where_in_job),
            ("training.environment", size(training.get("environment", {})), 1, where_in_job),
            ("job_config.tags", size(job_config.get("tags", [])), 1, "in the job's request"),
        ]
    else:
        tuning = execution_input.get("tuning", {}) if isinstance(execution_input, Mapping) else {}
        in_both = "in your input and in the plan's copy of it"
        parts = [
            ("training.hyperparameters_template", size(hyperparameters or {}), 2, in_both),
            ("training.environment", size(training.get("environment", {})), 2, in_both),
            ("job_config.tags", size(job_config.get("tags", [])), 2, in_both),
            ("tuning", size(tuning or {}), 2, in_both),
        ]
    parts.sort(key=lambda part: -part[1] * part[2])
    # The whole input last: it names nothing to shorten unless no section of it is large.
    parts.append(("your whole input", size(execution_input), 2, "your input and the plan's copy of its settings"))
    parts = [part for part in parts if part[1] >= 256] or parts[:1]  # a few bytes are not worth naming
    return "; ".join(f"{name} {_kib(one)} x {times} ({where})" for name, one, times, where in parts[:3])


def _kib(value: int) -> str:
    return f"{value / 1024:.1f} KiB"
