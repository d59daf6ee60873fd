"""Gather step: describes every fold's training job, writes summary.json and summary.csv, records
the cross-validated metrics in the run's Experiment trial and returns the execution output.

It never raises for failed folds: CheckFolds turns ``summary.failed_fold_count > 0`` into the
execution's failure, with ``summary.failure_message`` as its cause.

A search with ``tuning.refit`` passes here twice: after the search, whose output then carries the
``refit_plan`` the Map runs next, and after the refit job, whose outcome is added to summary.json
(smx_gather.refit).
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from smx_common.deployment import Deployment
from smx_common.s3uri import S3Uri, encryption_args
from smx_gather import experiments, map_results, out_of_fold, payload, ranking, refit, reports
from smx_gather.describe import describe_folds
from smx_gather.summary import build_summary, fold_splits, strict_json

logger = Logger()

# k DescribeTrainingJob calls in a row can meet throttling; standard mode retries it with backoff.
_BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _gather(event)


def _gather(event: dict[str, Any]) -> dict[str, Any]:
    plan = event["plan"]
    deployment = Deployment.from_event(event.get("deployment"))
    job_config = plan["job_config"]
    logger.append_keys(run_id=job_config["run_id"])
    # Clients are made per invocation: the step runs once or twice per execution, so there is
    # nothing to reuse, and tests can swap the endpoint (moto) without reloading the module.
    sagemaker = boto3.client("sagemaker", config=_BOTO_CONFIG)
    s3 = boto3.client("s3", config=_BOTO_CONFIG)
    # A run through the Distributed Map has its jobs and their results on S3, not in the state.
    plan = {**plan, "folds": map_results.planned_jobs(s3, plan)}
    fold_results = map_results.fold_results(s3, event.get("fold_results"))
    if refit.is_refit(plan):
        return _gather_refit(plan, fold_results, deployment, sagemaker, s3)

    splits = fold_splits(plan, describe_folds(sagemaker, plan), fold_results)
    run_prefix = S3Uri.parse(job_config["run_prefix"])
    summary = build_summary(
        splits,
        fold_results,
        summary_json=str(run_prefix.child("summary.json")),
        summary_csv=str(run_prefix.child("summary.csv")),
        trial_component_name=experiments.trial_component_name(job_config["run_id"]),
    )
    predictions = out_of_fold.gather(s3, sagemaker, plan, fold_results, deployment.output_kms_key_id)
    if predictions is not None:
        summary["out_of_fold"] = predictions
        if predictions["missing_folds"]:
            summary["predictions_failure_message"] = out_of_fold.failure_message(predictions)
    search = ranking.tuning_summary(plan, splits)
    if search is not None:
        summary["tuning"] = search
        ranking.focus_on_best(summary, search, splits, refit_asked=bool(plan["tuning"].get("refit")))
    output = strict_json({
        "job_config": job_config,
        "crossvalidation": plan["crossvalidation"],
        "training": plan["training"],
        "splits": splits,
        "summary": summary,
    })
    summary = output["summary"]  # the strict copy: what is written and returned
    _publish(output, plan, deployment, sagemaker, s3)

    next_plan = refit.refit_plan(plan, search)
    if next_plan is not None:
        # PrepareRefit keeps only the refit's plan, and the refit's gather returns the whole output from
        # summary.json: this state need not carry it too (with a large template, both would not fit).
        logger.info("Gathered the search; the refit follows", extra={
            "failed_fold_count": summary["failed_fold_count"], "summary_json": summary["summary_json"],
            "refit": next_plan["folds"][0]["TrainingJobName"]})
        return {"refit_plan": next_plan}
    fitted = payload.fit_to_limit(output)
    logger.info("Gathered the folds", extra={
        "completed_folds": summary["completed_folds"],
        "failed_fold_count": summary["failed_fold_count"],
        "summary_json": summary["summary_json"],
        "trimmed_fields": fitted["summary"]["trimmed_fields"],
    })
    return fitted


def _publish(output: dict[str, Any], plan: dict[str, Any], deployment: Deployment, sagemaker, s3) -> None:
    """summary.json and summary.csv, then the Experiments record (S3 first: the summaries must survive an
    Experiments failure, which the summary then reports)."""
    summary, splits = output["summary"], output["splits"]
    encryption = encryption_args(deployment.output_kms_key_id)
    for uri, body, content_type in (
            (summary["summary_json"], reports.summary_json(output), "application/json"),
            (summary["summary_csv"], reports.summary_csv(plan, splits, summary).encode("utf-8"), "text/csv")):
        location = S3Uri.parse(uri)
        s3.put_object(Bucket=location.bucket, Key=location.key, Body=body, ContentType=content_type, **encryption)
    try:
        experiments.record_summary(sagemaker, plan, summary)
        if summary.get("tuning") is not None:
            experiments.record_candidates(sagemaker, plan, summary["tuning"])
    except (ClientError, BotoCoreError) as error:
        logger.warning("Could not record the summary trial component; the S3 summaries are written",
                       extra={"trial_component_name": summary["trial_component_name"], "error": str(error)})
        summary["experiments_error"] = str(error)


def _gather_refit(plan: dict[str, Any], fold_results: list, deployment: Deployment, sagemaker, s3) -> dict[str, Any]:
    """After the refit job: its outcome added to summary.json, which the search's gather wrote in full."""
    summary_uri = S3Uri.parse(plan["job_config"]["run_prefix"]).child("summary.json")
    written = json.loads(s3.get_object(Bucket=summary_uri.bucket, Key=summary_uri.key)["Body"].read())
    job = plan["folds"][0]
    description = describe_folds(sagemaker, plan)[job["TrainingJobName"]]
    result = next((r for r in fold_results if r.get("TrainingJobName") == job["TrainingJobName"]), {})
    outcome = refit.refit_outcome(job, description, result)
    output = refit.with_refit(written, outcome)
    s3.put_object(Bucket=summary_uri.bucket, Key=summary_uri.key, Body=reports.summary_json(output),
                  ContentType="application/json", **encryption_args(deployment.output_kms_key_id))
    logger.info("Gathered the refit job", extra={
        "TrainingJobName": outcome["TrainingJobName"], "TrainingJobStatus": outcome["TrainingJobStatus"],
        "model": refit.refit_model_uri(outcome),
    })
    return payload.fit_to_limit(output)


