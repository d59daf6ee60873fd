"""Fold assignment with scikit-learn's splitters, and the order of lines inside each fold's files.

Fold i's validation lines are exactly the test indices of fold i of the scikit-learn splitter
applied to the lines in file order. Inside fold i's validation file the lines follow a rank
drawn from ``numpy.random.default_rng(random_state)``: ``rng.permutation(size_i)`` for fold
0, 1, ... in turn. So a manifest sorted by class never yields a file sorted by class, and the
same input and seed always give the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import (
    GroupKFold,
    KFold,
    RepeatedKFold,
    RepeatedStratifiedKFold,
    StratifiedGroupKFold,
    StratifiedKFold,
)

from .dataset import DatasetScan
from .line_problems import PREVIEW_CHARS
from .errors import InvalidInputError
from .memory import release_freed_memory

STRATEGIES = ("auto", "stratified", "kfold", "group", "stratified_group")
_NEEDS_LABELS = {"stratified", "stratified_group"}
_NEEDS_GROUPS = {"group", "stratified_group"}
MAX_LISTED_CLASSES = 20


def resolve_strategy(requested: str, *, has_labels: bool, has_groups: bool) -> str:
    """The strategy to split with: ``auto`` picks the most careful one the data supports."""
    if requested == "auto":
        if has_groups:
            return "stratified_group" if has_labels else "group"
        return "stratified" if has_labels else "kfold"
    if requested not in STRATEGIES:
        raise InvalidInputError(
            [f"crossvalidation.strategy: {requested!r} is not a strategy: use one of {', '.join(STRATEGIES)}"]
        )
    if requested in _NEEDS_LABELS and not has_labels:
        raise InvalidInputError(
            [
                f'crossvalidation.strategy: "{requested}" stratifies by label, but the dataset has none: '
                'label every line (CSV: first column; JSON Lines: crossvalidation.label_attribute; text: __label__), '
                f'or use "{"group" if requested == "stratified_group" else "kfold"}"'
            ]
        )
    if requested in _NEEDS_GROUPS and not has_groups:
        raise InvalidInputError(
            [f'crossvalidation.strategy: "{requested}" keeps groups together: set crossvalidation.group_attribute']
        )
    if has_groups and requested not in _NEEDS_GROUPS:
        # A group attribute the split ignores would scatter a group's samples over folds.
        raise InvalidInputError(
            [
                f'crossvalidation.strategy: "{requested}" ignores crossvalidation.group_attribute and would put '
                'samples of one group into different folds: use "group" or "stratified_group", or remove group_attribute'
            ]
        )
    return requested


@dataclass(frozen=True, eq=False)
class FoldAssignment:
    """Which fold each line validates, and where inside that fold's validation file it goes."""

    strategy: str
    n_splits: int
    fold_of: np.ndarray  # fold index per line, file order
    rank: np.ndarray  # position of each line inside its fold's validation file
    fold_sizes: tuple[int, ...]
    # Bytes of all lines with their newlines, and of each line (file order): the writer places
    # lines by them.
    num_bytes: int
    line_bytes: np.ndarray

    @property
    def num_lines(self) -> int:
        return len(self.fold_of)

    def members(self, fold: int) -> np.ndarray:
        """File-order indices of fold's validation lines."""
        return np.flatnonzero(self.fold_of == fold)

    def fold_bytes(self) -> np.ndarray:
        """Bytes of each fold's validation file."""
        return np.bincount(self.fold_of, weights=self.line_bytes, minlength=self.n_splits).astype(np.int64)

    def output_offsets(self) -> np.ndarray:
        """Each line's offset (file order) in the validation files laid end to end, fold 0 first.

        Linear time, no sort: a line's position among all written lines is its rank plus the
        sizes of the folds before its own.
        """
        first_of_fold = np.concatenate(([0], np.cumsum(self.fold_sizes[:-1]))).astype(np.int64)
        position = first_of_fold[self.fold_of]
        position += self.rank
        ends = np.empty(self.num_lines, dtype=np.int64)
        ends[position] = self.line_bytes  # sizes in written order
        np.cumsum(ends, out=ends)  # ends in written order
        # Each line's end, into position's own memory (mode="clip" is unbuffered, and element i
        # is read before it is written): at 10M lines that saves an 80 MB array.
        offsets = np.take(ends, position, mode="clip", out=position)
        del ends
        offsets -= self.line_bytes
        return offsets

    def validation_indices(self, fold: int) -> np.ndarray:
        """File-order indices of fold's validation lines, in the order they are written."""
        members = self.members(fold)
        ordered = np.empty_like(members)
        ordered[self.rank[members]] = members
        return ordered


def assign_folds(scan: DatasetScan, *, n_splits: int, random_state: int, strategy: str) -> FoldAssignment:
    """Assign every line to the fold it validates; raise before splitting what cannot be split."""
    return assign_repeated_folds(scan, n_splits=n_splits, n_repeats=1, random_state=random_state,
                                 strategy=strategy)[0]


def assign_repeated_folds(scan: DatasetScan, *, n_splits: int, n_repeats: int, random_state: int,
                          strategy: str) -> tuple[FoldAssignment, ...]:
    """One assignment per repeat: repeat r's folds are the r-th n_splits splits of scikit-learn's
    RepeatedStratifiedKFold (RepeatedKFold for "kfold") with this random_state, so repeat 0 is exactly
    the single k-fold split. scikit-learn has no repeated group splitter: group strategies cannot repeat.

    The ranks inside the validation files come from one generator, drawn in repeat then fold order.
    Memory: 6 bytes a line a repeat (fold index and rank).
    """
    has_labels, has_groups = scan.labels is not None, scan.groups is not None
    strategy = resolve_strategy(strategy, has_labels=has_labels, has_groups=has_groups)
    if n_repeats > 1 and strategy in _NEEDS_GROUPS:
        raise InvalidInputError([
            f"crossvalidation.n_repeats: {strategy} folds cannot repeat (scikit-learn has no repeated group "
            "splitter, so repeats could not be reproduced with it): set n_repeats to 1"])
    _check_splittable(scan, n_splits, strategy)
    rng = np.random.default_rng(random_state)
    splits = _splits(scan, n_splits, n_repeats, random_state, strategy)
    assignments = tuple(_assignment(scan, n_splits, strategy, [next(splits) for _ in range(n_splits)], rng)
                        for _ in range(n_repeats))
    release_freed_memory()  # the splitter's temporaries, before the writer's window
    return assignments


def _assignment(scan: DatasetScan, n_splits: int, strategy: str, splits: list, rng: np.random.Generator) -> FoldAssignment:
    fold_of = np.empty(scan.num_lines, dtype=np.int16)  # n_splits is at most 20 (the input schema)
    rank = np.empty(scan.num_lines, dtype=np.int32)
    fold_sizes = []
    for fold, (_, test) in enumerate(splits):
        members = test if _ascending(test) else np.sort(test)  # KFold's shuffled test indices are not
        fold_of[members] = fold
        rank[members] = rng.permutation(len(members))  # members in file order, as the contract draws them
        fold_sizes.append(len(members))
    return FoldAssignment(
        strategy=strategy,
        n_splits=n_splits,
        fold_of=fold_of,
        rank=rank,
        fold_sizes=tuple(fold_sizes),
        num_bytes=scan.num_bytes,
        line_bytes=scan.line_bytes,
    )


def _ascending(indices: np.ndarray) -> bool:
    return bool(np.all(indices[1:] > indices[:-1]))


def _splits(scan: DatasetScan, n_splits: int, n_repeats: int, random_state: int, strategy: str):
    """scikit-learn's (train, test) index pairs, repeat after repeat; labels and groups go in as int codes."""
    # The splitters only take the sample count from X: a zero-width array costs no memory.
    placeholder = np.empty((scan.num_lines, 0), dtype=np.uint8)
    if strategy == "kfold" and n_repeats > 1:
        return RepeatedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state).split(placeholder)
    if strategy == "stratified" and n_repeats > 1:
        return RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=random_state).split(
            placeholder, scan.labels)
    if strategy == "kfold":
        return KFold(n_splits, shuffle=True, random_state=random_state).split(placeholder)
    if strategy == "stratified":
        return StratifiedKFold(n_splits, shuffle=True, random_state=random_state).split(placeholder, scan.labels)
    if strategy == "group":
        return GroupKFold(n_splits, shuffle=True, random_state=random_state).split(placeholder, groups=scan.groups)
    return StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state).split(
        placeholder, scan.labels, scan.groups
    )


def _check_splittable(scan: DatasetScan, n_splits: int, strategy: str) -> None:
    if n_splits < 2:
        raise InvalidInputError([f"crossvalidation.n_splits: {n_splits} folds cannot cross-validate: use 2 or more"])
    if n_splits > scan.num_lines:
        raise InvalidInputError(
            [
                f"crossvalidation.n_splits: {n_splits} folds need at least {n_splits} lines, "
                f"but the dataset has {scan.num_lines}: lower n_splits or add data"
            ]
        )
    if strategy in _NEEDS_LABELS:
        _check_class_sizes(scan, n_splits)
    if strategy in _NEEDS_GROUPS:
        num_groups = int(scan.groups.max()) + 1  # group codes are 0..G-1
        if num_groups < n_splits:
            raise InvalidInputError(
                [
                    f"crossvalidation.group_attribute: {n_splits} folds need at least {n_splits} distinct groups, "
                    f"but the dataset has {num_groups}: lower crossvalidation.n_splits or use finer groups"
                ]
            )


def _check_class_sizes(scan: DatasetScan, n_splits: int) -> None:
    rare = {name: count for name, count in scan.class_counts().items() if count < n_splits}
    if not rare:
        return
    listed = ", ".join(f"{_shown(name)} ({count})" for name, count in list(rare.items())[:MAX_LISTED_CLASSES])
    more = f" and {len(rare) - MAX_LISTED_CLASSES} more" if len(rare) > MAX_LISTED_CLASSES else ""
    raise InvalidInputError(
        [
            f"crossvalidation.n_splits: stratifying into {n_splits} folds needs at least {n_splits} lines of every class; "
            f"{len(rare)} of {scan.num_classes} classes have fewer: {listed}{more}. "
            "Merge or remove the rare classes, lower crossvalidation.n_splits, or set crossvalidation.strategy "
            'to "kfold" (a continuous label, such as a regression target in a CSV\'s first column, needs "kfold")'
        ]
    )


def _shown(name: str) -> str:
    """A class name as a message may show it: labels are dataset content, so at most PREVIEW_CHARS of it."""
    return repr(name if len(name) <= PREVIEW_CHARS else name[:PREVIEW_CHARS] + "...")
