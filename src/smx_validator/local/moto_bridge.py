"""The one module that touches moto internals (moto is pinned to ``MOTO_VERSION``).

moto's Step Functions interpreter runs the real ASL once these gaps are bridged
(doc/offline-engine.md has the findings behind each one, and the path of a training job):

- Lambda tasks: moto runs function code only in Docker. ``_invoke_lambda`` is replaced by a
  call of the invoker registered for the function (an in-process call of its handler), and
  the Docker-free Lambda backend, which only echoes payloads, hands registered functions to it.
- The optimized SageMaker integration: moto lists SageMaker as unsupported. A service task of our
  own (``_SageMakerServiceTask``) runs ``sagemaker:createTrainingJob`` and
  ``sagemaker:createTransformJob`` (request-response and ``.sync``) and ``sagemaker:createModel``
  (request-response), as "Create and manage Amazon SageMaker AI jobs with Step Functions"
  (error_shapes.STEP_FUNCTIONS_SAGEMAKER) lists them: it refuses the Parameters Step Functions does
  not pass (``_ACTIONS``, each list with its source), validates the request with botocore, calls the
  API, and for ``.sync`` polls DescribeTrainingJob / DescribeTransformJob, failing the state with
  States.TaskFailed and the description when the job ends Failed or Stopped; when the execution is
  stopped or the Map aborts, it stops the job (StopTrainingJob / StopTransformJob).
- SageMaker's training jobs: moto marks every job Completed at creation. The backend's
  create_training_job hands the job to a local training service (``training_jobs``), which
  publishes the job's progress back (the job's trial component follows its status);
  StopTrainingJob, duplicate-name refusal (jobs and trials) and the job's ``Environment`` are
  added. These SageMaker hooks act only while an engine runs (a training service is set).
- SageMaker's models and transform jobs: moto replaces a model created twice, drops its
  EnableNetworkIsolation, marks every transform job Completed at creation (with empty FailureReason,
  LabelingJobArn and AutoMLJobArn), accepts a transform of a model that does not exist, replaces a
  transform job created twice and has no StopTransformJob. While an engine runs (a transform service is
  set), CreateModel refuses a taken name (ValidationException) and keeps EnableNetworkIsolation;
  CreateTransformJob refuses a missing model (ValidationException 'Could not find model "<arn>".') and a
  taken name (ResourceInUse), and hands the job to the local transform service (``transform_jobs``),
  which publishes its status, FailureReason and times back; StopTransformJob is added.
- S3 faults: the S3 backend's PutObject (every object write, multipart completions included)
  asks an interceptor the engine sets first, which may delay the write or refuse it with an
  S3 error (``S3ApiError``), so tests can fail or stall a handler's write the way S3 would.
- AWS's contracts moto does not keep (error_shapes has each with its source): a SageMaker API error
  fails the task in the shape Step Functions gives it; the service task's requests are validated with
  botocore (moto's own clients switch that off); StartExecution refuses input that is not JSON (NaN
  included) or over 256 KiB; StopExecution keeps the error and cause it was given.
- Wait states: tests may cap how long they wait (``set_wait_cap``), as they cap Retry intervals.
- A Distributed Map's ResultWriter: moto evaluates its Parameters against the Map's results instead of the
  state's input, and writes a manifest that lists no result files ("TODO" in moto). The engine evaluates them
  against the input and writes the manifest and the SUCCEEDED/FAILED result files as AWS documents them
  (``_install_result_writer``).
- moto bugs: ``States.*`` errors leaving a Map/Parallel become States.Runtime (bug 2);
  every JSONPath is compiled again on each evaluation (bug 5), and every definition at each
  execution's start; the parser logs whole states
  at ERROR on every failure (bug 6); StopExecution while a Map runs ends the execution
  FAILED with States.Runtime instead of ABORTED (found here, "bug 7"); an ended execution's status is
  set before its output, error and cause, so a DescribeExecution between them sees SUCCEEDED with no output
  (found here, "bug 8"); an execution started
  without a name is named "None" (bug 3; the aws CLI sends no name).

Everything here is process-global (moto's backends and classes are), so ``install()`` is
idempotent and the registries are keyed by function name / job name.
``tests/local/test_moto_contract.py`` fails loudly, naming the symbol, when an internal
used here moves.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import json
import logging
import threading
import uuid
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Final, Protocol

import moto
from botocore.exceptions import ClientError, ParamValidationError
from botocore.validate import validate_parameters

# --- the internals (each one is listed in INTERNALS and checked by the contract test) -------
from moto.awslambda.models import LambdaBackend, LambdaFunction
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.core.config import default_user_config
from moto.core.responses import ActionResult
from moto.s3 import models as s3_models
from moto.s3.exceptions import S3ClientError
from moto.sagemaker import models as sagemaker_models
from moto.sagemaker import responses as sagemaker_responses
from moto.sagemaker.exceptions import ResourceInUseException, SagemakerClientError, ValidationError
from moto.stepfunctions.exceptions import ExecutionDoesNotExist, InvalidExecutionInput
from moto.stepfunctions.exceptions import ValidationException as StepFunctionsValidationException
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.path import result_path as result_path_module
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import iteration_worker
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (
    DistributedItemProcessorWorker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl import ResultWriter
from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory
from moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials import StateCredentials
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramError, ProgramStopped
from moto.stepfunctions.parser.asl.utils import json_path as json_path_module
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from . import error_shapes

MOTO_VERSION: Final = "5.2.5"

# "module.symbol" of every moto internal this module uses; the contract test imports each.
INTERNALS: Final[tuple[str, ...]] = (
    "moto.stepfunctions.parser.backend.execution_worker.ExecutionWorker._get_evaluation_entrypoint",
    "moto.stepfunctions.parser.asl.parse.asl_parser.AmazonStateLanguageParser.parse",
    "moto.stepfunctions.parser.backend.execution.BaseExecutionWorkerCommunication._reflect_execution_status",
    "moto.awslambda.models.LambdaFunction._invoke_lambda",
    "moto.awslambda.models.LambdaBackend.invoke",
    "moto.awslambda_simple.models.LambdaSimpleBackend.invoke",
    "moto.core.config.default_user_config",
    "moto.sagemaker.models.SageMakerModelBackend.create_training_job",
    "moto.sagemaker.models.SageMakerModelBackend.training_jobs",
    "moto.sagemaker.models.SageMakerModelBackend.trial_components",
    "moto.sagemaker.models.SageMakerModelBackend.create_trial_component",
    "moto.sagemaker.models.SageMakerModelBackend.associate_trial_component",
    "moto.sagemaker.models.SageMakerModelBackend.create_trial",
    "moto.sagemaker.models.FakeTrainingJob",
    "moto.sagemaker.models.SageMakerModelBackend.create_model",
    "moto.sagemaker.models.SageMakerModelBackend.describe_model",
    "moto.sagemaker.models.SageMakerModelBackend.create_transform_job",
    "moto.sagemaker.models.SageMakerModelBackend.transform_jobs",
    "moto.sagemaker.models.FakeTransformJob",
    "moto.sagemaker.models.FakeTransformJob.arn_formatter",
    "moto.sagemaker.models.arn_formatter",
    "moto.sagemaker.models.Model",
    "moto.sagemaker.responses.SageMakerResponse.create_model",
    "moto.sagemaker.responses.SageMakerResponse.create_training_job",
    "moto.sagemaker.responses.SageMakerResponse.sagemaker_backend",
    "moto.sagemaker.exceptions.ResourceInUseException",
    "moto.sagemaker.exceptions.SagemakerClientError",
    "moto.sagemaker.exceptions.ValidationError",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_factory.state_task_service_for",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback.StateTaskServiceCallback",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_worker.CustomErrorName",
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branches_decl.CustomErrorName",
    "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function.WaitFunction._eval_body",
    "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function.WaitFunction._get_wait_seconds",
    "moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function.WaitFunction._wait_interval",
    "moto.stepfunctions.parser.asl.utils.json_path.parse",
    "moto.stepfunctions.parser.asl.component.common.path.result_path.parse",
    "moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for",
    "moto.stepfunctions.parser.asl.utils.encoding.to_json_str",
    "moto.stepfunctions.parser.asl.eval.environment.Environment.set_error",
    "moto.stepfunctions.parser.asl.eval.environment.Environment._program_state",
    "moto.stepfunctions.parser.asl.eval.program_state.ProgramStopped",
    "moto.stepfunctions.parser.api.HistoryEventType.TaskStateAborted",
    "moto.stepfunctions.parser.models.StepFunctionsParserBackend.start_execution",
    "moto.stepfunctions.parser.backend.execution.Execution.stop",
    "moto.stepfunctions.models.StepFunctionBackend._get_state_machine_for_execution",
    "moto.stepfunctions.models.StepFunctionBackend._validate_execution_arn",
    "moto.stepfunctions.responses.StepFunctionResponse.stop_execution",
    "moto.stepfunctions.exceptions.ExecutionDoesNotExist",
    "moto.stepfunctions.exceptions.InvalidExecutionInput",
    "moto.stepfunctions.exceptions.ValidationException",
    "moto.s3.models.S3Backend.put_object",
    "moto.s3.exceptions.S3ClientError",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker.DistributedItemProcessorWorker._eval_job",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.inline_item_processor_worker.InlineItemProcessorWorker._eval_input",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl.ResultWriter._eval_body",
    "moto.stepfunctions.parser.asl.eval.program_state.ProgramError",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.credentials.StateCredentials",
)

# The moto hooks this module overrides, with the signature our replacement assumes.
HOOK_SIGNATURES: Final[dict[str, tuple[str, ...]]] = {
    "moto.awslambda.models.LambdaFunction._invoke_lambda": ("self", "event"),
    "moto.awslambda.models.LambdaBackend.invoke": ("self", "function_name", "qualifier", "body", "headers", "response_headers"),
    "moto.awslambda_simple.models.LambdaSimpleBackend.invoke": (
        "self", "function_name", "qualifier", "body", "headers", "response_headers"),
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_factory.state_task_service_for": (
        "service_name",),
    "moto.stepfunctions.parser.asl.utils.boto_client.boto_client_for": ("region", "service", "state_credentials"),
    "moto.stepfunctions.parser.models.StepFunctionsParserBackend.start_execution": (
        "self", "state_machine_arn", "name", "execution_input", "trace_header"),
    "moto.sagemaker.models.SageMakerModelBackend.create_trial": ("self", "trial_name", "experiment_name"),
    "moto.sagemaker.models.SageMakerModelBackend.create_model": (
        "self", "model_name", "execution_role_arn", "primary_container", "vpc_config", "containers", "tags"),
    "moto.sagemaker.models.SageMakerModelBackend.create_transform_job": (
        "self", "transform_job_name", "model_name", "max_concurrent_transforms", "model_client_config",
        "max_payload_in_mb", "batch_strategy", "environment", "transform_input", "transform_output",
        "data_capture_config", "transform_resources", "data_processing", "tags", "experiment_config"),
    "moto.s3.models.S3Backend.put_object": (
        "self", "bucket_name", "key_name", "value", "storage", "etag", "multipart", "encryption", "kms_key_id",
        "bucket_key_enabled", "lock_mode", "lock_legal_status", "lock_until", "checksum_value", "request_method",
        "disable_notification"),
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback.StateTaskServiceCallback._eval_sync": (
        "self", "env", "sync_resolver", "timeout_seconds", "callback_endpoint", "heartbeat_endpoint"),
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback.StateTaskServiceCallback._build_sync_resolver": (
        "self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"),
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service.StateTaskService._eval_service_task": (
        "self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"),
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker.DistributedItemProcessorWorker._eval_job": (
        "self", "env", "job"),
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.inline_item_processor_worker.InlineItemProcessorWorker._eval_input": (
        "self", "env_frame"),
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.result_writer_decl.ResultWriter._eval_body": (
        "self", "env"),
}

# FakeTrainingJob attributes that DescribeTrainingJob serialises (moto camel-cases the names).
JOB_ATTRIBUTES: Final[tuple[str, ...]] = (
    "training_job_status", "secondary_status", "training_start_time", "training_end_time",
    "last_modified_time", "final_metric_data_list", "model_artifacts", "secondary_status_transitions",
    "algorithm_specification",
)

# FakeTransformJob attributes the bridge sets (DescribeTransformJob serialises them, camel-cased).
TRANSFORM_JOB_ATTRIBUTES: Final[tuple[str, ...]] = (
    "transform_job_status", "failure_reason", "transform_start_time", "transform_end_time", "last_modified_time",
    "labeling_job_arn", "auto_ml_job_arn",
)
# Model attributes the bridge reads or sets (DescribeModel serialises them, camel-cased).
MODEL_ATTRIBUTES: Final[tuple[str, ...]] = (
    "model_name", "primary_container", "containers", "enable_network_isolation", "vpc_config", "arn",
)


# --- what the rest of the engine plugs in -------------------------------------------------

class LambdaInvoker(Protocol):
    def __call__(self, event: Any) -> tuple[str, bool, str]:
        """(payload JSON, errored, log tail) like moto's ``LambdaFunction._invoke_lambda``."""


class SageMakerApiError(Exception):
    """An error the emulated SageMaker API answers with (code as AWS spells it)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class S3ApiError(Exception):
    """An error the emulated S3 answers a PutObject with (code as AWS spells it)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# Called with (bucket, key) before every object write; may block, or raise S3ApiError to refuse it.
S3PutInterceptor = Callable[[str, str], None]


class TrainingService(Protocol):
    """The local stand-in for SageMaker's training fleet (``training_jobs.TrainingJobService``)."""

    def admit(self, request: dict[str, Any]) -> None:
        """Raise SageMakerApiError to refuse a CreateTrainingJob request before the job exists."""

    def start(self, request: dict[str, Any], publish: Callable[[dict[str, Any]], None]) -> None:
        """Run the job; ``publish`` takes DescribeTrainingJob fields (API casing) as they change."""

    def stop(self, job_name: str) -> None:
        """StopTrainingJob: the job ends Stopped."""


class TransformService(Protocol):
    """The local stand-in for SageMaker's Batch Transform fleet (``transform_jobs.TransformJobService``)."""

    def admit_model(self, request: dict[str, Any]) -> None:
        """Raise SageMakerApiError to refuse a CreateModel request before the model exists."""

    def admit(self, request: dict[str, Any]) -> None:
        """Raise SageMakerApiError to refuse a CreateTransformJob request before the job exists."""

    def start(self, request: dict[str, Any], publish: Callable[[dict[str, Any]], None]) -> None:
        """Run the job; ``publish`` takes DescribeTransformJob fields (API casing) as they change."""

    def stop(self, job_name: str) -> None:
        """StopTransformJob: the job ends Stopped."""


_lambda_invokers: dict[str, LambdaInvoker] = {}
# How this emulated account's Step Functions names SageMaker's modeled errors (error_shapes).
_sagemaker_error_variant: error_shapes.SageMakerErrorVariant = "modeled"
_wait_cap_seconds: int | None = None
_training_service: TrainingService | None = None
_transform_service: TransformService | None = None
_s3_put_interceptor: S3PutInterceptor | None = None
_request_environment: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "smx_create_training_job_environment", default=None)
_install_lock = threading.Lock()
_installed = False


def register_lambda(function_name: str, invoker: LambdaInvoker) -> None:
    """Invocations of ``function_name`` (in any account/region of the emulator) call ``invoker``."""
    _lambda_invokers[function_name] = invoker


def unregister_lambda(function_name: str) -> None:
    _lambda_invokers.pop(function_name, None)


def set_training_service(service: TrainingService | None) -> None:
    global _training_service
    _training_service = service


def set_transform_service(service: TransformService | None) -> None:
    global _transform_service
    _transform_service = service


def set_sagemaker_error_variant(variant: error_shapes.SageMakerErrorVariant) -> error_shapes.SageMakerErrorVariant:
    """Name quota refusals SageMaker.ResourceLimitExceededException ("modeled") or
    SageMaker.AmazonSageMakerException ("generic"), as AWS does in different accounts; returns the previous."""
    global _sagemaker_error_variant
    if variant not in ("modeled", "generic"):
        raise ValueError(f"unknown SageMaker error variant {variant!r}")
    previous, _sagemaker_error_variant = _sagemaker_error_variant, variant
    return previous


def set_s3_put_interceptor(interceptor: S3PutInterceptor | None) -> None:
    global _s3_put_interceptor
    _s3_put_interceptor = interceptor


def set_wait_cap(seconds: int | None) -> int | None:
    """For tests: a Wait state waits at most ``seconds`` (None: as long as it says). The state's
    input and history keep the wait it asked for. Returns the previous cap."""
    global _wait_cap_seconds
    if seconds is not None and (not isinstance(seconds, int) or seconds < 1):
        # moto re-enters a wait whose whole seconds were not all waited: a fraction would never end.
        raise ValueError(f"the wait cap is a whole number of seconds >= 1, not {seconds!r}")
    previous, _wait_cap_seconds = _wait_cap_seconds, seconds
    return previous


def set_sync_poll_interval(seconds: float) -> float:
    """How often a ``.sync`` task describes its job (moto's default: 0.5 s); returns the previous value."""
    previous = state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK
    state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK = seconds
    return previous


# moto's user configuration for the engine: run state machines, never use Docker.
ENGINE_CONFIG: Final[dict[str, dict[str, bool]]] = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
    "batch": {"use_docker": False},
}


def apply_engine_config_to_defaults() -> Callable[[], None]:
    """A ``ThreadedMotoServer`` has no ``mock_aws(config=...)``: it reads moto's global defaults.
    Applies ENGINE_CONFIG there and returns the function that restores them."""
    saved = copy.deepcopy(default_user_config)
    for section, values in ENGINE_CONFIG.items():
        default_user_config.setdefault(section, {}).update(values)  # type: ignore[misc]

    def restore() -> None:
        default_user_config.clear()
        default_user_config.update(saved)

    return restore


def install() -> None:
    """Apply every patch once per process. Refuses any moto but the pinned version."""
    global _installed
    with _install_lock:
        if _installed:
            return
        if moto.__version__ != MOTO_VERSION:
            raise RuntimeError(
                f"smx_validator.local.moto_bridge supports moto=={MOTO_VERSION} only, found {moto.__version__}: "
                "pin it (requirements-dev.txt) or re-check tests/local/test_moto_contract.py against the new version")
        _install_lambda_hooks()
        _install_sagemaker_task()
        _install_sagemaker_backend_hooks()
        _install_model_and_transform_hooks()
        _install_s3_put_hook()
        _install_wait_cap()
        _install_result_writer()
        _fix_states_errors_leaving_map_and_parallel()
        _keep_stopped_executions_aborted()
        _publish_an_ended_executions_result_with_its_status()
        _start_and_stop_executions_as_aws_does()
        _memoise_jsonpath_parsing()
        _memoise_definition_parsing()
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        # Throttling and quota errors are not in SageMaker's error model; moto warns on each.
        warnings.filterwarnings("ignore", message=r"Exception\(SagemakerClientError\) with code \w+ does not match",
                                category=UserWarning)
        _installed = True


# --- Lambda -------------------------------------------------------------------------------

def _install_lambda_hooks() -> None:
    original_invoke_lambda = LambdaFunction._invoke_lambda
    original_simple_invoke = LambdaSimpleBackend.invoke

    @functools.wraps(original_invoke_lambda)
    def _invoke_lambda(self: LambdaFunction, event: Any = None) -> tuple[str, bool, str]:
        invoker = _lambda_invokers.get(self.function_name)
        if invoker is None:
            return original_invoke_lambda(self, event)
        return invoker(event)

    @functools.wraps(original_simple_invoke)
    def simple_invoke(self: LambdaSimpleBackend, function_name: str, qualifier: str | None,
                      body: Any, headers: Any, response_headers: Any) -> Any:
        # The Docker-free backend only echoes the payload; the full backend's invoke sets the
        # FunctionError header and calls _invoke_lambda, which reaches our invoker.
        name = self.get_function(function_name, qualifier).function_name
        if name in _lambda_invokers:
            return LambdaBackend.invoke(self, function_name, qualifier, body, headers, response_headers)
        return original_simple_invoke(self, function_name, qualifier, body, headers, response_headers)

    LambdaFunction._invoke_lambda = _invoke_lambda
    LambdaSimpleBackend.invoke = simple_invoke


# --- Step Functions: the optimized SageMaker integration ----------------------------------

# The integration's actions the engine runs, as "Create and manage Amazon SageMaker AI jobs with Step Functions"
# lists them (error_shapes.STEP_FUNCTIONS_SAGEMAKER): .sync for the jobs, request-response for all; the Task
# Token pattern is not supported. Each action's Parameters are the fields Step Functions accepts for it
# (doc/offline-engine.md); anything else fails the state instead of being dropped, as moto would drop it.
# CreateTrainingJob: the fields AWS's page listed, plus CheckpointConfig, RetryStrategy and
# EnableInterContainerTrafficEncryption (CreateTrainingJob fields not yet confirmed in the page).
_CREATE_TRAINING_JOB_PARAMETERS: Final = frozenset({
    "TrainingJobName", "AlgorithmSpecification", "RoleArn", "InputDataConfig", "OutputDataConfig",
    "ResourceConfig", "StoppingCondition", "HyperParameters", "ExperimentConfig", "Tags", "VpcConfig",
    "Environment", "EnableNetworkIsolation", "EnableManagedSpotTraining", "DebugHookConfig",
    "CheckpointConfig", "RetryStrategy", "EnableInterContainerTrafficEncryption",
})
# CreateModel: the page's archived copy (awsdocs/aws-step-functions-developer-guide, connect-sagemaker.md, 2021)
# links seven supported parameters, whose names its Markdown lost: CreateModel's request had exactly these seven
# fields then, and AWS's CDK task SageMakerCreateModel takes them (InferenceExecutionConfig came later: refused).
_CREATE_MODEL_PARAMETERS: Final = frozenset({
    "ModelName", "PrimaryContainer", "Containers", "ExecutionRoleArn", "EnableNetworkIsolation", "Tags", "VpcConfig",
})
# CreateTransformJob: the archived page links ten (BatchStrategy, Environment, MaxConcurrentTransforms,
# MaxPayloadInMB, ModelName, Tags, TransformInput, TransformJobName, TransformOutput, TransformResources: the
# fields AWS's CDK task SageMakerCreateTransformJob renders, less ModelClientConfig, which came later), plus
# DataProcessing and ExperimentConfig, which AWS's Step Functions Data Science SDK puts in its TransformStep's
# Parameters, and ModelClientConfig, which AWS's CDK task SageMakerCreateTransformJob renders. DataCaptureConfig
# is in no AWS source for Step Functions: refused.
_CREATE_TRANSFORM_JOB_PARAMETERS: Final = frozenset({
    "TransformJobName", "ModelName", "TransformInput", "TransformOutput", "TransformResources", "BatchStrategy",
    "Environment", "MaxConcurrentTransforms", "MaxPayloadInMB", "Tags", "DataProcessing", "ExperimentConfig",
    "ModelClientConfig",
})
_TERMINAL_FAILURES: Final = frozenset({"Failed", "Stopped"})


@dataclass(frozen=True)
class _SageMakerJob:
    """What a .sync task polls and stops, for one kind of job."""

    noun: str            # "training job"
    name_field: str      # the request's and the description's name field
    status_field: str    # the description's status field
    describe: str        # the SageMaker operation that describes it
    stop: str            # the SageMaker operation that stops it


@dataclass(frozen=True)
class _SageMakerAction:
    operation: str                  # the SageMaker operation the action calls
    parameters: frozenset[str]      # what Step Functions accepts in the state's Parameters
    job: _SageMakerJob | None       # None: request-response only (no .sync)


_ACTIONS: Final[dict[str, _SageMakerAction]] = {
    "createtrainingjob": _SageMakerAction("CreateTrainingJob", _CREATE_TRAINING_JOB_PARAMETERS, _SageMakerJob(
        "training job", "TrainingJobName", "TrainingJobStatus", "DescribeTrainingJob", "StopTrainingJob")),
    "createmodel": _SageMakerAction("CreateModel", _CREATE_MODEL_PARAMETERS, None),
    "createtransformjob": _SageMakerAction("CreateTransformJob", _CREATE_TRANSFORM_JOB_PARAMETERS, _SageMakerJob(
        "transform job", "TransformJobName", "TransformJobStatus", "DescribeTransformJob", "StopTransformJob")),
}


class _SageMakerServiceTask(StateTaskServiceCallback):
    """``arn:aws:states:::sagemaker:<action>[.sync]`` as Step Functions runs it, for the actions in ``_ACTIONS``:
    createTrainingJob and createTransformJob (request-response and .sync), createModel (request-response).

    One instance serves every Map iteration (moto shares the parsed program), so nothing
    about a particular job is stored on ``self``: the poller carries it.
    """

    def __init__(self) -> None:
        # WaitForTaskToken is listed only because moto's callback plumbing dereferences the
        # task-token endpoint unconditionally; _validate_service_integration_is_supported
        # refuses a .waitForTaskToken resource, as AWS does for SageMaker.
        super().__init__(supported_integration_patterns={ResourceCondition.Sync, ResourceCondition.WaitForTaskToken})

    @property
    def _action(self) -> _SageMakerAction | None:
        return _ACTIONS.get(self.resource.api_action.lower())

    def _validate_service_integration_is_supported(self) -> None:
        if self.resource.condition == ResourceCondition.WaitForTaskToken:
            raise ValueError(f"The resource provided {self.resource.resource_arn} is not supported: "
                             "SageMaker integrations support the request-response and .sync patterns only.")
        action = self._action
        if action is None:
            raise ValueError(f"The resource provided {self.resource.resource_arn} is not emulated by the local "
                             "engine: it runs sagemaker:createTrainingJob, createModel and createTransformJob")
        if self.resource.condition is not None and action.job is None:
            raise ValueError(f"The resource provided {self.resource.resource_arn} is not supported: "
                             f"{action.operation} supports the request-response pattern only.")
        super()._validate_service_integration_is_supported()

    def _get_supported_parameters(self) -> set[str] | None:
        action = self._action
        return set(action.parameters) if action is not None else None

    def _eval_parameters(self, env: Any) -> dict:
        parameters = {}
        if self.parargs is not None:
            self.parargs.eval(env=env)
            parameters = env.stack.pop()
        unsupported = sorted(set(parameters) - self._action.parameters)
        if unsupported:
            raise ValueError(f"The field(s) {', '.join(unsupported)} are not supported by Step Functions "
                             f"for {self.resource.resource_arn}")
        return parameters

    def _eval_service_task(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                           state_credentials: Any) -> None:
        operation = self._action.operation
        sagemaker = boto_client_for(region=resource_runtime_part.region, service="sagemaker",
                                    state_credentials=state_credentials)
        _validate_request(sagemaker, operation, normalised_parameters)
        response = getattr(sagemaker, _snake_case(operation))(**normalised_parameters)
        response.pop("ResponseMetadata", None)
        env.stack.append(response)

    def _build_sync_resolver(self, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                             state_credentials: Any) -> "_JobPoller":
        env.stack.pop()  # the Create* response: the poller needs only the job name
        job = self._action.job
        sagemaker = boto_client_for(region=resource_runtime_part.region, service="sagemaker",
                                    state_credentials=state_credentials)
        return _JobPoller(self, env, sagemaker, job, normalised_parameters[job.name_field])

    def _eval_sync(self, env: Any, sync_resolver: Any, timeout_seconds: Any, callback_endpoint: Any,
                   heartbeat_endpoint: Any) -> Any:
        # No callback endpoint: SageMaker has no task-token pattern, and moto would hand a Retry
        # the endpoint the previous attempt interrupted (an instant States.Timeout).
        outcome = super()._eval_sync(env=env, sync_resolver=sync_resolver, timeout_seconds=timeout_seconds,
                                     callback_endpoint=None, heartbeat_endpoint=None)
        if outcome is None and isinstance(sync_resolver, _JobPoller):
            # The loop ends without an outcome only when this frame stopped running: the
            # execution was stopped or the Map aborted. Step Functions stops the job then
            # (StopTrainingJob, StopTransformJob), and the state is aborted (moto would record a
            # TaskSucceeded with a null output).
            sync_resolver.stop_job()
            raise _TaskAborted(sync_resolver.job.noun, sync_resolver.job_name)
        return outcome

    def _from_error(self, env: Any, ex: Exception) -> FailureEvent:
        if isinstance(ex, _TaskAborted):
            return FailureEvent(
                env=env,
                error_name=CustomErrorName("TaskAborted"),
                event_type=HistoryEventType.TaskStateAborted,
                event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
                    error="TaskAborted", cause=f"The state was aborted; {ex.noun} {ex.job_name} was stopped",
                    resource=self._get_sfn_resource(), resourceType=self._get_sfn_resource_type())),
            )
        if isinstance(ex, ClientError):
            # The shape Step Functions gives a SageMaker API error (error_shapes: its one home).
            error = ex.response.get("Error", {})
            code = error.get("Code", "Unknown")
            metadata = ex.response.get("ResponseMetadata", {})
            cause = error_shapes.sagemaker_task_cause(code, error.get("Message", ""), metadata.get("HTTPStatusCode"),
                                                      metadata.get("RequestId"))
            error_name = error_shapes.sagemaker_task_error(code, _sagemaker_error_variant)
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(error_name),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
                    error=error_name, cause=cause,
                    resource=self._get_sfn_resource(), resourceType=self._get_sfn_resource_type())),
            )
        return super()._from_error(env=env, ex=ex)

    def job_failed(self, env: Any, description: dict[str, Any]) -> FailureEventException:
        return FailureEventException(FailureEvent(
            env=env,
            error_name=StatesErrorName(typ=StatesErrorNameType.StatesTaskFailed),
            event_type=HistoryEventType.TaskFailed,
            event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(
                error=StatesErrorNameType.StatesTaskFailed.to_name(),
                cause=to_json_str(description),
                resource=self._get_sfn_resource(), resourceType=self._get_sfn_resource_type())),
        ))


def _snake_case(operation: str) -> str:
    """A SageMaker operation's boto3 method name (CreateTransformJob -> create_transform_job)."""
    return "".join(f"_{char.lower()}" if char.isupper() and index else char.lower()
                   for index, char in enumerate(operation))


def _validate_request(client: Any, operation: str, parameters: dict) -> None:
    """moto's clients for service tasks switch botocore's parameter validation off; SageMaker validates
    every request against its model and answers a bad one with ValidationException (400) before
    anything exists. botocore's own validation stands in for it, so a request of the wrong shape
    fails here as it would on AWS."""
    try:
        validate_parameters(parameters, client.meta.service_model.operation_model(operation).input_shape)
    except ParamValidationError as error:
        raise ClientError({"Error": {"Code": "ValidationException", "Message": str(error.kwargs.get("report", error))},
                           "ResponseMetadata": {"HTTPStatusCode": 400, "RequestId": str(uuid.uuid4())}},
                          operation) from None


class _TaskAborted(Exception):
    def __init__(self, noun: str, job_name: str):
        super().__init__(job_name)
        self.noun = noun
        self.job_name = job_name


class _JobPoller:
    """The ``.sync`` resolver of one job: None while it runs, the description once Completed; a Failed or
    Stopped job fails the state with States.TaskFailed and the description as cause."""

    def __init__(self, task: _SageMakerServiceTask, env: Any, sagemaker: Any, job: _SageMakerJob, job_name: str):
        self._task, self._env, self._sagemaker, self.job, self.job_name = task, env, sagemaker, job, job_name

    def __call__(self) -> dict[str, Any] | None:
        request = {self.job.name_field: self.job_name}
        _validate_request(self._sagemaker, self.job.describe, request)
        description = getattr(self._sagemaker, _snake_case(self.job.describe))(**request)
        description.pop("ResponseMetadata", None)
        status = description.get(self.job.status_field)
        if status == "Completed":
            return _epoch_millis(description)
        if status in _TERMINAL_FAILURES:
            raise self._task.job_failed(self._env, _epoch_millis(description))
        return None

    def stop_job(self) -> None:
        try:
            getattr(self._sagemaker, _snake_case(self.job.stop))(**{self.job.name_field: self.job_name})
        except ClientError:
            pass  # already ended: nothing to stop


def _epoch_millis(value: Any) -> Any:
    """Step Functions renders the SageMaker timestamps of a .sync result as epoch milliseconds;
    it also keeps datetimes out of the state data (moto's DescribeExecution cannot encode them)."""
    if isinstance(value, dict):
        return {key: _epoch_millis(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_epoch_millis(item) for item in value]
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _install_sagemaker_task() -> None:
    original = state_task_factory.state_task_service_for

    @functools.wraps(original)
    def state_task_service_for(service_name: str) -> Any:
        if service_name == "sagemaker":
            return _SageMakerServiceTask()
        return original(service_name=service_name)

    state_task_factory.state_task_service_for = state_task_service_for


# --- SageMaker backend: local training, StopTrainingJob, duplicate names ------------------

def _install_sagemaker_backend_hooks() -> None:
    backend_class = sagemaker_models.SageMakerModelBackend
    response_class = sagemaker_responses.SageMakerResponse
    original_create = backend_class.create_training_job
    original_create_response = response_class.create_training_job

    create_lock = threading.Lock()  # the name check and the creation are one step

    @functools.wraps(original_create)
    def create_training_job(self: Any, training_job_name: str, **kwargs: Any) -> Any:
        service = _training_service
        if service is None:
            # No engine running: the patches are process-wide, and other users of moto in this
            # process (the handler tests) get moto's own behaviour.
            return original_create(self, training_job_name=training_job_name, **kwargs)
        request = _create_request(self, training_job_name, kwargs)
        with create_lock:
            if training_job_name in self.training_jobs:
                raise ResourceInUseException(
                    message=f"Training job names must be unique within an AWS account and region, and a training "
                            f"job with this name already exists ({self.training_jobs[training_job_name].arn})")
            try:
                service.admit(request)
            except SageMakerApiError as refused:
                raise SagemakerClientError(refused.code, refused.message) from None
            # moto replaces MetricDefinitions with a fake one in place: keep the caller's.
            algorithm_specification = copy.deepcopy(kwargs.get("algorithm_specification") or {})
            job = original_create(self, training_job_name=training_job_name, **kwargs)
            job.algorithm_specification = algorithm_specification
            job.environment = request["Environment"] or None
            # moto made the job Completed. Nobody has its name before this call returns (the
            # .sync task polls only afterwards), so resetting it here is not observable.
            _publish(job, {
                "SecondaryStatus": "Starting", "TrainingStartTime": None, "TrainingEndTime": None,
                "FinalMetricDataList": None, "ModelArtifacts": None,
                "SecondaryStatusTransitions": [{"Status": "Starting", "StartTime": job.creation_time,
                                                "StatusMessage": "Preparing the instances for training"}],
                "TrainingJobStatus": "InProgress",
            })
        component = _register_trial_component(self, request)
        service.start(request, functools.partial(_publish, job, trial_component=component))
        return job

    def stop_training_job(self: Any, training_job_name: str) -> None:
        job = self.training_jobs.get(training_job_name)
        if job is None:
            raise ValidationError(message=f"Requested resource not found: training job '{training_job_name}'")
        if job.training_job_status != "InProgress":
            raise ValidationError(
                message=f"The request was rejected because the training job is in status {job.training_job_status}.")
        if _training_service is not None:
            _training_service.stop(training_job_name)

    @functools.wraps(original_create_response)
    def create_training_job_response(self: Any) -> Any:
        # moto's response drops Environment; the backend reads it from here (same thread).
        token = _request_environment.set(self._get_param("Environment") or {})
        try:
            return original_create_response(self)
        finally:
            _request_environment.reset(token)

    def stop_training_job_response(self: Any) -> Any:
        self.sagemaker_backend.stop_training_job(self._get_param("TrainingJobName"))
        return "{}"

    original_create_trial = backend_class.create_trial

    @functools.wraps(original_create_trial)
    def create_trial(self: Any, trial_name: str, experiment_name: str) -> Any:
        # moto replaces a trial created twice; SageMaker refuses the name (unique per account and
        # region). Only while an engine runs: other users of moto here keep moto's behaviour.
        if _training_service is not None and trial_name in self.trials:
            raise ValidationError(message=f"Trial '{self.trials[trial_name].arn}' already exists.")
        return original_create_trial(self, trial_name=trial_name, experiment_name=experiment_name)

    backend_class.create_training_job = create_training_job
    backend_class.create_trial = create_trial
    backend_class.stop_training_job = stop_training_job
    response_class.create_training_job = create_training_job_response
    response_class.stop_training_job = stop_training_job_response


def _create_request(backend: Any, name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The CreateTrainingJob request in API casing, as the training service reads it."""
    return {
        "TrainingJobName": name,
        "TrainingJobArn": sagemaker_models.FakeTrainingJob.arn_formatter(name, backend.account_id, backend.region_name),
        "Region": backend.region_name,
        "AlgorithmSpecification": copy.deepcopy(kwargs.get("algorithm_specification") or {}),
        "HyperParameters": dict(kwargs.get("hyper_parameters") or {}),
        "RoleArn": kwargs.get("role_arn"),
        "InputDataConfig": copy.deepcopy(kwargs.get("input_data_config") or []),
        "OutputDataConfig": dict(kwargs.get("output_data_config") or {}),
        "ResourceConfig": dict(kwargs.get("resource_config") or {}),
        "StoppingCondition": dict(kwargs.get("stopping_condition") or {}),
        "EnableManagedSpotTraining": bool(kwargs.get("enable_managed_spot_training")),
        "ExperimentConfig": dict(kwargs.get("experiment_config") or {}),
        "Environment": dict(_request_environment.get() or {}),
        "EnableNetworkIsolation": bool(kwargs.get("enable_network_isolation")),
        "VpcConfig": copy.deepcopy(kwargs.get("vpc_config")) or None,
    }


def _register_trial_component(backend: Any, request: dict[str, Any]) -> Any:
    """SageMaker records every job that names a trial as trial component ``<job>-aws-training-job``
    (returned, so that its status can follow the job's)."""
    trial_name = request["ExperimentConfig"].get("TrialName")
    if not trial_name:
        return None
    if trial_name not in backend.trials:
        backend.create_trial(trial_name=trial_name, experiment_name=request["ExperimentConfig"].get("ExperimentName"))
    component = f"{request['TrainingJobName']}-aws-training-job"
    backend.create_trial_component(
        trial_component_name=component, trial_name=trial_name, status={"PrimaryStatus": "InProgress"},
        start_time=None, end_time=None,
        display_name=request["ExperimentConfig"].get("TrialComponentDisplayName") or component,
        parameters={key: {"StringValue": value} for key, value in request["HyperParameters"].items()},
        input_artifacts=None, output_artifacts=None,
        metadata_properties={"CommitId": "", "GeneratedBy": request["TrainingJobArn"]},
    )
    backend.associate_trial_component(trial_name=trial_name, trial_component_name=component)
    return backend.trial_components[component]


def _publish(job: Any, fields: dict[str, Any], trial_component: Any = None) -> None:
    """Copy DescribeTrainingJob fields onto moto's job; the status goes last so a concurrent
    DescribeTrainingJob never sees a terminal status with half-written results. The job's trial
    component follows its status, as SageMaker's does (Completed, Failed with the reason, Stopped)."""
    status = fields.get("TrainingJobStatus")
    for field, value in fields.items():
        if field != "TrainingJobStatus":
            setattr(job, _attribute_name(field), value)
    job.last_modified_time = datetime.now(timezone.utc)
    if trial_component is not None and status in {"InProgress", "Stopping", "Completed", "Failed", "Stopped"}:
        component_status = {"PrimaryStatus": status}
        if fields.get("FailureReason"):
            component_status["Message"] = fields["FailureReason"]
        trial_component.status = component_status
        if status in {"Completed", "Failed", "Stopped"}:
            trial_component.end_time = fields.get("TrainingEndTime") or job.last_modified_time
            trial_component.last_modified_time = job.last_modified_time
    if status is not None:
        job.training_job_status = status


def _attribute_name(api_field: str) -> str:
    """DescribeTrainingJob field -> FakeTrainingJob attribute (moto camel-cases attribute names back)."""
    return "".join(f"_{char.lower()}" if char.isupper() and index else char.lower()
                   for index, char in enumerate(api_field))


# --- SageMaker backend: models and Batch Transform ------------------------------------------

def _install_model_and_transform_hooks() -> None:
    """CreateModel refuses a name taken (moto replaces the model) and keeps EnableNetworkIsolation (moto drops
    it); CreateTransformJob refuses a model that does not exist and a name taken, and hands the job to the
    local transform fleet instead of completing it at creation; StopTransformJob exists. Only while an engine
    runs (a transform service is set): other users of moto in this process keep moto's behaviour."""
    backend_class = sagemaker_models.SageMakerModelBackend
    response_class = sagemaker_responses.SageMakerResponse
    original_create_model = backend_class.create_model
    original_create_model_response = response_class.create_model
    original_create_transform_job = backend_class.create_transform_job
    create_lock = threading.Lock()  # the name check and the creation are one step

    @functools.wraps(original_create_model)
    def create_model(self: Any, model_name: str, **kwargs: Any) -> Any:
        service = _transform_service
        if service is None:
            return original_create_model(self, model_name=model_name, **kwargs)
        with create_lock:
            existing = _model(self, model_name)
            if existing is not None:
                # SageMaker's answer to a CreateModel whose name is taken (names are unique per account and region).
                raise ValidationError(message=f'Cannot create already existing model "{existing.arn}".')
            try:
                service.admit_model({"ModelName": model_name,
                                     "PrimaryContainer": copy.deepcopy(kwargs.get("primary_container")),
                                     "Containers": copy.deepcopy(kwargs.get("containers"))})
            except SageMakerApiError as refused:
                raise SagemakerClientError(refused.code, refused.message) from None
            return original_create_model(self, model_name=model_name, **kwargs)

    @functools.wraps(original_create_model_response)
    def create_model_response(self: Any) -> Any:
        result = original_create_model_response(self)
        if _transform_service is not None:
            # moto's Model always says False; DescribeModel returns what was asked. moto also answers an empty
            # VpcConfig and Containers where SageMaker shows none.
            model = _model(self.sagemaker_backend, self._get_param("ModelName"))
            model.enable_network_isolation = bool(self._get_param("EnableNetworkIsolation"))
            model.vpc_config = model.vpc_config or None
            model.containers = model.containers or None
        return result

    @functools.wraps(original_create_transform_job)
    def create_transform_job(self: Any, transform_job_name: str, **kwargs: Any) -> Any:
        service = _transform_service
        if service is None:
            return original_create_transform_job(self, transform_job_name=transform_job_name, **kwargs)
        request = _transform_request(self, transform_job_name, kwargs)
        with create_lock:
            if transform_job_name in self.transform_jobs:
                raise ResourceInUseException(
                    message=f"Transform job names must be unique within an AWS account and region, and a transform "
                            f"job with this name already exists ({self.transform_jobs[transform_job_name].arn})")
            try:
                service.admit(request)
            except SageMakerApiError as refused:
                raise SagemakerClientError(refused.code, refused.message) from None
            job = original_create_transform_job(self, transform_job_name=transform_job_name, **kwargs)
            # moto made the job Completed, with empty strings where SageMaker shows no field. Nobody has its
            # name before this call returns, so resetting it here is not observable.
            job.labeling_job_arn = job.auto_ml_job_arn = None
            _publish_transform(job, {"TransformStartTime": None, "TransformEndTime": None, "FailureReason": None,
                                     "TransformJobStatus": "InProgress"})
        service.start(request, functools.partial(_publish_transform, job))
        return job

    def stop_transform_job(self: Any, transform_job_name: str) -> None:
        job = self.transform_jobs.get(transform_job_name)
        if job is None:
            arn = sagemaker_models.FakeTransformJob.arn_formatter(transform_job_name, self.account_id, self.region_name)
            raise ValidationError(message=f"Could not find transform job '{arn}'.")
        if job.transform_job_status != "InProgress":
            raise ValidationError(
                message=f"The request was rejected because the transform job is in status {job.transform_job_status}.")
        if _transform_service is not None:
            _transform_service.stop(transform_job_name)

    def stop_transform_job_response(self: Any) -> Any:
        self.sagemaker_backend.stop_transform_job(self._get_param("TransformJobName"))
        return "{}"

    backend_class.create_model = create_model
    backend_class.create_transform_job = create_transform_job
    backend_class.stop_transform_job = stop_transform_job
    response_class.create_model = create_model_response
    response_class.stop_transform_job = stop_transform_job_response


def _model(backend: Any, name: str) -> Any:
    """moto's Model of that name, or None."""
    try:
        return backend.describe_model(name)
    except ValidationError:
        return None


def _transform_request(backend: Any, name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The CreateTransformJob request in API casing, with the model it names (None: no such model), as the
    transform service reads it."""
    model_name = kwargs.get("model_name")
    model = _model(backend, model_name) if model_name else None
    return {
        "TransformJobName": name,
        "TransformJobArn": sagemaker_models.FakeTransformJob.arn_formatter(name, backend.account_id, backend.region_name),
        "ModelName": model_name,
        "ModelArn": sagemaker_models.arn_formatter("model", model_name, backend.account_id, backend.region_name),
        "Model": None if model is None else {
            "ModelName": model.model_name,
            "PrimaryContainer": copy.deepcopy(model.primary_container) or None,
            "Containers": copy.deepcopy(model.containers) or None,
            "EnableNetworkIsolation": bool(model.enable_network_isolation),
        },
        "TransformInput": copy.deepcopy(kwargs.get("transform_input") or {}),
        "TransformOutput": copy.deepcopy(kwargs.get("transform_output") or {}),
        "TransformResources": copy.deepcopy(kwargs.get("transform_resources") or {}),
        "DataProcessing": copy.deepcopy(kwargs.get("data_processing")) or None,
        "BatchStrategy": kwargs.get("batch_strategy"),
        "MaxPayloadInMB": kwargs.get("max_payload_in_mb"),
        "MaxConcurrentTransforms": kwargs.get("max_concurrent_transforms"),
        "ModelClientConfig": copy.deepcopy(kwargs.get("model_client_config")) or None,
        "Environment": dict(kwargs.get("environment") or {}),
    }


def _publish_transform(job: Any, fields: dict[str, Any]) -> None:
    """Copy DescribeTransformJob fields onto moto's job, the status last (as ``_publish`` does for training)."""
    status = fields.get("TransformJobStatus")
    for field_name, value in fields.items():
        if field_name != "TransformJobStatus":
            setattr(job, _attribute_name(field_name), value)
    job.last_modified_time = datetime.now(timezone.utc)
    if status is not None:
        job.transform_job_status = status


# --- S3 backend: fault injection on object writes ----------------------------------------

def _install_s3_put_hook() -> None:
    original = s3_models.S3Backend.put_object

    @functools.wraps(original)
    def put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        interceptor = _s3_put_interceptor
        if interceptor is not None:
            try:
                interceptor(bucket_name, key_name)
            except S3ApiError as refused:
                raise S3ClientError(refused.code, refused.message) from None
        return original(self, bucket_name, key_name, *args, **kwargs)

    s3_models.S3Backend.put_object = put_object


# --- Wait states: a test-only cap on how long they wait -------------------------------------

def _install_wait_cap() -> None:
    original = WaitFunction._eval_body

    @functools.wraps(original)
    def _eval_body(self: Any, env: Any) -> None:
        cap = _wait_cap_seconds
        if cap is None:
            return original(self, env)
        seconds = self._get_wait_seconds(env=env)
        self._wait_interval(env=env, wait_seconds=min(seconds, cap))

    WaitFunction._eval_body = _eval_body


# --- a Distributed Map's results, written as AWS writes them ---------------------------------

def _install_result_writer() -> None:
    """Each child execution of a Distributed Map is recorded (its input after the ItemSelector, its output or
    error), and the ResultWriter writes them the way AWS documents
    (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html): with no
    WriterConfig, under ``{Prefix}/{map run id}/``, one ``SUCCEEDED_0.json`` and one ``FAILED_0.json`` (JSON
    arrays of each child's ARN, name, status, dates and its ``Input`` and ``Output``, or ``Error`` and ``Cause``,
    as JSON strings), and ``manifest.json`` listing them; the state's result is the Map Run's ARN and the
    manifest's location. Parameters are evaluated against the state's input, as ItemReader's are. (AWS splits
    result files past 5 GB; no offline run comes near.)"""
    original_eval_input = DistributedItemProcessorWorker._eval_input
    original_eval_job = DistributedItemProcessorWorker._eval_job

    def _eval_input(self: Any, env_frame: Any) -> None:
        original_eval_input(self, env_frame)
        env_frame.smx_child_input = copy.deepcopy(env_frame.states.get_input())

    def _eval_job(self: Any, env: Any, job: Any) -> None:
        started = datetime.now(timezone.utc)
        original_eval_job(self, env, job)
        state = env.program_state()
        error = state.error if isinstance(state, ProgramError) and state.error else {}
        child = {"index": job.job_index, "input": getattr(env, "smx_child_input", job.job_input),
                 "output": job.job_output, "start": started, "stop": datetime.now(timezone.utc),
                 "failed": job.job_output is None, "error": error.get("error"), "cause": error.get("cause")}
        record = self._map_run_record
        with _children_lock:
            record.__dict__.setdefault("smx_children", []).append(child)

    def _eval_body(self: Any, env: Any) -> None:
        env.stack.pop()  # the children's outputs: the records below hold them, with what AWS writes beside
        env.stack.append(env.states.get_input())
        self.parargs.eval(env)
        parameters = env.stack.pop()
        env.stack.pop()
        self.resource_eval.resource.eval(env=env)
        runtime = env.stack.pop()
        s3 = boto_client_for(region=runtime.region, service="s3", state_credentials=_credentials(env))
        map_run = env.map_run_record_pool_manager.get_all()[-1]
        env.stack.append(_write_map_run_results(s3, parameters, map_run))

    DistributedItemProcessorWorker._eval_input = _eval_input
    DistributedItemProcessorWorker._eval_job = _eval_job
    ResultWriter._eval_body = _eval_body


_children_lock = threading.Lock()


def _credentials(env: Any) -> Any:
    return StateCredentials(role_arn=env.aws_execution_details.role_arn)


def _write_map_run_results(s3: Any, parameters: dict[str, Any], map_run: Any) -> dict[str, Any]:
    bucket, prefix = parameters["Bucket"], parameters.get("Prefix", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    map_run_arn = map_run.map_run_arn
    run_id = map_run_arn.split(":")[-1]
    state_machine_arn = map_run_arn.replace(":mapRun:", ":stateMachine:").rsplit("/", 1)[0]
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    children = sorted(map_run.__dict__.get("smx_children", []), key=lambda child: child["index"])
    for status in ("SUCCEEDED", "FAILED"):
        chosen = [child for child in children if child["failed"] == (status == "FAILED")]
        if not chosen:
            continue
        key = f"{prefix}{run_id}/{status}_0.json"
        body = json.dumps([_child_record(child, status, map_run_arn, state_machine_arn) for child in chosen])
        s3.put_object(Bucket=bucket, Key=key, Body=body.encode("utf-8"))
        files[status].append({"Key": key, "Size": len(body.encode("utf-8"))})
    manifest_key = f"{prefix}{run_id}/manifest.json"
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode("utf-8"))
    return {"MapRunArn": map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}}


def _child_record(child: dict[str, Any], status: str, map_run_arn: str, state_machine_arn: str) -> dict[str, Any]:
    name = f"{child['index']:08d}-{uuid.uuid5(uuid.NAMESPACE_URL, map_run_arn + str(child['index']))}"[:80]
    record = {
        "ExecutionArn": f"{map_run_arn.replace(':mapRun:', ':execution:')}:{name}",
        "Input": to_json_str(child["input"]),
        "InputDetails": {"Included": True},
        "Name": name,
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "StartDate": child["start"].isoformat(),
        "StateMachineArn": state_machine_arn,
        "Status": status,
        "StopDate": child["stop"].isoformat(),
    }
    if status == "SUCCEEDED":
        record |= {"Output": to_json_str(child["output"]), "OutputDetails": {"Included": True}}
    else:
        record |= {key: child[name_] for key, name_ in (("Error", "error"), ("Cause", "cause")) if child[name_]}
    return record


# --- moto bugs ------------------------------------------------------------------------------

def _error_name_for(error_name: str | None) -> Any:
    """CustomErrorName refuses "States.*" names; a States error leaving a Map/Parallel keeps its name."""
    if error_name is not None and error_name.startswith("States."):
        try:
            return StatesErrorName.from_name(error_name)
        except ValueError:
            pass
    return CustomErrorName(error_name=error_name)


def _keep_stopped_executions_aborted() -> None:
    """StopExecution during a Map: the aborted iterations make the Map fail (States.Runtime) and
    moto's set_error overwrites the stopped state, so the execution ends FAILED, not ABORTED."""
    original = Environment.set_error

    @functools.wraps(original)
    def set_error(self: Any, error: Any) -> None:
        if isinstance(self._program_state, ProgramStopped):
            return
        original(self, error)

    Environment.set_error = set_error


def _publish_an_ended_executions_result_with_its_status() -> None:
    """moto sets an ended execution's status before its output (or error and cause): a DescribeExecution in
    between sees SUCCEEDED with a null output ("bug 8", seen under load by a 1,000-job run's poll). Step Functions
    shows them together (DescribeExecution: output "is only available when the execution succeeds"); here the
    result is set first, then moto's own method sets the status."""
    original = BaseExecutionWorkerCommunication._reflect_execution_status

    @functools.wraps(original)
    def reflect(self: Any) -> None:
        state = self.execution.exec_worker.env.program_state()
        if isinstance(state, ProgramError):
            self.execution.error, self.execution.cause = state.error.get("error"), state.error.get("cause")
        elif isinstance(state, ProgramEnded):
            self.execution.output = self.execution.exec_worker.env.states.get_input()
        original(self)

    BaseExecutionWorkerCommunication._reflect_execution_status = reflect


def _not_json(constant: str) -> Any:
    # Python's json reads NaN and Infinity; JSON, and Step Functions' parser, do not.
    raise ValueError(f"{constant} is not a JSON value")


def _start_and_stop_executions_as_aws_does() -> None:
    """StartExecution without a name: AWS names it with a UUID, moto with "None" (so the second
    unnamed execution collides with the first; `aws stepfunctions start-execution` sends none).
    An input over Step Functions' payload quota is refused, which moto accepts (error_shapes).
    StopExecution keeps the error and cause it was given, which moto drops (error_shapes)."""
    original = StepFunctionsParserBackend.start_execution

    @functools.wraps(original)
    def start_execution(self: Any, state_machine_arn: str, name: Any = None, execution_input: Any = None,
                        trace_header: Any = None) -> Any:
        if execution_input is not None:
            try:
                json.loads(execution_input, parse_constant=_not_json)
            except ValueError as error:
                # moto raises this with an empty error code; AWS answers InvalidExecutionInput.
                raise InvalidExecutionInput(f"Invalid State Machine Execution Input: '{error}'") from None
        size = len((execution_input or "").encode("utf-8"))
        if size > error_shapes.PAYLOAD_LIMIT_BYTES:
            raise StepFunctionsValidationException(
                f"1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length "
                f"less than or equal to {error_shapes.PAYLOAD_LIMIT_BYTES} (the input is {size} bytes of UTF-8)")
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    def stop_execution_response(self: Any) -> Any:
        arn = self._get_param("executionArn")
        backend = self.stepfunction_backend
        backend._validate_execution_arn(arn)
        execution = next((candidate for candidate in backend._get_state_machine_for_execution(arn).executions
                          if candidate.execution_arn == arn), None)
        if execution is None:
            raise ExecutionDoesNotExist("Execution Does Not Exist: '" + arn + "'")
        error, cause = self._get_param("error"), self._get_param("cause")
        execution.stop(stop_date=datetime.now(timezone.utc), error=error, cause=cause)
        # moto records an aborted execution without them; DescribeExecution returns them.
        if execution.exec_status == "RUNNING":  # a str enum
            execution.error, execution.cause = error, cause
        return ActionResult({"stopDate": execution.stop_date})

    StepFunctionsParserBackend.start_execution = start_execution
    StepFunctionResponse.stop_execution = stop_execution_response


def _fix_states_errors_leaving_map_and_parallel() -> None:
    iteration_worker.CustomErrorName = _error_name_for
    branches_decl.CustomErrorName = _error_name_for


def _memoise_jsonpath_parsing() -> None:
    # jsonpath_ng expressions are immutable after parsing and safe to share between threads.
    json_path_module.parse = functools.lru_cache(maxsize=4096)(json_path_module.parse)
    result_path_module.parse = functools.lru_cache(maxsize=1024)(result_path_module.parse)


def _memoise_definition_parsing() -> None:
    """moto parses an execution's definition with ANTLR at every start: 86 ms for the ItemProcessor of a
    Distributed Map, whose every job is a child execution (86 s of a 1,000-job search). The parsed program holds
    no execution's state (that lives in each execution's Environment: moto's inline Map already runs one parsed
    ItemProcessor for every iteration at once), so one parse per definition text serves every execution."""
    parse = functools.lru_cache(maxsize=32)(lambda definition: AmazonStateLanguageParser.parse(definition)[0])

    def _get_evaluation_entrypoint(self: Any) -> Any:
        return parse(self._evaluation_details.state_machine_details.definition)

    ExecutionWorker._get_evaluation_entrypoint = _get_evaluation_entrypoint
