"""SageMaker's own contract for CreateTrainingJob, applied to every request the plan would send.

The source of truth is botocore's service model for sagemaker (the function ships botocore; see
functions/split/requirements.txt), not a hand-written schema:

- botocore's parameter validation (``ParamValidator``): required members, types, unknown members
  and minimums, exactly what a boto3 client checks before sending;
- what botocore leaves to the service, read from the same model: ``enum`` values (instance types),
  ``max`` lengths, sizes and values, and ``pattern`` (the model's Java regular expressions, the few
  constructs Python's ``re`` lacks translated below);
- SageMaker's documented rules the model cannot express (``_documented_rules``): no warm pools
  (KeepAlivePeriodInSeconds) with managed spot training, TrainingImage a registry path, no tag key
  with AWS's reserved ``aws:`` prefix in any case.

Pure: no AWS calls. Problems name the execution input's own fields (``REQUEST_FIELD_TO_INPUT``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any, Final

import botocore.session
from botocore.validate import ParamValidator

from . import builtin_images

OPERATION: Final = "CreateTrainingJob"

# The members of a fold's request as the state machine composes it (the TrainFold Task's Parameters
# in statemachines/crossvalidator.asl.json; a test keeps the two equal): shared ones from plan.job,
# per-fold ones from plan.folds[i], RoleArn from the deployment.
SHARED_MEMBERS: Final = ("AlgorithmSpecification", "OutputDataConfig", "ResourceConfig", "StoppingCondition",
                         "EnableManagedSpotTraining", "EnableNetworkIsolation", "Environment", "VpcConfig")
FOLD_MEMBERS: Final = ("TrainingJobName", "HyperParameters", "InputDataConfig", "ExperimentConfig", "Tags")

# Where each request member comes from in the execution input (longest prefix wins).
REQUEST_FIELD_TO_INPUT: Final[tuple[tuple[str, str], ...]] = (
    ("AlgorithmSpecification", "training.algorithm_specification"),
    ("ResourceConfig", "training.resource_config"),
    ("StoppingCondition", "training.stopping_condition"),
    ("Environment", "training.environment"),
    ("VpcConfig", "training.vpc_config"),
    ("HyperParameters", "training.hyperparameters_template"),
    ("EnableManagedSpotTraining", "training.managed_spot_training"),
    ("EnableNetworkIsolation", "training.enable_network_isolation"),
    ("InputDataConfig", "training.channels"),
    ("OutputDataConfig.S3OutputPath", "job_config.output_prefix"),
    ("OutputDataConfig.KmsKeyId", "the deployment's OutputKmsKeyId parameter"),
    ("TrainingJobName", "job_config.name"),
    ("ExperimentConfig", "job_config.experiment"),
    ("Tags", "job_config.tags"),
    ("RoleArn", "the deployment's SageMaker execution role"),
)

# Java regular-expression classes the model uses that Python's re has no spelling for.
_UNICODE_SEPARATORS: Final = "".join(
    chr(code) for code in range(0x3001) if unicodedata.category(chr(code)).startswith("Z"))
_JAVA_CLASSES: Final = {
    r"\p{Alnum}": "A-Za-z0-9",  # Java's POSIX class is ASCII-only by default
    r"\p{Z}": re.escape(_UNICODE_SEPARATORS),
}


@functools.cache
def operation_model() -> Any:
    """botocore's model of sagemaker:CreateTrainingJob (loaded once per Lambda sandbox)."""
    return botocore.session.get_session().get_service_model("sagemaker").operation_model(OPERATION)


def compose_request(job: Mapping[str, Any], fold: Mapping[str, Any], role_arn: str) -> dict[str, Any]:
    """The CreateTrainingJob request the state machine sends for ``fold``."""
    request = {member: job[member] for member in SHARED_MEMBERS if member in job}
    request.update({member: fold[member] for member in FOLD_MEMBERS if member in fold})
    request["RoleArn"] = role_arn
    return request


def request_problems(request: Mapping[str, Any], *, user_tag_count: int | None = None,
                     offline: bool = False) -> list[str]:
    """Every way ``request`` breaks SageMaker's contract, each naming the input field to change.

    ``user_tag_count``: how many of the request's leading Tags the user gave (job_config.tags[i]);
    the rest are SMX-Validator's own. ``offline``: the request goes to the offline engine, which also
    runs ``local:`` images.
    """
    problems = []
    report = ParamValidator().validate(dict(request), operation_model().input_shape)
    # ValidationErrors keeps its (reason, name, details) tuples private; its text report is the fallback.
    errors = getattr(report, "_errors", None)
    if errors is None and report.has_errors():
        problems += [f"the training request: {line}" for line in report.generate_report().splitlines()]
    for error in errors or ():
        problems.append(_describe(*_botocore_problem(error), user_tag_count))
    for path, message in _model_constraint_problems(request, operation_model().input_shape, ""):
        problems.append(_describe(path, message, user_tag_count))
    problems += _documented_rules(request, user_tag_count, offline)
    return list(dict.fromkeys(problems))


# -- what botocore's ParamValidator leaves to the service ---------------------------------------------

def _model_constraint_problems(value: Any, shape: Any, path: str) -> Iterator[tuple[str, str]]:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, Mapping):
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                yield from _model_constraint_problems(value[name], member, f"{path}.{name}" if path else name)
        return
    maximum = shape.metadata.get("max")
    if kind == "list" and isinstance(value, list):
        if maximum is not None and len(value) > maximum:
            yield path, f"has {len(value)} items; SageMaker allows at most {maximum}"
        for index, item in enumerate(value):
            yield from _model_constraint_problems(item, shape.member, f"{path}[{index}]")
    elif kind == "map" and isinstance(value, Mapping):
        if maximum is not None and len(value) > maximum:
            yield path, f"has {len(value)} entries; SageMaker allows at most {maximum}"
        for key, item in value.items():
            yield from _model_constraint_problems(key, shape.key, f"{path}.{key}")
            yield from _model_constraint_problems(item, shape.value, f"{path}.{key}")
    elif kind == "string" and isinstance(value, str):
        if shape.enum and value not in shape.enum:
            yield path, f"{_short(value)} is not one SageMaker accepts ({_choices(shape.enum)})"
        elif maximum is not None and len(value) > maximum:
            yield path, f"is {len(value)} characters; SageMaker allows at most {maximum}"
        elif "pattern" in shape.metadata and not python_pattern(shape.metadata["pattern"]).fullmatch(value):
            yield path, _pattern_message(value, shape.metadata["pattern"])
    elif kind in ("integer", "long") and isinstance(value, int) and not isinstance(value, bool):
        if maximum is not None and value > maximum:
            yield path, f"{value} is more than SageMaker's maximum {maximum}"


@functools.cache
def python_pattern(java_pattern: str) -> re.Pattern[str]:
    """A service-model pattern (Java syntax) as a Python regular expression.

    The model uses ``\\p{Alnum}`` and, in tag patterns, ``\\p{L}\\p{Z}\\p{N}`` inside character
    classes. Letters and numbers together are Python's ``\\w`` (which adds ``_``; every pattern
    that uses them allows ``_`` too: checked in the tests for every pattern of the operation).
    """
    translated = java_pattern
    for java, python in _JAVA_CLASSES.items():
        translated = translated.replace(java, python)
    if r"\p{L}" in translated or r"\p{N}" in translated:
        if not (r"\p{L}" in translated and r"\p{N}" in translated and "_" in translated):
            raise ValueError(f"no Python translation for the model pattern {java_pattern!r}")
        translated = translated.replace(r"\p{L}", r"\w").replace(r"\p{N}", "")
    return re.compile(translated)


def _pattern_message(value: str, java_pattern: str) -> str:
    """Which character breaks a pattern that is one character class repeated (tags, channel names),
    else the pattern itself."""
    message = f"{_short(value)} does not match SageMaker's pattern {java_pattern}"
    single_class = re.fullmatch(r"\(?(\[.*\])[*+]\)?", java_pattern)
    if single_class:
        allowed = python_pattern(single_class.group(1))
        bad = next((char for char in value if not allowed.fullmatch(char)), None)
        if bad is not None:
            name = unicodedata.name(bad, f"U+{ord(bad):04X}")
            message += f": {bad!r} ({name}) is not allowed"
    return message


# A registry path: registry host (a domain or host:port), repository, then a tag or a digest
# (CreateTrainingJob's AlgorithmSpecification.TrainingImage: "the registry path of the Docker image").
_IMAGE = re.compile(r"(?P<host>[A-Za-z0-9.-]+(:[0-9]+)?)/(?P<repository>[a-z0-9]+([._/-][a-z0-9]+)*)"
                    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[0-9a-f]{64})?")
# The offline engine's own scheme for a script on the workstation (smx-validator local run). SageMaker has
# no such registry: the request would be refused for every fold, after the folds are written, so it is
# accepted only for offline runs (``offline=True``).
LOCAL_IMAGE_PREFIX: Final = "local:"


def _documented_rules(request: Mapping[str, Any], user_tag_count: int | None, offline: bool) -> list[str]:
    """SageMaker's documented rules that its service model cannot express."""
    problems = []
    resources = request.get("ResourceConfig") or {}
    if request.get("EnableManagedSpotTraining") and resources.get("KeepAlivePeriodInSeconds"):
        problems.append(
            "training.resource_config.KeepAlivePeriodInSeconds: SageMaker does not keep warm pools for managed spot "
            "training; remove KeepAlivePeriodInSeconds, or train on demand: set training.managed_spot_training to "
            "false (when it is not given, stopping_condition.MaxWaitTimeInSeconds turns spot training on)")
    image = (request.get("AlgorithmSpecification") or {}).get("TrainingImage")
    if isinstance(image, str) and image.startswith(LOCAL_IMAGE_PREFIX):
        if not offline:
            problems.append(
                f"training.algorithm_specification.TrainingImage: {_short(image)} is a script for the offline engine "
                "(smx-validator local run); SageMaker runs container images only: push your container to ECR and "
                "give its registry path, such as 123456789012.dkr.ecr.us-east-1.amazonaws.com/my-trainer:1 "
                "(smx-validator validate --offline checks an input for an offline run)")
    elif isinstance(image, str) and not _IMAGE.fullmatch(image):
        problems.append(
            f"training.algorithm_specification.TrainingImage: {_short(image)} is not an image's registry path; "
            "write it as registry/repository:tag, such as "
            "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1")
    elif isinstance(image, str) and (problem := builtin_images.registry_problem(image)):
        problems.append(problem)
    for index, tag in enumerate(request.get("Tags") or []):
        key = tag.get("Key") if isinstance(tag, Mapping) else None
        if isinstance(key, str) and key.lower().startswith("aws:"):
            problems.append(f"{input_field(f'Tags[{index}].Key', user_tag_count)}: {key!r} starts with 'aws:', a "
                            "prefix AWS reserves for its own tags (in any case); choose another key")
    return problems


# -- wording -------------------------------------------------------------------------------------------

def _describe(request_path: str, message: str, user_tag_count: int | None) -> str:
    return f"{input_field(request_path, user_tag_count)}: {message} (SageMaker's CreateTrainingJob.{request_path})"


def input_field(request_path: str, user_tag_count: int | None = None) -> str:
    """The execution-input field a CreateTrainingJob request path comes from."""
    if re.fullmatch(r"InputDataConfig\[\d+\]\.DataSource\.S3DataSource\.S3Uri", request_path):
        return "job_config.output_prefix (the fold files are written under it)"
    tag = re.fullmatch(r"Tags\[(\d+)\](\.(Key|Value))?", request_path)
    if tag:
        index = int(tag.group(1))
        if user_tag_count is None or index < user_tag_count:
            return f"job_config.tags[{index}]{tag.group(2) or ''}"
        return "job_config.name (SMX-Validator's own tags carry the run id)"
    for prefix, field in sorted(REQUEST_FIELD_TO_INPUT, key=lambda pair: -len(pair[0])):
        if request_path == prefix or request_path.startswith((prefix + ".", prefix + "[")):
            # Below its section names the input spells members as SageMaker does.
            return field + request_path[len(prefix):] if " " not in field else field
    return request_path


def _botocore_problem(error: tuple) -> tuple[str, str]:
    """(request path, message) of one of ParamValidator's errors, a (reason, name, details) tuple."""
    reason, name, details = error
    name = name.lstrip(".")
    if reason == "missing required field":
        path = f"{name}.{details['required_name']}" if name else details["required_name"]
        return path, "missing; SageMaker requires it"
    if reason == "unknown field":
        path = f"{name}.{details['unknown_param']}" if name else details["unknown_param"]
        return path, f"not a field SageMaker accepts here (valid: {', '.join(details['valid_names'])})"
    if reason == "invalid type":
        wanted = sorted({_TYPE_NAMES.get(t, t) for t in details["valid_types"]})
        return name, f"{_short(details['param'])} is a {type(details['param']).__name__}; SageMaker wants {' or '.join(wanted)}"
    if reason in ("invalid range", "invalid length"):
        what = "less than SageMaker's minimum" if reason == "invalid range" else "shorter than SageMaker's minimum length"
        return name, f"{_short(details['param'])} is {what} {details['min_allowed']}"
    return name, f"{reason}: {details}"


_TYPE_NAMES: Final = {"<class 'str'>": "a string", "<class 'int'>": "an integer", "<class 'bool'>": "true or false",
                      "<class 'list'>": "a list", "<class 'tuple'>": "a list", "<class 'dict'>": "an object",
                      "<class 'float'>": "a number", "<class 'decimal.Decimal'>": "a number"}


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _choices(values: list[str], shown: int = 6) -> str:
    if len(values) <= shown:
        return ", ".join(values)
    return f"{len(values)} values such as {', '.join(values[:shown])}"
