"""``training`` normalised: the image's algorithm, its hyperparameters checked against its contract, the
stopping condition, spot training, resources and channels. Pure."""

from __future__ import annotations

from . import builtin_hyperparameters, builtin_images, hyperparameters
from .channels import resolve_layout
from .schema_wording import field_key

DEFAULT_STOPPING_CONDITION = {"MaxRuntimeInSeconds": 86400}
DEFAULT_RESOURCE_CONFIG = {"InstanceCount": 1, "VolumeSizeInGB": 10}
# The original application's README spells it both ways.
HYPERPARAMETER_KEYS = ("hyperparameters_template", "hyperparameter_template")


def normalise(training: dict, data_format: str | None, label_attribute: str,
              problems: list[str], notes: list[str]) -> dict:
    """JobSpec's training fields; problems and notes are appended."""
    algorithm_specification = {"TrainingInputMode": "File", **training["algorithm_specification"]}
    hyperparameter_values, conversions = hyperparameters.normalise(_hyperparameter_template(training, problems))
    notes += conversions
    image = builtin_images.identify(algorithm_specification["TrainingImage"], hyperparameter_values)
    if image.note:
        notes.append(image.note)
    _drop_rejected_names(image.family, hyperparameter_values, problems, notes)
    problems += builtin_hyperparameters.input_problems(image.family, hyperparameter_values)
    problems += _placeholder_problems(hyperparameter_values)

    stopping_condition = dict(training.get("stopping_condition") or DEFAULT_STOPPING_CONDITION)
    stopping_condition.setdefault("MaxRuntimeInSeconds", DEFAULT_STOPPING_CONDITION["MaxRuntimeInSeconds"])
    managed_spot_training = _spot(training, stopping_condition, problems, notes)

    if (training.get("channels") or {}).get("compression_type") == "Gzip":
        problems.append(
            'training.channels.compression_type: the fold files are written uncompressed, so a "Gzip" channel would '
            'make every job fail to read them; remove compression_type (or set it to "None")')
    layout = None
    if data_format:
        layout, layout_problems = resolve_layout(
            image.family, data_format,
            label_attribute=label_attribute,
            training_input_mode=algorithm_specification["TrainingInputMode"],
            overrides=training.get("channels"),
        )
        problems += layout_problems
    return dict(
        hyperparameters=hyperparameter_values,
        algorithm_specification=algorithm_specification,
        stopping_condition=stopping_condition,
        resource_config={**DEFAULT_RESOURCE_CONFIG, **training["resource_config"]},
        managed_spot_training=managed_spot_training,
        enable_network_isolation=training.get("enable_network_isolation", False),
        environment=dict(training.get("environment", {})),
        vpc_config=training.get("vpc_config"),
        algorithm_family=image.family,
        channel_layout=layout,
    )


def _drop_rejected_names(family: str, hyperparameter_values: dict, problems: list[str], notes: list[str]) -> None:
    """Leave out the names a built-in does not accept (noted); refuse a near miss of one it does."""
    for name in builtin_hyperparameters.rejected_names(family, hyperparameter_values):
        close = builtin_hyperparameters.closest_name(family, name)
        if close and close not in hyperparameter_values:
            # A misspelt name would train with the default the user meant to change: refuse it.
            problems.append(
                f"training.hyperparameters_template.{field_key(name)}: {family} has no hyperparameter {name!r}; did "
                f"you mean {close!r}? (its container fails a job that names a hyperparameter it does not know)")
            continue
        del hyperparameter_values[name]
        notes.append(
            f"hyperparameter {name!r}: left out of the training jobs; {family} does not accept it, and its container "
            "fails a job that names a hyperparameter it does not know")


def _placeholder_problems(hyperparameter_values: dict) -> list[str]:
    problems = []
    available = ', '.join('${' + p + '}' for p in hyperparameters.PLACEHOLDERS)
    for key, names in hyperparameters.unknown_placeholders(hyperparameter_values).items():
        problems.append(
            f"training.hyperparameters_template.{field_key(key)}: unknown placeholder "
            f"{', '.join('${' + n + '}' for n in names)}; available: {available}"
        )
    for key in hyperparameters.unclosed_placeholders(hyperparameter_values):
        problems.append(
            f"training.hyperparameters_template.{field_key(key)}: has '${{' without a closing '}}'; "
            f"write a placeholder as {available.split(', ')[0]}"
        )
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
