"""Out-of-fold predictions benchmark: what they add to a run, and what the gather needs for large datasets.

``make bench-oof`` (or ``python benchmarks/oof_bench.py``) measures two things:

1. Through the real state machine on the offline engine, each family's example (5 folds, its bundled dataset)
   as a plain run (the baseline) and with ``out_of_fold_predictions``: wall time and its ratio to the baseline,
   the execution's history events, and the pooled accuracy against the per-fold mean (BENCH_OOF_FAMILIES,
   default every family).
2. The gather's out-of-fold step at scale (BENCH_OOF_LINES, default "100000,1000000"): a binary classifier's
   answers in linear-learner's JSON Lines format for N lines in 5 folds, on emulated S3, gathered by the real
   ``smx_gather.out_of_fold.gather`` (read the indexes and answers, put them in input order, pool the metrics,
   write oof_predictions.jsonl). Its baseline, measured in the same process: reading the same objects and
   parsing each answer (the floor any gather pays). Each size runs in a process of its own, so its peak
   memory is its own; the Lambda has 1,769 MB (template.yaml).

A table, then one line of JSON.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "functions" / "gather"), str(REPO / "functions" / "shared"), str(REPO / "src")]

EXAMPLES = {
    "linear-learner": ("breast_cancer.csv", "s3://smx-demo-input/breast_cancer/breast_cancer.csv"),
    "knn": ("iris.csv", "s3://smx-demo-input/iris/iris.csv"),
    "xgboost": ("breast_cancer.csv", "s3://smx-demo-input/breast_cancer/breast_cancer.csv"),
    "image-classification": ("digits", "s3://smx-demo-input/digits/"),
    "blazingtext-file": ("scipy_docs.txt", "s3://smx-demo-input/scipy_docs/scipy_docs.txt"),
}
N_SPLITS = 5
LAMBDA_MEMORY_MB = 1769


def engine_runs(families: list[str]) -> list[dict]:
    from smx_validator.local.engine import LocalEngine

    runs = []
    with LocalEngine(parameters={"InputBucketName": "smx-demo-input", "OutputBucketName": "smx-demo-output"},
                     script_root=REPO) as engine:
        engine.create_bucket("smx-demo-output")
        for family in families:
            local, uri = EXAMPLES[family]
            engine.upload(REPO / "resources" / "datasets" / local, uri)
            figures = {"family": family}
            for predicted in (False, True):
                document = json.loads((REPO / "doc" / "examples" / f"{family}.json").read_text())
                document["crossvalidation"].update(n_splits=N_SPLITS, random_state=7,
                                                   out_of_fold_predictions=predicted)
                document["job_config"]["output_prefix"] += f"/bench-{time.time_ns()}"
                started = time.perf_counter()
                result = engine.run(document, timeout=900)
                seconds = time.perf_counter() - started
                if result.status != "SUCCEEDED":
                    raise SystemExit(f"{family} (predictions {predicted}) {result.status}: {result.error} {result.cause}")
                key = "with_predictions" if predicted else "baseline"
                figures[f"{key}_s"] = round(seconds, 2)
                figures[f"{key}_events"] = len(result.history)
                if predicted:
                    out_of_fold = result.output["summary"]["out_of_fold"]
                    figures["pooled_accuracy"] = round(out_of_fold["metrics"]["accuracy"], 4)
                    figures["lines"] = out_of_fold["num_lines"]
            figures["ratio"] = round(figures["with_predictions_s"] / figures["baseline_s"], 2)
            figures["added_s_per_fold"] = round((figures["with_predictions_s"] - figures["baseline_s"]) / N_SPLITS, 2)
            runs.append(figures)
    return runs


def gather_at_scale(lines: int) -> dict:
    """One size, in this process: the answers on emulated S3, then the floor, then the real gather."""
    import boto3
    import numpy as np
    from moto import mock_aws

    from smx_common import inference_formats
    from smx_gather import out_of_fold

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, lines)
    fold_of = rng.permutation(np.arange(lines) % N_SPLITS)
    probability = np.clip(labels * 0.7 + rng.normal(0.15, 0.2, lines), 0.001, 0.999)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="bench")
        folds = []
        for fold in range(N_SPLITS):
            members = np.flatnonzero(fold_of == fold)
            prefix = f"run/fold{fold}/predictions/"
            index = {"lines": members.tolist(), "labels": [str(label) for label in labels[members]]}
            s3.put_object(Bucket="bench", Key=prefix + "index.json", Body=json.dumps(index).encode())
            answers = "".join(f'{{"score": {p:.6f}, "predicted_label": {int(p >= 0.5)}}}\n'
                              for p in probability[members])
            s3.put_object(Bucket="bench", Key=prefix + "output/validation.csv.out", Body=answers.encode())
            folds.append({"fold_index": fold, "TrainingJobName": f"job-fold{fold}", "Tags": [], "transform": {
                "TransformJobName": f"job-fold{fold}", "index": f"s3://bench/{prefix}index.json",
                "TransformInput": {"DataSource": {"S3DataSource": {
                    "S3DataType": "S3Prefix", "S3Uri": f"s3://bench/run/fold{fold}/validation/validation.csv"}}},
                "TransformOutput": {"S3OutputPath": f"s3://bench/{prefix}output/"}}})
        plan = {"folds": folds, "crossvalidation": {"num_samples": lines},
                "out_of_fold": {"task": "classification", "family": "linear-learner",
                                "predictions": "s3://bench/run/oof_predictions.jsonl"}}
        results = [{"TrainingJobName": f"job-fold{fold}", "status": "Completed",
                    "predictions": {"TransformJobName": f"job-fold{fold}", "status": "Completed"}}
                   for fold in range(N_SPLITS)]
        setup_peak = _peak_mb()
        started = time.perf_counter()
        parsed = 0
        for fold in folds:  # the floor: read every answer and parse it
            body = s3.get_object(Bucket="bench", Key=fold["transform"]["TransformOutput"]["S3OutputPath"][len(
                "s3://bench/"):] + "validation.csv.out")["Body"].read().decode()
            parsed += sum(1 for line in body.splitlines() if inference_formats.parse("linear-learner", line))
        floor = time.perf_counter() - started
        started = time.perf_counter()
        summary = out_of_fold.gather(s3, None, plan, results, None)
        seconds = time.perf_counter() - started
        written = s3.head_object(Bucket="bench", Key="run/oof_predictions.jsonl")["ContentLength"]
    assert parsed == lines and summary["num_predictions"] == lines
    return {"lines": lines, "floor_s": round(floor, 2), "gather_s": round(seconds, 2),
            "ratio": round(seconds / floor, 2), "setup_peak_mb": setup_peak, "peak_mb": _peak_mb(),
            "gather_added_mb": _peak_mb() - setup_peak, "file_mb": round(written / 2**20, 1),
            "accuracy": round(summary["metrics"]["accuracy"], 4)}


def _peak_mb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # kilobytes on Linux


def main() -> int:
    if len(sys.argv) == 3 and sys.argv[1] == "--gather":
        print(json.dumps(gather_at_scale(int(sys.argv[2]))))
        return 0
    families = [name for name in os.environ.get("BENCH_OOF_FAMILIES", ",".join(EXAMPLES)).split(",") if name]
    sizes = [int(size) for size in os.environ.get("BENCH_OOF_LINES", "100000,1000000").split(",") if size]
    runs = engine_runs(families)
    print(f"{'family':<22}{'lines':>7}{'plain s':>9}{'with predictions s':>20}{'ratio':>7}{'s added / fold':>16}"
          f"{'events':>14}{'pooled accuracy':>17}")
    for run in runs:
        print(f"{run['family']:<22}{run['lines']:>7}{run['baseline_s']:>9}{run['with_predictions_s']:>20}"
              f"{run['ratio']:>7}{run['added_s_per_fold']:>16}{str(run['baseline_events']) + ' -> ' + str(run['with_predictions_events']):>14}"
              f"{run['pooled_accuracy']:>17}")
    gathers = []
    for size in sizes:
        completed = subprocess.run([sys.executable, __file__, "--gather", str(size)], capture_output=True, text=True,
                                   check=False, timeout=1800)
        if completed.returncode:
            raise SystemExit(completed.stderr)
        gathers.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    if gathers:
        print(f"\n{'lines':>9}{'floor s':>9}{'gather s':>10}{'ratio':>7}{'peak MB':>9}{'gather added MB':>17}"
              f"{'file MB':>9}   (Lambda: {LAMBDA_MEMORY_MB} MB)")
        for run in gathers:
            print(f"{run['lines']:>9}{run['floor_s']:>9}{run['gather_s']:>10}{run['ratio']:>7}{run['peak_mb']:>9}"
                  f"{run['gather_added_mb']:>17}{run['file_mb']:>9}")
    print(json.dumps({"runs": runs, "gathers": gathers, "lambda_memory_mb": LAMBDA_MEMORY_MB}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
