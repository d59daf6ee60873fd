"""Search benchmark: how a cross-validated search grows in the state machine, and where its ceilings are.

``make bench-tuning`` (or ``python benchmarks/tuning_bench.py``) runs the linear-learner example on the
bundled breast-cancer data (569 lines, k = 3, one repeat) through the real state machine on the offline
engine, first as a plain run (the baseline: no tuning section), then as searches of growing size (a grid
over ``learning_rate``, times ``l1`` values past 100 candidates; BENCH_CANDIDATES, default
"2,4,8,inline,16,50,100"), each with ``refit``. "inline" is the largest search the inline Map's states
carry for this input; a larger one goes through the Distributed Map. "ceiling" (not in the default: about
5 minutes) runs the largest search a run may start, 500 candidates x 2 folds = 1,000 jobs. For each run it
reports:

- jobs:           training jobs of the search (candidates x folds), and the refit
- plan_kib:       the split step's plan, as the state machine carries it
- largest_kib:    the largest state payload of the execution, measured in its history (every state's
                  input and output, every task's result), against Step Functions' 256 KiB
- budgeted_kib:   what the split's pre-flight reckons that state could reach, every job failing with a long
                  cause (smx_split.payload_budget): the figure the ceiling holds under 240 KiB
- events:         the execution's history events, against Step Functions' 25,000, and per job (through the
                  Distributed Map each job's events are in its child execution's history: the parent's
                  stay flat)
- s_per_job:      the engine's wall time per training job, and its ratio to the baseline's

A table, then one line of JSON.
"""

from __future__ import annotations

import copy
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "functions" / "split"), str(REPO / "functions" / "shared"), str(REPO / "src")]

from smx_split.errors import InvalidInputError  # noqa: E402
from smx_split.inputs import Deployment, validate_document  # noqa: E402
from smx_split import payload_budget, preflight, tuning  # noqa: E402
from smx_common.step_functions_limits import BUDGET_BYTES, LIMIT_BYTES  # noqa: E402

EXAMPLE = REPO / "doc" / "examples" / "linear-learner.json"
DATASET = REPO / "resources" / "datasets" / "breast_cancer.csv"
INPUT_URI = "s3://smx-demo-input/breast_cancer/breast_cancer.csv"
INPUT_BUCKET, OUTPUT_BUCKET = "smx-demo-input", "smx-demo-output"
N_SPLITS = 3
MAX_HISTORY_EVENTS = 25_000
METRIC = "validation:binary_classification_accuracy"


def search_input(candidates: int | None, n_splits: int = N_SPLITS) -> dict:
    """The example as a search of ``candidates`` learning rates (x l1 values past 100; None: the plain run)."""
    document = json.loads(EXAMPLE.read_text())
    document["crossvalidation"].update(n_splits=n_splits, random_state=7)
    document["job_config"]["name"] = "bench"
    if candidates is not None:
        rates = [f"{0.2 / (index + 1):.6g}" for index in range(min(candidates, 100))]
        grid = {"learning_rate": rates}
        if candidates > 100:
            grid["l1"] = [f"{0.001 * j:.3g}" for j in range(candidates // 100)]
        document["tuning"] = {"objective": {"metric": METRIC, "type": "Maximize"}, "grid": grid, "refit": True}
    return document


def inline_fits(candidates: int) -> bool:
    """Whether the split would run a search of this size through the inline Map (its states carry it)."""
    document = search_input(candidates)
    deployment = Deployment(input_bucket=INPUT_BUCKET, output_bucket=OUTPUT_BUCKET)
    try:
        spec = validate_document(copy.deepcopy(document), deployment)
        plan = preflight.provisional_plan(spec, deployment, started_at=datetime.now(timezone.utc),
                                          execution_name="bench", num_classes=preflight.PROVISIONAL_LINES)
    except InvalidInputError:
        return False
    return payload_budget.map_mode(document, plan) == payload_budget.INLINE


def inline_ceiling() -> int:
    """The most candidates the inline Map carries: a bisection (it fits fewer as the search grows)."""
    low, high = 1, 2
    while inline_fits(high):
        low, high = high, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if inline_fits(middle) else (low, middle)
    return low


def largest_payload(history: list[dict]) -> tuple[int, str]:
    """The largest payload the history shows (states' inputs and outputs, tasks' and Lambdas' results), in
    bytes, and where: the event's type and, for a state's input or output, the state's name."""
    largest = (0, "")
    for event in history:
        for key, details in event.items():
            if not key.endswith("EventDetails") or not isinstance(details, dict):
                continue
            for field in ("input", "output", "parameters"):
                if isinstance(details.get(field), str):
                    where = f"{event['type']} {details.get('name', '')}".strip() + f" ({field})"
                    largest = max(largest, (len(details[field].encode("utf-8")), where))
    return largest


def measure(engine, candidates: int | None, n_splits: int = N_SPLITS) -> dict:
    document = search_input(candidates, n_splits)
    document["job_config"]["output_prefix"] = f"s3://{OUTPUT_BUCKET}/bench/{time.time_ns()}"
    started = time.perf_counter()
    result = engine.run(document, timeout=3600)
    seconds = time.perf_counter() - started
    if result.status != "SUCCEEDED":
        raise SystemExit(f"the search of {candidates} candidates ended {result.status}: {result.error}: {result.cause}")
    plan = next(json.loads(event["lambdaFunctionSucceededEventDetails"]["output"]) for event in result.history
                if event["type"] == "LambdaFunctionSucceeded")
    jobs = plan["jobs_file"]["count"] if "jobs_file" in plan else len(plan["folds"])
    largest, where = largest_payload(result.history)
    refit = 1 if candidates is not None else 0
    return {
        "candidates": candidates or 1,
        "map": payload_budget.DISTRIBUTED if "jobs_file" in plan else payload_budget.INLINE,
        "jobs": jobs,
        "refit_jobs": refit,
        "plan_kib": round(len(json.dumps(plan).encode("utf-8")) / 1024, 1),
        "largest_kib": round(largest / 1024, 1),
        "largest_where": where,
        "budgeted_kib": round(_reckoned(document) / 1024, 1),
        "events": len(result.history),
        "events_per_job": round(len(result.history) / (jobs + refit), 1),
        "seconds": round(seconds, 2),
        "s_per_job": round(seconds / (jobs + refit), 3),
    }


def _reckoned(document: dict) -> int:
    """What the split's pre-flight reckons the run's largest state could reach (every job failing with a long
    cause), through the Map it would choose."""
    deployment = Deployment(input_bucket=INPUT_BUCKET, output_bucket=OUTPUT_BUCKET)
    spec = validate_document(copy.deepcopy(document), deployment)
    plan = preflight.provisional_plan(spec, deployment, started_at=datetime.now(timezone.utc), execution_name="bench",
                                      num_classes=preflight.PROVISIONAL_LINES)
    if payload_budget.map_mode(document, plan) == payload_budget.INLINE:
        return payload_budget.state_sizes(document, plan)[0].bytes
    return payload_budget.distributed_state_sizes(document, plan)[0].bytes


def main() -> int:
    from smx_validator.local.engine import LocalEngine

    inline_most = inline_ceiling()
    runs = []
    for size in os.environ.get("BENCH_CANDIDATES", "2,4,8,inline,16,50,100").split(","):
        if size == "ceiling":
            runs.append((tuning.MAX_JOBS // 2, 2))
        else:
            runs.append((inline_most if size == "inline" else int(size), N_SPLITS))
    runs = sorted(set(runs), key=lambda run: run[0] * run[1])
    with LocalEngine(parameters={"InputBucketName": INPUT_BUCKET, "OutputBucketName": OUTPUT_BUCKET},
                     script_root=REPO, retry_delay_cap_seconds=1, sync_poll_seconds=0.05) as engine:
        engine.create_bucket(OUTPUT_BUCKET)
        engine.upload(DATASET, INPUT_URI)
        baseline = measure(engine, None)
        rows = [baseline] + [measure(engine, candidates, n_splits) for candidates, n_splits in runs]
    for row in rows:
        row["s_per_job_vs_baseline"] = round(row["s_per_job"] / baseline["s_per_job"], 2)
        row["largest_vs_limit"] = round(row["largest_kib"] * 1024 / LIMIT_BYTES, 3)
    inline_rows = [row for row in rows if row["map"] == payload_budget.INLINE]
    per_job_events = max(row["events_per_job"] for row in inline_rows)
    figures = {
        "dataset_lines": sum(1 for _ in DATASET.open("rb")),
        "n_splits": N_SPLITS,
        "inline_ceiling_candidates": inline_most,
        "inline_ceiling_jobs": inline_most * N_SPLITS,
        "inline_ceiling_reason": f"the split's {BUDGET_BYTES // 1024} KiB state budget under Step Functions' "
                                 f"{LIMIT_BYTES // 1024} KiB limit: the inline Map's states carry every job",
        "ceiling_jobs": tuning.MAX_JOBS,
        "ceiling_reason": "smx_split.tuning.MAX_JOBS: the jobs one run may start (the Distributed Map's states hold "
                          "one job each; the account's training-job quotas and the gather's 900 s timeout bound the rest)",
        "inline_history_events_ceiling_jobs": int(MAX_HISTORY_EVENTS // per_job_events),
        "runs": rows,
    }
    print(f"{'run':<12}{'map':>12}{'jobs':>6}{'plan KiB':>10}{'largest KiB':>13}{'/256 KiB':>10}{'reckoned':>10}"
          f"{'events':>8}{'ev/job':>8}{'s':>8}{'s/job':>8}{'x base':>8}")
    for row in rows:
        name = "baseline" if row is baseline else f"{row['candidates']} cand."
        print(f"{name:<12}{row['map']:>12}{row['jobs'] + row['refit_jobs']:>6}{row['plan_kib']:>10}"
              f"{row['largest_kib']:>13}{row['largest_vs_limit']:>10}{row['budgeted_kib']:>10}{row['events']:>8}"
              f"{row['events_per_job']:>8}{row['seconds']:>8}{row['s_per_job']:>8}{row['s_per_job_vs_baseline']:>8}")
    print(f"largest state of the last run: {rows[-1]['largest_where']}")
    print(f"inline ceiling: {inline_most} candidates x {N_SPLITS} folds = {inline_most * N_SPLITS} jobs "
          f"({figures['inline_ceiling_reason']}); past it, the Distributed Map, up to {tuning.MAX_JOBS} jobs "
          f"({figures['ceiling_reason']})")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
