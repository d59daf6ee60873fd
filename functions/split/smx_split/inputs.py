"""The execution input: validated against the one JSON Schema, then normalised into a JobSpec.

Every problem is collected before anything is reported, so a user fixes their input in one
round, and the split function and ``smx-validator validate`` say the same words.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from . import builtin_hyperparameters, builtin_images, hyperparameters, naming
from .channels import ChannelLayout, resolve_layout
from .data_formats import data_format_for, group_attribute_problem
from .errors import InvalidInputError
from smx_common.s3uri import S3Uri

SCHEMA_ENV = "SMX_INPUT_SCHEMA"
# Only the deployed function sets SMX_INPUT_SCHEMA (the schema layer's /opt path); a checkout
# reads the schema from resources/, its one home.
_REPOSITORY_SCHEMA = Path(__file__).resolve().parents[3] / "resources" / "schemas" / "input.schema.json"
RESERVED_TAG_KEYS = ("fold", "crossvalidation_job", "created_by")
DEFAULT_STOPPING_CONDITION = {"MaxRuntimeInSeconds": 86400}
DEFAULT_RESOURCE_CONFIG = {"InstanceCount": 1, "VolumeSizeInGB": 10}
HYPERPARAMETER_KEYS = ("hyperparameters_template", "hyperparameter_template")


def schema_path() -> Path:
    return Path(os.environ.get(SCHEMA_ENV) or _REPOSITORY_SCHEMA)


@lru_cache(maxsize=1)
def load_schema() -> dict:
    return json.loads(schema_path().read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Deployment:
    """Facts fixed when the application was deployed (template parameters)."""

    input_bucket: str | None = None
    output_bucket: str | None = None
    default_max_concurrency: int = 2
    output_kms_key_id: str | None = None

    @classmethod
    def from_event(cls, raw: Mapping[str, Any] | None) -> "Deployment":
        raw = raw or {}
        return cls(
            input_bucket=raw.get("input_bucket") or None,
            output_bucket=raw.get("output_bucket") or None,
            default_max_concurrency=int(raw.get("default_max_concurrency") or 2),
            output_kms_key_id=raw.get("output_kms_key_id") or None,
        )


@dataclass(frozen=True)
class JobSpec:
    """A valid input, normalised: every default resolved and every name SageMaker-safe."""

    raw: dict
    input_uri: S3Uri
    output_prefix: S3Uri
    name: str
    job_name: str
    experiment_name: str
    data_format: str
    tags: list[dict]
    n_splits: int
    random_state: int
    strategy: str
    label_attribute: str
    group_attribute: str | int | None
    max_concurrency: int
    hyperparameters: dict[str, str]
    algorithm_specification: dict
    stopping_condition: dict
    resource_config: dict
    managed_spot_training: bool
    enable_network_isolation: bool
    environment: dict[str, str]
    vpc_config: dict | None
    algorithm_family: str
    channel_layout: ChannelLayout
    name_mapping: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def job_config_section(self) -> dict:
        return {
            "input_path": str(self.input_uri),
            "output_prefix": str(self.output_prefix),
            "name": self.name,
            "experiment": self.raw["job_config"].get("experiment", self.name),
            "input_format": self.data_format,
            "tags": self.tags,
            "job_name": self.job_name,
            "experiment_name": self.experiment_name,
            "name_mapping": self.name_mapping,
            "notes": self.notes,
        }

    def crossvalidation_section(self) -> dict:
        section = {
            "n_splits": self.n_splits,
            "random_state": self.random_state,
            "strategy": self.strategy,
            "max_concurrency": self.max_concurrency,
        }
        if self.data_format == "jsonl":
            section["label_attribute"] = self.label_attribute
        if self.group_attribute is not None:
            section["group_attribute"] = self.group_attribute
        return section

    def training_section(self) -> dict:
        section = {
            "hyperparameters_template": self.hyperparameters,
            "algorithm_specification": self.algorithm_specification,
            "stopping_condition": self.stopping_condition,
            "resource_config": self.resource_config,
            "managed_spot_training": self.managed_spot_training,
            "enable_network_isolation": self.enable_network_isolation,
            "environment": self.environment,
            "algorithm_family": self.algorithm_family,
            "data_format": self.data_format,
            "channels": self.channel_layout.as_dict(),
        }
        if self.vpc_config:
            section["vpc_config"] = self.vpc_config
        return section


def parse_input(document: str | bytes | bytearray | Any) -> Any:
    """The input as JSON data; a syntax error names its line and column.

    Text (``str``/``bytes``) is parsed; anything else is taken as already-parsed JSON data,
    which the schema then judges (so ``None`` or a list is reported, never a crash).
    """
    if not isinstance(document, (str, bytes, bytearray)):
        return document
    try:
        return json.loads(document, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise InvalidInputError(
            f"input: not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    except UnicodeDecodeError:
        raise InvalidInputError("input: not UTF-8 text; save the input JSON as UTF-8") from None
    except _NotJson as error:
        raise InvalidInputError(f"input: not valid JSON: {error}") from None
    except ValueError:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise InvalidInputError("input: not valid JSON: a number has too many digits to read; write it as a string") from None


class _NotJson(ValueError):
    pass


def _reject_constant(name: str):
    # Python's json reads NaN and Infinity; JSON (and Step Functions' StartExecution) does not.
    raise _NotJson(f"{name} is not a JSON value; write a number or a string")


def validate_input(document: str | bytes | Mapping, deployment: Deployment | None = None) -> JobSpec:
    """The normalised job, or InvalidInputError listing every problem with its field path.

    ``document`` is the input JSON text (``smx-validator validate``) or parsed JSON data.
    """
    return validate_document(parse_input(document), deployment)


def validate_document(raw: Any, deployment: Deployment | None = None) -> JobSpec:
    """Like ``validate_input`` for an execution input Step Functions has already parsed.

    A string is a string here, not JSON to parse: an input sent as a JSON-encoded string is
    reported (the state machine could not add its plan to it), not silently accepted.
    """
    deployment = deployment or Deployment()
    # One problem per line: an object with several unknown keys is one schema error, one line per key.
    problems = [line for error in _schema_errors(raw) for line in _describe(error).split("\n")]
    if problems:
        raise InvalidInputError(problems)
    raw, notes = _whole_numbers(raw, load_schema())
    return _normalise(raw, deployment, notes)


def _schema_errors(raw: Any) -> list[ValidationError]:
    validator = Draft202012Validator(load_schema())
    return sorted(validator.iter_errors(raw), key=lambda error: (list(map(str, error.absolute_path)), error.message))


def _path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{_key(part)}" if text else _key(part))
    return text or "input"


def _key(name: str) -> str:
    """A key as a path shows it: quoted as JSON unless plain, so "a.b", "" or a newline stay readable."""
    return name if _PLAIN_KEY.fullmatch(name) else json.dumps(name)


_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _describe(error: ValidationError) -> str:
    """One line per schema violation: where, what, and how to fix it."""
    where = _path(error.absolute_path)
    value = error.instance
    kind = error.validator
    if kind == "required":
        missing = error.message.split("'")[1]
        location = f"{where}.{missing}" if error.absolute_path else missing
        return f"{location}: missing; this field is required"
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(value) - set(allowed))
        lines = []
        for key in unknown:
            guess = difflib.get_close_matches(key, allowed, n=1)
            hint = f"did you mean {guess[0]!r}?" if guess else f"allowed fields: {', '.join(allowed)}"
            lines.append(f"{where + '.' if error.absolute_path else ''}{_key(key)}: unknown field; {hint}")
        return "\n".join(lines)
    if kind == "type" and not error.absolute_path:
        return _describe_root(value)
    if kind == "type":
        shown = "" if value is None else f" {_short(value)}"
        return f"{where}: expected {_expected(error.validator_value)}, got {_json_type(value)}{shown}"
    if "propertyNames" in error.schema_path:
        return _describe_name(where, error)
    if kind == "enum":
        return f"{where}: {_short(value)} is not one of {', '.join(map(json.dumps, error.validator_value))}"
    if kind == "pattern":
        return f"{where}: {_short(value)} {_PATTERN_HINTS.get(error.absolute_path[-1], 'has characters that are not allowed')}"
    if kind in ("minimum", "maximum"):
        bound = "at least" if kind == "minimum" else "at most"
        return f"{where}: {value} is out of range; it must be {bound} {error.validator_value}"
    if kind in ("minLength", "maxLength"):
        bound = "at least" if kind == "minLength" else "at most"
        return f"{where}: is {len(value)} characters long; it must be {bound} {error.validator_value}"
    if kind in ("minItems", "maxItems", "minProperties", "maxProperties"):
        bound = "at least" if kind.startswith("min") else "at most"
        return f"{where}: has {len(value)} entries; it may have {bound} {error.validator_value}"
    if kind == "oneOf" and error.absolute_path and error.absolute_path[-1] == "group_attribute":
        return f"{where}: must be an attribute name (JSON Lines) or a column number of at least 1 (CSV)"
    return f"{where}: {error.message}"


def _describe_root(value) -> str:
    what = f"{_json_type(value)}" if value is None else f"{_json_type(value)} {_short(value)}"
    hint = "start the execution with an object holding job_config, crossvalidation and training"
    if isinstance(value, str):
        try:
            holds_object = isinstance(json.loads(value), dict)
        except ValueError:
            holds_object = False
        if holds_object:
            hint = "the input is a string holding JSON: pass the JSON object itself, not a string of it"
    return f"input: expected an object, got {what}; {hint}"


def _describe_name(where: str, error: ValidationError) -> str:
    """A violation of propertyNames: the instance is the offending key, the path its object."""
    name, kind = error.instance, error.validator
    shown = _short(name)
    if kind == "maxLength":
        return f"{where}: the name {shown} is {len(name)} characters long; names may be at most {error.validator_value}"
    if kind == "minLength":
        return f"{where}: has an entry with an empty name; give every entry a name"
    if kind == "pattern":
        return f"{where}: the name {shown} is not allowed; use letters, digits and '_', not starting with a digit"
    return f"{where}: the name {shown}: {error.message}"


_PATTERN_HINTS = {
    "input_path": "is not an S3 object URI; write it like s3://bucket/path/data.jsonl",
    "output_prefix": "is not an S3 URI; write it like s3://bucket/prefix",
    "name": "may only contain letters, digits, '-', '_' and '.', and must start with a letter or digit",
    "experiment": "may only contain letters, digits, '-', '_' and '.', and must start with a letter or digit",
    "Key": "starts with 'aws:', which AWS reserves for its own tags",
    "InstanceType": "is not a SageMaker instance type such as ml.m5.xlarge",
}


def _expected(types) -> str:
    return " or ".join(types) if isinstance(types, list) else types


def _json_type(value) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}[type(value)]


def _short(value, limit: int = 60) -> str:
    text = json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _whole_numbers(raw: Any, schema: dict) -> tuple[Any, list[str]]:
    """A copy of ``raw`` with every integer field given as a whole float (``5.0``) made an int.

    JSON Schema counts 5.0 as an integer, but scikit-learn (n_splits), numpy (the seed) and
    SageMaker (counts and seconds) need a true integer. The conversion is noted.
    """
    notes: list[str] = []

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = {**schema["$defs"][node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        return node

    def wants_integer(node: dict) -> bool:
        return node.get("type") == "integer" or any(option.get("type") == "integer" for option in node.get("oneOf", []))

    def walk(value: Any, node: dict, path: list) -> Any:
        node = resolve(node)
        if isinstance(value, float) and value.is_integer() and wants_integer(node):
            notes.append(f"{_path(path)}: converted {value!r} to the integer {int(value)}")
            return int(value)
        if isinstance(value, dict):
            properties, extra = node.get("properties", {}), node.get("additionalProperties")
            return {
                key: walk(item, properties.get(key, extra if isinstance(extra, dict) else {}), [*path, key])
                for key, item in value.items()
            }
        if isinstance(value, list) and isinstance(node.get("items"), dict):
            return [walk(item, node["items"], [*path, index]) for index, item in enumerate(value)]
        return value

    return walk(raw, schema, []), notes


def _normalise(raw: dict, deployment: Deployment, notes: list[str] | None = None) -> JobSpec:
    problems: list[str] = []
    notes = list(notes or [])
    job_config, crossvalidation, training = raw["job_config"], raw["crossvalidation"], raw["training"]

    input_uri = S3Uri.parse(job_config["input_path"])
    output_prefix = S3Uri.parse(job_config["output_prefix"].rstrip("/"))
    problems += _bucket_problems(input_uri, output_prefix, deployment)
    if input_uri.key.endswith("/"):
        problems.append(
            f"job_config.input_path: {str(input_uri)!r} ends with '/', a folder; give the S3 URI of the dataset "
            "object itself, such as s3://bucket/path/data.jsonl"
        )

    n_splits = crossvalidation["n_splits"]
    name_mapping: list[dict] = []
    job_name = _derived_name("job_config.name", job_config["name"], name_mapping, problems)
    longest = naming.max_name_length(n_splits)
    if job_name and len(job_name) > longest:
        problems.append(
            f"job_config.name: {job_name!r} is {len(job_name)} characters; training jobs are named "
            f"{naming.JOB_NAME_TEMPLATE} and SageMaker allows {naming.JOB_NAME_MAX_LENGTH} characters, "
            f"so with n_splits={n_splits} the name may be at most {longest} characters"
        )
    experiment_given = job_config.get("experiment", job_config["name"])
    experiment_name = _derived_name("job_config.experiment", experiment_given, name_mapping, problems)
    if len(experiment_name) > naming.EXPERIMENT_NAME_MAX_LENGTH:
        problems.append(f"job_config.experiment: may be at most {naming.EXPERIMENT_NAME_MAX_LENGTH} characters")

    data_format = None
    try:
        data_format = data_format_for(input_uri.key, job_config.get("input_format"))
    except InvalidInputError as error:
        problems += error.problems

    tags = [dict(tag) for tag in job_config.get("tags", [])]
    problems += _tag_problems(tags)

    random_state = crossvalidation.get("random_state")
    if random_state is None:
        random_state = secrets.randbelow(2**32)
        notes.append(f"crossvalidation.random_state: not given; drew {random_state} (set it to repeat this split)")

    label_attribute = crossvalidation.get("label_attribute", "class")
    group_attribute = crossvalidation.get("group_attribute")
    if data_format and group_attribute_problem(group_attribute, data_format):
        problems.append(group_attribute_problem(group_attribute, data_format))

    algorithm_specification = {"TrainingInputMode": "File", **training["algorithm_specification"]}
    hyperparameter_template = _hyperparameter_template(training, problems)
    hyperparameter_values, conversions = hyperparameters.normalise(hyperparameter_template)
    notes += conversions
    image = builtin_images.identify(algorithm_specification["TrainingImage"], hyperparameter_values)
    family = image.family
    if image.note:
        notes.append(image.note)
    for name in builtin_hyperparameters.rejected_names(family, hyperparameter_values):
        close = builtin_hyperparameters.closest_name(family, name)
        if close and close not in hyperparameter_values:
            # A misspelt name would train with the default the user meant to change: refuse it.
            problems.append(
                f"training.hyperparameters_template.{_key(name)}: {family} has no hyperparameter {name!r}; did you "
                f"mean {close!r}? (its container fails a job that names a hyperparameter it does not know)")
            continue
        del hyperparameter_values[name]
        notes.append(
            f"hyperparameter {name!r}: left out of the training jobs; {family} does not accept it, and its container "
            "fails a job that names a hyperparameter it does not know")
    problems += builtin_hyperparameters.input_problems(family, hyperparameter_values)
    available = ', '.join('${' + p + '}' for p in hyperparameters.PLACEHOLDERS)
    for key, names in hyperparameters.unknown_placeholders(hyperparameter_values).items():
        problems.append(
            f"training.hyperparameters_template.{_key(key)}: unknown placeholder {', '.join('${' + n + '}' for n in names)}; "
            f"available: {available}"
        )
    for key in hyperparameters.unclosed_placeholders(hyperparameter_values):
        problems.append(
            f"training.hyperparameters_template.{_key(key)}: has '${{' without a closing '}}'; "
            f"write a placeholder as {available.split(', ')[0]}"
        )

    stopping_condition = dict(training.get("stopping_condition") or DEFAULT_STOPPING_CONDITION)
    stopping_condition.setdefault("MaxRuntimeInSeconds", DEFAULT_STOPPING_CONDITION["MaxRuntimeInSeconds"])
    managed_spot_training = _spot(training, stopping_condition, problems, notes)
    resource_config = {**DEFAULT_RESOURCE_CONFIG, **training["resource_config"]}

    if (training.get("channels") or {}).get("compression_type") == "Gzip":
        problems.append(
            'training.channels.compression_type: the fold files are written uncompressed, so a "Gzip" channel would '
            'make every job fail to read them; remove compression_type (or set it to "None")')
    layout = None
    if data_format:
        layout, layout_problems = resolve_layout(
            family, data_format,
            label_attribute=label_attribute,
            training_input_mode=algorithm_specification["TrainingInputMode"],
            overrides=training.get("channels"),
        )
        problems += layout_problems

    if problems:
        raise InvalidInputError(problems)
    return JobSpec(
        raw=raw,
        input_uri=input_uri,
        output_prefix=output_prefix,
        name=job_config["name"],
        job_name=job_name,
        experiment_name=experiment_name,
        data_format=data_format,
        tags=tags,
        n_splits=n_splits,
        random_state=random_state,
        strategy=crossvalidation.get("strategy", "auto"),
        label_attribute=label_attribute,
        group_attribute=group_attribute,
        max_concurrency=crossvalidation.get("max_concurrency", deployment.default_max_concurrency),
        hyperparameters=hyperparameter_values,
        algorithm_specification=algorithm_specification,
        stopping_condition=stopping_condition,
        resource_config=resource_config,
        managed_spot_training=managed_spot_training,
        enable_network_isolation=training.get("enable_network_isolation", False),
        environment=dict(training.get("environment", {})),
        vpc_config=training.get("vpc_config"),
        algorithm_family=family,
        channel_layout=layout,
        name_mapping=name_mapping,
        notes=notes,
    )


def _bucket_problems(input_uri: S3Uri, output_prefix: S3Uri, deployment: Deployment) -> list[str]:
    problems = []
    if deployment.input_bucket and input_uri.bucket != deployment.input_bucket:
        problems.append(
            f"job_config.input_path: bucket {input_uri.bucket!r} is not this deployment's InputBucketName "
            f"{deployment.input_bucket!r}, the only bucket it may read; upload the dataset there or redeploy with "
            f"InputBucketName={input_uri.bucket}"
        )
    if deployment.output_bucket and output_prefix.bucket != deployment.output_bucket:
        problems.append(
            f"job_config.output_prefix: bucket {output_prefix.bucket!r} is not this deployment's OutputBucketName "
            f"{deployment.output_bucket!r}, the only bucket it may write; use s3://{deployment.output_bucket}/... or "
            f"redeploy with OutputBucketName={output_prefix.bucket}"
        )
    return problems


def _derived_name(field_path: str, given: str, mapping: list[dict], problems: list[str]) -> str:
    used = naming.sagemaker_safe(given)
    if not used:
        problems.append(f"{field_path}: {given!r} has no letter or digit to build a SageMaker name from")
    elif used != given:
        mapping.append({"field": field_path, "given": given, "used": used})
    return used


def _tag_problems(tags: list[dict]) -> list[str]:
    problems = []
    keys = [tag["Key"] for tag in tags]
    for index, key in enumerate(keys):
        if key in RESERVED_TAG_KEYS:
            problems.append(f"job_config.tags[{index}].Key: {key!r} is set by SMX-Validator itself; choose another key")
        elif key in keys[:index]:
            problems.append(f"job_config.tags[{index}].Key: {key!r} appears twice; tag keys must be unique")
    return problems


def _hyperparameter_template(training: dict, problems: list[str]) -> dict:
    given = [key for key in HYPERPARAMETER_KEYS if key in training]
    if len(given) > 1:
        problems.append(
            "training.hyperparameter_template: give either hyperparameters_template or hyperparameter_template, not both"
        )
    return training.get(given[0], {}) if given else {}


def _spot(training: dict, stopping_condition: dict, problems: list[str], notes: list[str]) -> bool:
    """Managed spot training, resolved so that the request SageMaker receives is always valid.

    MaxWaitTimeInSeconds means nothing without spot training and SageMaker rejects it there;
    the documented example sets it, so giving it turns spot training on unless the user said no.
    """
    max_wait = stopping_condition.get("MaxWaitTimeInSeconds")
    requested = training.get("managed_spot_training")
    if requested is None:
        requested = max_wait is not None
        if requested:
            notes.append("training.managed_spot_training: on, because stopping_condition.MaxWaitTimeInSeconds is set")
    if not requested:
        if max_wait is not None:
            del stopping_condition["MaxWaitTimeInSeconds"]
            notes.append("training.stopping_condition.MaxWaitTimeInSeconds: dropped; it only applies to spot training")
        return False
    max_runtime = stopping_condition["MaxRuntimeInSeconds"]
    if max_wait is None:
        stopping_condition["MaxWaitTimeInSeconds"] = max_runtime
        notes.append(f"training.stopping_condition.MaxWaitTimeInSeconds: set to MaxRuntimeInSeconds ({max_runtime}) for spot training")
    elif max_wait < max_runtime:
        problems.append(
            f"training.stopping_condition.MaxWaitTimeInSeconds: {max_wait} is less than MaxRuntimeInSeconds {max_runtime}; "
            f"spot training waits for capacity and then trains, so it must be at least {max_runtime}"
        )
    return True
