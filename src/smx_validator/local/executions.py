"""Executions of a state machine, started and followed through the Step Functions API.

Shared by the offline engine (on moto) and ``smx-validator start`` (real AWS or a local
endpoint): nothing here knows which one answers.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

ProgressCallback = Callable[[list[dict[str, Any]]], None]
# ListExecutions' and DescribeExecution's statuses of an execution that has ended.
TERMINAL_STATUSES = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass
class ExecutionResult:
    execution_arn: str
    status: str
    input: Any
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


def execution_name() -> str:
    """A unique name for an execution started without one (moto would name it ":None")."""
    return f"local-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"


def execution_history(stepfunctions: Any, execution_arn: str) -> list[dict[str, Any]]:
    events, token = [], None
    while True:
        arguments = {"executionArn": execution_arn, "maxResults": 1000, **({"nextToken": token} if token else {})}
        page = stepfunctions.get_execution_history(**arguments)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def wait_for_execution(stepfunctions: Any, execution_arn: str, *, progress: ProgressCallback | None = None,
                       timeout: float = 600.0, poll_seconds: float = 1.0,
                       on_poll: Callable[[], None] | None = None) -> ExecutionResult:
    """Poll until the execution ends, passing the history to ``progress`` at every poll (it reports what changed:
    during a Distributed Map the parent's history stands still while its Map Run's counts move) and calling
    ``on_poll`` before every poll (the CLI re-raises there an interrupt a library swallowed)."""
    deadline = time.monotonic() + timeout
    while True:
        if on_poll is not None:
            on_poll()
        description = stepfunctions.describe_execution(executionArn=execution_arn)
        status = description["status"]
        history = execution_history(stepfunctions, execution_arn) if progress or status in TERMINAL_STATUSES else []
        if progress is not None:
            progress(history)
        if status in TERMINAL_STATUSES:
            return ExecutionResult(
                execution_arn=execution_arn, status=status, input=_json(description.get("input")),
                output=_json(description.get("output")), error=description.get("error"),
                cause=description.get("cause"), history=history)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_arn} still {status} after {timeout:.0f} s")
        time.sleep(poll_seconds)


def _json(value: str | None) -> Any:
    return json.loads(value) if value else None
