"""A custom training script for the fault tests, following SageMaker's training contract.

Hyperparameter --seconds S: every job trains (sleeps) S seconds. Job Environment:
FAIL_JOB_SUFFIX=X fails the job whose TRAINING_JOB_NAME ends with X (SageMaker's failure file);
SLOW_JOB_SUFFIX=X with SLOW_SECONDS=S makes only that job train S seconds;
DIVERGE_JOB_SUFFIX=X makes that job's score NaN (a diverged loss).
Prints "score: 0.5" (a metric) when it completes.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--seconds", type=float, default=0.0)
args = parser.parse_args()

job = os.environ["TRAINING_JOB_NAME"]
lines = sum(len(path.read_text().splitlines())
            for path in Path(os.environ["SM_CHANNEL_TRAIN"]).rglob("*") if path.is_file())
print(f"channels: {','.join(json.loads(os.environ['SM_CHANNELS']))}; train_lines: {lines}", flush=True)
fail_suffix = os.environ.get("FAIL_JOB_SUFFIX", "")
if fail_suffix and job.endswith(fail_suffix):
    Path(os.environ["SM_OUTPUT_DIR"], "failure").write_text(f"injected failure for {job}")
    sys.exit(3)
seconds = args.seconds
slow_suffix = os.environ.get("SLOW_JOB_SUFFIX", "")
if slow_suffix and job.endswith(slow_suffix):
    seconds = float(os.environ.get("SLOW_SECONDS", "60"))
time.sleep(seconds)
Path(os.environ["SM_MODEL_DIR"], "model.txt").write_text("trained")
diverge_suffix = os.environ.get("DIVERGE_JOB_SUFFIX", "")
print("score: nan" if diverge_suffix and job.endswith(diverge_suffix) else "score: 0.5")
