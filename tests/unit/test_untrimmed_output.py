"""A trimmed execution output is completed from the run's summary.json (what the report and the API's splits
read), keeping what the steps after the gather added."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from smx_validator.api import untrimmed_output

SUMMARY_JSON = "s3://out/runs/r/summary.json"


@mock_aws
def test_a_trimmed_output_reads_summary_json_and_keeps_the_mlflow_record():
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="out")
    whole = {"job_config": {}, "splits": [{"fold_index": 0}, {"fold_index": 1}],
             "summary": {"summary_json": SUMMARY_JSON, "trimmed_fields": []}}
    s3.put_object(Bucket="out", Key="runs/r/summary.json", Body=json.dumps(whole).encode())
    trimmed = {"job_config": {}, "summary": {"summary_json": SUMMARY_JSON, "trimmed_fields": ["splits"],
                                             "mlflow": {"run_id": "abc"}}}
    document = untrimmed_output(trimmed, s3)
    assert len(document["splits"]) == 2 and document["summary"]["mlflow"] == {"run_id": "abc"}
    # A whole output needs nothing; an unreadable summary.json leaves the trimmed output to stand
    assert untrimmed_output(whole, s3) is None
    assert untrimmed_output({"summary": {**trimmed["summary"], "summary_json": "s3://out/missing.json"}}, s3) is None
