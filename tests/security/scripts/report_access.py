"""A custom training script for the security tests: reports what the container can reach.

Prints "aws_credentials: 1" when boto3 finds AWS credentials in the container's environment
(0 otherwise) and "score: 0.5", and saves a tiny model.
"""

import os
from pathlib import Path

import boto3

credentials = boto3.Session().get_credentials()
print(f"aws_credentials: {0 if credentials is None else 1}", flush=True)
Path(os.environ["SM_MODEL_DIR"], "model.txt").write_text("trained")
print("score: 0.5")
