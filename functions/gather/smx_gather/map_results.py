"""A run through the Distributed Map (TrainFoldsFromS3): its jobs and its results are on S3, not in the state.

The split wrote the jobs (``plan.jobs_file``, the items the inline Map would have carried as ``plan.folds``);
the Map's ResultWriter wrote each child execution's result under ``plan.map_results``, and the gather gets
only the manifest's location. The result files follow AWS's ResultWriter
(https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html): JSON arrays of child
executions, each with its ``Input`` and, when it succeeded, its ``Output`` (the ItemProcessor's last state:
the shapes of resources/schemas/fold-results.schema.json) or, when it failed, its ``Error`` and ``Cause``, all
as JSON strings. I/O at the edges; ``fold_results_from_records`` is pure.
"""

from __future__ import annotations

import json
from typing import Any, Mapping


def planned_jobs(s3: Any, plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The plan's jobs: ``plan.folds``, or the jobs file the split wrote for the Distributed Map."""
    if "folds" in plan:
        return list(plan["folds"])
    location = plan["jobs_file"]
    return json.loads(s3.get_object(Bucket=location["Bucket"], Key=location["Key"])["Body"].read())


def fold_results(s3: Any, results: Any) -> list[dict[str, Any]]:
    """The Map's results: the inline Map's list as it is, or the Distributed Map's read from its result files."""
    if not isinstance(results, Mapping) or "ResultWriterDetails" not in results:
        return list(results or [])
    details = results["ResultWriterDetails"]
    manifest = _read_json(s3, details["Bucket"], details["Key"])
    records = []
    for status in ("SUCCEEDED", "FAILED"):
        for result_file in manifest.get("ResultFiles", {}).get(status) or []:
            records += _read_json(s3, manifest.get("DestinationBucket") or details["Bucket"], result_file["Key"])
    return fold_results_from_records(records)


def fold_results_from_records(records: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One fold result per child execution: a succeeded child's output; for a failed one (an error outside the
    ItemProcessor's Catch), its job's name from its input and the execution's error and cause."""
    results = []
    for record in records:
        if record.get("Status") == "SUCCEEDED" and record.get("Output"):
            results.append(json.loads(record["Output"]))
            continue
        child_input = json.loads(record.get("Input") or "{}")
        name = (child_input.get("fold") or {}).get("TrainingJobName")
        if not name:
            continue  # nothing names the job: the gather reports it from its DescribeTrainingJob, or as never created
        failed = {"TrainingJobName": name, "status": "Failed"}
        failed |= {key: record[field] for key, field in (("error", "Error"), ("cause", "Cause")) if record.get(field)}
        results.append(failed)
    return results


def _read_json(s3: Any, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
