"""``smx-validator``: check inputs, run the application offline, start runs, package for SAR."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from smx_validator.exit_codes import EXIT_OK, EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # sar-template owns its argument parsing (it is also a standalone packaging step).
    if argv[:1] == ["sar-template"]:
        try:
            from smx_validator import sar
        except ModuleNotFoundError as missing:
            if missing.name and missing.name.split(".")[0] in ENGINE_EXTRA_MODULES:
                return _engine_extra_missing("sar-template", missing)
            raise
        return sar.main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    from smx_validator.interrupts import interruptible, interrupted_exit_code

    try:
        with interruptible():
            return args.handler(args)
    except KeyboardInterrupt:
        # Interrupted before a command could stop what it started (during startup, or a second Ctrl-C while
        # it was stopping): end now, without a traceback; local training scripts are killed on the way out.
        scripts = sys.modules.get("smx_validator.local.trainers.custom_script")
        if scripts is not None:
            scripts.kill_all_scripts()
        print("interrupted: stopped at once; nothing is kept", flush=True)
        return interrupted_exit_code()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smx-validator",
        description="k-fold cross-validated SageMaker training: validate inputs, run offline, start runs.",
    )
    commands = parser.add_subparsers(metavar="COMMAND")

    validate = commands.add_parser("validate", help="check an execution input offline, with the split function's own code")
    validate.add_argument("input", type=Path, help="execution input JSON")
    validate.add_argument("--data", metavar="FILE", help="a local copy of the dataset: also check its lines and the "
                          "folds (FILE=s3://bucket/key, local run's form, is accepted too)")
    validate.add_argument("--input-bucket", help="the deployment's InputBucketName, to check input_path against")
    validate.add_argument("--output-bucket", help="the deployment's OutputBucketName, to check output_prefix against")
    validate.add_argument("--offline", action="store_true",
                          help="check it for `smx-validator local run`, which also runs local:script.py images")
    validate.set_defaults(handler=_validate)

    commands.add_parser("sar-template", help="write a template with the state machine definition inline, for SAR")

    local = commands.add_parser("local", help="run the application offline on an emulated AWS")
    local_commands = local.add_subparsers(metavar="COMMAND")
    run = local_commands.add_parser("run", help="deploy the template offline, run one execution and print the results")
    run.add_argument("input", type=Path, help="execution input JSON")
    run.add_argument("--data", action="append", default=[], metavar="LOCAL_FILE=s3://bucket/key",
                     help="upload a local file (or a folder, under the prefix) to the emulated S3 first (repeatable)")
    # A string, not a Path: "out/" (a folder) must stay distinguishable from "out" (a file).
    run.add_argument("--output", help="write the execution output JSON here")
    run.add_argument("--artifacts", type=Path, help="copy everything the run wrote to S3 into DIR/<run id>/")
    run.add_argument("--report", metavar="HTML", help="write the run's report (one self-contained HTML file) here")
    run.add_argument("--mlflow-tracking-uri", metavar="URI", help="record the run in this MLflow tracking server "
                     "(sets the input's tracking.mlflow.tracking_uri; e.g. http://127.0.0.1:5000)")
    run.set_defaults(handler=_delegate("run_command"))
    serve = local_commands.add_parser("serve", help="keep the emulated stack up for the aws CLI (--endpoint-url)")
    serve.add_argument("--port", type=int, default=5000, help="0 picks a free port (the URL is printed)")
    serve.add_argument("--input-bucket", default="smx-demo-input", help="the stack's InputBucketName")
    serve.add_argument("--output-bucket", default="smx-demo-output", help="the stack's OutputBucketName")
    serve.set_defaults(handler=_delegate("serve_command"))

    start = commands.add_parser("start", help="start an execution (AWS or a local endpoint) and follow it")
    start.add_argument("input", type=Path, help="execution input JSON")
    start.add_argument("--state-machine-arn", required=True)
    start.add_argument("--endpoint-url", help="e.g. the URL `smx-validator local serve` prints")
    start.add_argument("--wait", action="store_true", help="follow the execution until it ends and print the summary")
    start.add_argument("--report", metavar="HTML", help="with --wait: write the run's report (one self-contained "
                       "HTML file) here")
    start.set_defaults(handler=_delegate("start_command"))

    report = commands.add_parser("report", help="render a run's report, one self-contained HTML file with its figures")
    report.add_argument("source", help="the execution output JSON (local run --output, the console's output) or the "
                        "run's summary.json, as a local file or an s3:// URI")
    report.add_argument("--html", required=True, metavar="HTML", help="the report file to write")
    report.add_argument("--endpoint-url", help="S3 endpoint for an s3:// source (e.g. `local serve`'s URL)")
    report.set_defaults(handler=_delegate("report_command"))
    return parser


def _delegate(name: str):
    def handler(args: argparse.Namespace) -> int:
        from smx_validator.local import commands

        try:
            return getattr(commands, name)(args)
        except ModuleNotFoundError as missing:
            if missing.name and missing.name.split(".")[0] in ENGINE_EXTRA_MODULES:
                return _engine_extra_missing("local " + name.removesuffix("_command"), missing)
            raise

    return handler


# What the engine extra installs (pyproject.toml): a command that needs one says how to get it.
ENGINE_EXTRA_MODULES = {"moto", "samcli", "samtranslator", "joblib", "threadpoolctl"}


def _engine_extra_missing(command: str, missing: ModuleNotFoundError) -> int:
    print(f"error: smx-validator {command} needs the offline engine's packages ({missing.name.split('.')[0]} is not "
          "installed): pip install -e '.[engine]' in the checkout (make installs it)", file=sys.stderr)
    return EXIT_USAGE


def _validate(args: argparse.Namespace) -> int:
    from smx_split import payload_budget, preflight
    from smx_split.errors import InvalidInputError
    from smx_split.inputs import Deployment, validate_document

    from smx_validator.input_files import UsageError, dataset_file, read_execution_input

    try:
        document_size = args.input.stat().st_size if args.input.is_file() else 0
        raw = read_execution_input(args.input)
        data, data_uri = dataset_file(args.data) if args.data else (None, None)
    except UsageError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except InvalidInputError as error:
        print(error)
        return EXIT_USAGE
    if document_size > payload_budget.LIMIT_BYTES:
        # Step Functions' StartExecution refuses it (the split step never sees it): say so here.
        print(f"input: is {document_size:,} bytes; Step Functions accepts an execution input of at most "
              f"{payload_budget.LIMIT_BYTES:,} bytes (256 KiB): remove whitespace or shorten it")
        return EXIT_USAGE
    # `local run` deploys the template with no MlflowTrackingServerArn: --offline checks against that deployment.
    deployment = Deployment(input_bucket=args.input_bucket, output_bucket=args.output_bucket,
                            mlflow_tracking_server_arn="" if args.offline else None)
    try:
        spec = validate_document(raw, deployment)
        preflight.check(raw, spec, deployment, started_at=datetime.now(timezone.utc), execution_name="validate",
                        offline=args.offline)
        folds = _check_data(spec, data) if data else None
    except InvalidInputError as error:
        for problem in error.problems:
            print(problem)
        return EXIT_USAGE
    print(f"valid: {spec.n_splits} folds of {spec.input_uri} ({spec.data_format}, {spec.algorithm_family} channels)")
    if spec.tuning:
        print(f"  search: {_search_size(spec)}")
    if spec.out_of_fold:
        oof = spec.out_of_fold
        jobs = spec.n_splits * spec.n_repeats
        print(f"  out-of-fold predictions ({oof.task}): {jobs} Batch Transform job{'s' if jobs != 1 else ''}, one per "
              f"fold, each on {oof.instance_count} {oof.instance_type}; answers read as {oof.accept}")
    if spec.mlflow:
        from smx_split.tracking_section import is_managed

        managed = is_managed(spec.mlflow["tracking_uri"])
        print(f"  tracked in MLflow at {spec.mlflow['tracking_uri']}, experiment {spec.mlflow['experiment_name']!r}: one "
              "parent run, one nested run per training job"
              + ("; the stack must be deployed with this MlflowTrackingServerArn" if managed else
                 "; the track function must reach this URL"))
    plan = preflight.provisional_plan(spec, deployment, started_at=datetime.now(timezone.utc), execution_name="validate",
                                      num_classes=preflight.PROVISIONAL_LINES)
    if payload_budget.map_mode(raw, plan) == payload_budget.DISTRIBUTED:
        print("  runs through the Distributed Map: its jobs do not fit Step Functions' states together")
    for mapping in spec.name_mapping:
        print(f"  {mapping['field']}: {mapping['given']!r} is used as {mapping['used']!r}")
    for note in spec.notes:
        print(f"  {note}")
    if folds:
        print(f"  data: {folds}")
        if data_uri and data_uri.rstrip("/") != str(spec.input_uri) and not data_uri.endswith("/"):
            print(f"  note: --data names {data_uri}, but job_config.input_path is {spec.input_uri}: the run reads "
                  "input_path, so upload the file there")
    return EXIT_OK


def _search_size(spec) -> str:
    """"4 candidates x 2 repeats x 3 folds = 24 training jobs, ..., then 1 refit ...": what a search will run."""
    count = len(spec.tuning.candidates)
    jobs = count * spec.n_repeats * spec.n_splits
    repeats = f" x {spec.n_repeats} repeats" if spec.n_repeats > 1 else ""
    refit = (", then the best candidate refit on the whole dataset (1 more job)" if spec.tuning.refit else "")
    return (f"{count} candidate{'s' if count != 1 else ''}{repeats} x {spec.n_splits} folds = {jobs} training jobs, "
            f"ranked by {spec.tuning.metric} ({spec.tuning.direction}){refit}")


def _check_data(spec, path: Path) -> str:
    """Scan and fold a local copy of the dataset exactly as the split function does."""
    from smx_split.folding import fold_dataset

    def blocks():
        with path.open("rb") as stream:
            while block := stream.read(8 << 20):
                yield block

    folded = fold_dataset(spec, blocks())
    # Labels taken for values (a regressor's target, ids) are not counted as classes.
    # (strategy "auto" notes why; an explicit kfold, a regressor's usual choice, says it by not stratifying).
    classes = (f", {folded.num_classes} classes" if folded.num_classes is not None and not folded.strategy_note
               and folded.strategy.startswith("stratified") else "")
    sizes = ", ".join(map(str, folded.assignment.fold_sizes))
    notes = "".join(f"\n  {note}" for note in folded.notes)
    repeats = f", repeated {len(folded.assignments)} times" if len(folded.assignments) > 1 else ""
    return f"{folded.scan.num_lines} lines{classes}, {folded.strategy} folds of {sizes} lines{repeats}{notes}"


if __name__ == "__main__":
    sys.exit(main())
