"""Every error shape the offline engine emulates, each with the AWS documentation it follows.

This is the one home of "what AWS answers when X goes wrong": the bridge (``moto_bridge``), the
Lambda runtime (``lambda_runtime``) and the engine (``engine``) raise exactly these shapes, and
``doc/faults.md`` lists them for users. A shape is never chosen because the application expects
it: where AWS's documentation shows two shapes for one fault, the engine can produce both
(``SageMakerErrorVariant``), and the tests run the application against each.

Pure data and lookups; no AWS calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

# Documents the rows below cite (one home for the URLs).
STEP_FUNCTIONS_SAGEMAKER: Final = "https://docs.aws.amazon.com/step-functions/latest/dg/connect-sagemaker.html"
STEP_FUNCTIONS_ERRORS: Final = "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html"
STEP_FUNCTIONS_LAMBDA_ERRORS: Final = (
    "https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html#error-handling-lambda")
STEP_FUNCTIONS_QUOTAS: Final = "https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html"
START_EXECUTION_API: Final = "https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html"
STOP_EXECUTION_API: Final = "https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html"
CREATE_TRAINING_JOB_API: Final = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTrainingJob.html"
SAGEMAKER_COMMON_ERRORS: Final = "https://docs.aws.amazon.com/sagemaker/latest/APIReference/CommonErrors.html"
DATA_SCIENCE_SDK: Final = ("AWS Step Functions Data Science SDK (aws/aws-step-functions-data-science-sdk-python): "
                           "its SageMaker steps retry SageMaker.AmazonSageMakerException for throttling")

# How an optimized SageMaker integration names an error CreateTrainingJob answered with.
# "modeled": SageMaker.<ErrorShape>Exception, for the errors SageMaker's API models for the action
#            (ResourceInUse, ResourceLimitExceeded, ResourceNotFound);
# "generic": SageMaker.AmazonSageMakerException, the service's error code only in the Cause.
SageMakerErrorVariant = Literal["modeled", "generic"]
SAGEMAKER_GENERIC_ERROR: Final = "SageMaker.AmazonSageMakerException"


@dataclass(frozen=True)
class ErrorShape:
    """One fault as AWS reports it: where it shows, its error name or code, and its cause."""

    fault: str    # what went wrong, in the user's words
    where: str    # the state error of a Task, an API error of a call, or an execution's end
    error: str    # the error name (state) or error code (API) AWS uses
    cause: str    # how the cause / message reads
    source: str   # the AWS documentation it follows


SAGEMAKER_CAUSE_FORMAT: Final = ("{message} (Service: AmazonSageMaker; Status Code: {status}; Error Code: {code}; "
                                 "Request ID: {request_id}; Proxy: null)")

# CreateTrainingJob refusals, as a `sagemaker:createTrainingJob.sync` Task state fails with them.
SAGEMAKER_CREATE_REFUSALS: Final[tuple[tuple[str, SageMakerErrorVariant, ErrorShape], ...]] = (
    ("ThrottlingException", "generic", ErrorShape(
        "CreateTrainingJob throttled (the account's request rate)", "TrainFold Task state",
        SAGEMAKER_GENERIC_ERROR, SAGEMAKER_CAUSE_FORMAT.replace("{code}", "ThrottlingException"),
        f"{STEP_FUNCTIONS_SAGEMAKER} (the training-job example retries SageMaker.AmazonSageMakerException); "
        f"{DATA_SCIENCE_SDK}; {SAGEMAKER_COMMON_ERRORS} (ThrottlingException, 400)")),
    ("ResourceLimitExceeded", "modeled", ErrorShape(
        "CreateTrainingJob over the account's instance quota", "TrainFold Task state",
        "SageMaker.ResourceLimitExceededException", SAGEMAKER_CAUSE_FORMAT.replace("{code}", "ResourceLimitExceeded"),
        f"{STEP_FUNCTIONS_SAGEMAKER} (the training-job example retries SageMaker.ResourceLimitExceededException); "
        f"{CREATE_TRAINING_JOB_API} (Errors: ResourceLimitExceeded)")),
    ("ResourceLimitExceeded", "generic", ErrorShape(
        "CreateTrainingJob over the account's instance quota, in accounts that report it generically",
        "TrainFold Task state", SAGEMAKER_GENERIC_ERROR,
        SAGEMAKER_CAUSE_FORMAT.replace("{code}", "ResourceLimitExceeded"),
        f"{STEP_FUNCTIONS_SAGEMAKER} (both names are retried in the example); reported from real accounts")),
    ("ResourceInUse", "modeled", ErrorShape(
        "CreateTrainingJob with a job name that exists (names are unique per account and region)",
        "TrainFold Task state", "SageMaker.ResourceInUseException",
        SAGEMAKER_CAUSE_FORMAT.replace("{code}", "ResourceInUse"),
        f"{CREATE_TRAINING_JOB_API} (Errors: ResourceInUse); named by the rule of the modeled row above")),
    ("ValidationException", "generic", ErrorShape(
        "CreateTrainingJob refused as invalid (can never succeed)", "TrainFold Task state",
        SAGEMAKER_GENERIC_ERROR, SAGEMAKER_CAUSE_FORMAT.replace("{code}", "ValidationException"),
        f"{SAGEMAKER_COMMON_ERRORS} (ValidationException, 400, not modeled per action); {STEP_FUNCTIONS_SAGEMAKER}")),
    ("AccessDeniedException", "generic", ErrorShape(
        "CreateTrainingJob refused by IAM (for example iam:PassRole)", "TrainFold Task state",
        SAGEMAKER_GENERIC_ERROR, SAGEMAKER_CAUSE_FORMAT.replace("{code}", "AccessDeniedException"),
        f"{SAGEMAKER_COMMON_ERRORS} (AccessDeniedException, 400, not modeled per action)")),
)

# Errors SageMaker's API models for CreateTrainingJob: the "modeled" variant applies to these only.
SAGEMAKER_MODELED_CREATE_ERRORS: Final = frozenset({"ResourceInUse", "ResourceLimitExceeded", "ResourceNotFound"})

OTHER_SHAPES: Final[tuple[ErrorShape, ...]] = (
    ErrorShape("A fold's training job ended Failed or Stopped", "TrainFold Task state", "States.TaskFailed",
               "the job's DescribeTrainingJob response, as JSON (FailureReason, SecondaryStatus ...)",
               f"{STEP_FUNCTIONS_ERRORS} (States.TaskFailed: a Task state failed during the execution); "
               f"{STEP_FUNCTIONS_SAGEMAKER} (.sync waits for the job)"),
    ErrorShape("A Lambda function raised an exception", "Lambda Task state", "the exception's class name",
               'the runtime\'s error payload, JSON: {"errorMessage", "errorType", "requestId", "stackTrace"}',
               STEP_FUNCTIONS_LAMBDA_ERRORS),
    ErrorShape("A Lambda function ran out of time (its Timeout)", "Lambda Task state", "Sandbox.Timedout",
               '{"errorType": "Sandbox.Timedout", "errorMessage": "RequestId: ... Error: Task timed out after '
               'N.00 seconds"}', STEP_FUNCTIONS_LAMBDA_ERRORS),
    ErrorShape("A Lambda function's runtime process exited (sys.exit)", "Lambda Task state", "Runtime.ExitError",
               '{"errorType": "Runtime.ExitError", "errorMessage": "RequestId: ... Error: Runtime exited ..."}',
               STEP_FUNCTIONS_LAMBDA_ERRORS),
    ErrorShape("The execution input is not JSON", "StartExecution API call", "InvalidExecutionInput",
               "the JSON parser's message", f"{START_EXECUTION_API} (Errors: InvalidExecutionInput)"),
    ErrorShape("The execution input is larger than 256 KiB (262,144 bytes of UTF-8)", "StartExecution API call",
               "ValidationException",
               "Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144",
               f"{START_EXECUTION_API} (input: length constraints on the UTF-8 bytes; Errors: ValidationException); "
               f"{STEP_FUNCTIONS_QUOTAS} (256 KiB per task, state or execution input or output)"),
    ErrorShape("The execution is stopped (console Stop, StopExecution)", "the execution (ABORTED)",
               "the error given to StopExecution", "the cause given to StopExecution",
               f"{STOP_EXECUTION_API} (error and cause: optional, kept on the execution)"),
)

# The errorType Lambda returns for an invocation that outlived the function's Timeout; Step Functions fails a
# Lambda Task with it (it reported Lambda.Unknown before Lambda returned an errorType for timeouts).
LAMBDA_TIMEOUT_ERROR: Final = "Sandbox.Timedout"
# The errorType of a runtime process that exited (sys.exit, os._exit) instead of returning or raising.
LAMBDA_EXIT_ERROR: Final = "Runtime.ExitError"

# Step Functions' payload quota: a state's or execution's input or output, as UTF-8 bytes.
PAYLOAD_LIMIT_BYTES: Final = 262_144


def sagemaker_task_error(code: str, variant: SageMakerErrorVariant = "modeled") -> str:
    """The error name a `sagemaker:createTrainingJob` Task state fails with when the API answered
    ``code``: ``SageMaker.<Code>Exception`` for an error SageMaker models for the action (unless the
    account reports it generically), ``SageMaker.AmazonSageMakerException`` for every other one."""
    if variant == "modeled" and code in SAGEMAKER_MODELED_CREATE_ERRORS:
        return f"SageMaker.{code}Exception"
    return SAGEMAKER_GENERIC_ERROR


def sagemaker_task_cause(code: str, message: str, status: int | None, request_id: str | None) -> str:
    return SAGEMAKER_CAUSE_FORMAT.format(message=message, status=status, code=code, request_id=request_id)


DOC_BEGIN: Final = "<!-- error shapes: generated from src/smx_validator/local/error_shapes.py (markdown()) -->"
DOC_END: Final = "<!-- end of error shapes -->"


def markdown() -> str:
    """The shapes as doc/faults.md lists them (a test keeps the two equal)."""
    lines = [DOC_BEGIN, ""]
    for code, variant, shape in SAGEMAKER_CREATE_REFUSALS:
        lines.append(f"- **{shape.fault}** (SageMaker error code `{code}`, {variant} name): the {shape.where} fails "
                     f"with `{shape.error}`, cause `{shape.cause}`. Source: {shape.source}.")
    for shape in OTHER_SHAPES:
        lines.append(f"- **{shape.fault}**: {shape.where}: `{shape.error}`; {shape.cause}. Source: {shape.source}.")
    lines += ["", DOC_END]
    return "\n".join(lines)
