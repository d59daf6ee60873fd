"""Deploy ``template.yaml`` on moto and run executions of the real state machine offline.

This module owns the engine's lifecycle: the emulator (moto in-process or as a server), the
process environment the handlers see, and tearing both down. What it delegates, one module
each: creating what the template declares (``stack_deployment``), executions
(``executions``), files in and out of S3 (``s3_transfer``), S3 write faults (``s3_faults``),
SageMaker training jobs on local trainers (``training_jobs``), and models and batch transform
jobs on the trainers' local inference containers (``transform_jobs``). doc/offline-engine.md
draws the whole path of a training job and of a transform job.

Two modes:
- in-process (``server_port=None``): ``mock_aws`` intercepts every boto3 call of this process;
- server (``server_port=N``, 0 picks a free port): a moto server on 127.0.0.1 that the real
  ``aws`` CLI can use with ``--endpoint-url``; handlers and trainers reach it through
  ``AWS_ENDPOINT_URL``.

Use it as a context manager: leaving it waits for running executions, training and transform threads
(moto's backends disappear with the mock) and restores the environment variables it set.

Faults, for tests (doc/faults.md): the functions' Timeouts are enforced (``lambda_timeouts``
shortens them); ``s3_faults`` makes S3 refuse or stall an object write (``inject_error``, ``hang``); ``training`` (``TrainingJobService``) refuses CreateTrainingJob requests
(``inject_create_error``, ``set_instance_limit``) and withholds spot capacity
(``delay_spot_capacity``); ``transforms`` (``TransformJobService``) refuses CreateTransformJob
requests (``inject_create_error``), fails transform jobs (``fail_transform_jobs``) and holds them
InProgress (``delay_transform_jobs``); ``lambda_function(id).module`` is a function's loaded handler module.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import boto3
from botocore.config import Config

from smx_common.repository import repository_path
from smx_validator.template import SamTemplate, TemplateError

from . import error_shapes, lambda_runtime, moto_bridge, s3_transfer
from .executions import ExecutionResult, ProgressCallback, execution_history, execution_name, wait_for_execution
from .s3_faults import S3PutFaults
from .stack_deployment import DeployedStack, StackDeployment
from .training_jobs import TrainingJobService
from .transform_jobs import TransformJobService

_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}
# moto's backends and the bridge's registries are process-wide: one engine at a time.
_active_engine: "LocalEngine | None" = None
_active_lock = threading.Lock()


# How long an interrupted engine waits for its stopped executions and jobs before it tears down.
INTERRUPTED_CLOSE_SECONDS = 5.0


class LocalEngine:
    """One emulated deployment of the template; see the module docstring."""

    def __init__(
        self,
        template_path: Path | str | None = None,  # default: the checkout's template.yaml
        *,
        parameters: Mapping[str, Any],
        region: str = "us-east-1",
        server_port: int | None = None,
        stack_name: str = "smx-validator-local",
        script_root: Path | None = None,
        retry_delay_cap_seconds: int | None = None,
        sync_poll_seconds: float = 0.2,
        lambda_timeouts: Mapping[str, float] | None = None,
    ):
        """``retry_delay_cap_seconds``: for tests only, caps every Retry's IntervalSeconds and
        MaxDelaySeconds in the deployed definition (the ASL file is not changed) and every Wait
        state's wait (its input and the history keep the wait it asked for), so that a retried
        CreateTrainingJob waits about a second instead of 30+ s. Off by default: the definition is
        deployed exactly as written and waits as long as it says.

        ``lambda_timeouts``: for tests only, {function logical id: seconds} replacing those
        functions' Timeout (the template's 300 or 900 s), so that a timeout can be met quickly.
        Every other function times out after its template Timeout."""
        self.template = SamTemplate.load(template_path or repository_path("template.yaml"))
        self.parameters = self.template.parameter_values(parameters)
        self.region = region
        self.stack_name = stack_name
        self.server_port = server_port
        self.retry_delay_cap_seconds = retry_delay_cap_seconds
        self.sync_poll_seconds = sync_poll_seconds
        self.lambda_timeouts = dict(lambda_timeouts or {})
        unknown = sorted(set(self.lambda_timeouts) - {f.logical_id for f in self.template.functions()})
        if unknown:
            raise TemplateError(f"lambda_timeouts names no function of the template: {', '.join(unknown)}")
        self.training = TrainingJobService(lambda: self.client("s3"), script_root=script_root)
        self.transforms = TransformJobService(lambda: self.client("s3"))
        self.endpoint_url: str | None = None
        self.s3_faults = S3PutFaults()
        self._stack = DeployedStack()
        self._mock: Any = None
        self._server: Any = None
        self._saved_environment: dict[str, str | None] = {}
        self._execution_arns: list[str] = []
        self._logs_client: Any = None
        self._saved_poll_interval: float | None = None
        self._saved_wait_cap: int | None = None
        self._restore_moto_defaults: Callable[[], None] | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> "LocalEngine":
        self.start()
        return self

    def __exit__(self, exc_type: Any, *exc: Any) -> None:
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            # An interrupt on its way out (a second Ctrl-C, perhaps before the first one's StopExecution): what
            # the engine runs must not be waited for, nor outlive it.
            self._stop_running_executions()
            self.close(timeout=INTERRUPTED_CLOSE_SECONDS)
            return
        self.close()

    def _stop_running_executions(self) -> None:
        try:
            for arn in self.running_executions():
                self.stop_execution(arn, error="Interrupted", cause="the offline engine was interrupted")
        except Exception:  # best effort on the way out: the teardown follows whatever happens here
            pass

    def start(self) -> None:
        global _active_engine
        with _active_lock:
            # moto's backends and the bridge's registries are process-wide: one engine at a time.
            if _active_engine is not None:
                raise RuntimeError("Another LocalEngine is running in this process; close it first")
            _active_engine = self
        moto_bridge.install()
        self._saved_poll_interval = moto_bridge.set_sync_poll_interval(self.sync_poll_seconds)
        self._saved_wait_cap = moto_bridge.set_wait_cap(self.retry_delay_cap_seconds)
        moto_bridge.set_training_service(self.training)
        moto_bridge.set_transform_service(self.transforms)
        moto_bridge.set_s3_put_interceptor(self.s3_faults.intercept)
        if self.server_port is None:
            from moto import mock_aws

            self._mock = mock_aws(config=moto_bridge.ENGINE_CONFIG)
            self._mock.start()
            self._set_environment({"AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region, **_CREDENTIALS,
                                   "AWS_ENDPOINT_URL": None})
        else:
            from moto.server import ThreadedMotoServer

            self._restore_moto_defaults = moto_bridge.apply_engine_config_to_defaults()
            logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per API call
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.server_port, verbose=False)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            # Handlers and trainers make plain boto3 calls: AWS_ENDPOINT_URL points them here;
            # moto's own Step Functions clients find the server through MOTO_PORT.
            self._set_environment({"AWS_DEFAULT_REGION": self.region, "AWS_REGION": self.region, **_CREDENTIALS,
                                   "AWS_ENDPOINT_URL": self.endpoint_url, "MOTO_PORT": str(port)})
        try:
            self._deploy()
        except BaseException:
            self.close()
            raise

    def close(self, timeout: float = 600.0) -> None:
        """Wait for running executions and training jobs, then tear the emulator down."""
        try:
            deadline = time.monotonic() + timeout
            if self._mock is not None or self._server is not None:
                for arn in self._execution_arns:
                    while time.monotonic() < deadline and self.describe_execution(arn)["status"] == "RUNNING":
                        time.sleep(0.1)
                self.training.wait_until_idle(max(0.0, deadline - time.monotonic()))
                self.transforms.wait_until_idle(max(0.0, deadline - time.monotonic()))
        finally:
            self._tear_down()

    def _tear_down(self) -> None:
        global _active_engine
        for name in list(self._stack.function_names.values()):
            moto_bridge.unregister_lambda(name)
        moto_bridge.set_training_service(None)
        moto_bridge.set_transform_service(None)
        moto_bridge.set_sagemaker_error_variant("modeled")
        moto_bridge.set_s3_put_interceptor(None)
        self.s3_faults.release_hung_writes()
        if self._saved_poll_interval is not None:
            moto_bridge.set_sync_poll_interval(self._saved_poll_interval)
            self._saved_poll_interval = None
            moto_bridge.set_wait_cap(self._saved_wait_cap)
            self._saved_wait_cap = None
        self._restore_environment()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._restore_moto_defaults is not None:
            self._restore_moto_defaults()
            self._restore_moto_defaults = None
        with _active_lock:
            if _active_engine is self:
                _active_engine = None

    # -- clients and data ------------------------------------------------------------------------

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint_url,
                            aws_access_key_id="testing", aws_secret_access_key="testing",
                            aws_session_token="testing", config=Config(retries={"total_max_attempts": 1}))

    def create_bucket(self, name: str) -> None:
        s3_transfer.create_bucket(self.client("s3"), name, self.region)

    def upload(self, local: Path, uri: str) -> list[str]:
        """Upload a file to ``s3://bucket/key``, or a directory under ``s3://bucket/prefix/``."""
        return s3_transfer.upload(self.client("s3"), local, uri, self.region)

    def download_prefix(self, uri: str, directory: Path) -> list[Path]:
        """Copy every object under an S3 prefix to ``directory`` (s3_transfer.download_prefix)."""
        return s3_transfer.download_prefix(self.client("s3"), uri, directory)

    # -- faults (for tests) --------------------------------------------------------------------

    def lambda_function(self, logical_id: str) -> lambda_runtime.InProcessFunction:
        """The in-process runtime of one of the template's functions (``.module``: its handler module)."""
        return self._stack.functions[logical_id]

    def report_sagemaker_errors_as(self, variant: error_shapes.SageMakerErrorVariant) -> None:
        """How this account's Step Functions names the errors SageMaker models for CreateTrainingJob
        (a quota refusal): "modeled" (SageMaker.ResourceLimitExceededException, the default) or
        "generic" (SageMaker.AmazonSageMakerException, the code in the cause). AWS shows both
        (error_shapes.SAGEMAKER_CREATE_REFUSALS); reset to "modeled" when the engine closes."""
        moto_bridge.set_sagemaker_error_variant(variant)

    # -- executions ------------------------------------------------------------------------------

    def start_execution(self, execution_input: Any, name: str | None = None) -> str:
        # moto names an execution started without a name ":None": always pass one.
        name = name or execution_name()
        document = execution_input if isinstance(execution_input, str) else json.dumps(execution_input)
        arn = self.client("stepfunctions").start_execution(
            stateMachineArn=self.state_machine_arn, name=name, input=document)["executionArn"]
        self._execution_arns.append(arn)
        return arn

    def running_executions(self) -> list[str]:
        """Every RUNNING execution of the state machine, including those the aws CLI started (serve)."""
        pages = self.client("stepfunctions").get_paginator("list_executions").paginate(
            stateMachineArn=self.state_machine_arn, statusFilter="RUNNING")
        return [execution["executionArn"] for page in pages for execution in page["executions"]]

    def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        return self.client("stepfunctions").describe_execution(executionArn=execution_arn)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        return execution_history(self.client("stepfunctions"), execution_arn)

    def stop_execution(self, execution_arn: str, error: str = "Stopped", cause: str = "stopped locally") -> None:
        self.client("stepfunctions").stop_execution(executionArn=execution_arn, error=error, cause=cause)

    def wait(self, execution_arn: str, *, progress: ProgressCallback | None = None,
             timeout: float = 600.0, poll_seconds: float = 0.1,
             on_poll: Callable[[], None] | None = None) -> ExecutionResult:
        return wait_for_execution(self.client("stepfunctions"), execution_arn, progress=progress,
                                  timeout=timeout, poll_seconds=poll_seconds, on_poll=on_poll)

    def run(self, execution_input: Any, *, name: str | None = None, progress: ProgressCallback | None = None,
            timeout: float = 600.0) -> ExecutionResult:
        return self.wait(self.start_execution(execution_input, name), progress=progress, timeout=timeout)

    # -- deployment ------------------------------------------------------------------------------

    @property
    def state_machine_arn(self) -> str:
        return self._stack.state_machine_arn

    @property
    def function_names(self) -> dict[str, str]:
        """{logical id: function name} of the template's functions."""
        return self._stack.function_names

    def _deploy(self) -> None:
        StackDeployment(
            template=self.template, parameters=self.parameters, region=self.region, stack_name=self.stack_name,
            client=self.client, lambda_timeouts=self.lambda_timeouts,
            retry_delay_cap_seconds=self.retry_delay_cap_seconds, write_logs=self._write_logs,
            on_timeout=self.s3_faults.release_hung_writes,
        ).deploy(self._stack)
        self._set_environment(self._stack.environment)

    def _write_logs(self, function_name: str, stream: str, lines: list[str]) -> None:
        """The function's output, in its CloudWatch Logs group as Lambda writes it."""
        if self._logs_client is None:
            self._logs_client = self.client("logs")
        logs, group = self._logs_client, f"/aws/lambda/{function_name}"
        try:
            logs.create_log_group(logGroupName=group)
        except logs.exceptions.ResourceAlreadyExistsException:
            pass
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        now = int(time.time() * 1000)
        logs.put_log_events(logGroupName=group, logStreamName=stream,
                            logEvents=[{"timestamp": now, "message": line} for line in lines if line])

    def _set_environment(self, variables: Mapping[str, str | None]) -> None:
        for key, value in variables.items():
            if key not in self._saved_environment:
                self._saved_environment[key] = os.environ.get(key)
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    def _restore_environment(self) -> None:
        for key, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environment.clear()
