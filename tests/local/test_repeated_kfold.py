"""Repeated k-fold through the real state machine: n_splits x n_repeats jobs, each repeat's folds those of
scikit-learn's RepeatedStratifiedKFold, and statistics over every job."""

from __future__ import annotations

import csv
import io
import json
import statistics

import numpy as np
from sklearn.model_selection import RepeatedStratifiedKFold

from .conftest import DATASETS, list_keys


def read(engine, uri: str) -> bytes:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return engine.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def test_a_repeated_run_trains_every_repeats_folds_and_summarises_every_job(app_engine, example):
    # GIVEN the linear-learner example with 3 folds repeated twice
    document = example("linear-learner")
    document["crossvalidation"].update(n_splits=3, n_repeats=2, random_state=11)
    # WHEN it runs
    result = app_engine.run(document, timeout=300)
    # THEN it succeeds with six jobs, named by repeat and fold, in repeat then fold order
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    output = result.output
    splits = output["splits"]
    assert [(s["repeat_index"], s["fold_index"]) for s in splits] == [(r, i) for r in range(2) for i in range(3)]
    assert all(s["TrainingJobName"].endswith(f"-r{s['repeat_index']}-fold{s['fold_index']}") for s in splits)
    assert output["crossvalidation"]["n_repeats"] == 2
    # AND each repeat's validation files hold exactly the lines of scikit-learn's repeated splits
    lines = (DATASETS / "breast_cancer.csv").read_bytes().splitlines()
    labels = np.array([line.split(b",")[0].decode() for line in lines])
    expected = [sorted(test.tolist()) for _, test in RepeatedStratifiedKFold(
        n_splits=3, n_repeats=2, random_state=11).split(np.empty((len(lines), 0)), labels)]
    index_of = {line: i for i, line in enumerate(lines)}  # the rows are distinct
    run_prefix = output["job_config"]["run_prefix"]
    for position, split in enumerate(splits):
        key = f"{run_prefix}repeat{split['repeat_index']}/fold{split['fold_index']}/validation/validation.csv"
        members = sorted(index_of[line] for line in read(app_engine, key).splitlines())
        assert members == expected[position], f"r{split['repeat_index']}-fold{split['fold_index']}"
    assert not [k for k in list_keys(app_engine, run_prefix) if k.startswith(f"{run_prefix[len('s3://'):].partition('/')[2]}fold")]
    # AND the statistics cover all six jobs: recomputed from each job's final metric, they agree
    metric = "validation:binary_classification_accuracy"
    values = [next(m["Value"] for m in s["FinalMetricDataList"] if m["MetricName"] == metric) for s in splits]
    stats = output["summary"]["metrics"][metric]
    assert output["summary"]["completed_folds"] == list(range(6))
    assert stats["count"] == 6 and stats["values"] == values
    assert abs(stats["mean"] - statistics.fmean(values)) < 1e-12 and abs(stats["std"] - statistics.pstdev(values)) < 1e-12
    # AND summary.csv has one row per job, led by its repeat index
    rows = list(csv.DictReader(io.StringIO(read(app_engine, output["summary"]["summary_csv"]).decode())))
    assert [(row["repeat_index"], row["fold_index"]) for row in rows] == [(str(r), str(i)) for r in range(2) for i in range(3)]
    assert json.dumps(output)  # the output stays plain JSON
