"""A custom training script for SageMaker's training contract: L2-regularised logistic regression
in plain NumPy, so that the container needs nothing else.

`smx-validator local run doc/examples/custom.json` runs it for TrainingImage
"local:doc/examples/custom/train.py"; in a real image it would be the entry point.

- channels: files under SM_CHANNEL_TRAIN / SM_CHANNEL_VALIDATION (CSV, label first, no header);
- hyperparameters: `--C`, `--max_iter`, `--learning_rate` arguments;
- model: written to SM_MODEL_DIR (packed into model.tar.gz);
- metrics: printed lines the job's MetricDefinitions regexes pick up;
- failure: explained in SM_OUTPUT_DIR/failure (/opt/ml/output/failure), then a non-zero exit.
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np


def read_channel(directory: str) -> tuple[np.ndarray, np.ndarray]:
    files = sorted(path for path in Path(directory).rglob("*") if path.is_file())
    if not files:
        raise ValueError(f"no files in channel directory {directory}")
    table = np.vstack([np.loadtxt(path, delimiter=",", ndmin=2) for path in files])
    return table[:, 1:], table[:, 0]


def fit(features: np.ndarray, labels: np.ndarray, *, c: float, iterations: int, rate: float) -> np.ndarray:
    """Weights (bias last) by full-batch gradient descent on the regularised log loss."""
    x = np.hstack([features, np.ones((len(features), 1))])
    weights = np.zeros(x.shape[1])
    penalty = np.r_[np.ones(features.shape[1]), 0.0] / (c * len(labels))
    for _ in range(iterations):
        probabilities = 1.0 / (1.0 + np.exp(-x @ weights))
        weights -= rate * (x.T @ (probabilities - labels) / len(labels) + penalty * weights)
    return weights


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """The probability that a positive outscores a negative (ties count half)."""
    positives, negatives = scores[labels == 1], scores[labels == 0]
    wins = (positives[:, None] > negatives[None, :]).sum() + 0.5 * (positives[:, None] == negatives[None, :]).sum()
    return float(wins / (len(positives) * len(negatives)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--max_iter", type=int, default=500)
    parser.add_argument("--learning_rate", type=float, default=0.5)
    args = parser.parse_args()

    train_x, train_y = read_channel(os.environ["SM_CHANNEL_TRAIN"])
    validation_x, validation_y = read_channel(os.environ["SM_CHANNEL_VALIDATION"])
    mean, scale = train_x.mean(axis=0), train_x.std(axis=0) + 1e-12
    weights = fit((train_x - mean) / scale, train_y, c=args.C, iterations=args.max_iter, rate=args.learning_rate)

    scores = np.hstack([(validation_x - mean) / scale, np.ones((len(validation_x), 1))]) @ weights
    print(f"validation accuracy: {np.mean((scores > 0) == (validation_y == 1)):.6f}")
    print(f"validation roc_auc: {roc_auc(validation_y, scores):.6f}")
    np.savez(Path(os.environ["SM_MODEL_DIR"]) / "model.npz", weights=weights, mean=mean, scale=scale)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:
        Path(os.environ.get("SM_OUTPUT_DIR", "/opt/ml/output")).joinpath("failure").write_text(
            f"{type(error).__name__}: {error}")
        print(f"training failed: {error}", file=sys.stderr)
        sys.exit(1)
