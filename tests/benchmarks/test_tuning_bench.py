"""The search benchmark keeps working: `make bench-tuning` must print the figures the README reports.

A smoke run of the baseline and one 2-candidate search. It asserts what the benchmark prints and that the
figures are consistent with each other, never how fast anything was: timings belong to the benchmark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_given_a_small_search_then_the_benchmark_prints_its_table_the_ceiling_and_the_json():
    # GIVEN the benchmark limited to one search of 2 candidates
    environment = {**os.environ, "BENCH_CANDIDATES": "2"}
    # WHEN it runs as `make bench-tuning` runs it
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "tuning_bench.py")], env=environment,
                               capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr
    *table, last = completed.stdout.strip().splitlines()
    figures = json.loads(last)
    # THEN it measured the baseline and the search: 3 folds, then 2 x 3 jobs and the refit
    baseline, search = figures["runs"]
    assert (baseline["jobs"], baseline["refit_jobs"], search["jobs"], search["refit_jobs"]) == (3, 0, 6, 1)
    # AND the search's plan and largest state are bigger than the baseline's, and under the limit
    assert baseline["plan_kib"] < search["plan_kib"] and baseline["largest_kib"] < search["largest_kib"] < 256
    assert search["events"] > baseline["events"] and search["s_per_job_vs_baseline"] > 0
    # AND the ceiling is a search the split accepts, stated with its reason in the table
    assert figures["ceiling_jobs"] == figures["ceiling_candidates"] * 3 >= 6
    assert any(line.startswith("ceiling:") for line in table)
