"""The report and tracking benchmark keeps working: `make bench-report` must print the figures the README reports.

A smoke run at two small sizes. It asserts what the benchmark prints and that its figures agree with each other,
never how fast anything was: timings belong to the benchmark.
"""

from __future__ import annotations

import pytest
from bench_support import run_benchmark


@pytest.mark.slow
def test_given_two_small_searches_then_the_benchmark_prints_the_report_and_tracking_figures():
    # GIVEN the benchmark limited to searches of 5 and 10 jobs
    # WHEN it runs as `make bench-report` runs it
    table, figures = run_benchmark("report_bench.py", BENCH_REPORT_JOBS="5,10")
    # THEN each size was rendered and tracked, each against its baseline measured in the same run
    assert [row["jobs"] for row in figures["reports"]] == [5, 10] == [row["jobs"] for row in figures["tracking"]]
    assert all(row["page_kb"] > row["summary_json_kb"] > 0 and row["summary_json_s"] > 0 for row in figures["reports"])
    assert all(row["record_s"] > 0 and row["bare_runs_s"] > 0 for row in figures["tracking"])
    assert any(line.split()[:1] == ["10"] for line in table)
