"""The out-of-fold benchmark keeps working: `make bench-oof` must print the figures the README reports.

A smoke run of one family and a small gather. It asserts what the benchmark prints and that its figures agree with
each other, never how fast anything was: timings belong to the benchmark.
"""

from __future__ import annotations

import pytest
from bench_support import run_benchmark


@pytest.mark.slow
def test_given_one_family_and_a_small_gather_then_the_benchmark_prints_both_tables_and_the_json():
    # GIVEN the benchmark limited to linear-learner and a gather of 2,000 lines
    # WHEN it runs as `make bench-oof` runs it
    table, figures = run_benchmark("oof_bench.py", BENCH_OOF_FAMILIES="linear-learner", BENCH_OOF_LINES="2000")
    # THEN it ran the family with and without predictions: the predicting run has more events (its transforms)
    [run] = figures["runs"]
    assert run["family"] == "linear-learner" and run["lines"] == 569
    assert run["with_predictions_events"] > run["baseline_events"] and 0.5 < run["pooled_accuracy"] <= 1
    # AND it gathered every line, with its baseline measured in the same process
    [gather] = figures["gathers"]
    assert gather["lines"] == 2000 and gather["floor_s"] > 0 and gather["peak_mb"] >= gather["setup_peak_mb"]
    assert any(line.startswith("linear-learner") for line in table)
