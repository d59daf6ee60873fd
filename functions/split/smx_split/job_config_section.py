"""``job_config`` normalised: the S3 locations, the SageMaker-safe names, the format and the tags. Pure."""

from __future__ import annotations

from smx_common.deployment import Deployment
from smx_common.s3uri import S3Uri
from smx_common.sagemaker_names import sagemaker_safe

from . import naming
from .data_formats import data_format_for
from .errors import InvalidInputError

# Tag keys SMX-Validator sets on every training job itself.
RESERVED_TAG_KEYS = (naming.FOLD_TAG, naming.RUN_TAG, naming.CREATED_BY_TAG)


def normalise(job_config: dict, n_splits: int, n_repeats: int, deployment: Deployment, problems: list[str], *,
              n_candidates: int | None = None) -> dict:
    """JobSpec's job_config fields; problems are appended (data_format is None when it cannot be told)."""
    input_uri = S3Uri.parse(job_config["input_path"])
    output_prefix = S3Uri.parse(job_config["output_prefix"].rstrip("/"))
    problems += _bucket_problems(input_uri, output_prefix, deployment)
    if input_uri.key.endswith("/"):
        problems.append(
            f"job_config.input_path: {str(input_uri)!r} ends with '/', a folder; give the S3 URI of the dataset "
            "object itself, such as s3://bucket/path/data.jsonl"
        )
    name_mapping: list[dict] = []
    job_name = _derived_name("job_config.name", job_config["name"], name_mapping, problems)
    longest = naming.max_name_length(n_splits, n_repeats, n_candidates)
    if job_name and len(job_name) > longest:
        problems.append(
            f"job_config.name: {job_name!r} is {len(job_name)} characters; training jobs are named "
            f"{_template(n_repeats, n_candidates)} and SageMaker allows {naming.JOB_NAME_MAX_LENGTH} characters, "
            f"so with n_splits={n_splits}{f', n_repeats={n_repeats}' if n_repeats > 1 else ''}"
            f"{f' and {n_candidates} candidates' if n_candidates else ''} the name may be "
            f"at most {longest} characters"
        )
    experiment_given = job_config.get("experiment", job_config["name"])
    experiment_name = _derived_name("job_config.experiment", experiment_given, name_mapping, problems)
    if len(experiment_name) > naming.EXPERIMENT_NAME_MAX_LENGTH:
        problems.append(f"job_config.experiment: may be at most {naming.EXPERIMENT_NAME_MAX_LENGTH} characters")
    data_format = None
    try:
        data_format = data_format_for(input_uri.key, job_config.get("input_format"))
    except InvalidInputError as error:
        problems += error.problems
    tags = [dict(tag) for tag in job_config.get("tags", [])]
    problems += _tag_problems(tags)
    return dict(input_uri=input_uri, output_prefix=output_prefix, name=job_config["name"], job_name=job_name,
                experiment_name=experiment_name, data_format=data_format, tags=tags, name_mapping=name_mapping)


def _template(n_repeats: int, n_candidates: int | None) -> str:
    if n_candidates is not None:
        return naming.SEARCH_JOB_NAME_TEMPLATE
    return naming.REPEATED_JOB_NAME_TEMPLATE if n_repeats > 1 else naming.JOB_NAME_TEMPLATE


def _bucket_problems(input_uri: S3Uri, output_prefix: S3Uri, deployment: Deployment) -> list[str]:
    problems = []
    if deployment.input_bucket and input_uri.bucket != deployment.input_bucket:
        problems.append(
            f"job_config.input_path: bucket {input_uri.bucket!r} is not this deployment's InputBucketName "
            f"{deployment.input_bucket!r}, the only bucket it may read; upload the dataset there or redeploy with "
            f"InputBucketName={input_uri.bucket}"
        )
    if deployment.output_bucket and output_prefix.bucket != deployment.output_bucket:
        problems.append(
            f"job_config.output_prefix: bucket {output_prefix.bucket!r} is not this deployment's OutputBucketName "
            f"{deployment.output_bucket!r}, the only bucket it may write; use s3://{deployment.output_bucket}/... or "
            f"redeploy with OutputBucketName={output_prefix.bucket}"
        )
    return problems


def _derived_name(field_path: str, given: str, mapping: list[dict], problems: list[str]) -> str:
    used = sagemaker_safe(given)
    if not used:
        problems.append(f"{field_path}: {given!r} has no letter or digit to build a SageMaker name from")
    elif used != given:
        mapping.append({"field": field_path, "given": given, "used": used})
    return used


def _tag_problems(tags: list[dict]) -> list[str]:
    problems = []
    keys = [tag["Key"] for tag in tags]
    for index, key in enumerate(keys):
        if key in RESERVED_TAG_KEYS:
            problems.append(f"job_config.tags[{index}].Key: {key!r} is set by SMX-Validator itself; choose another key")
        elif key in keys[:index]:
            problems.append(f"job_config.tags[{index}].Key: {key!r} appears twice; tag keys must be unique")
    return problems
