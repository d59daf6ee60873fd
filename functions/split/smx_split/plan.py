"""The plan: one CreateTrainingJob request per fold, split into what folds share and what differs.

The state machine copies ``job`` into every Map iteration and takes ``folds[i]`` as the
iteration's item, so the plan is the only place a training request is composed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from . import builtin_hyperparameters, data_contracts, hyperparameters, naming
from .builtin_images import CUSTOM
from .channels import input_data_config
from .dataset import DatasetScan, scan_dataset
from .errors import InvalidInputError
from .folds import FoldAssignment, assign_folds, resolve_strategy
from .job_spec import Deployment, JobSpec
from smx_common.s3uri import S3Uri

CREATED_BY = "smx-validator"


@dataclass(frozen=True)
class RunIdentity:
    """What makes a run unique: its id (the job-name stem) and the prefix it alone writes to."""

    run_id: str
    run_prefix: S3Uri
    started_at: datetime
    execution_name: str

    @property
    def trial_name(self) -> str:
        return self.run_id


@dataclass(frozen=True)
class FoldedDataset:
    """The dataset scanned and its lines assigned to folds, as the input asks."""

    scan: DatasetScan
    strategy: str
    assignment: FoldAssignment
    strategy_note: str | None = None

    @property
    def num_classes(self) -> int | None:
        return self.scan.num_classes if self.scan.labels is not None else None

    @property
    def notes(self) -> list[str]:
        """What the scan normalised, for the log and the output (``job_config.notes``)."""
        notes = [f"labels {' and '.join(repr(spelling) for spelling in spellings)} are one class, {name!r}: labels "
                 "are compared as numbers (the fold files keep every line as written)"
                 for name, spellings in self.scan.label_spellings]
        return notes + ([self.strategy_note] if self.strategy_note else [])


def fold_dataset(spec: JobSpec, blocks: Iterable[bytes]) -> FoldedDataset:
    """Scan and fold the dataset: every problem it has is raised here, before anything is written.

    The split function and ``smx-validator validate --data`` both call this, so they accept and
    reject the same datasets with the same words.
    """
    first_lines: list[bytes] = []

    def keep_first_lines(stream: Iterable[bytes]) -> Iterable[bytes]:
        for block in stream:
            if not first_lines:  # a bounded head of the first block: no copy of the block itself
                first_lines.extend(block[:data_contracts.SAMPLE_BYTES].split(b"\n")[:data_contracts.SAMPLE_LINES + 1])
            yield block

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
        assignment = assign_folds(scan, n_splits=spec.n_splits, random_state=spec.random_state, strategy=strategy)
    except InvalidInputError as error:  # every problem at once, the data's and the folds'
        raise InvalidInputError(problems + error.problems) from None
    problems += _fold_hyperparameter_problems(spec, scan, assignment, sample)
    if problems:
        raise InvalidInputError(problems)
    return FoldedDataset(scan, strategy, assignment, strategy_note)


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


def _fold_hyperparameter_problems(spec: JobSpec, scan: DatasetScan, assignment: FoldAssignment,
                                  first_lines: list[bytes]) -> list[str]:
    """Each fold's hyperparameters as its job gets them, checked against the algorithm and the data."""
    has_labels = scan.labels is not None
    if not has_labels and hyperparameters.uses_placeholder(spec.hyperparameters, "num_classes"):
        return []  # data_problems has said that ${num_classes} needs labels
    problems: list[str] = []
    # The folds differ only in their sample counts: the smallest training set first, and the first
    # fold size with problems speaks for the others (their messages would differ only in counts).
    for fold_size in sorted(set(assignment.fold_sizes), reverse=True):
        rendered = hyperparameters.render(spec.hyperparameters, {
            "num_training_samples": scan.num_lines - fold_size, "num_validation_samples": fold_size,
            "num_classes": scan.num_classes if has_labels else 0})
        problems += builtin_hyperparameters.fold_problems(spec.algorithm_family, spec.hyperparameters, rendered)
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


def build_plan(spec: JobSpec, run: RunIdentity, *, deployment: Deployment, strategy: str,
               num_samples: int, num_classes: int | None, folds: list, data_notes: list[str] | None = None) -> dict:
    """The split step's result (doc/architecture.md): the Map's input and the gather's context."""
    job_config = spec.job_config_section() | {
        "notes": spec.notes + list(data_notes or []),
        "run_id": run.run_id,
        "run_prefix": str(run.run_prefix),
        "trial_name": run.trial_name,
        "execution_name": run.execution_name,
        "created_at": run.started_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    crossvalidation = spec.crossvalidation_section() | {
        "strategy": strategy,
        "num_samples": num_samples,
        "num_classes": num_classes,
        "fold_sizes": [fold.num_validation_samples for fold in folds],
    }
    return {
        "job_config": job_config,
        "crossvalidation": crossvalidation,
        "training": spec.training_section(),
        "max_concurrency": spec.max_concurrency,
        "job": _shared_request(spec, run, deployment),
        "folds": [_fold_request(spec, run, fold, num_classes) for fold in folds],
    }


def _shared_request(spec: JobSpec, run: RunIdentity, deployment: Deployment) -> dict:
    output = {"S3OutputPath": str(run.run_prefix.child("models/"))}
    if deployment.output_kms_key_id:
        output["KmsKeyId"] = deployment.output_kms_key_id
    shared = {
        "AlgorithmSpecification": spec.algorithm_specification,
        "OutputDataConfig": output,
        "ResourceConfig": spec.resource_config,
        "StoppingCondition": spec.stopping_condition,
        "EnableManagedSpotTraining": spec.managed_spot_training,
        "EnableNetworkIsolation": spec.enable_network_isolation,
        "Environment": spec.environment,
    }
    if spec.vpc_config:
        shared["VpcConfig"] = spec.vpc_config
    return shared


def _fold_request(spec: JobSpec, run: RunIdentity, fold, num_classes: int | None) -> dict:
    values = {
        "num_training_samples": fold.num_training_samples,
        "num_validation_samples": fold.num_validation_samples,
        "num_classes": num_classes,
    }
    display_name = naming.fold_display_name(fold.fold_index)
    return {
        "fold_index": fold.fold_index,
        "TrainingJobName": naming.fold_job_name(run.run_id, fold.fold_index),
        "HyperParameters": hyperparameters.render(spec.hyperparameters, values),
        "InputDataConfig": input_data_config(spec.channel_layout, train=fold.train_uri, validation=fold.validation_uri),
        "ExperimentConfig": {
            "ExperimentName": spec.experiment_name,
            "TrialName": run.trial_name,
            "TrialComponentDisplayName": display_name,
        },
        "Tags": spec.tags + [
            {"Key": "fold", "Value": display_name},
            {"Key": "crossvalidation_job", "Value": run.run_id},
            {"Key": "created_by", "Value": CREATED_BY},
        ],
        "num_training_samples": fold.num_training_samples,
        "num_validation_samples": fold.num_validation_samples,
    }
