"""The emulated SageMaker CreateModel and Batch Transform: a model trained by a local trainer answers a transform
job the way the built-in algorithm's container answers (its documented response formats), the job's output is
named and assembled as SageMaker writes it, and failures end the job (or the Step Functions task) as SageMaker
and Step Functions end them."""

from __future__ import annotations

import ast
import json
import time

import pytest
from botocore.exceptions import ClientError

from engine_support import wait_for_transform_job
from smx_validator.local.executions import wait_for_execution

from .conftest import DATASETS, LINEAR_LEARNER_IMAGE, TEST_SCRIPT, list_keys, wait_for_job

BUCKET = "mini-data"
ROLE = "arn:aws:iam::123456789012:role/training"
IMAGES = {
    "linear-learner": LINEAR_LEARNER_IMAGE,
    "knn": "382416733822.dkr.ecr.us-east-1.amazonaws.com/knn:1",
    "xgboost": "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    "image-classification": "811284229777.dkr.ecr.us-east-1.amazonaws.com/image-classification:1",
    "blazingtext": "811284229777.dkr.ecr.us-east-1.amazonaws.com/blazingtext:1",
}
CSV_PROCESSING = {"InputFilter": "$[1:]"}  # the validation files are label-first: the label is filtered out


def _is_validation(index: int) -> bool:
    return index % 5 == 0


@pytest.fixture(scope="module")
def data(mini_engine) -> dict[str, list[str]]:
    """The bundled datasets on the emulated S3, one record in five held out for the transforms:
    ``tx/<name>/train/`` and ``tx/<name>/validation/`` (label-first CSV), the digits' images with a training
    augmented manifest and a validation ManifestFile, scipy_docs as training text and validation {"source"}
    records. Returns each dataset's validation labels."""
    s3 = mini_engine.client("s3")
    labels: dict[str, list[str]] = {}
    for name in ("breast_cancer", "iris"):
        rows = (DATASETS / f"{name}.csv").read_text().splitlines()
        train = [row for index, row in enumerate(rows) if not _is_validation(index)]
        validation = [row for index, row in enumerate(rows) if _is_validation(index)]
        s3.put_object(Bucket=BUCKET, Key=f"tx/{name}/train/train.csv", Body="\n".join(train).encode())
        s3.put_object(Bucket=BUCKET, Key=f"tx/{name}/validation/validation.csv", Body="\n".join(validation).encode())
        labels[name] = [row.split(",")[0] for row in validation]

    digits = [json.loads(line) for line in (DATASETS / "digits" / "manifest.jsonl").read_text().splitlines()]
    training_manifest, listed = [], [{"prefix": f"s3://{BUCKET}/tx/digits/images/"}]
    labels["digits"] = []
    for index, entry in enumerate(digits):
        image = entry["source-ref"].rsplit("/", 1)[1]
        s3.put_object(Bucket=BUCKET, Key=f"tx/digits/images/{image}",
                      Body=(DATASETS / "digits" / "images" / image).read_bytes())
        if _is_validation(index):
            listed.append(image)
            labels["digits"].append(str(entry["class"]))
        else:
            training_manifest.append(json.dumps({"source-ref": f"s3://{BUCKET}/tx/digits/images/{image}",
                                                 "class": entry["class"]}))
    s3.put_object(Bucket=BUCKET, Key="tx/digits/train.manifest", Body="\n".join(training_manifest).encode())
    s3.put_object(Bucket=BUCKET, Key="tx/digits/validation.manifest", Body=json.dumps(listed).encode())

    lines = (DATASETS / "scipy_docs.txt").read_text().splitlines()
    train = [line for index, line in enumerate(lines) if not _is_validation(index)]
    validation = [line.split(" ", 1) for index, line in enumerate(lines) if _is_validation(index)]
    s3.put_object(Bucket=BUCKET, Key="tx/scipy_docs/train/train.txt", Body="\n".join(train).encode())
    s3.put_object(Bucket=BUCKET, Key="tx/scipy_docs/validation/source.jsonl",
                  Body="\n".join(json.dumps({"source": text}) for _, text in validation).encode())
    labels["scipy_docs"] = [label for label, _ in validation]
    return labels


def _csv_channel(name: str, dataset: str, channel: str) -> dict:
    return {"ChannelName": name, "ContentType": "text/csv",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/tx/{dataset}/{channel}/"}}}


def train(engine, name: str, family: str, hyperparameters: dict, channels: list[dict], input_mode: str = "File") -> str:
    """A completed training job of ``family``; returns its model artifacts' URI."""
    engine.client("sagemaker").create_training_job(
        TrainingJobName=name, RoleArn=ROLE,
        AlgorithmSpecification={"TrainingImage": IMAGES[family], "TrainingInputMode": input_mode},
        HyperParameters=hyperparameters, InputDataConfig=channels,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/tx-models/"},
        ResourceConfig={"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 600})
    job = wait_for_job(engine, name, {"Completed", "Failed"}, timeout=120)
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    return job["ModelArtifacts"]["S3ModelArtifacts"]


def create_model(engine, name: str, family: str, model_data: str, **extra) -> dict:
    return engine.client("sagemaker").create_model(
        ModelName=name, ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": extra.pop("image", IMAGES.get(family)), "ModelDataUrl": model_data}, **extra)


def transform_request(name: str, model: str, source: str, content_type: str, accept: str, *,
                      data_type: str = "S3Prefix", split: str = "Line", assemble: str = "Line",
                      strategy: str = "MultiRecord", processing: dict | None = None, **extra) -> dict:
    request = {
        "TransformJobName": name, "ModelName": model,
        "TransformInput": {"DataSource": {"S3DataSource": {"S3DataType": data_type, "S3Uri": source}},
                           "ContentType": content_type, "SplitType": split},
        "TransformOutput": {"S3OutputPath": f"s3://{BUCKET}/tx-out/{name}/", "Accept": accept, "AssembleWith": assemble},
        "TransformResources": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        "BatchStrategy": strategy,
        **extra,
    }
    if processing is not None:
        request["DataProcessing"] = processing
    return request


def run_transform(engine, request: dict) -> dict:
    engine.client("sagemaker").create_transform_job(**request)
    return wait_for_transform_job(engine, request["TransformJobName"], {"Completed", "Failed", "Stopped"}, timeout=60)


def read_text(engine, uri: str) -> str:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return engine.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8")


def output_keys(engine, name: str) -> list[str]:
    return list_keys(engine, f"s3://{BUCKET}/tx-out/{name}/")


def accuracy(predicted: list, labels: list[str]) -> float:
    assert len(predicted) == len(labels)
    return sum(float(p) == float(label) for p, label in zip(predicted, labels)) / len(labels)


# --- each built-in family answers in its documented format ---------------------------------------------

@pytest.mark.parametrize("predictor, dataset, extra", [
    ("binary_classifier", "breast_cancer", {}),
    ("multiclass_classifier", "iris", {"num_classes": "3"}),
    ("regressor", "iris", {}),
])
def test_linear_learner_answers_one_json_line_per_record_in_order(mini_engine, data, predictor, dataset, extra):
    # GIVEN a linear-learner model trained on the label-first CSV of the dataset's other records
    name = f"tx-ll-{predictor.split('_')[0]}"
    model_data = train(mini_engine, name, "linear-learner", {"predictor_type": predictor, "epochs": "10", **extra},
                       [_csv_channel("train", dataset, "train")])
    create_model(mini_engine, name, "linear-learner", model_data)
    # WHEN a transform reads the held-out validation CSV, label filtered out, answering JSON Lines
    job = run_transform(mini_engine, transform_request(
        name, name, f"s3://{BUCKET}/tx/{dataset}/validation/", "text/csv", "application/jsonlines",
        processing=CSV_PROCESSING))
    # THEN it completes, with one .out per input object, named after it
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert output_keys(mini_engine, name) == [f"tx-out/{name}/validation.csv.out"]
    lines = read_text(mini_engine, f"s3://{BUCKET}/tx-out/{name}/validation.csv.out").splitlines()
    answers = [json.loads(line) for line in lines]
    labels = data[dataset]
    # AND one answer per record, in order, in LL-in-formats' JSON Lines shape
    assert len(answers) == len(labels)
    if predictor == "binary_classifier":
        assert all(set(a) == {"score", "predicted_label"} and 0 <= a["score"] <= 1 and a["predicted_label"] in (0, 1)
                   for a in answers)
        assert all(a["predicted_label"] == int(a["score"] > 0.5) for a in answers)
        assert accuracy([a["predicted_label"] for a in answers], labels) > 0.9
    elif predictor == "multiclass_classifier":
        assert all(len(a["score"]) == 3 and abs(sum(a["score"]) - 1) < 1e-6 for a in answers)
        assert all(a["predicted_label"] == max(range(3), key=a["score"].__getitem__) for a in answers)
        assert accuracy([a["predicted_label"] for a in answers], labels) > 0.8
    else:
        assert all(set(a) == {"score"} for a in answers)
        assert accuracy([round(a["score"]) for a in answers], labels) > 0.8


def test_linear_learner_answers_application_json_as_one_predictions_document_a_request(mini_engine, data):
    # GIVEN a binary linear-learner model
    name = "tx-ll-json"
    create_model(mini_engine, name, "linear-learner", train(
        mini_engine, name, "linear-learner", {"predictor_type": "binary_classifier", "epochs": "5"},
        [_csv_channel("train", "breast_cancer", "train")]))
    # WHEN the transform asks for application/json, one record a request, the answers assembled by line
    job = run_transform(mini_engine, transform_request(
        name, name, f"s3://{BUCKET}/tx/breast_cancer/validation/validation.csv", "text/csv", "application/json",
        strategy="SingleRecord", processing=CSV_PROCESSING))
    # THEN each request's answer is {"predictions": [one object]}, one line each
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    documents = [json.loads(line) for line in read_text(
        mini_engine, f"s3://{BUCKET}/tx-out/{name}/validation.csv.out").splitlines()]
    assert len(documents) == len(data["breast_cancer"])
    assert all(list(document) == ["predictions"] and len(document["predictions"]) == 1 for document in documents)
    assert accuracy([d["predictions"][0]["predicted_label"] for d in documents], data["breast_cancer"]) > 0.9


@pytest.mark.parametrize("accept", ["application/jsonlines", "application/json"])
def test_knn_answers_its_predicted_labels_as_floats(mini_engine, data, accept):
    # GIVEN a k-NN classifier of the iris training records
    name = f"tx-knn-{accept.split('/')[1]}"
    create_model(mini_engine, name, "knn", train(
        mini_engine, name, "knn", {"predictor_type": "classifier", "k": "5", "sample_size": "120", "feature_dim": "4"},
        [_csv_channel("train", "iris", "train")]))
    # WHEN the validation records are transformed, all in one request (MultiRecord)
    job = run_transform(mini_engine, transform_request(
        name, name, f"s3://{BUCKET}/tx/iris/validation/", "text/csv", accept, processing=CSV_PROCESSING))
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    text = read_text(mini_engine, f"s3://{BUCKET}/tx-out/{name}/validation.csv.out")
    # THEN kNN-inference-formats' shapes: {"predicted_label": 0.0} a line, or {"predictions": [...]} a request
    if accept == "application/jsonlines":
        answers = [json.loads(line) for line in text.splitlines()]
    else:
        (document,) = [json.loads(line) for line in text.splitlines()]
        answers = document["predictions"]
    assert all(list(a) == ["predicted_label"] and isinstance(a["predicted_label"], float) for a in answers)
    assert accuracy([a["predicted_label"] for a in answers], data["iris"]) > 0.9


@pytest.mark.parametrize("objective, dataset, extra", [
    ("binary:logistic", "breast_cancer", {}),
    ("multi:softprob", "iris", {"num_class": "3"}),
    ("multi:softmax", "iris", {"num_class": "3"}),
])
def test_xgboost_answers_one_csv_line_per_record_as_its_container_prints_it(mini_engine, data, objective, dataset,
                                                                         extra):
    # GIVEN an XGBoost model of the dataset's training records
    name = f"tx-xgb-{objective.replace(':', '-')}"
    create_model(mini_engine, name, "xgboost", train(
        mini_engine, name, "xgboost", {"objective": objective, "num_round": "20", "max_depth": "3", **extra},
        [_csv_channel("train", dataset, "train")]))
    # WHEN the validation records are transformed with text/csv answers
    job = run_transform(mini_engine, transform_request(
        name, name, f"s3://{BUCKET}/tx/{dataset}/validation/", "text/csv", "text/csv", processing=CSV_PROCESSING))
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    lines = read_text(mini_engine, f"s3://{BUCKET}/tx-out/{name}/validation.csv.out").splitlines()
    labels = data[dataset]
    assert len(lines) == len(labels)
    # THEN one line a record as the container writes it in a batch transform (str() of each prediction)
    if objective == "binary:logistic":
        probabilities = [float(line) for line in lines]
        assert all(0 <= p <= 1 for p in probabilities)
        assert accuracy([int(p > 0.5) for p in probabilities], labels) > 0.9
    elif objective == "multi:softprob":
        rows = [ast.literal_eval(line) for line in lines]  # "[p0, p1, p2]": the Python list the server prints
        assert all(line.startswith("[") and len(row) == 3 and abs(sum(row) - 1) < 1e-4 for line, row in zip(lines, rows))
        assert accuracy([max(range(3), key=row.__getitem__) for row in rows], labels) > 0.85
    else:
        assert all(line in {"0.0", "1.0", "2.0"} for line in lines)
        assert accuracy([float(line) for line in lines], labels) > 0.85


def test_xgboost_joins_its_answers_to_the_input_rows_when_asked(mini_engine, data):
    # GIVEN a binary XGBoost model, and JoinSource Input with the label column filtered out of the request
    name = "tx-xgb-join"
    create_model(mini_engine, name, "xgboost", train(
        mini_engine, name, "xgboost", {"objective": "binary:logistic", "num_round": "10"},
        [_csv_channel("train", "breast_cancer", "train")]))
    # WHEN it runs
    job = run_transform(mini_engine, transform_request(
        name, name, f"s3://{BUCKET}/tx/breast_cancer/validation/", "text/csv", "text/csv",
        processing={"InputFilter": "$[1:]", "JoinSource": "Input", "OutputFilter": "$[0,-1]"}))
    # THEN each line is the input row's label (kept by the OutputFilter) and the answer, in order
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    rows = [line.split(",") for line in read_text(mini_engine, f"s3://{BUCKET}/tx-out/{name}/validation.csv.out").splitlines()]
    assert [row[0] for row in rows] == data["breast_cancer"]
    assert accuracy([int(float(row[1]) > 0.5) for row in rows], data["breast_cancer"]) > 0.9


@pytest.mark.parametrize("accept", ["application/json", "application/jsonlines"])
def test_image_classification_answers_each_image_of_a_manifest_in_its_own_out_file(mini_engine, data, accept):
    # GIVEN an image-classification model trained on the digits' augmented manifest (Pipe mode)
    name = f"tx-ic-{accept.split('/')[1]}"
    manifest = {"ChannelName": "train", "ContentType": "application/x-image", "RecordWrapperType": "RecordIO",
                "DataSource": {"S3DataSource": {"S3DataType": "AugmentedManifestFile",
                                                "S3Uri": f"s3://{BUCKET}/tx/digits/train.manifest",
                                                "AttributeNames": ["source-ref", "class"]}}}
    create_model(mini_engine, name, "image-classification", train(
        mini_engine, name, "image-classification",
        {"num_classes": "10", "num_training_samples": "160", "image_shape": "1,16,16", "epochs": "20",
         "optimizer": "adam", "learning_rate": "0.01"}, [manifest], input_mode="Pipe"))
    # WHEN a ManifestFile of the held-out images is transformed, one image an object (SplitType None)
    job = run_transform(mini_engine, transform_request(
        name, name, f"s3://{BUCKET}/tx/digits/validation.manifest", "application/x-image", accept,
        data_type="ManifestFile", split="None", strategy="SingleRecord"))
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    # THEN each listed image has <its relative path>.out holding every class's probability
    listed = json.loads(read_text(mini_engine, f"s3://{BUCKET}/tx/digits/validation.manifest"))[1:]
    assert sorted(output_keys(mini_engine, name)) == sorted(f"tx-out/{name}/{image}.out" for image in listed)
    predicted = []
    for image in listed:
        answer = json.loads(read_text(mini_engine, f"s3://{BUCKET}/tx-out/{name}/{image}.out"))
        scores = answer if accept == "application/json" else answer["prediction"]
        assert len(scores) == 10 and abs(sum(scores) - 1) < 1e-6
        predicted.append(max(range(10), key=scores.__getitem__))
    assert accuracy(predicted, data["digits"]) > 0.5  # chance: 0.1


def test_blazingtext_answers_the_top_label_of_each_source_record(mini_engine, data):
    # GIVEN a supervised BlazingText model of the scipy docs' training lines
    name = "tx-bt"
    create_model(mini_engine, name, "blazingtext", train(
        mini_engine, name, "blazingtext",
        {"mode": "supervised", "epochs": "20", "learning_rate": "0.5", "word_ngrams": "2", "min_count": "1"},
        [{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/tx/scipy_docs/train/"}}}]))
    # WHEN the held-out {"source": ...} records are transformed as JSON Lines
    job = run_transform(mini_engine, transform_request(
        name, name, f"s3://{BUCKET}/tx/scipy_docs/validation/", "application/jsonlines", "application/jsonlines"))
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    answers = [json.loads(line) for line in read_text(
        mini_engine, f"s3://{BUCKET}/tx-out/{name}/source.jsonl.out").splitlines()]
    # THEN one {"prob": [p], "label": ["__label__<class>"]} a record (k=1), in order, well above chance (1/6)
    assert len(answers) == len(data["scipy_docs"])
    assert all(list(a) == ["prob", "label"] and len(a["prob"]) == len(a["label"]) == 1 for a in answers)
    assert sum(a["label"][0] == label for a, label in zip(answers, data["scipy_docs"])) / len(answers) > 0.5


def test_blazingtext_gives_the_top_k_labels_a_record_asks_for_and_ignores_the_accept(mini_engine, data):
    # GIVEN a BlazingText model and records asking for k=3
    name = "tx-bt-k"
    create_model(mini_engine, name, "blazingtext", train(
        mini_engine, name, "blazingtext", {"mode": "supervised", "epochs": "5", "min_count": "1"},
        [{"ChannelName": "train", "DataSource": {"S3DataSource": {
            "S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/tx/scipy_docs/train/"}}}]))
    mini_engine.client("s3").put_object(Bucket=BUCKET, Key="tx/bt-k/in.jsonl", Body=b'{"source": "solve a linear system", "k": 3}\n')
    # WHEN the Accept differs from the ContentType ("If they differ, the Accept field is ignored")
    job = run_transform(mini_engine, transform_request(
        name, name, f"s3://{BUCKET}/tx/bt-k/", "application/jsonlines", "application/json"))
    # THEN the answer is JSON Lines with the three most likely labels, the most likely first
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    (answer,) = [json.loads(line) for line in read_text(mini_engine, f"s3://{BUCKET}/tx-out/{name}/in.jsonl.out").splitlines()]
    assert len(answer["label"]) == 3 and answer["prob"] == sorted(answer["prob"], reverse=True)


# --- output naming, encryption -----------------------------------------------------------------------------

def test_every_object_under_the_prefix_gets_its_relative_path_plus_out_encrypted_with_the_kms_key(mini_engine, data):
    # GIVEN objects under an S3Uri that is a key prefix, not a folder ("part" matches part-a.csv and partition/b.csv)
    name = "tx-naming"
    create_model(mini_engine, name, "linear-learner", train(
        mini_engine, name, "linear-learner", {"predictor_type": "multiclass_classifier", "num_classes": "3", "epochs": "5"},
        [_csv_channel("train", "iris", "train")]))
    s3 = mini_engine.client("s3")
    validation = read_text(mini_engine, f"s3://{BUCKET}/tx/iris/validation/validation.csv")
    for key in ("tx/naming/part-a.csv", "tx/naming/partition/b.csv", "tx/naming/other.csv"):
        s3.put_object(Bucket=BUCKET, Key=key, Body=validation.encode())
    # WHEN the transform reads s3://bucket/tx/naming/part with an output KMS key
    request = transform_request(name, name, f"s3://{BUCKET}/tx/naming/part", "text/csv", "application/jsonlines",
                                processing=CSV_PROCESSING)
    request["TransformOutput"]["KmsKeyId"] = "arn:aws:kms:us-east-1:123456789012:key/transform-output"
    job = run_transform(mini_engine, request)
    # THEN each matching object's output is S3OutputPath + its path below the S3Uri's folder + .out, SSE-KMS
    assert job["TransformJobStatus"] == "Completed", job.get("FailureReason")
    assert sorted(output_keys(mini_engine, name)) == [f"tx-out/{name}/part-a.csv.out", f"tx-out/{name}/partition/b.csv.out"]
    head = s3.head_object(Bucket=BUCKET, Key=f"tx-out/{name}/partition/b.csv.out")
    assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", request["TransformOutput"]["KmsKeyId"])
    # AND the description echoes the request, with its times
    assert job["ModelName"] == name and job["TransformInput"] == request["TransformInput"]
    assert job["TransformOutput"] == request["TransformOutput"] and job["DataProcessing"] == CSV_PROCESSING
    assert job["TransformEndTime"] >= job["TransformStartTime"] >= job["CreationTime"]
    assert "FailureReason" not in job


# --- failures --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ll_model(mini_engine, data) -> str:
    """A binary linear-learner model named "tx-ll-shared"."""
    name = "tx-ll-shared"
    create_model(mini_engine, name, "linear-learner", train(
        mini_engine, name, "linear-learner", {"predictor_type": "binary_classifier", "epochs": "3"},
        [_csv_channel("train", "breast_cancer", "train")]))
    return name


def _breast_cancer_request(name: str, model: str, **changes) -> dict:
    options = {"processing": CSV_PROCESSING} | changes
    accept = options.pop("accept", "application/jsonlines")
    return transform_request(name, model, f"s3://{BUCKET}/tx/breast_cancer/validation/", "text/csv", accept, **options)


def test_an_injected_failure_ends_the_job_failed_with_its_reason_and_no_output(mini_engine, ll_model):
    # GIVEN the transform fleet told to fail one job
    mini_engine.transforms.fail_transform_jobs(lambda name: name == "tx-injected", reason="AlgorithmError: boom")
    # WHEN it runs
    job = run_transform(mini_engine, _breast_cancer_request("tx-injected", ll_model))
    # THEN it ends Failed with that reason, and wrote nothing
    assert (job["TransformJobStatus"], job["FailureReason"]) == ("Failed", "AlgorithmError: boom")
    assert output_keys(mini_engine, "tx-injected") == []


def test_an_accept_the_container_does_not_answer_fails_the_job_with_its_406(mini_engine, ll_model):
    # WHEN linear-learner is asked for text/csv answers (it answers JSON, JSON Lines and protobuf only)
    job = run_transform(mini_engine, _breast_cancer_request("tx-bad-accept", ll_model, accept="text/csv"))
    # THEN the job fails naming the object and the container's refusal, and writes no partial output
    assert job["TransformJobStatus"] == "Failed"
    assert job["FailureReason"].startswith(
        f"ClientError: {BUCKET}/tx/breast_cancer/validation/validation.csv: ClientError: 406 (Not Acceptable): "
        "Accept type text/csv is not supported by linear-learner")
    assert output_keys(mini_engine, "tx-bad-accept") == []


def test_a_content_type_the_container_does_not_read_fails_the_job_with_its_415(mini_engine, ll_model):
    job = run_transform(mini_engine, transform_request(
        "tx-bad-content", ll_model, f"s3://{BUCKET}/tx/breast_cancer/validation/", "text/plain",
        "application/jsonlines"))
    assert job["TransformJobStatus"] == "Failed"
    assert "ClientError: 415 (Unsupported Media Type): Content-type text/plain is not supported" in job["FailureReason"]


@pytest.mark.parametrize("input_filter, reason", [
    ("$.features", "only index based JSONPaths apply"),
    ("$..features", "is not a JSONPath SageMaker supports"),
    ("features", "must start with $"),
])
def test_an_input_filter_sagemaker_cannot_apply_fails_the_job(mini_engine, ll_model, input_filter, reason):
    name = f"tx-filter-{abs(hash(input_filter)) % 10_000}"
    job = run_transform(mini_engine, _breast_cancer_request(name, ll_model, processing={"InputFilter": input_filter}))
    assert job["TransformJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: ") and reason in job["FailureReason"]


def test_a_transform_of_a_model_that_does_not_exist_is_refused_before_the_job_exists(mini_engine, data):
    with pytest.raises(ClientError) as refused:
        mini_engine.client("sagemaker").create_transform_job(**_breast_cancer_request("tx-no-model", "no-such-model"))
    assert refused.value.response["Error"]["Code"] == "ValidationException"
    assert refused.value.response["Error"]["Message"] == (
        'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/no-such-model".')
    with pytest.raises(ClientError):
        mini_engine.client("sagemaker").describe_transform_job(TransformJobName="tx-no-model")


def test_names_are_refused_the_second_time(mini_engine, ll_model):
    sagemaker = mini_engine.client("sagemaker")
    with pytest.raises(ClientError) as model_twice:
        create_model(mini_engine, ll_model, "linear-learner", f"s3://{BUCKET}/whatever.tar.gz")
    assert model_twice.value.response["Error"]["Code"] == "ValidationException"
    assert "Cannot create already existing model" in model_twice.value.response["Error"]["Message"]
    run_transform(mini_engine, _breast_cancer_request("tx-twice", ll_model))
    with pytest.raises(ClientError) as job_twice:
        sagemaker.create_transform_job(**_breast_cancer_request("tx-twice", ll_model))
    assert job_twice.value.response["Error"]["Code"] == "ResourceInUse"


def test_a_custom_script_models_inference_is_not_emulated(mini_engine, ll_model, data):
    model_data = mini_engine.client("sagemaker").describe_model(ModelName=ll_model)["PrimaryContainer"]["ModelDataUrl"]
    create_model(mini_engine, "tx-script-model", None, model_data, image=f"local:{TEST_SCRIPT}")
    job = run_transform(mini_engine, _breast_cancer_request("tx-script", "tx-script-model"))
    assert job["TransformJobStatus"] == "Failed"
    assert job["FailureReason"].startswith("ClientError: The local engine does not emulate the inference of 'local:")


def test_stop_transform_job_ends_the_job_stopped_without_output(mini_engine, ll_model):
    # GIVEN a job held InProgress
    mini_engine.transforms.delay_transform_jobs(None, job_names=lambda name: name == "tx-stopped")
    sagemaker = mini_engine.client("sagemaker")
    sagemaker.create_transform_job(**_breast_cancer_request("tx-stopped", ll_model))
    assert wait_for_transform_job(mini_engine, "tx-stopped", {"InProgress"})["TransformJobStatus"] == "InProgress"
    # WHEN it is stopped
    sagemaker.stop_transform_job(TransformJobName="tx-stopped")
    # THEN it ends Stopped, with no output; a second stop is refused
    assert wait_for_transform_job(mini_engine, "tx-stopped", {"Stopped", "Completed", "Failed"})["TransformJobStatus"] == "Stopped"
    assert output_keys(mini_engine, "tx-stopped") == []
    with pytest.raises(ClientError) as again:
        sagemaker.stop_transform_job(TransformJobName="tx-stopped")
    assert again.value.response["Error"]["Code"] == "ValidationException"


# --- Step Functions: createModel and createTransformJob.sync tasks ------------------------------------------

def _fold_machine(engine, name: str, *, transform_parameters: dict | None = None) -> str:
    """A state machine of the two tasks the out-of-fold predictions add to a fold's iteration."""
    predict = {
        "TransformJobName.$": "$.fold.transform.TransformJobName", "ModelName.$": "$.fold.transform.ModelName",
        "TransformInput.$": "$.fold.transform.TransformInput", "TransformOutput.$": "$.fold.transform.TransformOutput",
        "TransformResources.$": "$.fold.transform.TransformResources",
        "DataProcessing.$": "$.fold.transform.DataProcessing", "BatchStrategy.$": "$.fold.transform.BatchStrategy",
        "MaxConcurrentTransforms.$": "$.fold.transform.MaxConcurrentTransforms",
        "MaxPayloadInMB.$": "$.fold.transform.MaxPayloadInMB", "Tags.$": "$.fold.Tags",
        **(transform_parameters or {}),
    }
    definition = {"StartAt": "CreateFoldModel", "States": {
        "CreateFoldModel": {
            "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createModel",
            "Parameters": {
                "ModelName.$": "$.fold.transform.ModelName", "ExecutionRoleArn": ROLE,
                "PrimaryContainer": {"Image.$": "$.job.AlgorithmSpecification.TrainingImage",
                                     "ModelDataUrl.$": "$.training.ModelArtifacts.S3ModelArtifacts"},
                "EnableNetworkIsolation.$": "$.job.EnableNetworkIsolation", "Tags.$": "$.fold.Tags"},
            "ResultPath": "$.model", "Next": "PredictFold"},
        "PredictFold": {
            "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTransformJob.sync", "Parameters": predict,
            "ResultSelector": {"TransformJobName.$": "$.TransformJobName", "TransformJobStatus.$": "$.TransformJobStatus"},
            "End": True},
    }}
    return engine.client("stepfunctions").create_state_machine(
        name=name, definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/state-machine",
    )["stateMachineArn"]


def _fold_input(engine, job_name: str, name: str) -> dict:
    job = engine.client("sagemaker").describe_training_job(TrainingJobName=job_name)
    request = _breast_cancer_request(name, name)
    return {
        "job": {"AlgorithmSpecification": {"TrainingImage": job["AlgorithmSpecification"]["TrainingImage"]},
                "EnableNetworkIsolation": job["EnableNetworkIsolation"]},
        "training": {"ModelArtifacts": job["ModelArtifacts"]},
        "fold": {"Tags": [{"Key": "fold", "Value": "0"}],
                 "transform": {**{key: request[key] for key in ("TransformJobName", "ModelName", "TransformInput",
                                                                "TransformOutput", "TransformResources", "BatchStrategy")},
                               "DataProcessing": request["DataProcessing"], "MaxConcurrentTransforms": 1,
                               "MaxPayloadInMB": 6}},
    }


def _run(engine, machine_arn: str, document: dict, name: str):
    client = engine.client("stepfunctions")
    arn = client.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(document))["executionArn"]
    return wait_for_execution(client, arn, timeout=60, poll_seconds=0.05)


@pytest.fixture(scope="module")
def fold_machine(mini_engine, ll_model) -> str:
    return _fold_machine(mini_engine, "tx-fold")


def test_a_fold_model_and_its_transform_run_as_step_functions_tasks(mini_engine, fold_machine):
    # GIVEN a fold whose training job completed
    document = _fold_input(mini_engine, "tx-ll-shared", "tx-sfn-fold0")
    # WHEN the two tasks run
    result = _run(mini_engine, fold_machine, document, "tx-sfn-ok")
    # THEN createModel's result is CreateModel's response and the .sync transform's is its completed description
    assert result.status == "SUCCEEDED", result.cause
    assert result.output == {"TransformJobName": "tx-sfn-fold0", "TransformJobStatus": "Completed"}
    succeeded = [json.loads(event["taskSucceededEventDetails"]["output"]) for event in result.history
                 if event["type"] == "TaskSucceeded"]
    assert succeeded[0] == {"ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/tx-sfn-fold0"}
    assert succeeded[1]["TransformJobStatus"] == "Completed" and isinstance(succeeded[1]["TransformEndTime"], int)
    # AND the model keeps what the task asked for, and the predictions are on S3
    model = mini_engine.client("sagemaker").describe_model(ModelName="tx-sfn-fold0")
    assert model["EnableNetworkIsolation"] is False and model["PrimaryContainer"]["Image"] == LINEAR_LEARNER_IMAGE
    assert output_keys(mini_engine, "tx-sfn-fold0") == ["tx-out/tx-sfn-fold0/validation.csv.out"]


def test_a_failed_transform_fails_the_task_with_states_task_failed_and_its_description(mini_engine, fold_machine):
    mini_engine.transforms.fail_transform_jobs(lambda name: name == "tx-sfn-fold1", reason="ClientError: injected")
    result = _run(mini_engine, fold_machine, _fold_input(mini_engine, "tx-ll-shared", "tx-sfn-fold1"), "tx-sfn-failed")
    assert (result.status, result.error) == ("FAILED", "States.TaskFailed")
    cause = json.loads(result.cause)
    assert (cause["TransformJobStatus"], cause["FailureReason"]) == ("Failed", "ClientError: injected")


def test_a_model_name_taken_fails_the_create_model_task_as_sagemaker_refuses_it(mini_engine, fold_machine):
    document = _fold_input(mini_engine, "tx-ll-shared", "tx-sfn-fold2")
    document["fold"]["transform"]["ModelName"] = "tx-ll-shared"  # exists already
    result = _run(mini_engine, fold_machine, document, "tx-sfn-taken")
    assert (result.status, result.error) == ("FAILED", "SageMaker.AmazonSageMakerException")
    assert "Cannot create already existing model" in result.cause and "Error Code: ValidationException;" in result.cause


def test_a_transform_of_a_missing_model_fails_the_task_before_any_job_exists(mini_engine):
    # GIVEN a machine that runs only the transform, of a model nobody created
    machine = _fold_machine(mini_engine, "tx-fold-missing-model")
    client = mini_engine.client("stepfunctions")
    definition = json.loads(client.describe_state_machine(stateMachineArn=machine)["definition"])
    definition["StartAt"] = "PredictFold"
    client.update_state_machine(stateMachineArn=machine, definition=json.dumps(definition))
    result = _run(mini_engine, machine, _fold_input(mini_engine, "tx-ll-shared", "tx-sfn-fold3"), "tx-sfn-missing")
    assert (result.status, result.error) == ("FAILED", "SageMaker.AmazonSageMakerException")
    assert result.cause.startswith(
        'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/tx-sfn-fold3". (Service: AmazonSageMaker; '
        "Status Code: 400; Error Code: ValidationException;")


def test_a_parameter_step_functions_does_not_pass_fails_the_task(mini_engine):
    machine = _fold_machine(mini_engine, "tx-fold-capture", transform_parameters={
        "DataCaptureConfig": {"DestinationS3Uri": f"s3://{BUCKET}/capture/"}})
    result = _run(mini_engine, machine, _fold_input(mini_engine, "tx-ll-shared", "tx-sfn-fold4"), "tx-sfn-capture")
    assert (result.status, result.error) == ("FAILED", "States.Runtime")
    assert "The field(s) DataCaptureConfig are not supported by Step Functions" in result.cause
    with pytest.raises(ClientError):
        mini_engine.client("sagemaker").describe_transform_job(TransformJobName="tx-sfn-fold4")


def test_stopping_the_execution_stops_its_running_transform(mini_engine, fold_machine):
    # GIVEN a fold's transform held InProgress
    mini_engine.transforms.delay_transform_jobs(None, job_names=lambda name: name == "tx-sfn-fold5")
    client = mini_engine.client("stepfunctions")
    arn = client.start_execution(stateMachineArn=fold_machine, name="tx-sfn-stop", input=json.dumps(
        _fold_input(mini_engine, "tx-ll-shared", "tx-sfn-fold5")))["executionArn"]
    wait_for_transform_job(mini_engine, "tx-sfn-fold5", {"InProgress"})
    # WHEN the execution is stopped
    client.stop_execution(executionArn=arn, error="UserStopped", cause="enough")
    # THEN Step Functions stops the job (StopTransformJob), which ends Stopped
    job = wait_for_transform_job(mini_engine, "tx-sfn-fold5", {"Stopped", "Completed", "Failed"})
    assert job["TransformJobStatus"] == "Stopped"
    deadline = time.monotonic() + 10
    while client.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.describe_execution(executionArn=arn)["status"] == "ABORTED"


def test_create_model_has_no_sync_pattern(mini_engine):
    # GIVEN a createModel.sync task (the page lists .sync for the jobs only)
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Task", "Resource": "arn:aws:states:::sagemaker:createModel.sync",
        "Parameters": {"ModelName": "x", "PrimaryContainer": {"Image": "i"}}, "End": True}}}
    # WHEN the state machine is created THEN it is refused, naming the resource
    with pytest.raises(ClientError) as refused:
        mini_engine.client("stepfunctions").create_state_machine(
            name="tx-model-sync", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/state-machine")
    assert "sagemaker:createModel.sync is not supported: CreateModel supports the request-response pattern only" in str(
        refused.value)



# --- the data processing itself (pure) ---------------------------------------------------------------------

@pytest.mark.parametrize("expression, record, fmt, expected", [
    ("$", b'1,"a,b",3', "csv", b'1,"a,b",3'),
    ("$[1:]", b"0,1.5,2.5", "csv", b"1.5,2.5"),
    ("$[:-1]", b"1.5,2.5,0", "csv", b"1.5,2.5"),
    ("$[0,2]", b"a,b,c", "csv", b"a,c"),
    ("$[-1]", b"a,b,c", "csv", b"c"),
    ("$[2:5]", b"0,1,2,3,4,5,6", "csv", b"2,3,4"),
    ("$.features", b'{"id": 7, "features": [1, 2]}', "json", b"[1, 2]"),
    ("$.data.source", b'{"data": {"source": "x y"}}', "json", b'"x y"'),
    ("$['id','label']", b'{"id": 7, "label": 1, "x": 0}', "json", b'{"id": 7, "label": 1}'),
    ("$.features[1:]", b'{"features": [1, 2, 3]}', "json", b"[2, 3]"),
])
def test_input_filters_select_as_sagemakers_jsonpath_subset_does(expression, record, fmt, expected):
    from smx_validator.local.transform_records import JsonPathFilter

    assert JsonPathFilter.parse(expression, field="InputFilter").apply(record, fmt) == expected


def test_multi_record_requests_fill_max_payload_and_join_keeps_each_input_row():
    from smx_validator.local.transform_records import DataProcessing, DataProcessingError

    # GIVEN records of about 1 MB of features, MaxPayloadInMB 2 and JoinSource Input on label-first CSV
    row = b"1," + b",".join([b"2"] * 500_000)
    processing = DataProcessing.from_request({
        "TransformInput": {"ContentType": "text/csv", "SplitType": "Line"},
        "TransformOutput": {"Accept": "text/csv", "AssembleWith": "Line"},
        "DataProcessing": {"InputFilter": "$[1:]", "JoinSource": "Input"}, "MaxPayloadInMB": 2})
    # WHEN three records are grouped
    requests = processing.requests([row, row, row])
    # THEN two fit a request (with the newline between them), the third goes alone, without its label
    assert [len(request.records) for request in requests] == [2, 1]
    assert all(not record.startswith(b"1,") for request in requests for record in request.records)
    # AND the answers are joined to the rows as read, one line each
    output = processing.assemble(requests, [b"0.5\n" * len(request.records) for request in requests])
    assert output.splitlines() == [row + b",0.5"] * 3
    # AND a record larger than MaxPayloadInMB fails the object
    with pytest.raises(DataProcessingError, match="larger than MaxPayloadInMB"):
        processing.requests([b"1," + b",".join([b"2"] * 1_100_000)])
