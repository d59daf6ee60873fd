"""SageMaker's rule for the names of training jobs, experiments, trials and trial components. Pure.

The SageMaker service model (botocore ``sagemaker`` 2017-07-24) gives these names the pattern
``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,N}``: ASCII letters, digits and inner hyphens only. The split derives
the job and experiment names from the user's, the gather its trial component name from the run id.
"""

from __future__ import annotations

import re

# The longest names the model allows: TrainingJobName, and ExperimentEntityName (experiments, trials,
# trial components).
TRAINING_JOB_NAME_MAX_LENGTH = 63
EXPERIMENT_ENTITY_NAME_MAX_LENGTH = 120

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9-]+")


def sagemaker_safe(name: str) -> str:
    """``name`` with every run of characters SageMaker names reject replaced by ``-``, and no hyphen at
    either end ("" when nothing is left).

    The documented input example uses underscores (``my_training``), which no SageMaker name
    allows; deriving ``my-training`` keeps that example working.
    """
    return _NOT_ALLOWED.sub("-", name).strip("-")
