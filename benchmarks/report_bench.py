"""Report and MLflow tracking benchmark: what the HTML report and the track step cost as runs grow.

``make bench-report`` (or ``python benchmarks/report_bench.py``) measures, for searches of J training jobs
(BENCH_REPORT_JOBS, default "5,100,1000": candidates of 5 folds, 3 metrics and 5 hyperparameters a job, an
out-of-fold confusion matrix of 10 classes):

1. The report (``smx_validator.html_report.render_html``): seconds and size of the page. Its baseline, measured
   in the same process on the same document: writing summary.json (the gather's ``reports.summary_json``), the
   floor of anything that reads the whole output.
2. The track step's record (``smx_track.mlflow_writer.record_run``, MLflow's own client) in a real MLflow server
   started on 127.0.0.1 (SQLite store): seconds and seconds per job. Its baseline, against the same server in the
   same run: one bare run created and ended per job (the floor of one MLflow run per job). The track function
   has 900 s (template.yaml).

A table, then one line of JSON.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "functions" / "track"), str(REPO / "functions" / "gather"),
                str(REPO / "functions" / "shared"), str(REPO / "src")]

N_FOLDS, N_CLASSES = 5, 10
METRICS = ("validation:accuracy", "validation:f1", "train:loss")
TRACK_TIMEOUT_S = 900


def document(jobs: int) -> dict:
    """A search's output of ``jobs`` jobs (candidates of N_FOLDS folds), shaped as the gather writes it."""
    candidates = max(1, jobs // N_FOLDS)
    splits, values = [], {metric: [] for metric in METRICS}
    for candidate in range(candidates):
        for fold in range(N_FOLDS):
            finals = {metric: 0.5 + 0.4 * ((candidate * 7 + fold * 3 + i) % 10) / 10 for i, metric in enumerate(METRICS)}
            splits.append({
                "candidate_index": candidate, "fold_index": fold,
                "TrainingJobName": f"crossvalidator-bench-20261130-120000-c{candidate}-fold{fold}",
                "TrainingJobArn": f"arn:aws:sagemaker:us-east-1:123456789012:training-job/bench-c{candidate}-fold{fold}",
                "TrainingJobStatus": "Completed", "TrainingTimeInSeconds": 60,
                "TrainingStartTime": "2026-11-30T12:00:00+00:00", "TrainingEndTime": "2026-11-30T12:01:00+00:00",
                "HyperParameters": {"k": str(candidate + 1), "feature_dim": "4", "predictor_type": "classifier",
                                    "sample_size": "120", "index_type": "faiss.Flat"},
                "FinalMetricDataList": [{"MetricName": m, "Value": v} for m, v in finals.items()],
            })
            if candidate == 0:
                for metric, value in finals.items():
                    values[metric].append(value)
    statistics = {metric: {"values": v, "mean": sum(v) / len(v), "std": 0.1, "min": min(v), "max": max(v),
                           "count": len(v), "diverged_folds": []} for metric, v in values.items()}
    ranked = [{"index": c, "rank": c + 1, "overrides": {"k": str(c + 1)}, "mean": 0.9 - c / 1000, "std": 0.01,
               "jobs": N_FOLDS, "completed": N_FOLDS, "complete": True, "metrics": statistics} for c in range(candidates)]
    return {
        "job_config": {"name": "bench", "run_id": "crossvalidator-bench-20261130-120000", "execution_name": "bench",
                       "created_at": "2026-11-30T12:00:00Z", "input_path": "s3://in/data.csv",
                       "run_prefix": "s3://out/crossvalidator-bench-20261130-120000/", "notes": []},
        "crossvalidation": {"n_splits": N_FOLDS, "random_state": 1, "strategy": "stratified", "max_concurrency": 2,
                            "num_samples": 1000, "num_classes": N_CLASSES, "fold_sizes": [200] * N_FOLDS,
                            "fold_class_counts": [{str(c): 20 for c in range(N_CLASSES)}] * N_FOLDS},
        "training": {"algorithm_family": "knn", "hyperparameters_template": {"k": "1"}},
        "splits": splits,
        "summary": {"metrics": statistics, "completed_folds": list(range(N_FOLDS)), "failed_folds": [],
                    "failed_fold_count": 0, "failure_message": "", "trimmed_fields": [],
                    "summary_json": "s3://out/r/summary.json", "summary_csv": "s3://out/r/summary.csv",
                    "tuning": {"objective": {"metric": "validation:accuracy", "type": "Maximize"}, "best_index": 0,
                               "candidates": ranked},
                    "out_of_fold": {"predictions": "s3://out/r/oof_predictions.jsonl", "num_lines": 1000,
                                    "num_predictions": 1000, "metrics": {"accuracy": 0.9}, "missing_folds": [],
                                    "confusion_matrix": {"labels": [str(c) for c in range(N_CLASSES)],
                                                         "matrix": [[90 if r == c else 1 for c in range(N_CLASSES)]
                                                                    for r in range(N_CLASSES)]}}},
    }


def timed(function, *arguments):
    started = time.perf_counter()
    value = function(*arguments)
    return time.perf_counter() - started, value


def report_figures(sizes: list[int]) -> list[dict]:
    from smx_gather.reports import summary_json

    from smx_validator.html_report import render_html

    render_html(document(5))  # matplotlib's first figure loads its fonts: not a cost of any one report
    rows = []
    for jobs in sizes:
        output = document(jobs)
        floor_s, written = timed(summary_json, output)
        render_s, page = timed(render_html, output)
        rows.append({"jobs": jobs, "render_s": round(render_s, 3), "page_kb": round(len(page.encode()) / 1024, 1),
                     "summary_json_s": round(floor_s, 4), "summary_json_kb": round(len(written) / 1024, 1),
                     "ratio": round(render_s / floor_s, 1)})
    return rows


def tracking_figures(sizes: list[int]) -> list[dict]:
    from mlflow.tracking import MlflowClient

    from smx_track import mlflow_writer, records

    with tempfile.TemporaryDirectory() as folder, _mlflow_server(Path(folder)) as uri:
        client = MlflowClient(uri)
        rows = []
        for jobs in sizes:
            output = document(jobs)
            output["job_config"]["run_id"] += f"-{jobs}"
            parent, children = records.parent_run(output), records.job_runs(output)
            record_s, _ = timed(mlflow_writer.record_run, client, f"bench-{jobs}", parent, children, [])
            floor_s, _ = timed(_bare_runs, client, f"floor-{jobs}", jobs)
            rows.append({"jobs": jobs, "record_s": round(record_s, 2), "s_per_job": round(record_s / jobs, 4),
                         "bare_runs_s": round(floor_s, 2), "ratio": round(record_s / floor_s, 1),
                         "share_of_timeout": round(record_s / TRACK_TIMEOUT_S, 3)})
    return rows


def _bare_runs(client, experiment: str, jobs: int) -> None:
    experiment_id = client.create_experiment(experiment)
    for _ in range(jobs):
        client.set_terminated(client.create_run(experiment_id).info.run_id)


class _mlflow_server:
    def __init__(self, folder: Path):
        self.folder = folder

    def __enter__(self) -> str:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "mlflow"), "server", "--host", "127.0.0.1", "--port", str(port),
             "--backend-store-uri", f"sqlite:///{self.folder / 'mlflow.db'}", "--workers", "1",
             "--artifacts-destination", str(self.folder / "artifacts")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.folder)
        uri, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{uri}/health", timeout=2):
                    return uri
            except OSError:
                time.sleep(0.5)
        self.process.kill()
        raise RuntimeError("the MLflow server did not start")

    def __exit__(self, *exc_info) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def main() -> None:
    sizes = [int(size) for size in os.environ.get("BENCH_REPORT_JOBS", "5,100,1000").split(",")]
    reports, tracking = report_figures(sizes), tracking_figures(sizes)
    print(f"{'jobs':>6} {'report s':>9} {'page KB':>8} {'summary.json s':>15} {'ratio':>6} | "
          f"{'MLflow s':>9} {'s/job':>7} {'bare runs s':>12} {'ratio':>6} {'of 900 s':>9}")
    for report, track in zip(reports, tracking):
        print(f"{report['jobs']:>6} {report['render_s']:>9.3f} {report['page_kb']:>8.1f} "
              f"{report['summary_json_s']:>15.4f} {report['ratio']:>5.1f}x | {track['record_s']:>9.2f} "
              f"{track['s_per_job']:>7.4f} {track['bare_runs_s']:>12.2f} {track['ratio']:>5.1f}x "
              f"{track['share_of_timeout']:>8.1%}")
    print(json.dumps({"reports": reports, "tracking": tracking}))


if __name__ == "__main__":
    main()
