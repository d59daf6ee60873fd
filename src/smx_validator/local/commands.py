"""``smx-validator local run``, ``local serve`` and ``start`` (the CLI parses the options).

Exit codes (smx_validator.exit_codes): 0 the execution SUCCEEDED (``serve``: stopped by Ctrl-C), 1 it
did not (error and cause are printed), 2 usage errors (unreadable input, bad ``--data``).
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, TextIO

from smx_validator.api import run_output
from smx_validator.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from smx_validator.input_files import (
    UsageError,
    artifacts_folder,
    bucket_of,
    data_file,
    output_file,
    read_execution_input,
    report_file,
)
from smx_validator.interrupts import interrupted_exit_code, raise_if_interrupted

# -- local run --------------------------------------------------------------------------------

def run_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        document = _read_input(args.input)
        if getattr(args, "mlflow_tracking_uri", None):
            _track_in(document, args.mlflow_tracking_uri)
        uploads = [_data_spec(spec) for spec in args.data or []]
        input_bucket, output_bucket, output_prefix = _deployment_buckets(document)
        output = output_file(args.output, input_path=args.input) if args.output is not None else None
        artifacts = artifacts_folder(args.artifacts, input_path=args.input) if args.artifacts is not None else None
        report = report_file(args.report, input_path=args.input) if getattr(args, "report", None) else None
        _check_dataset_uploaded(document["job_config"]["input_path"], uploads)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE

    from smx_validator.api import CrossValidation
    from smx_validator.template import TemplateError

    started = time.monotonic()
    run = CrossValidation(document, local=True, data=uploads, script_root=Path.cwd())
    with run:
        try:
            uploaded = run.deploy()
        except TemplateError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
        engine = run.engine
        for local, uri, count in uploaded:
            print(f"uploaded {local} -> {uri}" + (f" ({count} files)" if local.is_dir() else ""), file=out)
        print(f"deployed {engine.state_machine_arn} ({time.monotonic() - started:.1f} s)", file=out)
        arn = run.start()
        try:
            result = run.follow(progress=_progress_printer(out, started, run.client("stepfunctions"),
                                                           run.client("sagemaker")), on_poll=raise_if_interrupted)
        except KeyboardInterrupt:
            return _stop_interrupted_run(run, arn, out)
        _print_notes(result, out)
        exit_code = _report(result, out)
        gather_output = run_output(result)
        if output is not None and gather_output is not None:
            _write_output(output, gather_output, out)
        if report is not None:
            _write_report(report, gather_output, run.client("s3"), out)
        run_prefix = _run_prefix(result)
        if artifacts is not None and run_prefix is not None:
            run_folder = _new_folder(artifacts / run_prefix.rstrip("/").rsplit("/", 1)[-1])
            files = engine.download_prefix(run_prefix, run_folder)
            print(f"copied {len(files)} objects under {run_prefix} to {run_folder}", file=out)
    print(f"finished in {time.monotonic() - started:.1f} s", file=out)
    return exit_code


def _track_in(document: dict[str, Any], tracking_uri: str) -> None:
    """--mlflow-tracking-uri: the input's tracking.mlflow.tracking_uri (its experiment_name, if any, is kept)."""
    tracking = document.get("tracking")
    if tracking is not None and not isinstance(tracking, dict):
        raise UsageError("--mlflow-tracking-uri: the input's tracking is not an object; fix or remove it")
    mlflow = (tracking or {}).get("mlflow")
    if mlflow is not None and not isinstance(mlflow, dict):
        raise UsageError("--mlflow-tracking-uri: the input's tracking.mlflow is not an object; fix or remove it")
    document["tracking"] = {**(tracking or {}), "mlflow": {**(mlflow or {}), "tracking_uri": tracking_uri}}


def _write_output(path: Path, document: Any, out: TextIO) -> None:
    """The execution output as JSON; if the file cannot be written after all, it goes to a temporary file
    instead, so a finished run's result is never lost."""
    text = json.dumps(document, indent=2) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}", file=out)
    except OSError as error:
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="smx-output-", delete=False,
                                         encoding="utf-8") as fallback:
            fallback.write(text)
        print(f"could not write {path} ({error.strerror}); wrote the output to {fallback.name} instead", file=out)


def _new_folder(wanted: Path) -> Path:
    """``wanted``, or ``wanted-2``, ``-3``...: offline runs started in the same second share a run id,
    and one run's artifacts never replace another's."""
    candidate, number = wanted, 1
    while candidate.exists():
        number += 1
        candidate = wanted.with_name(f"{wanted.name}-{number}")
    return candidate


def _run_prefix(result: Any) -> str | None:
    """The run's own prefix (``job_config.run_prefix``), from the split step's plan."""
    return _plan_job_config(result).get("run_prefix")


def _plan_job_config(result: Any) -> dict[str, Any]:
    """The ``job_config`` of the split step's plan ({} when the split step did not succeed)."""
    from .progress import state_output

    state = state_output(result.history, "SplitDataset")
    return state.get("plan", state).get("job_config", {}) if isinstance(state, dict) else {}


# How long an interrupted run may take to stop its execution and training jobs (a script gets SIGTERM,
# then SIGKILL after 3 s; a built-in trainer stops between epochs) before the emulator is torn down.
STOP_TIMEOUT_SECONDS = 10.0


def _stop_interrupted_run(run: Any, arn: str, out: TextIO) -> int:
    """Ctrl-C (or SIGTERM) during local run: stop the execution, which stops its training jobs, and say
    what is kept. A second Ctrl-C here ends the command at once (cli.main)."""
    from botocore.exceptions import ClientError

    print("", file=out)
    try:
        run.stop(error="Interrupted", cause="smx-validator local run was interrupted")
    except ClientError:
        pass  # it ended just before the interrupt: nothing left to stop
    run.close(timeout=STOP_TIMEOUT_SECONDS)
    print("interrupted: the execution and its SageMaker jobs were stopped; nothing is kept (the offline engine's S3 "
          "lives in memory, and --output, --artifacts and --report are written only when a run ends)", file=out, flush=True)
    return interrupted_exit_code()


# -- local serve ------------------------------------------------------------------------------

def serve_command(args: argparse.Namespace, out: TextIO | None = None,
                  stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C (or until ``stop`` is set, for tests)."""
    out = out or sys.stdout
    from .engine import LocalEngine

    input_bucket = args.input_bucket
    output_bucket = args.output_bucket
    if args.port and not _port_is_free(args.port):
        print(f"error: port {args.port} on 127.0.0.1 is in use: stop what listens there, or pick another with "
              "--port (0 picks a free one)", file=sys.stderr)
        return EXIT_USAGE
    engine = LocalEngine(parameters={"InputBucketName": input_bucket, "OutputBucketName": output_bucket},
                         server_port=args.port, script_root=Path.cwd())
    engine.start()
    try:
        for bucket in (input_bucket, output_bucket):
            engine.create_bucket(bucket)
        print(f"endpoint:          {engine.endpoint_url}", file=out)
        print(f"state machine ARN: {engine.state_machine_arn}", file=out)
        print(f"buckets:           s3://{input_bucket} (InputBucketName), s3://{output_bucket} (OutputBucketName)", file=out)
        print("try:", file=out)
        print(f"  aws --endpoint-url {engine.endpoint_url} s3 cp DATA s3://{input_bucket}/KEY", file=out)
        print(f"  aws --endpoint-url {engine.endpoint_url} stepfunctions start-execution "
              f"--state-machine-arn {engine.state_machine_arn} --input file://my_input.json", file=out)
        print(f"  smx-validator start my_input.json --state-machine-arn {engine.state_machine_arn} "
              f"--endpoint-url {engine.endpoint_url} --wait", file=out)
        print("Ctrl-C stops the emulator (its state is lost).", file=out, flush=True)
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        # Ctrl-C or SIGTERM: running executions and their training jobs end with the emulator.
        print("stopping", file=out, flush=True)
        from botocore.exceptions import ClientError

        for arn in engine.running_executions():
            try:
                engine.stop_execution(arn, error="Interrupted", cause="smx-validator local serve was stopped")
            except ClientError:
                pass  # it ended meanwhile
        engine.close(timeout=STOP_TIMEOUT_SECONDS)
        return EXIT_OK
    engine.close()
    return EXIT_OK


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# -- start (AWS or a local endpoint) ----------------------------------------------------------

def start_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        document = _read_input(args.input)
        region = _arn_region(args.state_machine_arn)
        report = report_file(args.report, input_path=args.input) if getattr(args, "report", None) else None
        if report is not None and not args.wait:
            raise UsageError("--report needs --wait: the report is written when the execution ends")
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from smx_validator.api import CrossValidation

    session = boto3.Session(region_name=region)
    if args.endpoint_url and session.get_credentials() is None:
        # An emulator accepts any credentials; a fresh shell may have none configured.
        session = boto3.Session(region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing")
    started = time.monotonic()
    arn = None
    try:
        run = CrossValidation(document, state_machine_arn=args.state_machine_arn, session=session,
                              endpoint_url=args.endpoint_url)
        arn = run.start()
        print(f"started {arn}", file=out, flush=True)
        if not args.wait:
            return EXIT_OK
        printer = _progress_printer(out, started, run.client("stepfunctions"), run.client("sagemaker"))
        result = run.follow(progress=printer, poll_seconds=0.2 if args.endpoint_url else 5.0,
                            on_poll=raise_if_interrupted)
    except KeyboardInterrupt:
        if arn is None:
            print("\ninterrupted: no execution was started", file=out, flush=True)
            return interrupted_exit_code()
        where = f"on {args.endpoint_url}" if args.endpoint_url else "on AWS"
        endpoint = f" --endpoint-url {args.endpoint_url}" if args.endpoint_url else ""
        print(f"\ninterrupted: the execution keeps running {where} (and its training jobs keep billing): {arn}\n"
              f"  stop it with: aws stepfunctions stop-execution{endpoint} --execution-arn {arn}", file=out, flush=True)
        return interrupted_exit_code()
    except (BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    exit_code = _report(result, out)
    if report is not None:
        _write_report(report, run_output(result), run.client("s3"), out)
    return exit_code


# -- report -----------------------------------------------------------------------------------

def report_command(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Render the report of a run from its execution output or summary.json (a local file or an s3:// URI)."""
    out = out or sys.stdout
    try:
        target = report_file(args.html, option="--html")
        document = _read_run_document(args.source, getattr(args, "endpoint_url", None))
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    from smx_validator.html_report import write_report

    try:
        write_report(document, target)
    except OSError as error:
        print(f"error: could not write {target} ({error.strerror})", file=sys.stderr)
        return EXIT_FAILED
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        # A JSON file with job_config and summary, but not as the gather writes them (edited, or another tool's).
        print(f"error: {args.source} does not have the shape of a run's execution output ({type(error).__name__}: "
              f"{error}): give the file `local run --output` wrote, the execution's output, or summary.json",
              file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {target}", file=out)
    trimmed = (document.get("summary") or {}).get("trimmed_fields") or []
    if trimmed:
        print(f"note: this output was trimmed to fit Step Functions ({', '.join(trimmed)}); for every job: "
              f"smx-validator report {document['summary'].get('summary_json', 'summary.json')} --html {target}",
              file=out)
    return EXIT_OK


def _read_run_document(source: str, endpoint_url: str | None) -> dict[str, Any]:
    """An execution output or summary.json: what the report is drawn from."""
    if source.startswith("s3://"):
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        from smx_validator.api import read_summary_json

        try:
            document = read_summary_json(boto3.client("s3", endpoint_url=endpoint_url), source)
        except (BotoCoreError, ClientError) as error:
            raise UsageError(f"{source}: cannot read it ({error})") from None
        except ValueError:
            raise UsageError(f"{source} is not JSON: give a run's summary.json or its execution output") from None
    else:
        path = Path(source)
        if path.is_dir():
            raise UsageError(f"{source} is a folder: give the execution output JSON file or the run's summary.json")
        if not path.is_file():
            raise UsageError(f"{source}: no such file (give the execution output JSON or a run's summary.json)")
        try:
            document = json.loads(path.read_bytes())
        except ValueError as error:
            raise UsageError(f"{source} is not JSON ({error}): give the execution output or a run's summary.json") from None
    if not isinstance(document, dict) or not all(isinstance(document.get(key), dict) for key in ("job_config", "summary")):
        what = ("an execution input, not its output" if isinstance(document, dict) and "training" in document
                and "summary" not in document else "not a run's execution output or summary.json (it has no summary)")
        raise UsageError(f"{source} is {what}: give what `local run --output` wrote, the execution's output, or the "
                         "run's summary.json (the gather step writes them; a run that failed in its split has none)")
    return document


def _write_report(path: Path, gather_output: Any, s3: Any, out: TextIO) -> None:
    """The run's report, drawn from summary.json when the execution output was trimmed."""
    if not isinstance(gather_output, dict) or "summary" not in gather_output:
        print(f"no report: the run ended before its gather step summarised it ({path} is not written)", file=out)
        return
    from smx_validator.api import untrimmed_output
    from smx_validator.html_report import write_report

    try:
        write_report(untrimmed_output(gather_output, s3) or gather_output, path)
    except OSError as error:
        print(f"could not write the report to {path} ({error.strerror})", file=out)
        return
    print(f"wrote the report {path}", file=out)


# -- shared -----------------------------------------------------------------------------------

def _read_input(path: Path) -> dict[str, Any]:
    from smx_split.errors import InvalidInputError

    try:
        document = read_execution_input(path)
    except InvalidInputError as error:
        raise UsageError(f"{path}: {str(error).removeprefix('input: ')}") from None
    if not isinstance(document, dict):
        raise UsageError(f"{path}: the execution input must be a JSON object")
    return document


def _data_spec(spec: str) -> tuple[Path, str]:
    path, uri = data_file(spec)
    if uri is None:
        raise UsageError(f"--data {spec!r}: expected LOCAL_FILE=s3://bucket/key")
    if path.is_file() and uri.endswith("/"):
        uri += path.name
    return path, uri


def _check_dataset_uploaded(input_path: str, uploads: list[tuple[Path, str]]) -> None:
    """The emulated S3 holds only what --data uploads: a run whose input_path none of them is would only
    fail in its split step, after the deployment."""
    for local, uri in uploads:
        if uri == input_path or (local.is_dir() and input_path.startswith(uri.rstrip("/") + "/")):
            return
    given = ", ".join(uri for _, uri in uploads)
    raise UsageError(
        f"job_config.input_path is {input_path}, but " + (f"--data uploads {given}" if uploads else "no --data uploads it")
        + f": the offline run reads only what --data uploads; give --data LOCAL_FILE={input_path}")


def _deployment_buckets(document: dict[str, Any]) -> tuple[str, str, str]:
    """(InputBucketName, OutputBucketName, output_prefix): the local deployment uses the buckets
    the input names, so that the split step's bucket checks pass."""
    job_config = document.get("job_config") if isinstance(document.get("job_config"), dict) else {}
    buckets = {}
    for field in ("input_path", "output_prefix"):
        value = job_config.get(field)
        bucket = bucket_of(value)
        if not bucket:
            raise UsageError(f"job_config.{field} must be an s3:// URI: the local run deploys with its bucket")
        buckets[field] = bucket
    return buckets["input_path"], buckets["output_prefix"], job_config["output_prefix"]


def _arn_region(arn: str) -> str:
    parts = arn.split(":")
    if len(parts) < 7 or parts[0] != "arn" or parts[2] != "states":
        raise UsageError(f"--state-machine-arn {arn!r} is not a state machine ARN")
    return parts[3]


REFIT_KEY = -1  # the refit job's entry among the shown states (fold indexes are >= 0)


def _progress_printer(out: TextIO, started: float, stepfunctions: Any,
                      sagemaker: Any = None) -> Callable[[list[dict[str, Any]]], None]:
    """Prints what changed in the execution: its phase, each fold's state; a run through the Distributed Map
    (whose children's events are not in the parent's history), its Map Run's counts (DescribeMapRun) and how
    many of its jobs SageMaker has failed so far (ListTrainingJobs)."""
    from .progress import (execution_phase, fold_states, map_run_arn, planned_jobs, planned_labels,
                           predicts_out_of_fold, refit_state, run_id_of, split_plan)
    from .report import MAP_RUN_STEP_PERCENT, map_run_progress, progress_line

    shown: dict[int, Any] = {}
    counts: list[Any] = [None]
    plans: list[dict[str, Any]] = []  # the split's plan, read from the history once it is there
    phase: list[str | None] = [None]

    def show(history: list[dict[str, Any]]) -> None:
        stamp = f"[{time.monotonic() - started:6.1f}s]"
        current = execution_phase(history)
        if current != phase[0] and current is not None and not shown:
            print(f"{stamp} {current}", file=out, flush=True)  # the states before the Map
            phase[0] = current
        if not plans:
            plans.extend(filter(None, [split_plan(history)]))
        plan = plans[0] if plans else {}
        states = fold_states(history, predicts=predicts_out_of_fold(plan))
        for line in progress_line(states, shown, labels=planned_labels(plan)):
            print(f"{stamp}   {line}", file=out, flush=True)
        shown.update({state.index: state for state in states})
        arn = map_run_arn(history)
        if arn is not None:
            done, total, line = map_run_progress(stepfunctions.describe_map_run(mapRunArn=arn)["itemCounts"],
                                                 planned_jobs(plan))
            step = max(1, total * MAP_RUN_STEP_PERCENT // 100)
            if counts[0] is None or done >= counts[0] + step or (done == total and counts[0] != total):
                if counts[0] is None:
                    print(f"{stamp}   {total} training jobs, each a child execution of the Distributed Map "
                          "(its events are in its own history)", file=out, flush=True)
                failed = _failed_jobs(sagemaker, run_id_of(plan))
                print(f"{stamp}   {line}" + (f", {failed} failed so far" if failed else ""), file=out, flush=True)
                counts[0] = done
        refit = refit_state(history)
        if refit is not None and refit != shown.get(REFIT_KEY):
            print(f"{stamp}   {progress_line([refit], {}, name='refit')[0]}", file=out, flush=True)
            shown[REFIT_KEY] = refit
        if current != phase[0] and current is not None:
            print(f"{stamp} {current}", file=out, flush=True)  # after the folds' last changes
            phase[0] = current

    return show


def _failed_jobs(sagemaker: Any, run_id: str | None) -> int:
    """How many of the run's training jobs SageMaker has ended Failed or Stopped (0 when it cannot say)."""
    if sagemaker is None or not run_id:
        return 0
    try:
        return sum(len(page["TrainingJobSummaries"])
                   for status in ("Failed", "Stopped")
                   for page in sagemaker.get_paginator("list_training_jobs").paginate(
                       NameContains=run_id, StatusEquals=status))
    except Exception:  # progress is best effort: a missing permission must not stop the wait
        return 0


def _print_notes(result: Any, out: TextIO) -> None:
    """What the split step changed in the input (dropped hyperparameters, derived names, conversions)."""
    job_config = _plan_job_config(result)
    lines = [f"{m['field']}: {m['given']!r} is used as {m['used']!r}" for m in job_config.get("name_mapping") or []]
    lines += list(job_config.get("notes") or [])
    if lines:
        print("\nnotes (also in the output's job_config.notes):", file=out)
        for line in lines:
            print(f"  {line}", file=out)


def _report(result: Any, out: TextIO) -> int:
    from .report import summary_table

    gather_output = run_output(result)
    if isinstance(gather_output, dict) and "splits" in gather_output:
        print("", file=out)
        print(summary_table(gather_output), file=out)
    print("", file=out)
    print(f"execution {result.status}: {result.execution_arn}", file=out)
    if result.status == "SUCCEEDED":
        return EXIT_OK
    print(f"error: {result.error}", file=out)
    print(f"cause: {_readable_cause(result.cause)}", file=out)
    return EXIT_FAILED


def _readable_cause(cause: str | None) -> str:
    """A Lambda error's cause is the runtime's JSON (message, type, stack trace): show its message, one
    problem per line, as the split step wrote it; any other cause as it is."""
    try:
        payload = json.loads(cause or "")
    except ValueError:
        return cause or ""
    if not isinstance(payload, dict) or "errorMessage" not in payload:
        return cause or ""
    return "\n".join(["", *(f"  {line}" for line in str(payload["errorMessage"]).splitlines())])
