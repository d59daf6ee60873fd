"""Writes a small label-first CSV to the data bucket and returns one CreateTrainingJob request per
job the event asks for: {"run": "r1", "jobs": [{"image": ..., "hyperparameters": {...}, "environment": {...}}],
"max_concurrency": 2}. {"reject": "why"} raises RejectedRequest."""

import os

import boto3


class RejectedRequest(Exception):
    pass


def lambda_handler(event, context):
    if event.get("reject"):
        raise RejectedRequest(event["reject"])
    print(f"preparing {len(event['jobs'])} jobs in {context.function_name}; global={os.environ['MINI_GLOBAL']}")
    bucket = os.environ["DATA_BUCKET"]
    rows = "\n".join(f"{i % 2},{(i % 2) * 2.0 + (i % 5) * 0.1},{(i % 3) * 0.5}" for i in range(40)) + "\n"
    s3 = boto3.client("s3")
    for channel in ("train", "validation"):
        s3.put_object(Bucket=bucket, Key=f"data/{channel}/{channel}.csv", Body=rows.encode())
    jobs = []
    for index, job in enumerate(event["jobs"]):
        jobs.append({
            "TrainingJobName": f"mini-{event['run']}-job{index}",
            "AlgorithmSpecification": {"TrainingImage": job["image"], "TrainingInputMode": "File",
                                       **({"MetricDefinitions": job["metrics"]} if "metrics" in job else {})},
            "HyperParameters": job.get("hyperparameters", {}),
            "InputDataConfig": [
                {"ChannelName": channel, "ContentType": "text/csv",
                 "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"{os.environ['DATA_URI']}{channel}/"}}}
                for channel in ("train", "validation")
            ],
            "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/models/"},
            "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
            "StoppingCondition": {"MaxRuntimeInSeconds": job.get("max_runtime", 600)},
            "Environment": job.get("environment", {}),
        })
    return {"jobs": jobs, "max_concurrency": event.get("max_concurrency", 2)}
