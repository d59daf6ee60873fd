"""The Python API: cross-validate from a notebook or a script, on AWS or offline.

``cross_validate(input, ...)`` starts an execution of the state machine, follows it and returns a
``CrossValidationResult``; ``CrossValidation`` is the same in steps (``start``, ``wait``, ``stop``). The input
is the execution input the CLI and the console take, as a dict or a JSON file. On AWS the deployed state
machine runs it (``state_machine_arn``, with an optional boto3 session); offline (``local=True``) the real
template and state machine run on the offline engine, with ``data={local_path: s3_uri}`` uploaded first.

An execution that does not succeed raises ``CrossValidationFailed``, which carries Step Functions' error and
cause and, when the folds were summarised, the result (a run whose folds partly failed is still summarised).
"""

from __future__ import annotations

import json
import math
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

# The state machine's gather state (statemachines/crossvalidator.asl.json): its output is the run's result.
GATHER_STATE = "GatherResults"
# The Choice that ends the run by its summary, after the track step (statemachines/crossvalidator.asl.json).
JUDGE_STATE = "CheckFolds"
ProgressCallback = Callable[[list[dict[str, Any]]], None]


@dataclass
class CrossValidationResult:
    """The execution output (the gather's), with scikit-learn-style views of it."""

    output: dict[str, Any] = field(repr=False)
    execution_arn: str
    status: str
    history: list[dict[str, Any]] = field(default_factory=list, repr=False)
    # summary.json, when the execution output had to be trimmed to fit Step Functions (``wait`` reads it while
    # the run's bucket can still be read): the same document with every job.
    untrimmed: dict[str, Any] | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        """The status, the jobs and each metric's mean ± std: what a notebook's text output needs to show."""
        metrics = ", ".join(f"{name}={stats.get('mean', math.nan):.4f}±{stats.get('std', math.nan):.4f}"
                            for name, stats in sorted(self.summary.get("metrics", {}).items())
                            if stats.get("mean") is not None and stats.get("std") is not None)
        return (f"CrossValidationResult(status={self.status!r}, jobs={len(self.splits)}, "
                f"failed={self.summary.get('failed_fold_count', 0)}{', ' + metrics if metrics else ''})")

    @property
    def summary(self) -> dict[str, Any]:
        return self.output["summary"]

    @property
    def splits(self) -> list[dict[str, Any]]:
        """Every job's DescribeTrainingJob, in the plan's order (from ``summary.json`` when the output was
        trimmed)."""
        return (self.untrimmed or self.output).get("splits") or []

    def _repr_html_(self) -> str:
        """A notebook shows a result as its report (the same sections and figures as ``write_report``'s file)."""
        from .html_report.page import render_fragment

        return render_fragment(self.untrimmed or self.output)

    def write_report(self, path: str | Path) -> Path:
        """The run's report as one self-contained HTML file (``smx-validator report``'s): figures of every
        metric per fold, the folds' class balance, the search's ranking, the out-of-fold confusion matrix."""
        from .html_report import write_report

        return write_report(self.untrimmed or self.output, path)

    @property
    def scores(self) -> dict[str, Any]:
        """``{metric: numpy array}``: each completed job's final value, in the plan's order (NaN where a job did
        not report it), as ``cross_validate``'s ``test_score`` arrays are in scikit-learn."""
        import numpy as np

        return {name: np.array([math.nan if value is None else value for value in stats.get("values", [])],
                               dtype=float)
                for name, stats in self.summary.get("metrics", {}).items()}

    @property
    def out_of_fold(self) -> dict[str, Any] | None:
        """``summary.out_of_fold`` with out-of-fold predictions (pooled metrics, confusion matrix), else None."""
        return self.summary.get("out_of_fold")

    @property
    def tuning(self) -> dict[str, Any] | None:
        """``summary.tuning`` in a search (the ranked candidates, the best, the refit), else None."""
        return self.summary.get("tuning")

    def to_frame(self):
        """One row per job (its fold, repeat and candidate, status, seconds and every final metric): a pandas
        DataFrame (pandas must be installed)."""
        try:
            import pandas
        except ImportError:
            raise ImportError("to_frame needs pandas: pip install pandas (or the package's [dataframe] extra)") from None
        rows = []
        for split in self.splits:
            row = {key: split.get(key) for key in ("candidate_index", "repeat_index", "fold_index") if key in split}
            row.update(job=split.get("TrainingJobName"), status=split.get("TrainingJobStatus"),
                       training_seconds=split.get("TrainingTimeInSeconds"))
            row.update({metric["MetricName"]: metric["Value"] for metric in split.get("FinalMetricDataList") or []})
            rows.append(row)
        return pandas.DataFrame(rows)


class CrossValidationFailed(Exception):
    """The execution did not succeed: ``error`` and ``cause`` are Step Functions'; ``result`` is the summarised run
    when the gather step ran (failed folds), else None."""

    def __init__(self, execution_arn: str, status: str, error: str | None, cause: str | None,
                 result: CrossValidationResult | None = None):
        self.execution_arn, self.status, self.error, self.cause, self.result = (
            execution_arn, status, error, cause, result)
        super().__init__(f"{status}: {error}: {cause}" if error else status)


class CrossValidation:
    """One cross-validation run: ``start()``, then ``wait()`` for its result; offline, use it as a context
    manager (or call ``close()``) so that the engine is torn down."""

    def __init__(self, input: Mapping[str, Any] | str | Path, *, state_machine_arn: str | None = None,
                 session: Any = None, endpoint_url: str | None = None, local: bool = False,
                 data: Mapping[str | Path, str] | Iterable[tuple[str | Path, str]] | None = None,
                 script_root: str | Path | None = None):
        if local == bool(state_machine_arn):
            raise ValueError("give state_machine_arn (a deployed state machine) or local=True (the offline engine)")
        if data and not local:
            raise ValueError("data uploads files to the offline engine's S3: on AWS, upload them to your bucket")
        self.input = _read_input(input)
        self._local = local
        pairs = data.items() if isinstance(data, Mapping) else (data or [])
        self._data = [(Path(local_path), uri) for local_path, uri in pairs]
        self._script_root = Path(script_root) if script_root else Path.cwd()
        self._engine = None
        self._uploaded: list[tuple[Path, str, int]] = []
        self._state_machine_arn = state_machine_arn
        self._session, self._endpoint_url = session, endpoint_url
        self.execution_arn: str | None = None

    # -- the run -----------------------------------------------------------------------------------

    def start(self, name: str | None = None) -> str:
        """Start the execution; its ARN."""
        if self.execution_arn is not None:
            raise RuntimeError(f"already started: {self.execution_arn}")
        if self._local:
            engine = self._local_engine()
            self.execution_arn = engine.start_execution(self.input, name)
        else:
            name = name or f"smx-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"
            self.execution_arn = self._client("stepfunctions").start_execution(
                stateMachineArn=self._state_machine_arn, name=name, input=json.dumps(self.input))["executionArn"]
        return self.execution_arn

    def wait(self, *, progress: bool | ProgressCallback = True, timeout: float | None = None,
             poll_seconds: float | None = None, on_poll: Callable[[], None] | None = None) -> CrossValidationResult:
        """Follow the execution to its end and return its result (raises CrossValidationFailed unless it
        succeeded). ``progress``: a bar of the jobs done (tqdm), False for none, or a callback that gets the
        history at every poll (the CLI's printer)."""
        outcome = self.follow(progress=progress, timeout=timeout, poll_seconds=poll_seconds, on_poll=on_poll)
        gathered = run_output(outcome)
        result = (CrossValidationResult(gathered, outcome.execution_arn, outcome.status, outcome.history,
                                        untrimmed=untrimmed_output(gathered, self._client("s3")))
                  if isinstance(gathered, dict) and "summary" in gathered else None)
        if outcome.status != "SUCCEEDED":
            raise CrossValidationFailed(outcome.execution_arn, outcome.status, outcome.error, outcome.cause, result)
        return result

    def follow(self, *, progress: bool | ProgressCallback = True, timeout: float | None = None,
               poll_seconds: float | None = None, on_poll: Callable[[], None] | None = None):
        """``wait``'s polling, returning the execution as it ended whatever its status (``local.executions``'
        ExecutionResult: status, output, error, cause, history), for callers that report failures themselves."""
        from .local.executions import wait_for_execution

        if self.execution_arn is None:
            self.start()
        callback, bar = _progress(progress, self)
        try:
            return wait_for_execution(
                self._client("stepfunctions"), self.execution_arn, progress=callback,
                timeout=math.inf if timeout is None else timeout,
                poll_seconds=poll_seconds if poll_seconds is not None else (0.1 if self._local else 5.0),
                on_poll=on_poll)
        except KeyboardInterrupt:
            if not self._local:
                # Interrupting the wait does not stop the execution on AWS (its jobs keep billing): say which it is.
                print(f"\ninterrupted: the execution keeps running on AWS: {self.execution_arn}\n  stop it with "
                      f"CrossValidation.stop() or: aws stepfunctions stop-execution --execution-arn {self.execution_arn}",
                      file=sys.stderr, flush=True)
            raise
        finally:
            if bar is not None:
                bar.close()

    def stop(self, error: str = "Stopped", cause: str = "stopped from the Python API") -> None:
        """StopExecution (SageMaker's jobs are stopped with it)."""
        if self.execution_arn is not None:
            self._client("stepfunctions").stop_execution(executionArn=self.execution_arn, error=error, cause=cause)

    def close(self, timeout: float = 600.0) -> None:
        """Tear the offline engine down, once what runs on it has ended (a no-op on AWS)."""
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close(timeout=timeout)

    def __enter__(self) -> CrossValidation:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.__exit__(*exc_info)  # an interrupt stops what runs and tears down at once

    # -- clients -----------------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        """A client of this run's account: the offline engine's, or the session's."""
        return self._client(service)

    def _client(self, service: str) -> Any:
        if self._local:
            return self._local_engine().client(service)
        import boto3

        session = self._session or boto3.Session()
        region = self._state_machine_arn.split(":")[3]
        arguments: dict[str, Any] = {"region_name": region}
        if self._endpoint_url:
            arguments["endpoint_url"] = self._endpoint_url
        return session.client(service, **arguments)

    @property
    def engine(self):
        """The offline engine this run deploys on (``local=True`` only), deployed on first use."""
        if not self._local:
            raise AttributeError("a run on AWS has no offline engine")
        return self._local_engine()

    def deploy(self) -> list[tuple[Path, str, int]]:
        """Offline: deploy the template on the engine, create the input's buckets and upload ``data``; what was
        uploaded, as (local path, S3 URI, number of files). Done by ``start`` when not called before."""
        self._local_engine()
        return list(self._uploaded)

    def _local_engine(self):
        if self._engine is None:
            from .local.engine import LocalEngine

            input_bucket, output_bucket = _buckets(self.input)
            engine = LocalEngine(parameters={"InputBucketName": input_bucket, "OutputBucketName": output_bucket},
                                 script_root=self._script_root)
            engine.start()
            try:
                for bucket in dict.fromkeys((input_bucket, output_bucket)):
                    engine.create_bucket(bucket)
                self._uploaded = [(local_path, uri, len(engine.upload(local_path, uri)))
                                  for local_path, uri in self._data]
            except BaseException:
                engine.close(timeout=10.0)
                raise
            self._engine = engine
        return self._engine


def cross_validate(input: Mapping[str, Any] | str | Path, *, state_machine_arn: str | None = None,
                   session: Any = None, endpoint_url: str | None = None, local: bool = False,
                   data: Mapping[str | Path, str] | None = None, progress: bool | ProgressCallback = True,
                   timeout: float | None = None) -> CrossValidationResult:
    """Run one cross-validation to its end and return its result (raises CrossValidationFailed unless it
    succeeded). Offline (``local=True``), the engine is torn down before this returns."""
    with CrossValidation(input, state_machine_arn=state_machine_arn, session=session, endpoint_url=endpoint_url,
                         local=local, data=data) as run:
        return run.wait(progress=progress, timeout=timeout)


def run_output(outcome: Any) -> Any:
    """An ended execution's result: its output, or, when it failed after the gather step (failed folds), what
    the run had gathered, from the history (a failed execution has no output): the input of the state that
    judged the run (the gather's output with the track step's record), else the gather step's output."""
    if outcome.output is not None:
        return outcome.output
    from .local.progress import state_input, state_output

    judged = state_input(outcome.history, JUDGE_STATE)
    if isinstance(judged, dict) and isinstance(judged.get("summary"), dict):
        return judged
    output = state_output(outcome.history, GATHER_STATE)
    return output if isinstance(output, dict) else None


def untrimmed_output(output: Mapping[str, Any], s3: Any) -> dict[str, Any] | None:
    """summary.json when ``output`` was trimmed to fit Step Functions' payload limit (``summary.trimmed_fields``),
    else None (the output is whole). A summary that cannot be read leaves None: the trimmed output stands."""
    summary = output.get("summary") or {}
    if not summary.get("trimmed_fields") or not summary.get("summary_json"):
        return None
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        document = read_summary_json(s3, summary["summary_json"])
    except (BotoCoreError, ClientError, ValueError):
        return None
    # What the steps after the gather added to the output (the MLflow record) is not in summary.json.
    document.setdefault("summary", {}).update(
        {key: summary[key] for key in ("mlflow", "mlflow_error") if key in summary})
    return document


def read_summary_json(s3: Any, uri: str) -> dict[str, Any]:
    """A run's summary.json (or any execution output saved on S3), parsed."""
    from smx_common.s3uri import S3Uri

    location = S3Uri.parse(uri)
    return json.loads(s3.get_object(Bucket=location.bucket, Key=location.key)["Body"].read())


def _read_input(input: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    if isinstance(input, Mapping):
        return json.loads(json.dumps(input))  # a copy, and only JSON (what StartExecution takes)
    from .input_files import read_execution_input

    document = read_execution_input(Path(input))
    if not isinstance(document, dict):
        raise ValueError(f"{input}: the execution input must be a JSON object")
    return document


def _buckets(document: Mapping[str, Any]) -> tuple[str, str]:
    """The offline deployment's InputBucketName and OutputBucketName: the buckets the input names."""
    from .input_files import bucket_of

    job_config = document.get("job_config") if isinstance(document.get("job_config"), dict) else {}
    buckets = [bucket_of(job_config.get(field)) for field in ("input_path", "output_prefix")]
    if not all(buckets):
        raise ValueError("job_config.input_path and job_config.output_prefix must be s3:// URIs: the offline "
                         "engine deploys with their buckets")
    return buckets[0], buckets[1]


def _progress(progress: bool | ProgressCallback, run: CrossValidation) -> tuple[ProgressCallback | None, Any]:
    """(the wait's callback, the bar to close): a tqdm bar of the jobs done, False for none, or the caller's."""
    if callable(progress):
        return progress, None
    if not progress:
        return None, None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None, None
    from .local.progress import COMPLETED, FAILED, fold_states, planned_jobs, predicts_out_of_fold, split_plan

    # Until the split has planned the jobs, their number is unknown: the bar says what is happening instead.
    bar = tqdm(total=None, unit="job", desc="splitting the dataset", bar_format="{desc}: {elapsed}")
    plans: list[dict[str, Any]] = []
    started = time.monotonic()

    def update(history: list[dict[str, Any]]) -> None:
        if not plans:
            plans.extend(filter(None, [split_plan(history)]))
        plan = plans[0] if plans else {}
        total = len(plan.get("folds") or []) or planned_jobs(plan)
        if total and bar.total != total:
            bar.total = total
            bar.set_description_str("cross-validation", refresh=False)
            bar.bar_format = None  # tqdm's own bar, now that the total is known
        states = fold_states(history, predicts=predicts_out_of_fold(plan))
        done = sum(state.state in {COMPLETED, FAILED} for state in states)
        if not states and plan.get("jobs_file"):
            done = _map_run_done(run, history)
        bar.n = done
        bar.set_postfix_str(f"{time.monotonic() - started:.0f} s", refresh=False)
        bar.refresh()

    return update, bar


def _map_run_done(run: CrossValidation, history: list[dict[str, Any]]) -> int:
    """A Distributed Map's jobs done, from DescribeMapRun (its children's events are not in the history)."""
    from .local.progress import map_run_arn

    arn = map_run_arn(history)
    if arn is None:
        return 0
    counts = run.client("stepfunctions").describe_map_run(mapRunArn=arn)["itemCounts"]
    return sum(counts.get(key) or 0 for key in ("succeeded", "failed", "timedOut", "aborted"))
