"""DescribeTrainingJob for every planned fold (AWS I/O)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Mapping

from botocore.exceptions import ClientError


def describe_folds(sagemaker: Any, plan: Mapping[str, Any]) -> dict[str, dict[str, Any] | None]:
    """TrainingJobName -> the job's DescribeTrainingJob result (JSON-ready), or None when the job does
    not exist (CreateTrainingJob was rejected, so the Map caught the error before any job ran).

    Every other error propagates: a missing permission must fail the step loudly rather than
    report healthy folds as failed.
    """
    descriptions: dict[str, dict[str, Any] | None] = {}
    for fold in plan["folds"]:
        try:
            response = sagemaker.describe_training_job(TrainingJobName=fold["TrainingJobName"])
        except ClientError as error:
            # The names come from the plan and are valid, so ValidationException here means
            # "no such job" (AWS: "Requested resource not found").
            if error.response.get("Error", {}).get("Code") != "ValidationException":
                raise
            descriptions[fold["TrainingJobName"]] = None
            continue
        response.pop("ResponseMetadata", None)
        descriptions[fold["TrainingJobName"]] = jsonable(response)
    return descriptions


def jsonable(value: Any) -> Any:
    """A copy of a boto3 response that json.dumps accepts: datetimes become ISO-8601 strings."""
    if isinstance(value, Mapping):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value
