"""Split step: validate the input, write the k folds under a new run prefix, plan the training jobs.

Everything that can be wrong with the input or the dataset is found before the first write,
so a rejected execution leaves nothing behind under the output prefix.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from smx_common.s3uri import encryption_args
from smx_split.data_formats import FILE_EXTENSIONS
from smx_split.errors import InvalidInputError
from smx_split.experiments import ensure_experiment
from smx_split.fold_files import write_validation_chunks
from smx_split.inputs import Deployment, validate_document
from smx_split import payload_budget, prediction_files, preflight
from smx_split.folding import fold_dataset
from smx_split.plan import build_plan, with_jobs_on_s3
from smx_split.reservation import reserve_run
from smx_split.s3_folds import s3_block_reader, upload_folds, upload_whole_dataset

logger = Logger()
# Set by the offline engine (smx-validator local run) only: its runs may use local: script images.
OFFLINE_ENGINE_ENV = "SMX_VALIDATOR_OFFLINE_ENGINE"


@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    started_at = datetime.now(timezone.utc).replace(microsecond=0)
    deployment = Deployment.from_event(event.get("deployment"))
    s3 = boto3.client("s3")
    try:
        spec, read_blocks, folded = _check(event, deployment, s3, started_at)
    except InvalidInputError as error:
        logger.error("invalid input", extra={"problems": error.problems})
        raise
    for note in folded.notes:
        logger.info("normalised the data", extra={"note": note})
    logger.info("assigned folds", extra={
        "lines": folded.scan.num_lines, "bytes": folded.scan.num_bytes, "strategy": folded.strategy,
        "num_classes": folded.num_classes, "fold_sizes": list(folded.assignment.fold_sizes),
        "n_repeats": len(folded.assignments),
    })

    sagemaker = boto3.client("sagemaker")
    ensure_experiment(sagemaker, spec.experiment_name)
    run = reserve_run(
        s3, sagemaker, spec, started_at=started_at,
        execution_name=event.get("execution_name") or context.aws_request_id,
        kms_key_id=deployment.output_kms_key_id,
    )
    folds = []
    refit = bool(spec.tuning and spec.tuning.refit)
    labels = prediction_files.labels_of_lines(folded.scan) if spec.out_of_fold else None
    for repeat, assignment in enumerate(folded.assignments):
        # Lambda reuses /tmp between invocations: the chunks must not outlive this one (nor this repeat).
        with tempfile.TemporaryDirectory() as workdir:
            chunks = write_validation_chunks(read_blocks, assignment, Path(workdir))
            upload = upload_folds(
                s3, chunks, assignment, str(run.run_prefix), FILE_EXTENSIONS[spec.data_format],
                deployment.output_kms_key_id, repeat if spec.n_repeats > 1 else None,
            )
            if refit and repeat == 0:
                uri, sent = upload_whole_dataset(
                    s3, chunks, upload.folds, str(run.run_prefix), FILE_EXTENSIONS[spec.data_format],
                    deployment.output_kms_key_id)
                logger.info("wrote the whole dataset for the refit job", extra={"uri": uri, "bytes_uploaded": sent})
            if spec.out_of_fold:
                sent = prediction_files.write_fold_files(s3, chunks, upload.folds, assignment, labels,
                                                         spec.out_of_fold, spec.data_format,
                                                         deployment.output_kms_key_id)
                logger.info("wrote the folds' prediction indexes", extra={"repeat": repeat, "bytes_uploaded": sent})
        folds += upload.folds
        logger.info("wrote folds", extra={
            "run_id": run.run_id, "run_prefix": str(run.run_prefix), "repeat": repeat,
            "bytes_uploaded": upload.bytes_uploaded, "composed_server_side": upload.composed_server_side,
        })
    plan = build_plan(
        spec, run, deployment=deployment, strategy=folded.strategy, num_samples=folded.scan.num_lines,
        num_classes=folded.num_classes, folds=folds, data_notes=folded.notes,
        fold_class_counts=folded.validation_class_counts(),
    )
    if payload_budget.map_mode(event.get("input"), plan) == payload_budget.INLINE:
        return plan
    # Too many jobs to carry in the state machine's states: the Distributed Map reads them from S3.
    plan, jobs = with_jobs_on_s3(plan)
    s3.put_object(Bucket=plan["jobs_file"]["Bucket"], Key=plan["jobs_file"]["Key"],
                  Body=json.dumps(jobs).encode("utf-8"), ContentType="application/json",
                  **encryption_args(deployment.output_kms_key_id))
    logger.info("wrote the jobs for the Distributed Map", extra={"jobs": len(jobs), "jobs_file": plan["jobs_file"]})
    return plan


def _check(event: dict, deployment: Deployment, s3, started_at: datetime):
    """Everything that can be wrong with the input or the dataset, found before the first write."""
    # Step Functions has parsed the execution input: a string here is not JSON to parse again.
    spec = validate_document(event.get("input"), deployment)
    # The requests SageMaker would get and the states Step Functions would carry, before the data is read.
    preflight.check(event.get("input"), spec, deployment, started_at=started_at,
                    execution_name=event.get("execution_name") or "provisional",
                    offline=os.environ.get(OFFLINE_ENGINE_ENV) == "1")
    for mapping in spec.name_mapping:
        logger.info("derived a SageMaker-safe name", extra=mapping)
    for note in spec.notes:
        logger.info("normalised the input", extra={"note": note})
    read_blocks = s3_block_reader(s3, str(spec.input_uri))
    return spec, read_blocks, fold_dataset(spec, read_blocks())
