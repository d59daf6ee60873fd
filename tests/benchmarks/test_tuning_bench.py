"""The search benchmark keeps working: `make bench-tuning` must print the figures the README reports.

A smoke run of the baseline, a 2-candidate search (the inline Map) and a 16-candidate one (the Distributed Map). It asserts what the benchmark prints and that the
figures are consistent with each other, never how fast anything was: timings belong to the benchmark.
"""

from __future__ import annotations

import pytest
from bench_support import run_benchmark


@pytest.mark.slow
def test_given_a_small_search_then_the_benchmark_prints_its_table_the_ceiling_and_the_json():
    # GIVEN the benchmark limited to searches of 2 and 16 candidates
    # WHEN it runs as `make bench-tuning` runs it
    table, figures = run_benchmark("tuning_bench.py", BENCH_CANDIDATES="2,16")
    # THEN it measured the baseline and the searches: 3 folds, then 2 x 3 jobs and 16 x 3 jobs, each with its refit
    baseline, small, large = figures["runs"]
    assert [(run["jobs"], run["refit_jobs"]) for run in (baseline, small, large)] == [(3, 0), (6, 1), (48, 1)]
    # AND the small search went through the inline Map, the large one (past the inline ceiling) the Distributed Map
    assert (baseline["map"], small["map"], large["map"]) == ("inline", "inline", "distributed")
    assert figures["inline_ceiling_jobs"] == figures["inline_ceiling_candidates"] * 3 < 48 <= figures["ceiling_jobs"]
    # AND every state stayed under the limit; the inline plan grows with the search, the distributed one does not
    assert all(run["largest_kib"] < 256 for run in figures["runs"])
    assert baseline["plan_kib"] < small["plan_kib"] and large["plan_kib"] < small["plan_kib"]
    assert large["events"] < small["events"] * 2  # its jobs' events are in their child executions
    assert any(line.startswith("inline ceiling:") for line in table)
