"""The files behind out-of-fold predictions: where they live, what the split writes, and the transform request.

Beside each fold's files, under ``predictions/``:
- ``index.json``: the fold's validation lines as the dataset numbers them (0-based, in the validation file's
  order) and each line's label, so that the gather puts the predictions back in input order and pairs them
  with their labels without reading the dataset again;
- ``input/``: what the transform reads when it cannot read the validation file itself (BlazingText's
  ``{"source": ..}`` records, image-classification's manifest of images);
- ``output/``: the transform's answers, ``<input object>.out`` as SageMaker names them.
The run's predictions, in input order, go to ``oof_predictions.jsonl`` at the run prefix (the gather writes it).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from botocore.exceptions import ParamValidationError
from botocore.validate import validate_parameters

from smx_common import inference_formats
from smx_common.s3uri import S3Uri, encryption_args

from .errors import InvalidInputError
from .folds import FoldAssignment
from . import request_contract
from .out_of_fold_section import FIELD, MAX_PAYLOAD_IN_MB, OutOfFoldSpec
from .s3_folds import FoldObjects

PREDICTIONS_FILE = "oof_predictions.jsonl"
_INPUT_NAMES = {inference_formats.SOURCE_RECORDS: "source.jsonl", inference_formats.IMAGE_MANIFEST: "images.manifest"}
_LABEL_TOKEN = re.compile(r"(?<!\S)__label__\S*")


@dataclass(frozen=True)
class PredictionObjects:
    index_uri: str
    input_uri: str  # what the transform reads: the validation file or the input the split writes
    output_prefix: str


def predictions_uri(run_prefix: str) -> str:
    return str(S3Uri.parse(run_prefix).child(PREDICTIONS_FILE))


def prediction_objects(fold: FoldObjects, spec: OutOfFoldSpec) -> PredictionObjects:
    """Where a fold's prediction files live (pure)."""
    folder = S3Uri.parse(fold.validation_prefix.removesuffix("validation/")).child("predictions/")
    name = _INPUT_NAMES.get(spec.inference.transform_input)
    return PredictionObjects(
        index_uri=str(folder.child("index.json")),
        input_uri=str(folder.child(f"input/{name}")) if name else fold.validation_uri,
        output_prefix=str(folder.child("output/")),
    )


def transform_request(fold: FoldObjects, spec: OutOfFoldSpec, job_name: str, kms_key_id: str | None) -> dict:
    """What differs per fold in its CreateModel and CreateTransformJob requests (the Map passes it on)."""
    objects = prediction_objects(fold, spec)
    inference = spec.inference
    data_type = "ManifestFile" if inference.transform_input == inference_formats.IMAGE_MANIFEST else "S3Prefix"
    output = {"S3OutputPath": objects.output_prefix, "Accept": spec.accept, "AssembleWith": "Line"}
    if kms_key_id:
        output["KmsKeyId"] = kms_key_id
    return {
        "ModelName": job_name,
        "TransformJobName": job_name,
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": data_type, "S3Uri": objects.input_uri}},
                           "ContentType": inference.content_type, "SplitType": inference.split_type},
        "TransformOutput": output,
        # The CSV algorithms are sent the features only: InputFilter drops the label column.
        "DataProcessing": {"InputFilter": inference.input_filter, "JoinSource": "None"},
        "index": objects.index_uri,
    }


def shared_transform(spec: OutOfFoldSpec) -> dict:
    """What every fold's CreateTransformJob request shares."""
    return {
        "TransformResources": {"InstanceType": spec.instance_type, "InstanceCount": spec.instance_count},
        "BatchStrategy": spec.inference.batch_strategy,
        "MaxConcurrentTransforms": spec.max_concurrent_transforms,
        "MaxPayloadInMB": MAX_PAYLOAD_IN_MB,
    }


def request_problems(job: dict, fold: dict) -> list[str]:
    """What SageMaker's service model says of the fold's CreateTransformJob request (botocore's validation), as
    problems of the setting that shapes it."""
    transform = fold["transform"]
    request = {key: value for key, value in transform.items() if key != "index"} | job["transform"] | \
        {"Tags": fold["Tags"]}
    model = request_contract.operation_model().service_model.operation_model("CreateTransformJob")
    try:
        validate_parameters(request, model.input_shape)
    except ParamValidationError as error:
        report = " ".join(str(error.kwargs.get("report", error)).split())
        return [f"{FIELD}: SageMaker would refuse the folds' transform jobs: {report}"]
    return []


def write_fold_files(s3_client, chunks: list[Path], folds: list[FoldObjects], assignment: FoldAssignment,
                     label_of_line: list[str], spec: OutOfFoldSpec, data_format: str, kms_key_id: str | None) -> int:
    """Each fold's index and, when the transform cannot read the validation file, its input; bytes written."""
    written = 0
    for chunk, fold in zip(chunks, folds):
        objects = prediction_objects(fold, spec)
        lines = assignment.validation_indices(fold.fold_index)
        index = {"lines": lines.tolist(), "labels": [label_of_line[line] for line in lines.tolist()]}
        written += _put(s3_client, objects.index_uri, json.dumps(index, separators=(",", ":")).encode("utf-8"),
                        "application/json", kms_key_id)
        if objects.input_uri != fold.validation_uri:
            body = transform_input(chunk.read_bytes(), spec, data_format)
            written += _put(s3_client, objects.input_uri, body, spec.inference.content_type
                            if spec.inference.transform_input == inference_formats.SOURCE_RECORDS
                            else "application/json", kms_key_id)
    return written


def transform_input(validation: bytes, spec: OutOfFoldSpec, data_format: str) -> bytes:
    """The transform's input made from a fold's validation file, record for record (pure)."""
    lines = validation.decode("utf-8").splitlines()
    if spec.inference.transform_input == inference_formats.SOURCE_RECORDS:
        if data_format == "text":
            texts = [" ".join(_LABEL_TOKEN.sub(" ", line).split()) for line in lines]
        else:
            texts = [json.loads(line)[spec.source_attribute] for line in lines]
        return "".join(json.dumps({"source": text}) + "\n" for text in texts).encode("utf-8")
    images = [S3Uri.parse(json.loads(line)[spec.source_attribute]) for line in lines]
    buckets = sorted({image.bucket for image in images})
    if len(buckets) > 1:
        raise InvalidInputError([
            f"{FIELD}: a fold's images are in {len(buckets)} buckets ({', '.join(buckets[:3])}), and a transform "
            "job's manifest names one: keep the images of a dataset in one bucket"])
    return json.dumps([{"prefix": f"s3://{buckets[0]}/"}, *(image.key for image in images)]).encode("utf-8")


def labels_of_lines(scan) -> list[str]:
    """Each line's label name, file order (the scan's codes named)."""
    names = np.asarray(scan.label_names, dtype=object)
    return names[scan.labels].tolist()


def _put(s3_client, uri: str, body: bytes, content_type: str, kms_key_id: str | None) -> int:
    location = S3Uri.parse(uri)
    s3_client.put_object(Bucket=location.bucket, Key=location.key, Body=body, ContentType=content_type,
                         **encryption_args(kms_key_id))
    return len(body)
