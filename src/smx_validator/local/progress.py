"""Per-fold progress read from an execution's history, on AWS and on the emulator alike.

A Map iteration's events chain to its MapIterationStarted through ``previousEventId``; that
event carries the iteration (= fold) index. Within an iteration the SageMaker task's events
tell the fold's state: TaskScheduled (creating the job), TaskSubmitted (the job exists and
trains), TaskFailed (a retry follows, or the fold failed), TaskSucceeded (Completed).

A search with tuning.refit enters the Map a second time, for the refit job alone: its events are the
refit's (``refit_state``), never a fold's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from smx_common.fold_labels import job_label

PENDING, CREATING, TRAINING, RETRYING, COMPLETED, FAILED, ABORTED, PREDICTING, TRAINED = (
    "pending", "creating", "training", "retrying", "completed", "failed", "aborted", "predicting", "trained")
_DETAILS = {"TaskScheduled": "taskScheduledEventDetails", "TaskSubmitted": "taskSubmittedEventDetails",
            "TaskSucceeded": "taskSucceededEventDetails", "TaskFailed": "taskFailedEventDetails"}


# Events that belong to the execution's own level: a chain reaching one leaves no iteration.
_OUTSIDE_ITERATIONS = {"ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapStateSucceeded",
                       "MapStateFailed", "MapStateAborted", "MapStateExited"}


@dataclass(frozen=True)
class FoldState:
    index: int
    state: str
    job_name: str | None = None
    detail: str | None = None


def fold_states(history: list[dict[str, Any]], *, predicts: bool = False) -> list[FoldState]:
    """One entry per fold of the (first) Map, in fold order; empty before the Map starts. ``predicts``: the folds
    predict out of fold once trained, so a trained fold is not completed yet."""
    runs = _map_runs(history)
    return _iteration_states(runs[0], predicts=predicts) if runs else []


def predicts_out_of_fold(plan: dict[str, Any]) -> bool:
    """Whether the plan's folds go on to predict their validation lines once trained."""
    return bool(plan.get("out_of_fold"))


def refit_state(history: list[dict[str, Any]]) -> FoldState | None:
    """The refit job's state (the Map's second run), or None before it starts."""
    runs = _map_runs(history)
    states = _iteration_states(runs[1]) if len(runs) > 1 else []
    return states[0] if states else None


def map_run_arn(history: list[dict[str, Any]]) -> str | None:
    """The Distributed Map's Map Run (a large search's TrainFoldsFromS3), once it has started: its children's
    events are in their own histories, and DescribeMapRun counts them."""
    for event in history:
        if event["type"] == "MapRunStarted":
            return event.get("mapRunStartedEventDetails", {}).get("mapRunArn")
    return None


def split_plan(history: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The split step's plan, once SplitDataset has returned it (it never changes after)."""
    plan = state_output(history, "SplitDataset")
    return plan if isinstance(plan, dict) else None


def planned_labels(plan: dict[str, Any]) -> list[str] | None:
    """The label of each job of the inline Map, in its order (``c2-r1-fold3``)."""
    return [job_label(fold) for fold in plan["folds"]] if plan.get("folds") else None


def planned_jobs(plan: dict[str, Any]) -> int | None:
    """How many training jobs the split planned for the Distributed Map (its jobs file's count)."""
    return (plan.get("jobs_file") or {}).get("count")


def run_id_of(plan: dict[str, Any]) -> str | None:
    """The run id the split reserved (every job's name starts with it)."""
    return (plan.get("job_config") or {}).get("run_id")


def _map_runs(history: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The events from each MapStateEntered to the next one: the Map's runs, in order."""
    events = sorted(history, key=lambda item: item["id"])
    starts = [position for position, event in enumerate(events) if event["type"] == "MapStateEntered"]
    return [events[start:end] for start, end in zip(starts, [*starts[1:], len(events)])]


def _iteration_states(history: list[dict[str, Any]], *, predicts: bool = False) -> list[FoldState]:
    by_id = {event["id"]: event for event in history}
    iteration_of: dict[int, int | None] = {}
    folds: dict[int, dict[str, Any]] = {}
    count = 0
    for event in sorted(history, key=lambda item: item["id"]):
        kind = event["type"]
        if kind == "MapStateStarted" and not count:
            count = event.get("mapStateStartedEventDetails", {}).get("length", 0)
            continue
        index = _iteration(event, by_id, iteration_of)
        if index is None:
            continue
        fold = folds.setdefault(index, {"state": PENDING, "job_name": None, "detail": None})
        if _is_prediction_task(event):
            _prediction_event(fold, kind, event)
            continue
        if kind == "TaskScheduled":
            parameters = _json(event.get("taskScheduledEventDetails", {}).get("parameters"))
            if isinstance(parameters, dict) and parameters.get("TrainingJobName"):
                fold["job_name"] = parameters["TrainingJobName"]
            fold["state"] = RETRYING if fold["state"] == FAILED else CREATING
        elif kind == "TaskSubmitted":
            fold["state"] = TRAINING
        elif kind == "TaskSucceeded":
            fold["state"], fold["detail"] = TRAINED if predicts else COMPLETED, None
        elif kind == "TaskFailed":
            details = event.get("taskFailedEventDetails", {})
            fold["state"], fold["detail"] = FAILED, _failure_text(details)
        elif kind in {"TaskStateAborted", "MapIterationAborted"}:
            fold["state"] = ABORTED
        elif kind == "MapIterationStarted" and fold["state"] == PENDING:
            fold["state"] = CREATING
    return [FoldState(index, **folds.get(index, {"state": PENDING, "job_name": None, "detail": None}))
            for index in range(max(count, max(folds, default=-1) + 1))]


def _is_prediction_task(event: dict[str, Any]) -> bool:
    """An out-of-fold prediction's task (CreateModel, CreateTransformJob): its events follow the fold's training."""
    resource = event.get(_DETAILS.get(event["type"], ""), {}).get("resource") or ""
    return resource.startswith(("createModel", "createTransformJob"))


def _prediction_event(fold: dict[str, Any], kind: str, event: dict[str, Any]) -> None:
    """The fold trained; now its model predicts its validation lines. A failed prediction leaves the fold
    completed: only its predictions are missing."""
    resource = event[_DETAILS[kind]].get("resource", "")
    if kind == "TaskScheduled":
        fold["state"], fold["detail"] = PREDICTING, None
    elif kind == "TaskSucceeded" and resource.startswith("createTransformJob"):
        fold["state"], fold["detail"] = COMPLETED, "predicted its validation lines"
    elif kind == "TaskFailed":
        fold["state"] = COMPLETED
        fold["detail"] = f"predictions missing: {_failure_text(event[_DETAILS[kind]])}"


def execution_phase(history: list[dict[str, Any]]) -> str | None:
    """The top-level state the execution entered last (outside Map iterations)."""
    by_id = {event["id"]: event for event in history}
    iteration_of: dict[int, int | None] = {}
    phase = None
    for event in sorted(history, key=lambda item: item["id"]):
        details = event.get("stateEnteredEventDetails")
        if details and _iteration(event, by_id, iteration_of) is None:
            phase = details.get("name")
    return phase


def state_output(history: list[dict[str, Any]], state_name: str) -> Any:
    """The output of the last successful Lambda/Task of a top-level state (e.g. GatherResults),
    read from the history: a failed execution has no output, but its gather step had one."""
    entered_name = None
    result = None
    for event in sorted(history, key=lambda item: item["id"]):
        entered = event.get("stateEnteredEventDetails")
        if entered:
            entered_name = entered.get("name")
        if entered_name != state_name:
            continue
        for key in ("lambdaFunctionSucceededEventDetails", "taskSucceededEventDetails"):
            if key in event:
                result = _json(event[key].get("output"))
    return result


def state_input(history: list[dict[str, Any]], state_name: str) -> Any:
    """The input of the last time a top-level state was entered, read from the history (None if never)."""
    result = None
    for event in sorted(history, key=lambda item: item["id"]):
        entered = event.get("stateEnteredEventDetails")
        if entered and entered.get("name") == state_name:
            result = _json(entered.get("input"))
    return result


def _iteration(event: dict[str, Any], by_id: dict[int, dict[str, Any]], cache: dict[int, int | None]) -> int | None:
    """The Map iteration index an event belongs to (None outside iterations)."""
    chain = []
    current: dict[str, Any] | None = event
    found: int | None = None
    while current is not None:
        event_id = current["id"]
        if event_id in cache:
            found = cache[event_id]
            break
        chain.append(event_id)
        if current["type"] == "MapIterationStarted":
            found = current.get("mapIterationStartedEventDetails", {}).get("index")
            break
        if current["type"] in _OUTSIDE_ITERATIONS:
            break
        current = by_id.get(current.get("previousEventId") or 0)
    for event_id in chain:
        cache[event_id] = found
    return found


def _failure_text(details: dict[str, Any]) -> str:
    error = details.get("error") or ""
    cause = _json(details.get("cause"))
    if isinstance(cause, dict) and cause.get("FailureReason"):
        return f"{error}: {cause['FailureReason']}"
    if isinstance(cause, dict) and cause.get("TrainingJobStatus"):
        return f"{error}: {cause['TrainingJobStatus']} ({cause.get('SecondaryStatus')})"
    return error


def _json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
