"""Builders for the gather handler tests: a plan shaped like doc/architecture.md's, its training
jobs in moto's SageMaker."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends

REGION = "us-east-1"
OUTPUT_BUCKET = "smx-out"
RUN_ID = "crossvalidator-my-training-20261122-120000"
EXPERIMENT = "my-training-experiment"
ROLE_ARN = f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/smx-training"


def lambda_context() -> Any:
    return SimpleNamespace(
        function_name="smx-validator-GatherFunction",
        memory_limit_in_mb=256,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{DEFAULT_ACCOUNT_ID}:function:smx-validator-GatherFunction",
        aws_request_id="6f1c2a4e-0000-4000-8000-000000000001",
    )


def make_plan(n_splits: int = 3, *, kms_key_id: str | None = None, num_samples: int = 300,
              hyperparameters: dict[str, str] | None = None) -> dict[str, Any]:
    run_prefix = f"s3://{OUTPUT_BUCKET}/cv/{RUN_ID}/"
    validation = num_samples // n_splits
    output_config: dict[str, str] = {"S3OutputPath": f"{run_prefix}models/"}
    if kms_key_id:
        output_config["KmsKeyId"] = kms_key_id
    folds = []
    for i in range(n_splits):
        name = f"{RUN_ID}-fold{i}"
        folds.append({
            "fold_index": i,
            "TrainingJobName": name,
            "HyperParameters": {"num_training_samples": str(num_samples - validation), "epochs": "2",
                                **(hyperparameters or {})},
            "InputDataConfig": [
                {"ChannelName": channel, "ContentType": "text/csv",
                 "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix",
                                                 "S3Uri": f"{run_prefix}fold{i}/{channel}/"}}}
                for channel in ("train", "validation")
            ],
            "ExperimentConfig": {"ExperimentName": EXPERIMENT, "TrialName": RUN_ID, "TrialComponentDisplayName": f"fold{i}"},
            "Tags": [{"Key": "created_by", "Value": "smx-validator"}],
            "num_training_samples": num_samples - validation,
            "num_validation_samples": validation,
        })
    return {
        "job_config": {
            "name": "my_training", "job_name": "my-training", "run_id": RUN_ID, "run_prefix": run_prefix,
            "experiment_name": EXPERIMENT, "trial_name": RUN_ID, "execution_name": "my-run-1",
            "name_mapping": [{"field": "job_config.name", "given": "my_training", "used": "my-training"}],
            "created_at": "2026-11-22T12:00:00Z",
        },
        "crossvalidation": {"n_splits": n_splits, "random_state": 42, "strategy": "stratified",
                            "num_samples": num_samples, "num_classes": 2, "fold_sizes": [validation] * n_splits},
        "training": {"hyperparameters_template": {"epochs": "2"}, "algorithm_family": "linear-learner", "data_format": "csv"},
        "max_concurrency": 2,
        "job": {
            "AlgorithmSpecification": {"TrainingImage": "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
                                       "TrainingInputMode": "File"},
            "OutputDataConfig": output_config,
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
            "EnableManagedSpotTraining": False,
            "EnableNetworkIsolation": False,
            "Environment": {},
        },
        "folds": folds,
    }


def create_experiment_and_trial(sagemaker, plan: dict[str, Any]) -> None:
    """What the split step does before any fold trains."""
    sagemaker.create_experiment(ExperimentName=plan["job_config"]["experiment_name"])
    sagemaker.create_trial(TrialName=plan["job_config"]["trial_name"],
                           ExperimentName=plan["job_config"]["experiment_name"])


def create_training_job(sagemaker, plan: dict[str, Any], fold_index: int, *, status: str = "Completed",
                        metrics: dict[str, float] | None = None, failure_reason: str | None = None,
                        seconds: int = 100) -> None:
    """Runs fold ``fold_index``'s CreateTrainingJob as the Map would, then sets what moto cannot
    simulate (moto marks every job Completed at creation with a fake metric)."""
    job, fold = plan["job"], plan["folds"][fold_index]
    sagemaker.create_training_job(
        TrainingJobName=fold["TrainingJobName"], RoleArn=ROLE_ARN,
        AlgorithmSpecification=dict(job["AlgorithmSpecification"]), HyperParameters=fold["HyperParameters"],
        InputDataConfig=fold["InputDataConfig"], OutputDataConfig=job["OutputDataConfig"],
        ResourceConfig=job["ResourceConfig"], StoppingCondition=job["StoppingCondition"],
        EnableManagedSpotTraining=job["EnableManagedSpotTraining"], EnableNetworkIsolation=job["EnableNetworkIsolation"],
        Environment=job["Environment"], ExperimentConfig=fold["ExperimentConfig"], Tags=fold["Tags"],
    )
    fake = sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].training_jobs[fold["TrainingJobName"]]
    fake.training_job_status = status
    fake.secondary_status = status
    fake.training_time_in_seconds = seconds
    fake.billable_time_in_seconds = seconds
    fake.final_metric_data_list = [
        {"MetricName": name, "Value": value, "Timestamp": fake.creation_time} for name, value in (metrics or {}).items()
    ]
    if failure_reason is not None:
        fake.failure_reason = failure_reason


def fold_result(plan: dict[str, Any], fold_index: int, status: str = "Completed", **failure: str) -> dict[str, Any]:
    """One element of the Map's output ($.fold_results): FoldSucceeded's or FoldFailed's shape."""
    result = {"fold_index": fold_index, "TrainingJobName": plan["folds"][fold_index]["TrainingJobName"], "status": status}
    return {**result, **failure}
