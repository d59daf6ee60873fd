"""The local stand-in for SageMaker's training fleet.

The emulated CreateTrainingJob (``moto_bridge``) admits a request here and starts it; each job
then runs on a thread of its own: its trainer reads the channels from the emulated S3, the
model is uploaded to ``{S3OutputPath}/{job}/output/model.tar.gz``, and every change is
published as the DescribeTrainingJob fields SageMaker would show (status, secondary status
and its transitions, times, FinalMetricDataList, ModelArtifacts, FailureReason, training and
billable seconds). MaxRuntimeInSeconds stops a job (``Stopped``/``MaxRuntimeExceeded``);
StopTrainingJob stops it (``Stopping`` -> ``Stopped``).

Capacity, which SageMaker does not always have, can be taken away by tests:
``delay_spot_capacity`` keeps managed spot jobs waiting for instances (``Starting``, "Insufficient
capacity error from EC2 while launching instances, retrying!"); a spot job whose
MaxWaitTimeInSeconds (waiting plus training) runs out ends ``Stopped``/``MaxWaitTimeExceeded``.
``set_instance_limit`` is the account's quota of an instance type: CreateTrainingJob requests
over it are refused with ``ResourceLimitExceeded`` before any job exists, as SageMaker does.

The trainer runs on a second thread so that a stop or the runtime limit ends the job on time
even inside a long scikit-learn fit; cooperative trainers also end there (check_stopping),
custom scripts are terminated. ``wait_until_idle`` waits for both threads of every job.
"""

from __future__ import annotations

import io
import math
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
from threadpoolctl import threadpool_limits

from .job_threads import JobThreads
from .moto_bridge import SageMakerApiError
from .trainers import TrainingAlgorithmError, TrainingClientError, TrainingContext, TrainingStopped, trainer_for
from .trainers.base import HyperParameters
from .trainers.channels import Channel, ChannelDataError, ChannelReader, split_s3_uri

Publish = Callable[[dict[str, Any]], None]
_FAILURE_REASON_LIMIT = 1024
_MAX_RUNTIME_MESSAGE = "Training job runtime exceeded MaxRuntimeInSeconds provided"
_MAX_WAIT_MESSAGE = "Training job wait time exceeded MaxWaitTimeInSeconds provided"
_NO_CAPACITY_MESSAGE = "Insufficient capacity error from EC2 while launching instances, retrying!"
# SageMaker's own pattern for TrainingJobName, from its service model (botocore sagemaker 2017-07-24).
_TRAINING_JOB_NAME_PATTERN = botocore.session.get_session().get_service_model("sagemaker").shape_for(
    "TrainingJobName").metadata["pattern"]


@dataclass
class JobRecord:
    """What the service observed of one job (for progress displays and concurrency checks)."""

    name: str
    created_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    status: str = "InProgress"


@dataclass
class _CapacityDelay:
    seconds: float | None  # None: the capacity never arrives
    matches: Callable[[str], bool]


@dataclass
class _RunningJob:
    request: dict[str, Any]
    publish: Publish
    record: JobRecord
    stop_requested: threading.Event = field(default_factory=threading.Event)
    stop_reason: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    finished: bool = False
    transitions: list[dict[str, Any]] = field(default_factory=list)
    context: TrainingContext | None = None


class TrainingJobService(JobThreads):
    """Runs the training jobs of one emulated account; thread-safe."""

    def __init__(self, s3_client_factory: Callable[[], Any], *, script_root: Path | None = None):
        # Jobs train concurrently on threads of this process: BLAS's own threads on top of them
        # spin against each other (a 5x slowdown was measured), so numerical libraries get one
        # thread each. This is process-wide, which is what a process running jobs wants.
        threadpool_limits(limits=1)
        self._s3_client_factory = s3_client_factory
        self._script_root = script_root or Path.cwd()
        super().__init__()
        self._jobs: dict[str, _RunningJob] = {}
        self._capacity_delays: list[_CapacityDelay] = []
        self._instance_limits: dict[str, int] = {}
        self._admitted: dict[str, dict[str, Any]] = {}  # admitted, not yet ended: name -> request
        self.records: list[JobRecord] = []

    # -- what tests and the engine use ------------------------------------------------------

    def delay_spot_capacity(self, seconds: float | None, *,
                            job_names: Callable[[str], bool] = lambda name: True) -> None:
        """Managed spot jobs whose name ``job_names`` accepts wait ``seconds`` for spot capacity
        before they start (None: it never comes, so MaxWaitTimeInSeconds ends them)."""
        with self._lock:
            self._capacity_delays.append(_CapacityDelay(seconds, job_names))

    def set_instance_limit(self, instance_type: str, instances: int | None) -> None:
        """The account's quota of ``instance_type`` for training jobs (None: no limit)."""
        with self._lock:
            if instances is None:
                self._instance_limits.pop(instance_type, None)
            else:
                self._instance_limits[instance_type] = instances

    # -- the bridge's TrainingService protocol ----------------------------------------------

    def admit(self, request: dict[str, Any]) -> None:
        name = request["TrainingJobName"]
        self._refuse_if_injected(name)
        problems = _request_problems(request)
        if problems:
            raise SageMakerApiError("ValidationException", "; ".join(problems))
        resources = request["ResourceConfig"]
        instance_type, delta = resources.get("InstanceType"), int(resources.get("InstanceCount") or 1)
        with self._lock:
            limit = self._instance_limits.get(instance_type)
            if limit is not None:
                used = sum(int(other["ResourceConfig"].get("InstanceCount") or 1) for other in self._admitted.values()
                           if other["ResourceConfig"].get("InstanceType") == instance_type)
                if used + delta > limit:
                    usage = "spot training job usage" if request["EnableManagedSpotTraining"] else "training job usage"
                    raise SageMakerApiError("ResourceLimitExceeded", (
                        f"The account-level service limit '{instance_type} for {usage}' is {limit} Instances, with "
                        f"current utilization of {used} Instances and a request delta of {delta} Instances. Please use "
                        "AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not "
                        "available, contact AWS support to request an increase for this quota."))
            # Counted until it ends (a request moto then refuses stays counted: it cannot happen here).
            self._admitted[name] = request

    def start(self, request: dict[str, Any], publish: Publish) -> None:
        created = _now()
        job = _RunningJob(request=request, publish=publish, record=JobRecord(request["TrainingJobName"], created))
        job.transitions.append({"Status": "Starting", "StartTime": created,
                                "StatusMessage": "Preparing the instances for training"})
        thread = threading.Thread(target=self._run, args=(job,), name=f"training-job-{job.record.name}", daemon=True)
        with self._lock:
            self._jobs[job.record.name] = job
            self.records.append(job.record)
        self._start_thread(thread)

    def stop(self, job_name: str) -> None:
        with self._lock:
            job = self._jobs.get(job_name)
        if job is None:
            return
        with job.lock:  # a job that just ended stays as it ended
            if job.finished or job.stop_requested.is_set():
                return
            job.stop_reason = "Stopped"
            job.publish({"TrainingJobStatus": "Stopping", "SecondaryStatus": "Stopping"})
        self._request_stop(job)

    # -- one job ----------------------------------------------------------------------------

    def _run(self, job: _RunningJob) -> None:
        work_dir: Path | None = None
        try:
            if not self._wait_for_capacity(job):
                if job.stop_reason == "MaxWaitTimeExceeded":
                    self._finish(job, "Stopped", "MaxWaitTimeExceeded", _MAX_WAIT_MESSAGE)
                else:
                    self._finish(job, "Stopped", "Stopped", "Training job stopped")
                return
            started = _now()
            job.record.started_at = started
            self._transition(job, "Downloading", "Downloading input data", extra={"TrainingStartTime": started})
            work_dir = Path(tempfile.mkdtemp(prefix=f"smx-{job.record.name}-"))
            outcome, error = self._train(job, work_dir)
            if job.stop_reason is None and outcome == "completed":
                self._transition(job, "Uploading", "Uploading generated training model")
                artifacts = self._upload_model(job, work_dir / "model")
                self._finish(job, "Completed", "Completed", "Training job completed", model_artifacts=artifacts)
            elif job.stop_reason == "MaxRuntimeExceeded":
                self._finish(job, "Stopped", "MaxRuntimeExceeded", _MAX_RUNTIME_MESSAGE)
            elif job.stop_reason == "MaxWaitTimeExceeded":
                self._finish(job, "Stopped", "MaxWaitTimeExceeded", _MAX_WAIT_MESSAGE)
            elif job.stop_reason is not None:
                self._finish(job, "Stopped", "Stopped", "Training job stopped")
            else:
                self._finish(job, "Failed", "Failed", "Training job failed", failure_reason=error)
        except Exception as unexpected:  # an engine bug must still end the job, visibly
            self._finish(job, "Failed", "Failed", "Training job failed",
                         failure_reason=f"InternalServerError: local engine: {type(unexpected).__name__}: {unexpected}")
        finally:
            if work_dir is not None:
                shutil.rmtree(work_dir, ignore_errors=True)

    def _wait_for_capacity(self, job: _RunningJob) -> bool:
        """True once the job has its instances; False when it was stopped, or ran out of
        MaxWaitTimeInSeconds, while waiting for spot capacity (``job.stop_reason`` says which)."""
        request = job.request
        if not request["EnableManagedSpotTraining"]:
            return True
        with self._lock:
            delay = next((d for d in self._capacity_delays if d.matches(job.record.name)), None)
        if delay is None or delay.seconds == 0:
            return True
        job.transitions[-1]["StatusMessage"] = _NO_CAPACITY_MESSAGE
        job.publish({"SecondaryStatus": "Starting",
                     "SecondaryStatusTransitions": [dict(item) for item in job.transitions]})
        now = _now().timestamp()
        wait_deadline = job.record.created_at.timestamp() + _max_wait_seconds(request)
        capacity_at = now + delay.seconds if delay.seconds is not None else math.inf
        while not job.stop_requested.is_set():
            now = _now().timestamp()
            if now >= capacity_at:
                return True
            if now >= wait_deadline:
                with job.lock:
                    if job.stop_reason is None:
                        job.stop_reason = "MaxWaitTimeExceeded"
                job.stop_requested.set()
                break
            job.stop_requested.wait(min(0.05, max(0.0, min(capacity_at, wait_deadline) - now)))
        return False

    def _train(self, job: _RunningJob, work_dir: Path) -> tuple[str, str | None]:
        """('completed' | 'failed' | 'stopped', FailureReason)."""
        request = job.request
        model_dir = work_dir / "model"
        model_dir.mkdir(parents=True)
        s3 = self._s3_client_factory()
        input_mode = request["AlgorithmSpecification"].get("TrainingInputMode", "File")
        try:
            channels = {config["ChannelName"]: Channel.from_request(config, input_mode)
                        for config in request["InputDataConfig"]}
            trainer = trainer_for(request["AlgorithmSpecification"].get("TrainingImage", ""),
                                  request.get("HyperParameters") or {}, script_root=self._script_root)
        except (TrainingClientError, ChannelDataError) as error:
            return "failed", f"ClientError: {error}"
        context = TrainingContext(
            job_name=job.record.name,
            hyperparameters=HyperParameters(request["HyperParameters"], algorithm=trainer.algorithm),
            channels=channels, reader_for=lambda channel: ChannelReader(s3, channel),
            model_dir=model_dir, work_dir=work_dir, request=request, stop_requested=job.stop_requested,
            on_training_started=lambda: self._transition(job, "Training", "Training image download completed. Training in progress."),
        )
        job.context = context
        result: dict[str, Any] = {}

        def run_trainer() -> None:
            try:
                # OpenMP's thread count is per calling thread (BLAS's is process-wide, set in __init__).
                threadpool_limits(limits=1)
                trainer.train(context)
                result["outcome"] = ("completed", None)
            except TrainingStopped:
                result["outcome"] = ("stopped", None)
            except (TrainingClientError, ChannelDataError) as error:
                result["outcome"] = ("failed", f"ClientError: {error}")
            except TrainingAlgorithmError as error:
                result["outcome"] = ("failed", f"AlgorithmError: {error}")
            except Exception as error:
                result["outcome"] = ("failed", f"AlgorithmError: {type(error).__name__}: {error}")
            finally:
                finished.set()

        finished = threading.Event()
        worker = threading.Thread(target=run_trainer, name=f"trainer-{job.record.name}", daemon=True)
        self._start_thread(worker)
        max_runtime = request["StoppingCondition"].get("MaxRuntimeInSeconds") or 86400
        runtime_deadline = job.record.started_at.timestamp() + max_runtime
        # Spot: MaxWaitTimeInSeconds bounds waiting plus training, from the job's creation.
        wait_deadline = (job.record.created_at.timestamp() + _max_wait_seconds(request)
                         if request["EnableManagedSpotTraining"] else math.inf)
        deadline = min(runtime_deadline, wait_deadline)
        while not finished.is_set() and not job.stop_requested.is_set():
            finished.wait(min(0.05, max(0.0, deadline - _now().timestamp())))
            if not finished.is_set() and _now().timestamp() >= deadline:
                job.stop_reason = "MaxRuntimeExceeded" if runtime_deadline <= wait_deadline else "MaxWaitTimeExceeded"
                self._request_stop(job)
        if job.stop_requested.is_set():
            # SageMaker gives a stopped container a moment to exit; the job ends Stopped regardless.
            finished.wait(2.0)
            return "stopped", None
        outcome, reason = result["outcome"]
        return outcome, reason[:_FAILURE_REASON_LIMIT] if reason else None

    def _request_stop(self, job: _RunningJob) -> None:
        job.stop_requested.set()
        if job.context is not None:
            job.context.run_stop_callbacks()

    def _transition(self, job: _RunningJob, status: str, message: str, extra: dict[str, Any] | None = None) -> None:
        now = _now()
        if job.transitions and "EndTime" not in job.transitions[-1]:
            job.transitions[-1]["EndTime"] = now
        job.transitions.append({"Status": status, "StartTime": now, "StatusMessage": message})
        job.publish({**(extra or {}), "SecondaryStatus": status,
                     "SecondaryStatusTransitions": [dict(item) for item in job.transitions]})

    def _finish(self, job: _RunningJob, status: str, secondary: str, message: str, *,
                model_artifacts: dict[str, str] | None = None, failure_reason: str | None = None) -> None:
        ended = _now()
        # A job that never got its instances (stopped while waiting for capacity) trained for 0 s.
        seconds = (max(1, math.ceil((ended - job.record.started_at).total_seconds()))
                   if job.record.started_at is not None else 0)
        if job.transitions and "EndTime" not in job.transitions[-1]:
            job.transitions[-1]["EndTime"] = ended
        job.transitions.append({"Status": secondary, "StartTime": ended, "StatusMessage": message})
        metrics = job.context.metrics if job.context is not None else {}
        fields: dict[str, Any] = {
            "SecondaryStatus": secondary,
            "SecondaryStatusTransitions": [dict(item) for item in job.transitions],
            "TrainingEndTime": ended,
            "TrainingTimeInSeconds": seconds,
            # No spot savings are invented locally: billable time is the training time.
            "BillableTimeInSeconds": seconds,
            "FinalMetricDataList": [{"MetricName": name, "Value": value, "Timestamp": ended}
                                    for name, value in metrics.items()] or None,
            "ModelArtifacts": model_artifacts,
            "FailureReason": failure_reason,
            "TrainingJobStatus": status,
        }
        with job.lock:
            job.finished = True
            job.record.ended_at, job.record.status = ended, status
            job.publish(fields)
        with self._lock:
            self._admitted.pop(job.record.name, None)

    def _upload_model(self, job: _RunningJob, model_dir: Path) -> dict[str, str]:
        output = job.request["OutputDataConfig"]
        uri = f"{output['S3OutputPath'].rstrip('/')}/{job.record.name}/output/model.tar.gz"
        bucket, key = split_s3_uri(uri)
        archive = io.BytesIO()
        with tarfile.open(fileobj=archive, mode="w:gz") as tar:
            for path in sorted(model_dir.rglob("*")):
                tar.add(path, arcname=str(path.relative_to(model_dir)), recursive=False)
        # SageMaker encrypts model artifacts with SSE-KMS: the OutputDataConfig's key, else the
        # account's default KMS key for S3 (aws/s3).
        encryption = ({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": output["KmsKeyId"]}
                      if output.get("KmsKeyId") else {"ServerSideEncryption": "aws:kms"})
        self._s3_client_factory().put_object(Bucket=bucket, Key=key, Body=archive.getvalue(), **encryption)
        return {"S3ModelArtifacts": uri}


def _max_wait_seconds(request: dict[str, Any]) -> float:
    stopping = request["StoppingCondition"]
    return stopping.get("MaxWaitTimeInSeconds") or stopping.get("MaxRuntimeInSeconds") or 86400


def _request_problems(request: dict[str, Any]) -> list[str]:
    """CreateTrainingJob validations SageMaker makes before a job exists."""
    problems = []
    if not re.fullmatch(_TRAINING_JOB_NAME_PATTERN, request["TrainingJobName"]):
        problems.append(f"1 validation error detected: Value '{request['TrainingJobName']}' at 'trainingJobName' "
                        "failed to satisfy constraint: Member must satisfy regular expression pattern: "
                        f"^{_TRAINING_JOB_NAME_PATTERN}")
    if not request["AlgorithmSpecification"].get("TrainingImage"):
        problems.append("AlgorithmSpecification.TrainingImage is required (algorithm resources are not emulated)")
    stopping = request["StoppingCondition"]
    if request["EnableManagedSpotTraining"]:
        max_wait = stopping.get("MaxWaitTimeInSeconds")
        if max_wait is None:
            problems.append("MaxWaitTimeInSeconds must be specified for managed spot training")
        elif max_wait < stopping.get("MaxRuntimeInSeconds", 86400):
            problems.append("MaxWaitTimeInSeconds must be greater than or equal to MaxRuntimeInSeconds")
    elif "MaxWaitTimeInSeconds" in stopping:
        problems.append("MaxWaitTimeInSeconds can be specified only for managed spot training")
    for value in request["HyperParameters"].values():
        if not isinstance(value, str):
            problems.append(f"HyperParameters values must be strings, got {value!r}")
            break
    return problems


def _now() -> datetime:
    return datetime.now(timezone.utc)
