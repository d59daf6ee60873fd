"""The normalised job (JobSpec): what every later step of the split reads of the input. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from smx_common.s3uri import S3Uri

from .channels import ChannelLayout
from .out_of_fold_section import OutOfFoldSpec
from .tuning_section import TuningSpec


@dataclass(frozen=True)
class JobSpec:
    """A valid input, normalised: every default resolved and every name SageMaker-safe."""

    raw: dict
    input_uri: S3Uri
    output_prefix: S3Uri
    name: str
    job_name: str
    experiment_name: str
    data_format: str
    tags: list[dict]
    n_splits: int
    n_repeats: int
    random_state: int
    strategy: str
    label_attribute: str
    group_attribute: str | int | None
    max_concurrency: int
    hyperparameters: dict[str, str]
    algorithm_specification: dict
    stopping_condition: dict
    resource_config: dict
    managed_spot_training: bool
    enable_network_isolation: bool
    environment: dict[str, str]
    vpc_config: dict | None
    algorithm_family: str
    channel_layout: ChannelLayout
    name_mapping: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tuning: TuningSpec | None = None  # a cross-validated search (tuning_section)
    out_of_fold: OutOfFoldSpec | None = None  # crossvalidation.out_of_fold_predictions (out_of_fold_section)
    mlflow: dict | None = None  # tracking.mlflow: {"tracking_uri", "experiment_name"} (tracking_section)

    def job_config_section(self) -> dict:
        return {
            "input_path": str(self.input_uri),
            "output_prefix": str(self.output_prefix),
            "name": self.name,
            "experiment": self.raw["job_config"].get("experiment", self.name),
            "input_format": self.data_format,
            "tags": self.tags,
            "job_name": self.job_name,
            "experiment_name": self.experiment_name,
            "name_mapping": self.name_mapping,
            "notes": self.notes,
            # Where the track step records the run (the state machine tracks only when this is present).
            **({"mlflow": self.mlflow} if self.mlflow else {}),
        }

    def crossvalidation_section(self) -> dict:
        section = {
            "n_splits": self.n_splits,
            **({"n_repeats": self.n_repeats} if self.n_repeats > 1 else {}),
            "random_state": self.random_state,
            "strategy": self.strategy,
            "max_concurrency": self.max_concurrency,
        }
        if self.data_format == "jsonl":
            section["label_attribute"] = self.label_attribute
        if self.group_attribute is not None:
            section["group_attribute"] = self.group_attribute
        if self.out_of_fold is not None:
            section["out_of_fold_predictions"] = self.out_of_fold.section()
        return section

    def training_section(self) -> dict:
        section = {
            "hyperparameters_template": self.hyperparameters,
            "algorithm_specification": self.algorithm_specification,
            "stopping_condition": self.stopping_condition,
            "resource_config": self.resource_config,
            "managed_spot_training": self.managed_spot_training,
            "enable_network_isolation": self.enable_network_isolation,
            "environment": self.environment,
            "algorithm_family": self.algorithm_family,
            "data_format": self.data_format,
            "channels": self.channel_layout.as_dict(),
        }
        if self.vpc_config:
            section["vpc_config"] = self.vpc_config
        return section
