"""Split benchmark: the streaming split against the I/O floor and the original application's algorithm.

``make bench`` (or ``python benchmarks/split_bench.py``) generates an augmented manifest of
BENCH_LINES lines (default 1,000,000; about 75 bytes each, 10 classes, sorted by class; BENCH_SHAPE
"fixed", the default, or "ragged": see SHAPES) once, caches it under the temp directory, and
measures side by side, k = 5:

- split:      scan + fold assignment + validation chunks + training files, all to local files
- I/O floor:  reading the input and writing the same output bytes with shutil.copyfileobj
- original:   the original application's algorithm (readlines, json.loads per line, shuffled index lists per
              class and fold, one list of lines per fold and file, writes)
- split on S3: the split function's handler (from template.yaml) on moto's emulated S3 and
              SageMaker, invoked with the state machine's event, counting the bytes it uploads

Every measured step runs in a fresh subprocess, so its peak RSS (ru_maxrss of that process:
all of it, imports included) is its own. Wall times are of the work only: interpreter start and imports
are reported apart. Output files are deleted and dirty pages written back (sync) before
every run.

Each step runs once to warm up, then BENCH_REPEAT times (default 5; 2 above 2M lines) back
to back; the figures are the best of those runs, as timeit reports, the medians follow in
the JSON. Why warm up per step: on this kind of VM, the first process that writes to the
page cache after a process holding ~200 MiB has exited runs up to 5x slower (the copy floor
takes 0.6 s instead of 0.11 s). Interleaving the steps would charge that to every run and
flatter every ratio against the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
K = 5
RANDOM_STATE = 42
NUM_CLASSES = 10
BLOCK_BYTES = 8 << 20
COPY_BUFFER_BYTES = 1 << 20  # as smx_split.fold_files.COPY_BUFFER_BYTES (not imported: no numpy in this step)
GOALS = {"ratio_vs_floor": 4.0, "ratio_vs_original": 0.2, "upload_ratio": 1.2}


def rss_goal_mib(lines: int) -> float:
    return 250.0 if lines <= 1_000_000 else 700.0


def peak_rss_mib() -> float:
    """Peak resident set of this whole process so far (imports included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the dataset ------------------------------------------------------------------------------


# "fixed": zero-padded image numbers and one-digit classes, every line 74 bytes (the shape the
# split's fixed-width fast paths serve). "ragged": unpadded numbers and class names of 3 to 6
# letters, lines of 63 to 77 bytes (the general paths).
SHAPES = ("fixed", "ragged")
RAGGED_CLASSES = ("ant", "bee", "cat", "deer", "eagle", "falcon", "gecko", "heron", "ibis", "jaguar")


def manifest_path(lines: int, shape: str) -> Path:
    suffix = "" if shape == "fixed" else f"-{shape}"
    return Path(tempfile.gettempdir()) / "smx-validator-bench" / f"manifest-{lines}{suffix}.jsonl"


def manifest_line(index: int, per_class: int, shape: str) -> str:
    if shape == "fixed":
        return f'{{"source-ref": "s3://training-data/images/img_{index:07d}.jpg", "class": "{index // per_class}"}}\n'
    return f'{{"source-ref": "s3://training-data/images/img_{index}.jpg", "class": "{RAGGED_CLASSES[index // per_class]}"}}\n'


def generate_manifest(lines: int, shape: str = "fixed") -> Path:
    """An augmented manifest sorted by class, the worst case for an unshuffled split; made once."""
    path = manifest_path(lines, shape)
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    per_class = -(-lines // NUM_CLASSES)
    with partial.open("w", encoding="utf-8") as out:
        for start in range(0, lines, 100_000):
            out.writelines(manifest_line(index, per_class, shape) for index in range(start, min(start + 100_000, lines)))
    partial.rename(path)
    return path


def file_blocks(path: Path):
    def read_blocks():
        with path.open("rb") as stream:
            while block := stream.read(BLOCK_BYTES):
                yield block

    return read_blocks


def output_bytes(workdir: Path) -> int:
    return sum(path.stat().st_size for path in workdir.iterdir())


# --- the measured steps (each in its own process) ---------------------------------------------


def step_split(input_path: Path, workdir: Path) -> dict:
    started = time.perf_counter()
    from smx_split.dataset import scan_dataset
    from smx_split.fold_files import concatenate_training_file, write_validation_chunks
    from smx_split.folds import assign_folds

    imported = time.perf_counter()
    read_blocks = file_blocks(input_path)
    scan = scan_dataset(read_blocks(), "jsonl")
    scanned = time.perf_counter()
    assignment = assign_folds(scan, n_splits=K, random_state=RANDOM_STATE, strategy="auto")
    assigned = time.perf_counter()
    chunks = write_validation_chunks(read_blocks, assignment, workdir)
    chunked = time.perf_counter()
    for fold in range(K):
        concatenate_training_file(chunks, fold, workdir / f"train{fold}.jsonl")
    finished = time.perf_counter()
    return {
        "seconds": finished - imported,
        "import_seconds": imported - started,
        "parts": {"scan": scanned - imported, "assign": assigned - scanned, "chunks": chunked - assigned,
                  "training": finished - chunked},
        "strategy": assignment.strategy,
        "output_bytes": output_bytes(workdir),
    }


def step_floor(input_path: Path, workdir: Path) -> dict:
    started = time.perf_counter()
    with input_path.open("rb") as source:
        for fold in range(K):
            source.seek(0)
            with (workdir / f"copy{fold}").open("wb") as out:
                shutil.copyfileobj(source, out, COPY_BUFFER_BYTES)
    return {"seconds": time.perf_counter() - started, "output_bytes": output_bytes(workdir)}


def step_original(input_path: Path, workdir: Path) -> dict:
    """The original application's algorithm, reimplemented as the baseline."""
    import random

    started = time.perf_counter()
    with input_path.open(encoding="utf-8") as source:
        lines = source.readlines()
    labels = [json.loads(line)["class"] for line in lines]
    shuffle = random.Random(RANDOM_STATE).shuffle
    by_class: dict[str, list[int]] = {}
    for index, label in enumerate(labels):
        by_class.setdefault(label, []).append(index)
    folds: list[list[int]] = [[] for _ in range(K)]
    for indices in by_class.values():
        shuffle(indices)
        for position, index in enumerate(indices):
            folds[position % K].append(index)
    for fold in folds:
        shuffle(fold)
    for fold in range(K):
        validation = [lines[index] for index in folds[fold]]
        training = [lines[index] for other in range(K) if other != fold for index in folds[other]]
        with (workdir / f"validation{fold}.jsonl").open("w", encoding="utf-8") as out:
            out.writelines(validation)
        with (workdir / f"train{fold}.jsonl").open("w", encoding="utf-8") as out:
            out.writelines(training)
    return {"seconds": time.perf_counter() - started, "output_bytes": output_bytes(workdir)}


def step_s3(input_path: Path, workdir: Path) -> dict:
    """The split function's handler, loaded from the template, on moto's emulated S3 and SageMaker:
    the event the state machine sends in, the plan out, every byte the handler uploads counted."""
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      POWERTOOLS_LOG_LEVEL="WARNING")
    started = time.perf_counter()
    import boto3
    from moto import mock_aws

    from smx_validator.local.lambda_runtime import FunctionCode, LambdaContext, load_handler
    from smx_validator.template import SamTemplate

    function = SamTemplate.load(REPO / "template.yaml").function("SplitFunction")
    code = FunctionCode(function_name="SplitFunction", function_arn="arn:aws:lambda:us-east-1:123456789012:function:split",
                        code_dir=function.code_dir, handler=function.handler, memory_size=function.memory_size,
                        timeout=function.timeout)
    handler = load_handler(code)
    imported = time.perf_counter()
    with mock_aws():
        s3 = boto3.client("s3")
        for bucket in ("bench-input", "bench-output"):
            s3.create_bucket(Bucket=bucket)
        s3.upload_file(str(input_path), "bench-input", "manifest.jsonl")
        sent: list[int] = []

        def count_upload(request, event_name, **_):
            if event_name.endswith((".PutObject", ".UploadPart")):
                headers = request.headers
                sent.append(int(headers.get("X-Amz-Decoded-Content-Length") or headers.get("Content-Length") or 0))

        # The handler makes its clients from boto3's default session: count what they send.
        boto3._get_default_session().events.register("before-send.s3.*", count_upload)
        event = {
            "input": {
                "job_config": {"input_path": "s3://bench-input/manifest.jsonl", "output_prefix": "s3://bench-output/runs",
                               "name": "bench"},
                "crossvalidation": {"n_splits": K, "random_state": RANDOM_STATE},
                "training": {
                    "hyperparameters_template": {"num_classes": "${num_classes}"},
                    # A custom container: the split's work is the same for every algorithm, and the ragged
                    # shape's class names are not image classification's labels 0..n-1 (refused before the split).
                    "algorithm_specification": {
                        "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/bench-trainer:1",
                        "TrainingInputMode": "Pipe"},
                    "resource_config": {"InstanceType": "ml.p3.2xlarge"},
                },
            },
            "execution_name": "bench",
            "deployment": {"input_bucket": "bench-input", "output_bucket": "bench-output", "default_max_concurrency": "2"},
        }
        ready = time.perf_counter()
        plan = handler(event, LambdaContext(code, "bench"))
        finished = time.perf_counter()
        run_key = plan["job_config"]["run_prefix"].removeprefix("s3://bench-output/")
        stored = sum(item["Size"] for item in s3.list_objects_v2(Bucket="bench-output", Prefix=run_key)["Contents"]
                     if "/fold" in item["Key"])
    return {
        "seconds": finished - ready,
        "import_seconds": imported - started,
        "bytes_uploaded": sum(sent),
        "folds": len(plan["folds"]),
        "output_bytes": stored,
    }


STEPS = {"split": step_split, "floor": step_floor, "original": step_original, "s3": step_s3}


def run_step(name: str, input_path: Path, workdir: Path) -> dict:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    os.sync()  # no writeback of an earlier step's files may land inside this one
    completed = subprocess.run(
        [sys.executable, __file__, "--step", name, "--input", str(input_path), "--workdir", str(workdir)],
        capture_output=True, text=True, check=False,
    )
    if completed.returncode:
        raise SystemExit(f"step {name} failed:\n{completed.stderr}")
    shutil.rmtree(workdir)
    return json.loads(completed.stdout.strip().splitlines()[-1])


# --- the report -------------------------------------------------------------------------------


def summarise(runs: list[dict]) -> dict:
    """The best run of a step (its parts from that run), its median time and its highest peak RSS."""
    result = dict(min(runs, key=lambda run: run["seconds"]))
    result["median_seconds"] = statistics.median(run["seconds"] for run in runs)
    result["peak_rss_mib"] = max(run["peak_rss_mib"] for run in runs)
    return result


def verdict(value: float, goal: float) -> str:
    return "meets" if value <= goal else "MISSES"


def main() -> None:
    lines = int(os.environ.get("BENCH_LINES", "1000000"))
    repeat = int(os.environ.get("BENCH_REPEAT", "5" if lines <= 2_000_000 else "2"))
    shape = os.environ.get("BENCH_SHAPE", "fixed")
    if shape not in SHAPES:
        raise SystemExit(f"BENCH_SHAPE={shape!r}: use one of {', '.join(SHAPES)}")
    input_path = generate_manifest(lines, shape)
    input_bytes = input_path.stat().st_size
    workdir = input_path.parent / f"work-{os.getpid()}"
    runs: dict[str, list[dict]] = {}
    for name in ("split", "floor", "original"):
        run_step(name, input_path, workdir)  # warm-up, not counted
        runs[name] = [run_step(name, input_path, workdir) for _ in range(repeat)]
    split, floor, original = (summarise(runs[name]) for name in ("split", "floor", "original"))
    on_s3 = summarise([run_step("s3", input_path, workdir)])
    for name, step in (("split", split), ("floor", floor), ("original", original), ("s3", on_s3)):
        if step["output_bytes"] != K * input_bytes:
            raise SystemExit(f"{name} wrote {step['output_bytes']} bytes, expected {K * input_bytes}")

    figures = {
        "lines": lines,
        "k": K,
        "shape": shape,
        "split_s": round(split["seconds"], 3),
        "io_floor_s": round(floor["seconds"], 3),
        "original_s": round(original["seconds"], 3),
        "ratio_vs_floor": round(split["seconds"] / floor["seconds"], 2),
        "ratio_vs_original": round(split["seconds"] / original["seconds"], 3),
        "peak_rss_mib": round(split["peak_rss_mib"], 1),
        "upload_ratio": round(on_s3["bytes_uploaded"] / input_bytes, 3),
        "input_mb": round(input_bytes / 1e6, 1),
        "repeats": repeat,
        "median_s": {name: round(step["median_seconds"], 3) for name, step in (("split", split), ("io_floor", floor), ("original", original))},
        "split_parts_s": {part: round(seconds, 3) for part, seconds in split["parts"].items()},
        "split_import_s": round(split["import_seconds"], 2),
        "io_floor_peak_rss_mib": round(floor["peak_rss_mib"], 1),
        "original_peak_rss_mib": round(original["peak_rss_mib"], 1),
        "s3_split_s": round(on_s3["seconds"], 2),
        "s3_peak_rss_mib": round(on_s3["peak_rss_mib"], 1),
        "s3_bytes_uploaded": on_s3["bytes_uploaded"],
        "s3_fold_bytes_stored": on_s3["output_bytes"],
    }
    print_table(figures, split, floor, original, on_s3, input_bytes)
    print(json.dumps(figures))


def print_table(figures: dict, split: dict, floor: dict, original: dict, on_s3: dict, input_bytes: int) -> None:
    parts = " + ".join(f"{name} {seconds:.2f}" for name, seconds in split["parts"].items())
    print(
        f"SMX-Validator split benchmark: {figures['lines']:,} {figures['shape']} lines ({input_bytes / 1e6:.1f} MB, "
        f"{NUM_CLASSES} classes, sorted by class), k={K}, {split['strategy']}; best of {figures['repeats']} runs per step after a warm-up run"
    )
    print(f"{'step':<28}{'wall s':>9}{'median s':>10}{'peak RSS MiB':>14}{'written MB':>12}  notes")
    rows = [
        ("split to local files", split, f"{parts}; imports {split['import_seconds']:.2f} s not timed"),
        ("I/O floor (copyfileobj)", floor, "read the input, write k x its bytes"),
        ("original algorithm", original, "readlines + json.loads per line + lists per fold and file"),
        ("split handler on moto S3", on_s3,
         f"the handler uploaded {on_s3['bytes_uploaded'] / 1e6:.1f} MB = {figures['upload_ratio']:.2f}x the input "
         f"for {on_s3['output_bytes'] / 1e6:.1f} MB of fold files "
         f"({'training files composed on S3' if figures['upload_ratio'] < 2 else 'chunks under 5 MiB: training files uploaded whole'}); "
         "RSS includes moto's emulated S3"),
    ]
    for name, step, note in rows:
        print(
            f"{name:<28}{step['seconds']:>9.2f}{step['median_seconds']:>10.2f}{step['peak_rss_mib']:>14.0f}"
            f"{step['output_bytes'] / 1e6:>12.1f}  {note}"
        )
    per_1m = "" if figures["lines"] == 1_000_000 else ", a goal set for 1M lines"
    print(
        f"split / floor = {figures['ratio_vs_floor']:.2f} (goal <= {GOALS['ratio_vs_floor']}{per_1m}: "
        f"{verdict(figures['ratio_vs_floor'], GOALS['ratio_vs_floor'])}); "
        f"split / original = {figures['ratio_vs_original']:.3f} (goal <= {GOALS['ratio_vs_original']}{per_1m}: "
        f"{verdict(figures['ratio_vs_original'], GOALS['ratio_vs_original'])}); "
        f"peak RSS {figures['peak_rss_mib']:.0f} MiB (goal <= {rss_goal_mib(figures['lines']):.0f}: "
        f"{verdict(figures['peak_rss_mib'], rss_goal_mib(figures['lines']))}); upload ratio {figures['upload_ratio']:.2f} "
        f"(goal <= {GOALS['upload_ratio']}: {verdict(figures['upload_ratio'], GOALS['upload_ratio'])})"
    )


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--step", choices=sorted(STEPS), required=True)
    parser.add_argument("--input", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, required=True)
    options = parser.parse_args(argv)
    result = STEPS[options.step](options.input, options.workdir)
    result["peak_rss_mib"] = peak_rss_mib()
    print(json.dumps(result))


if __name__ == "__main__":
    if len(sys.argv) > 1:
        child(sys.argv[1:])
    else:
        main()
