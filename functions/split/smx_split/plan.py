"""The plan: one CreateTrainingJob request per fold, split into what folds share and what differs.

The state machine copies ``job`` into every Map iteration and takes ``folds[i]`` as the
iteration's item, so the plan is the only place a training request is composed.
"""

from __future__ import annotations

from smx_common.deployment import Deployment
from smx_common.fold_labels import REFIT_LABEL
from smx_common.hyperparameter_placeholders import placeholder_values, render
from smx_common.s3uri import S3Uri

from . import naming, prediction_files
from .channels import input_data_config
from .data_formats import FILE_EXTENSIONS
from .job_spec import JobSpec
from .reservation import RunIdentity
from .s3_folds import whole_dataset_uri


def build_plan(spec: JobSpec, run: RunIdentity, *, deployment: Deployment, strategy: str,
               num_samples: int, num_classes: int | None, folds: list, data_notes: list[str] | None = None,
               fold_class_counts: list[dict[str, int]] | None = None) -> dict:
    """The split step's result (doc/architecture.md): the Map's input and the gather's context."""
    job_config = spec.job_config_section() | {
        "notes": spec.notes + list(data_notes or []),
        "run_id": run.run_id,
        "run_prefix": str(run.run_prefix),
        "trial_name": run.trial_name,
        "execution_name": run.execution_name,
        "created_at": run.created_at,
    }
    crossvalidation = spec.crossvalidation_section() | {
        "strategy": strategy,
        "num_samples": num_samples,
        "num_classes": num_classes,
        # A repeat's folds have the sizes of the first (scikit-learn's splitters size folds by counts only).
        "fold_sizes": [fold.num_validation_samples for fold in folds if not fold.repeat_index],
        # Each fold's validation lines per class (first repeat; folding.FoldedDataset.validation_class_counts).
        **({"fold_class_counts": fold_class_counts} if fold_class_counts is not None else {}),
    }
    return {
        "job_config": job_config,
        "crossvalidation": crossvalidation,
        "training": spec.training_section(),
        "max_concurrency": spec.max_concurrency,
        "job": _shared_request(spec, run, deployment),
        # Candidate after candidate, each on every repeat's folds: the same folds for all (a paired comparison).
        "folds": [_fold_request(spec, run, fold, num_classes, candidate, deployment.output_kms_key_id)
                  for candidate in (spec.tuning.candidates if spec.tuning else [None]) for fold in folds],
        **({"tuning": _tuning(spec, run, num_samples)} if spec.tuning else {}),
        **({"out_of_fold": _out_of_fold(spec, run)} if spec.out_of_fold else {}),
    }


def _out_of_fold(spec: JobSpec, run: RunIdentity) -> dict:
    """What the gather needs to read the folds' predictions (each fold's files are named in its request)."""
    section = spec.out_of_fold
    return section.section() | {
        "family": section.family,
        **({"objective": section.objective} if section.objective else {}),
        "predictions": prediction_files.predictions_uri(str(run.run_prefix)),
    }


def _tuning(spec: JobSpec, run: RunIdentity, num_samples: int) -> dict:
    """The search; with refit, the refit job's request but its hyperparameters (the gather adds the best
    candidate's once the search has chosen it, and the Map runs it as it ran the folds)."""
    section = spec.tuning.section()
    if not spec.tuning.refit:
        return section
    dataset = whole_dataset_uri(str(run.run_prefix), FILE_EXTENSIONS[spec.data_format])
    return section | {"refit": {
        "TrainingJobName": naming.refit_job_name(run.run_id),
        # Both channels read the whole dataset: some containers require a validation channel.
        "InputDataConfig": input_data_config(spec.channel_layout, train=dataset, validation=dataset),
        "ExperimentConfig": {
            "ExperimentName": spec.experiment_name,
            "TrialName": run.trial_name,
            "TrialComponentDisplayName": REFIT_LABEL,
        },
        "Tags": spec.tags + naming.run_tags(run.run_id, None),
        "num_training_samples": num_samples,
        "num_validation_samples": num_samples,
    }}


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
    if spec.out_of_fold:
        shared["transform"] = prediction_files.shared_transform(spec.out_of_fold)
    return shared


def _fold_request(spec: JobSpec, run: RunIdentity, fold, num_classes: int | None, candidate=None,
                  kms_key_id: str | None = None) -> dict:
    values = placeholder_values(num_training_samples=fold.num_training_samples,
                                                num_validation_samples=fold.num_validation_samples,
                                                num_classes=num_classes)
    candidate_index = candidate.index if candidate is not None else None
    template = candidate.hyperparameters(spec.hyperparameters) if candidate is not None else spec.hyperparameters
    display_name = naming.fold_display_name(fold.fold_index, fold.repeat_index, candidate_index)
    identity = {key: value for key, value in (("candidate_index", candidate_index), ("repeat_index", fold.repeat_index))
                if value is not None}
    job_name = naming.fold_job_name(run.run_id, fold.fold_index, fold.repeat_index, candidate_index)
    predictions = {"transform": prediction_files.transform_request(fold, spec.out_of_fold, job_name, kms_key_id)} \
        if spec.out_of_fold else {}
    return {
        "fold_index": fold.fold_index,
        **identity,
        "TrainingJobName": job_name,
        "HyperParameters": render(template, values),
        "InputDataConfig": input_data_config(spec.channel_layout, train=fold.train_uri, validation=fold.validation_uri),
        "ExperimentConfig": {
            "ExperimentName": spec.experiment_name,
            "TrialName": run.trial_name,
            "TrialComponentDisplayName": display_name,
        },
        "Tags": spec.tags + naming.run_tags(run.run_id, fold.fold_index, fold.repeat_index, candidate_index),
        "num_training_samples": fold.num_training_samples,
        "num_validation_samples": fold.num_validation_samples,
        **predictions,
    }


def with_jobs_on_s3(plan: dict) -> tuple[dict, list[dict]]:
    """The plan of a run through the Distributed Map, and the jobs it no longer carries: TrainFoldsFromS3's
    ItemReader reads them from ``jobs_file`` (a JSON array, one item per training job) and its ResultWriter
    writes the results under ``map_results`` (smx_split.payload_budget.map_mode chooses the Map)."""
    run_prefix = S3Uri.parse(plan["job_config"]["run_prefix"])
    jobs_file = run_prefix.child("plan/jobs.json")
    placed = {key: value for key, value in plan.items() if key != "folds"}
    placed["jobs_file"] = {"Bucket": jobs_file.bucket, "Key": jobs_file.key, "count": len(plan["folds"])}
    placed["map_results"] = {"Bucket": run_prefix.bucket, "Prefix": run_prefix.child("map-results").key}
    return placed, plan["folds"]
