"""Track step: records a finished run in MLflow (``tracking.mlflow``): one parent run with the cross-validated
statistics and the summary files, one nested run per training job.

It runs after the gather and reads summary.json (the execution output may be trimmed). A failure here does not
fail the run: the state machine catches it into ``summary.mlflow_error``; the summaries on S3 and in SageMaker
Experiments are already written.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import boto3
from aws_lambda_powertools import Logger

from smx_common.s3uri import S3Uri

# MLflow's client retries a refused request 7 times with a growing backoff (minutes in all): a server that is
# down should fail this step in seconds, not hold the execution. Set before the first request reads them; in the
# offline engine, whose functions share one process, these apply to that process.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")

logger = Logger()


class MlflowTrackingFailed(Exception):
    """The run could not be recorded in MLflow (the error type Step Functions reports)."""


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = event["mlflow"]
    s3 = boto3.client("s3")
    summary_uri = S3Uri.parse(event["summary_json"])
    summary_bytes = s3.get_object(Bucket=summary_uri.bucket, Key=summary_uri.key)["Body"].read()
    document = json.loads(summary_bytes)
    try:
        from mlflow.exceptions import MlflowException
        from mlflow.tracking import MlflowClient

        from smx_track import mlflow_writer, records
    except ImportError as missing:
        raise MlflowTrackingFailed(f"the MLflow client is not installed ({missing}): pip install mlflow-skinny") from None
    with tempfile.TemporaryDirectory() as folder:
        # summary.json as read above (not downloaded twice), and summary.csv beside it.
        artifacts = [Path(folder) / "summary.json"]
        artifacts[0].write_bytes(summary_bytes)
        if document["summary"].get("summary_csv"):
            location = S3Uri.parse(document["summary"]["summary_csv"])
            artifacts.append(Path(folder) / "summary.csv")
            s3.download_file(location.bucket, location.key, str(artifacts[1]))
        try:
            recorded = mlflow_writer.record_run(
                MlflowClient(tracking_uri=settings["tracking_uri"]), settings["experiment_name"],
                records.parent_run(document), records.job_runs(document), artifacts)
        except (MlflowException, OSError, mlflow_writer.PartialRecord) as error:
            raise MlflowTrackingFailed(f"could not record the run in MLflow at {settings['tracking_uri']}: "
                                       f"{mlflow_writer.error_line(error)}") from error
    logger.info("Recorded the run in MLflow", extra=recorded)
    return {"tracking_uri": settings["tracking_uri"], **recorded}

