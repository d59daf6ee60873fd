"""Scan and fold: what the folded dataset tells the user besides its folds."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from smx_split.folding import fold_dataset
from smx_split.inputs import validate_input

REPO = Path(__file__).resolve().parents[2]
KNN = json.loads((REPO / "doc" / "examples" / "knn.json").read_text())
IRIS = (REPO / "resources" / "datasets" / "iris.csv").read_bytes()


def knn_grouped_by(column: int, *, image: str | None = None):
    document = copy.deepcopy(KNN)
    document["crossvalidation"].update(group_attribute=column, strategy="group", n_splits=3)
    document["training"]["hyperparameters_template"]["feature_dim"] = "5"
    if image:
        document["training"]["algorithm_specification"]["TrainingImage"] = image
    rows = [line + f",{index % 7}".encode() for index, line in enumerate(IRIS.splitlines())]
    return validate_input(document), b"\n".join(rows) + b"\n"


def test_given_a_csv_group_column_for_a_built_in_then_the_notes_say_it_is_a_feature():
    # GIVEN iris with a group id in column 5, grouped by it, for the built-in k-NN
    spec, data = knn_grouped_by(5)
    # WHEN it is folded
    folded = fold_dataset(spec, [data])
    # THEN the notes warn that k-NN reads the group id as a feature
    assert ("crossvalidation.group_attribute: column 5 stays in every row the training jobs read, so knn learns from "
            "it as a feature; if the group id should not be a feature, train with a custom container that drops "
            "the column") in folded.notes


def test_given_a_custom_container_then_no_such_note():
    # GIVEN the same data for a custom container, which reads its rows its own way
    spec, data = knn_grouped_by(5, image="123456789012.dkr.ecr.us-east-1.amazonaws.com/mine:1")
    # THEN nothing is said about the group column
    assert not [note for note in fold_dataset(spec, [data]).notes if "group_attribute" in note]
