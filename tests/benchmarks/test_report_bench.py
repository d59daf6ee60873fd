"""The report and tracking benchmark keeps working: `make bench-report` must print the figures the README reports.

A smoke run at two small sizes. It asserts what the benchmark prints and that its figures agree with each other,
never how fast anything was: timings belong to the benchmark.
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
def test_given_two_small_searches_then_the_benchmark_prints_the_report_and_tracking_figures():
    # GIVEN the benchmark limited to searches of 5 and 10 jobs
    environment = {**os.environ, "BENCH_REPORT_JOBS": "5,10"}
    # WHEN it runs as `make bench-report` runs it
    completed = subprocess.run([sys.executable, str(REPO / "benchmarks" / "report_bench.py")], env=environment,
                               capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stderr
    *table, last = completed.stdout.strip().splitlines()
    figures = json.loads(last)
    # THEN each size was rendered and tracked, each against its baseline measured in the same run
    assert [row["jobs"] for row in figures["reports"]] == [5, 10] == [row["jobs"] for row in figures["tracking"]]
    assert all(row["page_kb"] > row["summary_json_kb"] > 0 and row["summary_json_s"] > 0 for row in figures["reports"])
    assert all(row["record_s"] > 0 and row["bare_runs_s"] > 0 for row in figures["tracking"])
    assert any(line.split()[:1] == ["10"] for line in table)
