"""Runs whose reports the tests render: real offline executions of the bundled examples (module-scoped: each
costs a few seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smx_validator import cross_validate

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "doc" / "examples"
DATASETS = REPO / "resources" / "datasets"
BREAST_CANCER = {DATASETS / "breast_cancer.csv": "s3://smx-demo-input/breast_cancer/breast_cancer.csv"}
IRIS = {DATASETS / "iris.csv": "s3://smx-demo-input/iris/iris.csv"}


@pytest.fixture(scope="session")
def out_of_fold_run():
    """linear-learner on breast_cancer, 5 folds, with out-of-fold predictions (a confusion matrix)."""
    return cross_validate(EXAMPLES / "linear-learner-oof.json", local=True, data=BREAST_CANCER, progress=False)


@pytest.fixture(scope="session")
def search_run():
    """knn on iris: 4 candidates x 5 folds, ranked."""
    return cross_validate(EXAMPLES / "knn-search.json", local=True, data=IRIS, progress=False)


def example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
