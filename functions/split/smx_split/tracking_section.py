"""``tracking.mlflow`` normalised: where the track step records the run in MLflow. Pure.

The track step (functions/track) writes from a Lambda function, so the tracking server must be reachable
over the network: an http(s) URL of an MLflow tracking server, or the ARN of a SageMaker managed MLflow
tracking server (or MLflow app), which the ``sagemaker-mlflow`` plugin reaches with the function's IAM
role. Its IAM policy names the one ARN given at deploy time (the MlflowTrackingServerArn parameter), so an
input may use only that one.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from smx_common.deployment import Deployment

# SageMaker's MlflowConfig.MlflowResourceArn pattern
# (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_MlflowConfig.html), with the two resource
# types AIMlflowConfig names (mlflow-tracking-server, mlflow-app) and a name.
MANAGED_MLFLOW_ARN = re.compile(r"^arn:aws[a-z\-]*:sagemaker:[a-z0-9\-]+:[0-9]{12}:mlflow-(tracking-server|app)/[^/\s]+$")
_FIELD = "tracking.mlflow.tracking_uri"


def normalise(tracking: dict | None, *, experiment_name: str, deployment: Deployment, problems: list[str]) -> dict | None:
    """{"tracking_uri", "experiment_name"}, or None without ``tracking``; problems are appended."""
    if not tracking:
        return None
    settings = tracking["mlflow"]
    uri = settings["tracking_uri"].strip()
    problem = _uri_problem(uri, deployment)
    if problem:
        problems.append(problem)
    # The run's SageMaker Experiment name by default: the two trackers file the run under one name.
    return {"tracking_uri": uri, "experiment_name": settings.get("experiment_name") or experiment_name}


def is_managed(uri: str) -> bool:
    return bool(MANAGED_MLFLOW_ARN.match(uri))


def _uri_problem(uri: str, deployment: Deployment) -> str | None:
    if is_managed(uri):
        deployed = deployment.mlflow_tracking_server_arn
        if deployed is None or deployed == uri:
            return None
        return (f"{_FIELD}: this deployment may not write to {uri}: its IAM policy names only the MlflowTrackingServerArn "
                f"it was deployed with ({deployed or 'none'}); redeploy with MlflowTrackingServerArn={uri}, or use that "
                "server" + ("" if deployed else " (an offline run has none: give it the http(s):// URL of an MLflow "
                                                "server, such as one `mlflow server` started on 127.0.0.1)"))
    if uri.startswith("arn:"):
        return (f"{_FIELD}: {uri!r} is not the ARN of a SageMaker managed MLflow tracking server: write "
                "arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME (or mlflow-app/NAME)")
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.hostname:
        return None
    return (f"{_FIELD}: {uri!r} is not reachable from the track step's Lambda function: give the http(s):// URL of an "
            "MLflow tracking server (such as http://mlflow.example.com:5000) or the ARN of a SageMaker managed MLflow "
            "tracking server (file:, sqlite: and databricks URIs name stores the function cannot reach)")
