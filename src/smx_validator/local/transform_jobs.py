"""The local stand-in for SageMaker's Batch Transform fleet, and the models it serves.

The emulated CreateModel (``moto_bridge``) asks ``admit_model`` first; the emulated CreateTransformJob asks
``admit`` and then ``start``s the job, which runs on a thread of its own and publishes what
DescribeTransformJob shows (status, FailureReason, TransformStartTime, TransformEndTime) as SageMaker would.
A job, as "Use batch transform to run inference" describes it
(https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform.html):

1. takes the model's PrimaryContainer: the image picks the local inference container exactly as it picks the
   trainer (``trainers.predictor_class_for``), and ``ModelDataUrl``'s ``model.tar.gz`` is read from the
   emulated S3 and extracted;
2. lists the input objects as a training channel lists them (``trainers.channels``): S3Prefix, every object
   whose key starts with the S3Uri's key; ManifestFile, the objects a manifest lists; CompressionType Gzip;
3. cuts each object into records, filters and groups them into requests, and assembles the answers
   (``transform_records``);
4. writes each object's output to ``S3OutputPath`` + the object's path relative to the input + ``.out``:
   "For every S3 object used as input for the transform job, batch transform stores the transformed data with
   an .out suffix in a corresponding subfolder in the location in the output prefix"
   (TransformOutput.S3OutputPath, https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TransformOutput.html).
   For S3Prefix the relative path is the key minus the S3Uri's key up to and including its last "/"
   (``s3://b/in/`` + ``in/a/x.csv`` -> ``a/x.csv.out``; ``s3://b/in/x.csv`` -> ``x.csv.out``); for a manifest,
   the path the manifest lists. With ``KmsKeyId`` the objects are written with SSE-KMS under that key.
   "Batch transform doesn't upload partially processed objects"; "If any object fails in the transform job
   batch transform marks the job as failed": an object the container refuses gets no output, the others
   are written, and the job ends Failed naming the first object that failed. A job stopped with
   StopTransformJob ends Stopped and writes nothing ("When you stop a batch transform job before it is
   completed, Amazon SageMaker doesn't store the job's output in Amazon S3", API_StopTransformJob).

The FailureReason of an object the container refused holds what SageMaker writes to the job's data log
(``<bucket>/<key>: ClientError: <status>`` and the container's message; SageMaker's own FailureReason then
only says "See job logs for more information").

Tests can make jobs fail or wait: ``inject_create_error`` refuses CreateTransformJob requests,
``fail_transform_jobs`` ends matching jobs Failed with a given reason, ``delay_transform_jobs`` keeps them
InProgress for a while (so that a stop can reach them).
"""

from __future__ import annotations

import io
import re
import shutil
import tarfile
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import botocore.session
from botocore.exceptions import ClientError

from .job_threads import JobThreads
from .moto_bridge import SageMakerApiError
from .trainers import TrainingClientError, predictor_class_for
from .trainers.channels import Channel, ChannelDataError, ChannelReader, split_s3_uri
from .trainers.serving import InferenceError, InferenceNotEmulated, ModelLoadError
from .training_jobs import JobRecord
from .transform_records import DataProcessing, DataProcessingError, split_records

Publish = Callable[[dict[str, Any]], None]
_FAILURE_REASON_LIMIT = 1024
_SAGEMAKER_MODEL = botocore.session.get_session().get_service_model("sagemaker")
# SageMaker's own patterns, from its service model (botocore sagemaker 2017-07-24).
_TRANSFORM_JOB_NAME_PATTERN = _SAGEMAKER_MODEL.shape_for("TransformJobName").metadata["pattern"]
_MODEL_NAME_PATTERN = _SAGEMAKER_MODEL.shape_for("ModelName").metadata["pattern"]
# "The value of MaxPayloadInMB cannot be greater than 100 MB. If you specify the MaxConcurrentTransforms
# parameter, the value of (MaxConcurrentTransforms * MaxPayloadInMB) also cannot exceed 100 MB." (API_CreateTransformJob)
_MAX_PAYLOAD_PRODUCT_MB = 100
_EMULATED_DATA_TYPES = ("S3Prefix", "ManifestFile")


@dataclass
class _InjectedFailure:
    reason: str
    matches: Callable[[str], bool]


@dataclass
class _Delay:
    seconds: float | None  # None: until the job is stopped
    matches: Callable[[str], bool]


@dataclass
class _RunningTransform:
    request: dict[str, Any]
    publish: Publish
    record: JobRecord
    stop_requested: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    finished: bool = False


@dataclass
class _Outcome:
    status: str  # Completed, Failed, Stopped
    failure_reason: str | None = None


class _JobFailed(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TransformJobService(JobThreads):
    """Runs the transform jobs of one emulated account; thread-safe."""

    def __init__(self, s3_client_factory: Callable[[], Any]):
        self._s3_client_factory = s3_client_factory
        super().__init__()
        self._jobs: dict[str, _RunningTransform] = {}
        self._failures: list[_InjectedFailure] = []
        self._delays: list[_Delay] = []
        self.records: list[JobRecord] = []

    # -- what tests and the engine use ------------------------------------------------------

    def fail_transform_jobs(self, matching: Callable[[str], bool] | None,
                            reason: str = "AlgorithmError: See job logs for more information") -> None:
        """Every transform job that starts from now on whose name ``matching`` accepts ends Failed with
        FailureReason ``reason`` once it has started, without writing any output. ``None`` clears every
        failure asked for so far."""
        with self._lock:
            if matching is None:
                self._failures.clear()
            else:
                self._failures.append(_InjectedFailure(reason, matching))

    def delay_transform_jobs(self, seconds: float | None, *,
                             job_names: Callable[[str], bool] = lambda name: True) -> None:
        """Transform jobs whose name ``job_names`` accepts stay InProgress ``seconds`` before they read any
        input (None: until they are stopped)."""
        with self._lock:
            self._delays.append(_Delay(seconds, job_names))

    # -- the bridge's TransformService protocol -----------------------------------------------

    def admit_model(self, request: dict[str, Any]) -> None:
        """CreateModel validations SageMaker makes before the model exists (raises SageMakerApiError)."""
        problems = []
        name = request["ModelName"]
        if not re.fullmatch(_MODEL_NAME_PATTERN, name):
            problems.append(f"1 validation error detected: Value '{name}' at 'modelName' failed to satisfy "
                            f"constraint: Member must satisfy regular expression pattern: {_MODEL_NAME_PATTERN}")
        if not request.get("PrimaryContainer") and not request.get("Containers"):
            problems.append("Either PrimaryContainer or Containers must be specified")
        if problems:
            raise SageMakerApiError("ValidationException", "; ".join(problems))

    def admit(self, request: dict[str, Any]) -> None:
        """CreateTransformJob validations SageMaker makes before the job exists (raises SageMakerApiError)."""
        name = request["TransformJobName"]
        self._refuse_if_injected(name)
        if request.get("Model") is None:
            raise SageMakerApiError("ValidationException", f'Could not find model "{request["ModelArn"]}".')
        problems = []
        if not re.fullmatch(_TRANSFORM_JOB_NAME_PATTERN, name):
            problems.append(f"1 validation error detected: Value '{name}' at 'transformJobName' failed to satisfy "
                            f"constraint: Member must satisfy regular expression pattern: {_TRANSFORM_JOB_NAME_PATTERN}")
        payload = request.get("MaxPayloadInMB")
        if payload is not None and payload > _MAX_PAYLOAD_PRODUCT_MB:
            problems.append(f"MaxPayloadInMB ({payload}) cannot be greater than {_MAX_PAYLOAD_PRODUCT_MB} MB")
        concurrency = request.get("MaxConcurrentTransforms")
        if payload and concurrency and payload * concurrency > _MAX_PAYLOAD_PRODUCT_MB:
            problems.append(f"MaxConcurrentTransforms * MaxPayloadInMB ({concurrency} * {payload}) cannot be greater "
                            f"than {_MAX_PAYLOAD_PRODUCT_MB} MB")
        if problems:
            raise SageMakerApiError("ValidationException", "; ".join(problems))

    def start(self, request: dict[str, Any], publish: Publish) -> None:
        job = _RunningTransform(request, publish, JobRecord(request["TransformJobName"], _now()))
        thread = threading.Thread(target=self._run, args=(job,), name=f"transform-job-{job.record.name}", daemon=True)
        with self._lock:
            self._jobs[job.record.name] = job
            self.records.append(job.record)
        self._start_thread(thread)

    def stop(self, job_name: str) -> None:
        """StopTransformJob: Stopping, then Stopped once the job's thread has let go."""
        with self._lock:
            job = self._jobs.get(job_name)
        if job is None:
            return
        with job.lock:  # a job that just ended stays as it ended
            if job.finished or job.stop_requested.is_set():
                return
            job.stop_requested.set()
            job.publish({"TransformJobStatus": "Stopping"})

    # -- one job ------------------------------------------------------------------------------

    def _run(self, job: _RunningTransform) -> None:
        work_dir = Path(tempfile.mkdtemp(prefix=f"smx-transform-{job.record.name}-"))
        try:
            job.record.started_at = _now()
            job.publish({"TransformStartTime": job.record.started_at})
            outcome = self._transform(job, work_dir)
        except Exception as unexpected:  # an engine bug must still end the job, visibly
            outcome = _Outcome("Failed", f"InternalServerError: local engine: {type(unexpected).__name__}: {unexpected}")
        finally:
            shutil.rmtree(work_dir, ignore_errors=True)
        self._finish(job, outcome)

    def _transform(self, job: _RunningTransform, work_dir: Path) -> _Outcome:
        if not self._wait_for_delay(job):
            return _Outcome("Stopped")
        with self._lock:
            failure = next((item for item in self._failures if item.matches(job.record.name)), None)
        if failure is not None:
            return _Outcome("Failed", failure.reason)
        request = job.request
        s3 = self._s3_client_factory()
        try:
            processing = DataProcessing.from_request(request)
            predictor = self._load_predictor(s3, request["Model"], work_dir)
            reader = ChannelReader(s3, _input_channel(request["TransformInput"]))
            objects = reader.objects()
        except _JobFailed as failed:
            return _Outcome("Failed", failed.reason)
        except (TrainingClientError, ChannelDataError, DataProcessingError, InferenceNotEmulated) as error:
            return _Outcome("Failed", f"ClientError: {error}")
        outputs: list[tuple[str, bytes]] = []
        failures: list[str] = []
        for bucket, key, relative in objects:
            if job.stop_requested.is_set():
                return _Outcome("Stopped")
            try:
                output = self._transform_object(reader, predictor, processing, bucket, key, job)
            except _JobFailed as failed:
                failures.append(failed.reason)
                continue
            if output is None:
                return _Outcome("Stopped")
            outputs.append((_output_uri(request["TransformOutput"]["S3OutputPath"], relative), output))
        with job.lock:
            if job.stop_requested.is_set():
                return _Outcome("Stopped")
            job.finished = True  # from here the job completes or fails: a stop no longer applies to it
        self._upload(s3, request["TransformOutput"], outputs)
        if failures:
            more = f" ({len(failures) - 1} more objects failed)" if len(failures) > 1 else ""
            return _Outcome("Failed", failures[0] + more)
        return _Outcome("Completed")

    def _wait_for_delay(self, job: _RunningTransform) -> bool:
        """False when the job was stopped while it was held back."""
        with self._lock:
            delay = next((item for item in self._delays if item.matches(job.record.name)), None)
        if delay is None:
            return not job.stop_requested.is_set()
        if delay.seconds is None:
            job.stop_requested.wait()
            return False
        return not job.stop_requested.wait(delay.seconds)

    def _load_predictor(self, s3: Any, model: dict[str, Any], work_dir: Path) -> Any:
        container = model.get("PrimaryContainer") or (model.get("Containers") or [{}])[0]
        if len(model.get("Containers") or []) > 1:
            raise _JobFailed("ClientError: the local engine does not emulate inference pipelines (a model with "
                             "several Containers)")
        predictor_class = predictor_class_for(container.get("Image") or "", container.get("Environment"))
        model_dir = work_dir / "model"
        model_dir.mkdir()
        url = container.get("ModelDataUrl")
        if not url:
            raise _JobFailed(f"ClientError: the model {model['ModelName']} has no ModelDataUrl: the built-in "
                             "algorithms load the model artifacts a training job wrote")
        try:
            bucket, key = split_s3_uri(url)
            archive = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (ClientError, ChannelDataError):
            raise _JobFailed(
                f"ClientError: Failed to download model data (bucket: {url[5:].partition('/')[0]}, key: "
                f"{url[5:].partition('/')[2]}). Please ensure that there is an object located at the URL and that "
                "the role passed to CreateModel has permissions to download the model.") from None
        try:
            with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tar:
                tar.extractall(model_dir, filter="data")
        except (tarfile.TarError, OSError) as error:
            raise _JobFailed(f"ClientError: the model data at {url} is not a tar.gz archive: {error}") from None
        try:
            return predictor_class(model_dir)
        except ModelLoadError as error:
            raise _JobFailed(f"AlgorithmError: Unable to load model: {error}") from None

    def _transform_object(self, reader: ChannelReader, predictor: Any, processing: DataProcessing, bucket: str,
                          key: str, job: _RunningTransform) -> bytes | None:
        """The object's output, or None once the job is being stopped; _JobFailed when the object fails."""
        where = f"{bucket}/{key}"
        try:
            body = reader.read(bucket, key)
            requests = processing.requests(split_records(body, processing.split_type))
        except (ChannelDataError, DataProcessingError) as error:
            raise _JobFailed(f"ClientError: {where}: {error}") from None
        answers = []
        for request in requests:
            if job.stop_requested.is_set():
                return None
            try:
                answers.append(predictor.invoke(request.body, processing.content_type, processing.accept).body)
            except InferenceError as refused:
                kind = "ClientError" if refused.status < 500 else "AlgorithmError"
                raise _JobFailed(f"{kind}: {where}: {kind}: {refused.status} ({refused.phrase}): "
                                 f"{refused.message}") from None
            except InferenceNotEmulated as error:
                raise _JobFailed(f"ClientError: {where}: {error}") from None
            except Exception as error:  # the container crashed on the request: a 500
                raise _JobFailed(f"AlgorithmError: {where}: 500 (Internal Server Error): "
                                 f"{type(error).__name__}: {error}") from None
        try:
            return processing.assemble(requests, answers)
        except DataProcessingError as error:
            raise _JobFailed(f"ClientError: {where}: {error}") from None

    def _upload(self, s3: Any, output: dict[str, Any], outputs: list[tuple[str, bytes]]) -> None:
        extra: dict[str, str] = {}
        if output.get("KmsKeyId"):
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": output["KmsKeyId"]}
        if output.get("Accept"):
            extra["ContentType"] = output["Accept"]
        for uri, body in outputs:
            bucket, key = split_s3_uri(uri)
            s3.put_object(Bucket=bucket, Key=key, Body=body, **extra)

    def _finish(self, job: _RunningTransform, outcome: _Outcome) -> None:
        ended = _now()
        status = outcome.status
        reason = outcome.failure_reason[:_FAILURE_REASON_LIMIT] if outcome.failure_reason else None
        fields: dict[str, Any] = {"TransformEndTime": ended, "TransformJobStatus": status}
        if status == "Failed":
            fields["FailureReason"] = reason
        with job.lock:
            job.finished = True
            job.record.ended_at, job.record.status = ended, status
            job.publish(fields)


def _input_channel(transform_input: dict[str, Any]) -> Channel:
    source = (transform_input.get("DataSource") or {}).get("S3DataSource") or {}
    data_type = source.get("S3DataType", "S3Prefix")
    if data_type not in _EMULATED_DATA_TYPES:
        raise ChannelDataError(f"S3DataType {data_type} is not emulated for batch transform by the local engine; "
                               f"use {' or '.join(_EMULATED_DATA_TYPES)}")
    return Channel(name="TransformInput", s3_data_type=data_type, s3_uri=source.get("S3Uri", ""),
                   content_type=transform_input.get("ContentType"),
                   compression_type=transform_input.get("CompressionType") or "None")


def _output_uri(output_path: str, relative: str) -> str:
    """S3OutputPath + the input object's relative path + ".out"."""
    return f"{output_path.rstrip('/')}/{relative}.out"


def _now() -> datetime:
    return datetime.now(timezone.utc)
