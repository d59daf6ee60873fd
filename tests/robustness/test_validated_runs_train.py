"""Generated datasets and hyperparameters for every built-in algorithm: what `validate --data` calls
valid, every fold's job can train on.

For each example, the checks `smx-validator validate --data` runs (the input, the pre-flight, the scan
and the folds) either refuse it with a clear error, or accept it; then each fold's files are written
to emulated S3 exactly as the split writes them, and the algorithm's local trainer trains on them
through the channels the plan gives it. A ClientError there (a channel it cannot read, a hyperparameter
it refuses, a label it cannot take) means validation let a job start that cannot succeed.

The trainers keep their own rules (they are not built from smx_split's contract tables), so this is
the test that finds a gap in those tables. Values a trainer says it does not emulate ("is not
emulated") are limits of the offline engine, not of validation: such examples are discarded.
"""

from __future__ import annotations

import json
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path

import boto3
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from threadpoolctl import threadpool_limits

from smx_split import preflight
from smx_split.channels import input_data_config
from smx_split.errors import InvalidInputError
from smx_split.fold_files import split_in_memory
from smx_common.hyperparameter_placeholders import placeholder_values, render
from smx_split.inputs import Deployment, validate_document
from smx_split.folding import fold_dataset
from smx_validator.local.trainers import TrainingClientError, TrainingContext, trainer_for
from smx_validator.local.trainers.base import HyperParameters
from smx_validator.local.trainers.channels import Channel, ChannelDataError, ChannelReader
from smx_validator.local.trainers.png import encode_grey

from .conftest import REPO, assert_clear_error

BUCKET = "prop-data"
IMAGES = [f"s3://{BUCKET}/images/{index}.png" for index in range(4)]
IMAGE = {
    "linear-learner": "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
    "knn": "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1",
    "xgboost": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    "image-classification": "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
    "blazingtext": "811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1",
}
EXTENSION = {"csv": "csv", "jsonl": "jsonl", "text": "txt"}
PROPERTY = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def s3():
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        for index, uri in enumerate(IMAGES):  # small grey images the manifests point at
            pixels = (np.arange(16).reshape(4, 4) * (index + 1) * 7 % 256).astype(np.uint8)
            client.put_object(Bucket=BUCKET, Key=uri.split("/", 3)[3], Body=encode_grey(pixels))
        yield client


# --- generated labels, datasets and hyperparameters -------------------------------------------

# Labels as data scientists write them: 0/1, 0..k-1, 1..k, negatives, decimals, spellings of one number, words.
# The usual 0..n-1 most often, so that most runs get past validation and train.
LABEL_SETS = st.sampled_from([["0", "1"]] * 4 + [["0", "1", "2"]] * 3 + [
    ["1", "2"], ["1", "2", "3"], ["-1", "1"], ["0.5", "1.5"], ["0", "1.0"], ["cat", "dog"], ["0", "1", "2", "3", "4"],
    ["7"],
])


@st.composite
def csv_dataset(draw) -> tuple[bytes, int]:
    labels = draw(LABEL_SETS)
    rows = draw(st.integers(4, 30))
    features = draw(st.integers(1, 4))
    defect = draw(st.sampled_from([None] * 15 + ["text-feature", "header", "numbered-header", "semicolons", "empty"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    lines = [",".join([labels[index % len(labels)], *(f"{value:.3f}" for value in rng.normal(size=features))])
             for index in range(rows)]
    if defect == "text-feature":
        lines[draw(st.integers(0, rows - 1))] = ",".join([labels[0], *(["red"] * features)])
    elif defect == "header":
        lines.insert(0, ",".join(["label", *(f"f{index}" for index in range(features))]))
    elif defect == "numbered-header":
        lines.insert(0, ",".join(str(index) for index in range(features + 1)))
    elif defect == "semicolons":
        lines = [line.replace(",", ";") for line in lines]
    elif defect == "empty":
        lines[draw(st.integers(0, rows - 1))] = ""
    return ("\n".join(lines) + "\n").encode(), features


@st.composite
def image_manifest(draw) -> tuple[bytes, int]:
    labels = draw(LABEL_SETS)
    rows = draw(st.integers(4, 30))
    attribute = draw(st.sampled_from(["class"] * 10 + ["label"]))
    missing_ref = draw(st.sampled_from([None] * 10 + [0, 3]))
    lines = []
    for index in range(rows):
        line = {"source-ref": IMAGES[index % len(IMAGES)], attribute: labels[index % len(labels)]}
        if index == missing_ref:
            del line["source-ref"]
        lines.append(json.dumps(line))
    return ("\n".join(lines) + "\n").encode(), 0


@st.composite
def text_dataset(draw, data_format: str) -> tuple[bytes, int]:
    labels = draw(LABEL_SETS)
    rows = draw(st.integers(4, 30))
    unlabelled = draw(st.sampled_from([None] * 10 + [1]))
    words = ["good", "bad", "plot", "acting", "long", "fun"]
    lines = []
    for index in range(rows):
        text = " ".join(words[(index * 7 + offset) % len(words)] for offset in range(4))
        label = labels[index % len(labels)]
        if data_format == "text":
            lines.append(text if index == unlabelled else f"__label__{label} {text}")
        else:
            lines.append(json.dumps({"source": text} if index == unlabelled else {"source": text, "label": label}))
    return ("\n".join(lines) + "\n").encode(), 0


def mostly(valid: list[str], invalid: list[str]) -> st.SearchStrategy[str]:
    """A value the documentation allows, or now and then one it does not."""
    return st.sampled_from(valid * 4 + invalid)


@st.composite
def given_values(draw, required: dict, optional: dict) -> dict:
    """Required names given almost always, optional ones half the time."""
    values = {}
    for name, strategy in required.items():
        if draw(st.sampled_from([True] * 9 + [False])):
            values[name] = draw(strategy)
    for name, strategy in optional.items():
        if draw(st.booleans()):
            values[name] = draw(strategy)
    return values


def hyperparameters_for(family: str, features: int) -> st.SearchStrategy[dict]:
    feature_dim = mostly([str(features)], [str(features + 3), "auto", "0"])
    if family == "linear-learner":
        return given_values(
            # num_classes given as often as a required name: multiclass_classifier needs it, the others ignore it
            required={"predictor_type": st.sampled_from(["binary_classifier", "multiclass_classifier", "regressor"]),
                      "num_classes": mostly(["${num_classes}", "3"], ["2", "5"])},
            optional={"feature_dim": mostly([str(features), "auto"], [str(features + 3), "0"]),
                      "epochs": mostly(["2"], ["0", "2.0"]), "mini_batch_size": mostly(["8"], ["0"]),
                      "learning_rate": mostly(["0.1", "auto"], ["-1"])})
    if family == "knn":
        return given_values(
            required={"predictor_type": st.sampled_from(["classifier", "regressor"]), "k": mostly(["1", "3"], ["0"]),
                      "sample_size": mostly(["${num_training_samples}", "5"], ["0"]), "feature_dim": feature_dim},
            optional={})
    if family == "xgboost":
        return given_values(
            required={"num_round": mostly(["5", "${num_training_samples}"], ["0"])},
            optional={"objective": st.sampled_from(["reg:squarederror", "binary:logistic", "multi:softmax",
                                                    "multi:softprob"]),
                      "num_class": mostly(["${num_classes}", "3"], ["2", "1"]),
                      "max_depth": mostly(["2"], ["-1", "2.5"]), "eta": mostly(["0.3"], ["1.5"]),
                      "subsample": mostly(["1", "0.5"], ["0"])})
    if family == "image-classification":
        return given_values(
            required={"num_classes": mostly(["${num_classes}"], ["2", "5"]),
                      "num_training_samples": mostly(["${num_training_samples}", "10"], [])},
            optional={"image_shape": st.just("1,4,4"), "epochs": mostly(["2"], ["0"]),
                      "mini_batch_size": mostly(["4"], ["0"]), "learning_rate": mostly(["0.1"], ["2"])}).map(
            lambda values: {"image_shape": "1,4,4", **values})
    return given_values(
        required={"mode": mostly(["supervised"], ["Supervised"])},
        optional={"epochs": mostly(["2"], ["0"]), "min_count": mostly(["0", "1"], ["-1"]),
                  "word_ngrams": mostly(["1", "2"], ["0"])})


@st.composite
def runs(draw, family: str) -> tuple[dict, bytes]:
    data_format = {"image-classification": "jsonl", "blazingtext": draw(st.sampled_from(["text", "jsonl"]))}.get(
        family, "csv")
    if data_format == "csv":
        data, features = draw(csv_dataset())
    elif family == "image-classification":
        data, features = draw(image_manifest())
    else:
        data, features = draw(text_dataset(data_format))
    hyperparameters = draw(hyperparameters_for(family, features))
    document = {
        "job_config": {"name": "prop", "input_path": f"s3://{BUCKET}/input/data.{EXTENSION[data_format]}",
                       "output_prefix": f"s3://{BUCKET}/output"},
        "crossvalidation": {"n_splits": draw(st.integers(2, 4)), "random_state": 7,
                            **({"label_attribute": "label"} if family == "blazingtext" and data_format == "jsonl" else {})},
        "training": {
            "hyperparameters_template": hyperparameters,
            "algorithm_specification": {"TrainingImage": IMAGE[family],
                                        "TrainingInputMode": "Pipe" if data_format == "jsonl" else "File"},
            "resource_config": {"InstanceType": "ml.m5.large"},
        },
    }
    return document, data


# --- the property ---------------------------------------------------------------------------------


def validate_data(document: dict, data: bytes):
    """What `smx-validator validate INPUT --data FILE` checks, in its order."""
    deployment = Deployment()
    spec = validate_document(document, deployment)
    preflight.check(document, spec, deployment, started_at=datetime.now(timezone.utc), execution_name="validate",
                    offline=True)
    return spec, fold_dataset(spec, [data])


def train_every_fold(s3, spec, folded, data: bytes, run: str) -> list[str]:
    """Each fold's job, trained by the algorithm's local trainer on the channels the plan gives it."""
    validation, training = split_in_memory(data, folded.assignment)
    failures = []
    ext = EXTENSION[spec.data_format]
    for fold, (validation_file, training_file) in enumerate(zip(validation, training)):
        uris = {}
        for part, body in (("train", training_file), ("validation", validation_file)):
            key = f"{run}/fold{fold}/{part}/{part}.{ext}"
            s3.put_object(Bucket=BUCKET, Key=key, Body=body)
            uris[part] = f"s3://{BUCKET}/{key}"
        hyperparameters = render(spec.hyperparameters, placeholder_values(
            num_training_samples=training_file.count(b"\n"), num_validation_samples=validation_file.count(b"\n"),
            num_classes=folded.num_classes))
        request = {"AlgorithmSpecification": spec.algorithm_specification, "HyperParameters": hyperparameters,
                   "InputDataConfig": input_data_config(spec.channel_layout, train=uris["train"],
                                                        validation=uris["validation"])}
        mode = spec.algorithm_specification["TrainingInputMode"]
        with tempfile.TemporaryDirectory() as workdir:
            try:
                trainer = trainer_for(spec.algorithm_specification["TrainingImage"], hyperparameters, script_root=REPO)
                context = TrainingContext(
                    job_name=f"{run}-fold{fold}",
                    hyperparameters=HyperParameters(hyperparameters, algorithm=trainer.algorithm),
                    channels={config["ChannelName"]: Channel.from_request(config, mode)
                              for config in request["InputDataConfig"]},
                    reader_for=lambda channel: ChannelReader(s3, channel), model_dir=Path(workdir),
                    work_dir=Path(workdir), request=request, stop_requested=threading.Event())
                with threadpool_limits(limits=1):
                    trainer.train(context)
            except (TrainingClientError, ChannelDataError) as error:
                failures.append(f"fold {fold}: ClientError: {error}")
    return failures


_runs = iter(range(10**9))
# scikit-learn's notes on tiny folds (a batch clipped to the fold, top-k accuracy over fewer classes)
pytestmark = [pytest.mark.filterwarnings("ignore:Got `batch_size` less than 1:UserWarning"),
              pytest.mark.filterwarnings("ignore::sklearn.exceptions.UndefinedMetricWarning")]


@pytest.mark.parametrize("family", sorted(IMAGE))
@PROPERTY
@given(drawn=st.data())
def test_every_fold_of_a_validated_run_can_train(s3, family, drawn):
    # GIVEN a generated dataset and hyperparameters for the algorithm
    document, data = drawn.draw(runs(family), label="run")
    # WHEN validate --data checks them
    try:
        spec, folded = validate_data(document, data)
    except InvalidInputError as error:
        # THEN either it refuses them with a clear error
        assert_clear_error(error)
        event("refused by validation")
        return
    # OR every fold's job trains on what the split would write
    event("valid")
    failures = train_every_fold(s3, spec, folded, data, f"run{next(_runs)}")
    assume(not [failure for failure in failures if "is not emulated" in failure])
    assert failures == [], (
        "validate --data called this run valid, but its jobs fail:\n  " + "\n  ".join(failures)
        + f"\nhyperparameters: {document['training']['hyperparameters_template']}\ndata:\n{data[:400].decode()}")
