"""Scan and fold: the dataset read once, checked against the job, and its lines assigned to folds.

Every problem the dataset has is raised here, before anything is written. The split function
and ``smx-validator validate --data`` both call ``fold_dataset``, so they accept and reject the
same datasets with the same words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from smx_common import inference_formats
from smx_common.hyperparameter_placeholders import placeholder_values, render

from . import builtin_hyperparameters, data_contracts, hyperparameters, out_of_fold_section
from .builtin_images import CUSTOM
from .dataset import DatasetScan, scan_dataset
from .errors import InvalidInputError
from .folds import FoldAssignment, assign_repeated_folds, resolve_strategy
from .job_spec import JobSpec
from .tuning_section import once_or_per_candidate


# Classes beyond this many are not counted per fold: a balance of hundreds of classes is not read, and the
# counts would grow the plan every state carries.
MAX_REPORTED_CLASSES = 50


@dataclass(frozen=True)
class FoldedDataset:
    """The dataset scanned and its lines assigned to folds, as the input asks."""

    scan: DatasetScan
    strategy: str
    assignments: tuple[FoldAssignment, ...]  # one per repeat (crossvalidation.n_repeats)
    strategy_note: str | None = None
    group_note: str | None = None

    @property
    def assignment(self) -> FoldAssignment:
        """The first repeat's folds: a run without repeats has only these."""
        return self.assignments[0]

    @property
    def num_classes(self) -> int | None:
        return self.scan.num_classes

    def validation_class_counts(self) -> list[dict[str, int]] | None:
        """How many lines of each class every fold of the first repeat validates (what the report draws as
        each fold's class balance); None without stratified labels, or with more classes than a reader compares."""
        # Labels are classes when the folds stratify on them (a regressor's, split by kfold, are values).
        if (self.scan.labels is None or not self.strategy.startswith("stratified")
                or self.scan.num_classes > MAX_REPORTED_CLASSES):
            return None
        assignment = self.assignment
        return [dict(zip(self.scan.label_names,
                         np.bincount(self.scan.labels[assignment.fold_of == fold],
                                     minlength=self.scan.num_classes).tolist()))
                for fold in range(assignment.n_splits)]

    @property
    def notes(self) -> list[str]:
        """What the scan normalised, for the log and the output (``job_config.notes``)."""
        notes = [f"labels {' and '.join(repr(spelling) for spelling in spellings)} are one class, {name!r}: labels "
                 "are compared as numbers (the fold files keep every line as written)"
                 for name, spellings in self.scan.label_spellings]
        return notes + [note for note in (self.strategy_note, self.group_note) if note]


def fold_dataset(spec: JobSpec, blocks: Iterable[bytes]) -> FoldedDataset:
    """Scan and fold the dataset: every problem it has is raised here, before anything is written."""
    first_lines: list[bytes] = []

    def keep_first_lines(stream: Iterable[bytes]) -> Iterable[bytes]:
        for block in stream:
            if not first_lines:  # a bounded head of the first block: no copy of the block itself
                first_lines.extend(block[:data_contracts.SAMPLE_BYTES].split(b"\n")[:data_contracts.SAMPLE_LINES + 1])
            yield block

    image_buckets: set[bytes] = set()
    blocks = _collecting_image_buckets(blocks, spec, image_buckets)
    layout = spec.channel_layout
    # A custom container split by plain k-fold needs no labels: its lines are its own format. (A
    # group_attribute still needs reading: given with "kfold", it is refused, never silently ignored.)
    read_labels = not (spec.algorithm_family == CUSTOM and spec.strategy == "kfold" and spec.group_attribute is None
                       and not hyperparameters.uses_placeholder(spec.hyperparameters, "num_classes"))
    scan = scan_dataset(keep_first_lines(blocks), spec.data_format, label_attribute=spec.label_attribute,
                        group_attribute=spec.group_attribute, read_labels=read_labels,
                        streamed_attributes=layout.attribute_names if layout and layout.is_augmented_manifest else ())
    has_labels = scan.labels is not None
    # Values are not classes: "auto" does not stratify on a regressor's labels, nor, unless a built-in is set up
    # as a classifier, on labels that look like values (most lines their own "class": a target, an id).
    why_not_classes = _labels_are_values(spec, scan) if spec.strategy == "auto" and has_labels else None
    stratify_on_labels = has_labels and why_not_classes is None
    strategy = resolve_strategy(spec.strategy, has_labels=stratify_on_labels, has_groups=scan.groups is not None)
    strategy_note = (f"crossvalidation.strategy: auto chose {strategy}, not stratified folds: {why_not_classes}"
                     if why_not_classes else None)
    problems = data_contracts.label_attribute_problems(
        has_labels=has_labels, label_attribute=spec.label_attribute, data_format=spec.data_format,
        attribute_names=spec.channel_layout.attribute_names if spec.channel_layout else None)
    # When the label attribute is wrong, that is the fix; "${num_classes} needs labels" would mislead.
    problems = problems or data_problems(spec, has_labels=has_labels)
    # The sample's last line may be cut where the head ends: the sample stops before it.
    sample = [line for line in first_lines[:-1] if line]
    problems += data_contracts.contract_problems(spec.algorithm_family, spec.data_format,
                                                 label_names=scan.label_names if has_labels else (), first_lines=sample)
    try:
        assignments = assign_repeated_folds(scan, n_splits=spec.n_splits, n_repeats=spec.n_repeats,
                                            random_state=spec.random_state, strategy=strategy)
    except InvalidInputError as error:  # every problem at once, the data's and the folds'
        raise InvalidInputError(problems + error.problems) from None
    problems += out_of_fold_section.size_problems(spec.out_of_fold, scan.num_lines, spec.n_repeats)
    problems += out_of_fold_section.image_bucket_problems(sorted(bucket.decode("utf-8", "replace")
                                                                 for bucket in image_buckets))
    fold_sizes = {size for assignment in assignments for size in assignment.fold_sizes}
    problems += _fold_hyperparameter_problems(spec, scan, fold_sizes, sample)
    if problems:
        raise InvalidInputError(problems)
    return FoldedDataset(scan, strategy, assignments, strategy_note, _group_column_note(spec))


def _collecting_image_buckets(blocks: Iterable[bytes], spec: JobSpec, buckets: set[bytes]) -> Iterable[bytes]:
    """The blocks as they are; with out-of-fold predictions of images, the buckets their lines name are added to
    ``buckets`` on the way (a transform job's manifest lists the images of one bucket)."""
    oof = spec.out_of_fold
    if oof is None or oof.inference.transform_input != inference_formats.IMAGE_MANIFEST:
        yield from blocks
        return
    pattern = re.compile(rb'"' + re.escape(oof.source_attribute.encode("utf-8")) + rb'"\s*:\s*"s3://([^/"]+)')
    for block in blocks:
        buckets.update(pattern.findall(block))
        yield block


def _group_column_note(spec: JobSpec) -> str | None:
    """A CSV row is copied into the fold files whole: a built-in reads its group column as one more feature."""
    if spec.data_format != "csv" or spec.group_attribute is None or spec.algorithm_family == CUSTOM:
        return None
    return (f"crossvalidation.group_attribute: column {spec.group_attribute} stays in every row the training jobs "
            f"read, so {spec.algorithm_family} learns from it as a feature; if the group id should not be a feature, "
            "train with a custom container that drops the column")


def _labels_are_values(spec: JobSpec, scan: DatasetScan) -> str | None:
    """Why the labels are values rather than classes, or None."""
    regressor = data_contracts.regressor_setting(spec.algorithm_family, spec.hyperparameters)
    if regressor:
        return f"{spec.algorithm_family} with {regressor} is a regressor, whose labels are values, not classes"
    if data_contracts.classifier_setting(spec.algorithm_family, spec.hyperparameters):
        return None  # a classifier's labels are classes: too few lines of one is a problem to name
    rare = int(np.count_nonzero(np.bincount(scan.labels, minlength=scan.num_classes) < spec.n_splits))
    if scan.num_classes > scan.num_lines / 2 and rare:
        return (f"the labels look like values, not classes ({scan.num_classes} distinct in {scan.num_lines} lines); "
                "set crossvalidation.strategy to \"stratified\" if they are classes")
    return None


def _fold_hyperparameter_problems(spec: JobSpec, scan: DatasetScan, fold_sizes: set[int],
                                  first_lines: list[bytes]) -> list[str]:
    """Each fold's hyperparameters as its job gets them (every candidate's, in a search), checked against the
    algorithm and the data."""
    if spec.tuning is None:
        return _template_fold_problems(spec, spec.hyperparameters, scan, fold_sizes, first_lines)
    return once_or_per_candidate(spec.tuning, lambda candidate: _template_fold_problems(
        spec, candidate.hyperparameters(spec.hyperparameters), scan, fold_sizes, first_lines))


def _template_fold_problems(spec: JobSpec, template: dict[str, str], scan: DatasetScan, fold_sizes: set[int],
                            first_lines: list[bytes]) -> list[str]:
    has_labels = scan.labels is not None
    if not has_labels and hyperparameters.uses_placeholder(template, "num_classes"):
        return []  # data_problems has said that ${num_classes} needs labels
    problems: list[str] = []
    # The folds differ only in their sample counts: the smallest training set first, and the first
    # fold size with problems speaks for the others (their messages would differ only in counts).
    for fold_size in sorted(fold_sizes, reverse=True):
        rendered = render(template, placeholder_values(
            num_training_samples=scan.num_lines - fold_size, num_validation_samples=fold_size,
            num_classes=scan.num_classes))
        problems += builtin_hyperparameters.fold_problems(spec.algorithm_family, template, rendered)
        problems += data_contracts.hyperparameter_problems(
            spec.algorithm_family, spec.data_format, rendered, label_names=scan.label_names if has_labels else (),
            first_lines=first_lines, training_lines=scan.num_lines - fold_size)
        if problems:
            break
    return problems


def data_problems(spec: JobSpec, *, has_labels: bool) -> list[str]:
    """Input problems only the dataset reveals (checked before anything is written)."""
    if not has_labels and hyperparameters.uses_placeholder(spec.hyperparameters, "num_classes"):
        return [
            "training.hyperparameters_template: ${num_classes} needs labelled data, but no line of the dataset has a "
            f"label ({_label_source(spec)}); label the data or set num_classes yourself"
        ]
    return []


def _label_source(spec: JobSpec) -> str:
    return {
        "jsonl": f"the {spec.label_attribute!r} attribute",
        "csv": "the first column",
        "text": "a __label__ token",
    }[spec.data_format]
