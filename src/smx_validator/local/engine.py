"""Deploy ``template.yaml`` on moto and run executions of the real state machine offline.

The engine reads the template (``smx_validator.template``) and creates what it declares: the
IAM roles, the functions (their handlers run in-process, from CodeUri + Handler), and the
state machine from the real ASL file with the template's DefinitionSubstitutions resolved.
SageMaker training jobs run on local trainers (``training_jobs``).

Two modes:
- in-process (``server_port=None``): ``mock_aws`` intercepts every boto3 call of this process;
- server (``server_port=N``, 0 picks a free port): a moto server on 127.0.0.1 that the real
  ``aws`` CLI can use with ``--endpoint-url``; handlers and trainers reach it through
  ``AWS_ENDPOINT_URL``.

Use it as a context manager: leaving it waits for running executions and training threads
(moto's backends disappear with the mock) and restores the environment variables it set.

Faults, for tests (doc/faults.md): the functions' Timeouts are enforced (``lambda_timeouts``
shortens them); ``inject_s3_put_error`` and ``hang_s3_puts`` make S3 refuse or stall an object
write; ``training`` (``TrainingJobService``) refuses CreateTrainingJob requests
(``inject_create_error``, ``set_instance_limit``) and withholds spot capacity
(``delay_spot_capacity``); ``lambda_function(id).module`` is a function's loaded handler module.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import boto3
from botocore.config import Config

from smx_common.repository import repository_path
from smx_common.s3uri import S3Uri
from smx_validator.template import IntrinsicResolver, SamTemplate, TemplateError

from . import error_shapes, lambda_runtime, moto_bridge
from .training_jobs import TrainingJobService

ACCOUNT_ID = "123456789012"  # moto's default account
_LEFTOVER_SUBSTITUTION = re.compile(r"\$\{[A-Za-z0-9_:.]+\}")
_TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}

# Called with the execution's history whenever it grew (see progress.py to read it).
ProgressCallback = Callable[[list[dict[str, Any]]], None]

_active_engine: "LocalEngine | None" = None
_active_lock = threading.Lock()


@dataclass
class ExecutionResult:
    execution_arn: str
    status: str
    input: Any
    output: Any = None
    error: str | None = None
    cause: str | None = None
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCEEDED"


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
        self.endpoint_url: str | None = None
        self.state_machine_arn: str = ""
        self.function_names: dict[str, str] = {}
        self._functions: dict[str, lambda_runtime.InProcessFunction] = {}
        self._s3_faults: list[_S3PutFault] = []
        self._s3_faults_lock = threading.Lock()
        self._hung_writes: set[threading.Event] = set()  # one per write now hanging
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

    def __exit__(self, *exc: Any) -> None:
        self.close()

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
        moto_bridge.set_s3_put_interceptor(self._intercept_s3_put)
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
        finally:
            self._tear_down()

    def _tear_down(self) -> None:
        global _active_engine
        for name in list(self.function_names.values()):
            moto_bridge.unregister_lambda(name)
        moto_bridge.set_training_service(None)
        moto_bridge.set_sagemaker_error_variant("modeled")
        moto_bridge.set_s3_put_interceptor(None)
        self._release_hung_writes()
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
        s3 = self.client("s3")
        try:
            s3.head_bucket(Bucket=name)
        except s3.exceptions.ClientError:
            arguments = {} if self.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": self.region}}
            s3.create_bucket(Bucket=name, **arguments)

    def upload(self, local: Path, uri: str) -> list[str]:
        """Upload a file to ``s3://bucket/key``, or a directory under ``s3://bucket/prefix/``."""
        target_uri = S3Uri.parse(uri)
        bucket, key = target_uri.bucket, target_uri.key
        self.create_bucket(bucket)
        s3 = self.client("s3")
        if local.is_dir():
            uploaded = []
            prefix = target_uri.folder
            for path in sorted(p for p in local.rglob("*") if p.is_file()):
                target = prefix + path.relative_to(local).as_posix()
                s3.upload_file(str(path), bucket, target)
                uploaded.append(f"s3://{bucket}/{target}")
            return uploaded
        s3.upload_file(str(local), bucket, key)
        return [uri]

    def download_prefix(self, uri: str, directory: Path) -> list[Path]:
        """Copy every object under an S3 prefix to ``directory/<key relative to the prefix>``. A key that
        would land outside ``directory`` (``..`` in it) is refused: S3 keys are any text."""
        source = S3Uri.parse(uri)
        bucket, prefix = source.bucket, source.folder
        s3 = self.client("s3")
        root = Path(directory).resolve()
        written = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                target = (root / item["Key"][len(prefix):]).resolve()
                if root not in target.parents:
                    raise ValueError(f"s3://{bucket}/{item['Key']} would be written outside {directory}")
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket, item["Key"], str(target))
                written.append(target)
        return written

    # -- faults (for tests) --------------------------------------------------------------------

    def lambda_function(self, logical_id: str) -> lambda_runtime.InProcessFunction:
        """The in-process runtime of one of the template's functions (``.module``: its handler module)."""
        return self._functions[logical_id]

    def report_sagemaker_errors_as(self, variant: error_shapes.SageMakerErrorVariant) -> None:
        """How this account's Step Functions names the errors SageMaker models for CreateTrainingJob
        (a quota refusal): "modeled" (SageMaker.ResourceLimitExceededException, the default) or
        "generic" (SageMaker.AmazonSageMakerException, the code in the cause). AWS shows both
        (error_shapes.SAGEMAKER_CREATE_REFUSALS); reset to "modeled" when the engine closes."""
        moto_bridge.set_sagemaker_error_variant(variant)

    def inject_s3_put_error(self, code: str, message: str, *, keys: Callable[[str, str], bool],
                            times: int = 1) -> None:
        """The next ``times`` object writes whose (bucket, key) ``keys`` accepts are refused by S3
        with ``code`` (e.g. AccessDenied, as a bucket policy or a KMS key policy refuses them)."""
        with self._s3_faults_lock:
            self._s3_faults.append(_S3PutFault(keys, times, error=(code, message)))

    def hang_s3_puts(self, *, keys: Callable[[str, str], bool], times: int = 1, limit_seconds: float = 60.0) -> None:
        """The next ``times`` object writes whose (bucket, key) ``keys`` accepts never complete: they
        block until a Lambda invocation times out (Lambda then stops the sandbox that made them; here
        they fail, and are not retried) or ``limit_seconds`` pass. A stalled S3 transfer or a
        dataset too big for the function's Timeout looks like this."""
        with self._s3_faults_lock:
            self._s3_faults.append(_S3PutFault(keys, times, hang=True, hang_limit=limit_seconds))

    def _intercept_s3_put(self, bucket: str, key: str) -> None:
        with self._s3_faults_lock:
            fault = next((f for f in self._s3_faults if f.remaining > 0 and f.keys(bucket, key)), None)
            if fault is None:
                return
            fault.remaining -= 1
        if fault.error is not None:
            raise moto_bridge.S3ApiError(*fault.error)
        assert fault.hang
        # Each write hangs on its own: a timeout releases the writes hanging then, not later ones
        # (a retried invocation meets the fault again while it has times left).
        released = threading.Event()
        with self._s3_faults_lock:
            self._hung_writes.add(released)
        try:
            released.wait(fault.hang_limit)
        finally:
            with self._s3_faults_lock:
                self._hung_writes.discard(released)
        raise moto_bridge.S3ApiError(
            "LocalEngine.SandboxStopped", "the write never completed: the Lambda invocation making it timed out")

    def _release_hung_writes(self, request_id: str | None = None) -> None:
        with self._s3_faults_lock:
            for released in self._hung_writes:
                released.set()

    # -- executions ------------------------------------------------------------------------------

    def start_execution(self, execution_input: Any, name: str | None = None) -> str:
        # moto names an execution started without a name ":None": always pass one.
        name = name or _execution_name()
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

    def _deploy(self) -> None:
        machine = self.template.state_machine()
        role_arns = {role.logical_id: self._role_arn(role.logical_id) for role in self.template.roles()}
        functions = self.template.functions()
        self.function_names = {f.logical_id: self._physical_name(f.logical_id) for f in functions}
        function_arns = {logical_id: f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
                         for logical_id, name in self.function_names.items()}
        layer_arns = {logical_id: f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:layer:{self._physical_name(logical_id)}:1"
                      for logical_id in self.template.resources_of_type("AWS::Serverless::LayerVersion")}
        resolver = IntrinsicResolver(
            self.template, parameters=self.parameters, region=self.region, account_id=ACCOUNT_ID,
            stack_name=self.stack_name,
            physical_ids={**self.function_names, **layer_arns,
                          **{logical_id: arn.rsplit("/", 1)[-1] for logical_id, arn in role_arns.items()}},
            attributes={**{(logical_id, "Arn"): arn for logical_id, arn in function_arns.items()},
                        **{(logical_id, "Arn"): arn for logical_id, arn in role_arns.items()}},
        )
        iam = self.client("iam")
        for role in self.template.roles():
            self._create_role(iam, role_arns[role.logical_id], resolver.resolve(role.properties))

        layer_dirs = {arn: self.template.layer_content_dir(logical_id) for logical_id, arn in layer_arns.items()}
        environments: dict[str, dict[str, str]] = {}
        lambda_client = self.client("lambda")
        for function in functions:
            name = self.function_names[function.logical_id]
            role_arn = self._create_role(iam, self._role_arn(f"{function.logical_id}Role"), {
                "AssumeRolePolicyDocument": _assume_role_policy("lambda.amazonaws.com"),
                "Policies": _sam_policies(list(function.policies), resolver),
            })
            variables = {key: str(value) for key, value in (resolver.resolve(function.environment) or {}).items()}
            layers = [layer_dirs[arn] for arn in resolver.resolve(list(function.layers)) if arn in layer_dirs]
            environments[name] = {key: _layer_path(value, layers) for key, value in variables.items()}
            lambda_client.create_function(
                FunctionName=name, Runtime=function.runtime, Role=role_arn, Handler=function.handler,
                Code={"ZipFile": _zip_directory(function.code_dir)}, Timeout=function.timeout,
                MemorySize=function.memory_size, Environment={"Variables": environments[name]},
            )
            code = lambda_runtime.FunctionCode(
                function_name=name, function_arn=function_arns[function.logical_id], code_dir=function.code_dir,
                handler=function.handler, memory_size=function.memory_size,
                timeout=self.lambda_timeouts.get(function.logical_id, function.timeout))
            runtime = lambda_runtime.InProcessFunction(code, log_sink=self._write_logs,
                                                       on_timeout=self._release_hung_writes)
            self._functions[function.logical_id] = runtime
            moto_bridge.register_lambda(name, runtime)
        self._set_environment(lambda_runtime.lambda_environment(environments))
        # The split function accepts local: script images only from this engine (functions/split/app.py).
        self._set_environment({"SMX_VALIDATOR_OFFLINE_ENGINE": "1"})

        definition = self._definition(machine.definition_path, resolver.resolve(machine.substitutions))
        machine_role = self._create_role(iam, self._role_arn(f"{machine.logical_id}Role"), {
            "AssumeRolePolicyDocument": _assume_role_policy("states.amazonaws.com"),
            "Policies": _sam_policies(list(machine.policies), resolver),
        })
        self.state_machine_arn = self.client("stepfunctions").create_state_machine(
            name=self._physical_name(machine.logical_id), definition=definition, roleArn=machine_role,
        )["stateMachineArn"]

    def _definition(self, path: Path, substitutions: Mapping[str, Any]) -> str:
        text = path.read_text(encoding="utf-8")
        for key, value in substitutions.items():
            text = text.replace("${" + key + "}", str(value))
        for pseudo, value in {"AWS::Region": self.region, "AWS::AccountId": ACCOUNT_ID, "AWS::Partition": "aws"}.items():
            text = text.replace("${" + pseudo + "}", value)
        leftover = sorted(set(_LEFTOVER_SUBSTITUTION.findall(text)))
        if leftover:
            raise TemplateError(f"{path.name}: {', '.join(leftover)} not in the template's DefinitionSubstitutions")
        if self.retry_delay_cap_seconds is not None:
            document = json.loads(text)
            _cap_retry_delays(document, self.retry_delay_cap_seconds)
            text = json.dumps(document)
        return text

    def _create_role(self, iam: Any, arn: str, properties: Mapping[str, Any]) -> str:
        name = arn.rsplit("/", 1)[-1]
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(properties.get("AssumeRolePolicyDocument", {})))
        for index, policy in enumerate(properties.get("Policies") or []):
            iam.put_role_policy(RoleName=name, PolicyName=policy.get("PolicyName", f"policy{index}"),
                                PolicyDocument=json.dumps(policy["PolicyDocument"]))
        return arn

    def _role_arn(self, logical_id: str) -> str:
        return f"arn:aws:iam::{ACCOUNT_ID}:role/{self._physical_name(logical_id)[:64]}"

    def _physical_name(self, logical_id: str) -> str:
        return f"{self.stack_name}-{logical_id}"

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


# -- shared with `smx-validator start` (real AWS or a local endpoint) ---------------------------

def execution_history(stepfunctions: Any, execution_arn: str) -> list[dict[str, Any]]:
    events, token = [], None
    while True:
        arguments = {"executionArn": execution_arn, "maxResults": 1000, **({"nextToken": token} if token else {})}
        page = stepfunctions.get_execution_history(**arguments)
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def wait_for_execution(stepfunctions: Any, execution_arn: str, *, progress: ProgressCallback | None = None,
                       timeout: float = 600.0, poll_seconds: float = 1.0,
                       on_poll: Callable[[], None] | None = None) -> ExecutionResult:
    """Poll until the execution ends, passing the history to ``progress`` whenever it grew and calling
    ``on_poll`` before every poll (the CLI re-raises there an interrupt a library swallowed)."""
    deadline = time.monotonic() + timeout
    reported = 0
    while True:
        if on_poll is not None:
            on_poll()
        description = stepfunctions.describe_execution(executionArn=execution_arn)
        status = description["status"]
        history = execution_history(stepfunctions, execution_arn) if progress or status in _TERMINAL else []
        if progress is not None and len(history) != reported:
            progress(history)
            reported = len(history)
        if status in _TERMINAL:
            return ExecutionResult(
                execution_arn=execution_arn, status=status, input=_json(description.get("input")),
                output=_json(description.get("output")), error=description.get("error"),
                cause=description.get("cause"), history=history)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{execution_arn} still {status} after {timeout:.0f} s")
        time.sleep(poll_seconds)


@dataclass
class _S3PutFault:
    keys: Callable[[str, str], bool]
    remaining: int
    error: tuple[str, str] | None = None
    hang: bool = False
    hang_limit: float = 60.0


def _execution_name() -> str:
    return f"local-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:8]}"


def _json(value: str | None) -> Any:
    return json.loads(value) if value else None


def _cap_retry_delays(node: Any, cap: int) -> None:
    """Every Retry of every state, at any depth (Map ItemProcessor/Iterator, Parallel Branches)."""
    if isinstance(node, dict):
        for retrier in node.get("Retry", []) if isinstance(node.get("Retry"), list) else []:
            retrier["IntervalSeconds"] = min(int(retrier.get("IntervalSeconds", 1)), cap)
            retrier["MaxDelaySeconds"] = min(int(retrier.get("MaxDelaySeconds", cap)), cap)
        for value in node.values():
            _cap_retry_delays(value, cap)
    elif isinstance(node, list):
        for item in node:
            _cap_retry_delays(item, cap)


def _assume_role_policy(service: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}


def _sam_policies(policies: list[Any], resolver: IntrinsicResolver) -> list[dict[str, Any]]:
    """SAM ``Policies`` entries as inline role policies: policy documents as written, SAM policy
    templates (``LambdaInvokePolicy: {FunctionName: ...}``) expanded by the SAM translator's own
    processor, as ``sam deploy`` expands them. AWS managed policy names are not emulated."""
    from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

    templates = PolicyTemplatesProcessor(PolicyTemplatesProcessor.get_default_policy_templates_json())
    documents = []
    for index, policy in enumerate(resolver.resolve(list(policies or [])) or []):
        if isinstance(policy, Mapping) and len(policy) == 1 and templates.has(next(iter(policy))):
            name, values = next(iter(policy.items()))
            policy = resolver.resolve(templates.convert(name, dict(values or {})))
        if isinstance(policy, Mapping) and "Statement" in policy:
            documents.append({"PolicyName": f"inline{index}",
                              "PolicyDocument": {"Version": "2012-10-17", **policy}})
    return documents


def _layer_path(value: str, layer_dirs: list[Path]) -> str:
    """Layers are mounted at /opt in Lambda; locally /opt/... is the layer's ContentUri directory."""
    if not value.startswith("/opt/") or not layer_dirs:
        return value
    relative = value[len("/opt/"):]
    for layer_dir in layer_dirs:
        if (layer_dir / relative).exists():
            return str(layer_dir / relative)
    return str(layer_dirs[0] / relative)


def _zip_directory(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(_code_files(directory)):
            archive.write(path, path.relative_to(directory).as_posix())
    return buffer.getvalue()


def _code_files(directory: Path) -> Iterator[Path]:
    for path in directory.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path
