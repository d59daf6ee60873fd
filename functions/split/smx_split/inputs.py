"""The execution input: validated against the one JSON Schema, then normalised into a JobSpec.

Every problem is collected before anything is reported, so a user fixes their input in one
round, and the split function and ``smx-validator validate`` say the same words. Each section
of the input is normalised by its own module (job_config_section, crossvalidation_section,
training_section); the schema's wording of a problem is schema_wording's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from smx_common.deployment import Deployment
from smx_common.repository import repository_path

from . import (
    crossvalidation_section,
    job_config_section,
    out_of_fold_section,
    tracking_section,
    training_section,
    tuning,
    tuning_section,
)
from .errors import InvalidInputError
from .job_spec import JobSpec
from .schema_wording import schema_problems
from .whole_numbers import whole_numbers

__all__ = ["Deployment", "JobSpec", "parse_input", "validate_document", "validate_input"]

# The deployed function reads the schema from the schema layer (/opt/input.schema.json, set in
# template.yaml); a checkout reads it from resources/schemas/, its one home.
SCHEMA_ENV = "SMX_INPUT_SCHEMA"


def schema_path() -> Path:
    return Path(os.environ.get(SCHEMA_ENV) or repository_path("resources/schemas/input.schema.json"))


@lru_cache(maxsize=1)
def load_schema() -> dict:
    return json.loads(schema_path().read_text(encoding="utf-8"))


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
    schema = load_schema()
    problems = schema_problems(raw, schema)
    if problems:
        raise InvalidInputError(problems)
    raw, notes = whole_numbers(raw, schema)
    return _normalise(raw, deployment, notes)


def _normalise(raw: dict, deployment: Deployment, notes: list[str]) -> JobSpec:
    """The three sections in turn; every problem of all three is reported at once."""
    problems: list[str] = []
    crossvalidation = raw["crossvalidation"]
    job_config = job_config_section.normalise(raw["job_config"], crossvalidation["n_splits"],
                                              crossvalidation.get("n_repeats", 1), deployment, problems,
                                              n_candidates=tuning.candidate_count(raw.get("tuning")))
    data_format = job_config["data_format"]
    cv = crossvalidation_section.normalise(crossvalidation, data_format, deployment, problems, notes)
    training = training_section.normalise(raw["training"], data_format, cv["label_attribute"], problems, notes)
    search = tuning_section.normalise(
        raw.get("tuning"), family=training["algorithm_family"], template=training["hyperparameters"],
        algorithm_specification=training["algorithm_specification"], n_splits=cv["n_splits"],
        n_repeats=cv["n_repeats"], channel_layout=training["channel_layout"], problems=problems)
    out_of_fold = out_of_fold_section.normalise(
        crossvalidation.get("out_of_fold_predictions"), family=training["algorithm_family"],
        hyperparameters=training["hyperparameters"], channel_layout=training["channel_layout"],
        tuning=raw.get("tuning"), problems=problems)
    mlflow = tracking_section.normalise(raw.get("tracking"), experiment_name=job_config["experiment_name"],
                                        deployment=deployment, problems=problems)
    if problems:
        raise InvalidInputError(problems)
    return JobSpec(raw=raw, **job_config, **cv, **training, **search, out_of_fold=out_of_fold, mlflow=mlflow,
                   notes=notes)
