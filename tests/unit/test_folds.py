"""Fold assignment: scikit-learn's folds exactly, a seeded order inside each file, clear refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)

from smx_split.dataset import scan_dataset
from smx_split.errors import InvalidInputError
from smx_split.folds import STRATEGIES, assign_folds, assign_repeated_folds, resolve_strategy


def manifest_scan(labels, groups=None):
    lines = [
        {"source-ref": f"s3://b/{index}.jpg", **({"class": label} if label is not None else {}),
         **({"patient": groups[index]} if groups is not None else {})}
        for index, label in enumerate(labels)
    ]
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    return scan_dataset([data], "jsonl", group_attribute="patient" if groups is not None else None)


def class_sorted_labels(num_classes=4, per_class=30):
    return [str(label) for label in range(num_classes) for _ in range(per_class)]


# --- strategy ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("has_labels", "has_groups", "expected"),
    [(True, True, "stratified_group"), (False, True, "group"), (True, False, "stratified"), (False, False, "kfold")],
)
def test_given_auto_then_the_most_careful_strategy_the_data_supports_is_chosen(has_labels, has_groups, expected):
    assert resolve_strategy("auto", has_labels=has_labels, has_groups=has_groups) == expected


@pytest.mark.parametrize(
    ("requested", "has_labels", "has_groups", "expected"),
    [
        ("stratified", False, False, 'crossvalidation.strategy: "stratified" stratifies by label, but the dataset has none'),
        ("stratified_group", False, True, 'or use "group"'),
        ("group", True, False, 'crossvalidation.strategy: "group" keeps groups together: set crossvalidation.group_attribute'),
        ("kfold", True, True, 'would put samples of one group into different folds'),
        ("random", True, False, "crossvalidation.strategy: 'random' is not a strategy: use one of auto, stratified"),
    ],
)
def test_given_a_strategy_the_data_cannot_support_then_the_strategy_field_is_named(requested, has_labels, has_groups, expected):
    with pytest.raises(InvalidInputError) as raised:
        resolve_strategy(requested, has_labels=has_labels, has_groups=has_groups)
    assert expected in raised.value.problems[0]


@pytest.mark.parametrize("strategy", [name for name in STRATEGIES if name != "auto"])
def test_given_a_supported_strategy_then_it_is_kept(strategy):
    assert resolve_strategy(strategy, has_labels=True, has_groups="group" in strategy) == strategy


# --- membership -------------------------------------------------------------------------------


def sklearn_test_folds(strategy, labels, groups, n_splits, random_state):
    placeholder = np.zeros((len(labels), 1))
    splitter = {
        "kfold": KFold(n_splits, shuffle=True, random_state=random_state),
        "stratified": StratifiedKFold(n_splits, shuffle=True, random_state=random_state),
        "group": GroupKFold(n_splits, shuffle=True, random_state=random_state),
        "stratified_group": StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state),
    }[strategy]
    uses_groups = "group" in strategy
    return [sorted(test.tolist()) for _, test in splitter.split(placeholder, labels, groups if uses_groups else None)]


@pytest.mark.parametrize("strategy", ["kfold", "stratified", "group", "stratified_group"])
def test_given_a_strategy_then_each_fold_validates_exactly_sklearns_test_indices(strategy):
    rng = np.random.default_rng(7)
    labels = [f"class-{value}" for value in rng.integers(0, 3, 90)]
    groups = [f"patient-{value}" for value in rng.integers(0, 20, 90)]
    scan = manifest_scan(labels, groups if "group" in strategy else None)
    assignment = assign_folds(scan, n_splits=4, random_state=11, strategy=strategy)
    expected = sklearn_test_folds(strategy, labels, groups, 4, 11)
    assert [sorted(assignment.validation_indices(fold).tolist()) for fold in range(4)] == expected
    assert assignment.fold_sizes == tuple(len(fold) for fold in expected)
    assert assignment.strategy == strategy


def test_given_unlabelled_data_then_auto_splits_like_kfold():
    scan = manifest_scan([None] * 23)
    assignment = assign_folds(scan, n_splits=5, random_state=3, strategy="auto")
    assert assignment.strategy == "kfold"
    assert [sorted(assignment.validation_indices(fold).tolist()) for fold in range(5)] == sklearn_test_folds(
        "kfold", [0] * 23, None, 5, 3
    )


# --- order inside the files -------------------------------------------------------------------


def test_given_a_seed_then_each_validation_file_follows_the_documented_rank_permutation():
    scan = manifest_scan(class_sorted_labels())
    assignment = assign_folds(scan, n_splits=3, random_state=42, strategy="stratified")
    rng = np.random.default_rng(42)
    for fold, members in enumerate(sklearn_test_folds("stratified", scan.labels, None, 3, 42)):
        rank = rng.permutation(len(members))
        assert assignment.validation_indices(fold).tolist() == np.array(members)[np.argsort(rank)].tolist()


def test_given_a_manifest_sorted_by_class_then_no_validation_file_is_sorted_by_class():
    scan = manifest_scan(class_sorted_labels(num_classes=4, per_class=50))
    assignment = assign_folds(scan, n_splits=5, random_state=0, strategy="stratified")
    for fold in range(5):
        labels_in_file = scan.labels[assignment.validation_indices(fold)]
        changes = np.count_nonzero(np.diff(labels_in_file))
        assert changes > len(labels_in_file) // 2  # a class-sorted file would change class 3 times


def test_given_the_same_input_and_seed_then_the_assignment_is_the_same():
    scan = manifest_scan(class_sorted_labels())
    first, second = (assign_folds(scan, n_splits=4, random_state=5, strategy="auto") for _ in range(2))
    assert np.array_equal(first.fold_of, second.fold_of) and np.array_equal(first.rank, second.rank)


@settings(max_examples=40, deadline=None)
@given(
    labels=st.lists(st.sampled_from(["a", "b", "c"]), min_size=12, max_size=60),
    n_splits=st.integers(2, 4),
    random_state=st.integers(0, 2**31 - 1),
    num_groups=st.integers(4, 12),
)
def test_given_any_grouped_data_then_every_line_validates_once_and_groups_stay_together(labels, n_splits, random_state, num_groups):
    groups = [f"g{index % num_groups}" for index in range(len(labels))]
    assignment = assign_folds(manifest_scan(labels, groups), n_splits=n_splits, random_state=random_state, strategy="group")
    written = np.concatenate([assignment.validation_indices(fold) for fold in range(n_splits)])
    assert sorted(written.tolist()) == list(range(len(labels)))
    for group in set(groups):
        assert len({int(assignment.fold_of[index]) for index, name in enumerate(groups) if name == group}) == 1


# --- refusals ---------------------------------------------------------------------------------


def test_given_more_folds_than_lines_then_n_splits_is_named():
    with pytest.raises(InvalidInputError) as raised:
        assign_folds(manifest_scan(["a", "b", "a"]), n_splits=5, random_state=0, strategy="kfold")
    assert raised.value.problems == [
        "crossvalidation.n_splits: 5 folds need at least 5 lines, but the dataset has 3: lower n_splits or add data"
    ]


def test_given_rare_classes_then_they_are_named_with_their_counts_and_the_ways_out():
    labels = ["common"] * 20 + ["rare"] * 2 + ["single"]
    with pytest.raises(InvalidInputError) as raised:
        assign_folds(manifest_scan(labels), n_splits=5, random_state=0, strategy="auto")
    (problem,) = raised.value.problems
    assert "2 of 3 classes have fewer: 'rare' (2), 'single' (1)" in problem
    for way_out in ("Merge or remove the rare classes", "lower crossvalidation.n_splits", '"kfold"', "regression"):
        assert way_out in problem


def test_given_rare_classes_and_kfold_then_the_split_goes_ahead():
    labels = ["common"] * 20 + ["single"]
    assignment = assign_folds(manifest_scan(labels), n_splits=5, random_state=0, strategy="kfold")
    assert sum(assignment.fold_sizes) == 21


def test_given_fewer_groups_than_folds_then_group_attribute_is_named():
    scan = manifest_scan(["a", "b"] * 5, ["g1", "g2", "g3"] * 3 + ["g1"])
    with pytest.raises(InvalidInputError) as raised:
        assign_folds(scan, n_splits=4, random_state=0, strategy="group")
    assert raised.value.problems[0].startswith(
        "crossvalidation.group_attribute: 4 folds need at least 4 distinct groups, but the dataset has 3"
    )


# --- repeated k-fold ---------------------------------------------------------------------------


@pytest.mark.parametrize("strategy, splitter", [("stratified", RepeatedStratifiedKFold), ("kfold", RepeatedKFold)])
def test_given_repeats_then_each_repeats_folds_are_scikit_learns_repeated_splits(strategy, splitter):
    # GIVEN 4 unbalanced classes, 5 folds, 3 repeats
    labels = class_sorted_labels(num_classes=4, per_class=30)[:110]
    scan = manifest_scan(labels)
    # WHEN the folds are assigned
    repeats = assign_repeated_folds(scan, n_splits=5, n_repeats=3, random_state=7, strategy=strategy)
    # THEN repeat r, fold i validates exactly the r * 5 + i-th test set of scikit-learn's repeated splitter
    expected = [test for _, test in splitter(n_splits=5, n_repeats=3, random_state=7).split(
        np.empty((len(labels), 0)), np.array(labels))]
    assert len(repeats) == 3
    for r, assignment in enumerate(repeats):
        for fold in range(5):
            assert assignment.members(fold).tolist() == sorted(expected[r * 5 + fold].tolist())
    # AND the repeats differ (a repeat that copied the first would compare nothing)
    assert repeats[0].fold_of.tolist() != repeats[1].fold_of.tolist()


def test_given_one_repeat_then_the_folds_and_file_orders_are_todays():
    scan = manifest_scan(class_sorted_labels())
    single = assign_folds(scan, n_splits=4, random_state=3, strategy="stratified")
    (repeat,) = assign_repeated_folds(scan, n_splits=4, n_repeats=1, random_state=3, strategy="stratified")
    first_of_three = assign_repeated_folds(scan, n_splits=4, n_repeats=3, random_state=3, strategy="stratified")[0]
    for assignment in (repeat, first_of_three):
        assert assignment.fold_of.tolist() == single.fold_of.tolist()
        assert assignment.rank.tolist() == single.rank.tolist()


@pytest.mark.parametrize("strategy", ["group", "stratified_group"])
def test_given_repeats_with_groups_then_it_is_refused_saying_why(strategy):
    scan = manifest_scan(class_sorted_labels(2, 20), groups=[f"p{i % 8}" for i in range(40)])
    with pytest.raises(InvalidInputError) as refused:
        assign_repeated_folds(scan, n_splits=4, n_repeats=2, random_state=1, strategy=strategy)
    assert refused.value.problems == [
        f"crossvalidation.n_repeats: {strategy} folds cannot repeat (scikit-learn has no repeated group splitter, so "
        "repeats could not be reproduced with it): set n_repeats to 1"]
