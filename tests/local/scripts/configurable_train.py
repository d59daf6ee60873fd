"""A custom training script for the engine's tests, following SageMaker's training contract.

--seconds S: train (sleep) that long; --fail_suffix X: fail when TRAINING_JOB_NAME ends with X;
the job Environment's FAIL_JOB_SUFFIX does the same. Prints "train_lines: N" and "score: 0.5".
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--seconds", type=float, default=0.0)
parser.add_argument("--fail_suffix", default="")
args = parser.parse_args()

channels = json.loads(os.environ["SM_CHANNELS"])
lines = sum(len(path.read_text().splitlines()) for path in Path(os.environ["SM_CHANNEL_TRAIN"]).rglob("*") if path.is_file())
print(f"channels: {','.join(channels)}")
print(f"train_lines: {lines}", flush=True)
suffix = args.fail_suffix or os.environ.get("FAIL_JOB_SUFFIX", "")
if suffix and os.environ["TRAINING_JOB_NAME"].endswith(suffix):
    Path(os.environ["SM_OUTPUT_DIR"], "failure").write_text(f"injected failure for {os.environ['TRAINING_JOB_NAME']}")
    sys.exit(3)
time.sleep(args.seconds)
Path(os.environ["SM_MODEL_DIR"], "model.txt").write_text("trained")
print("score: 0.5")
