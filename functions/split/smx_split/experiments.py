"""SageMaker Experiments: the experiment that collects runs, and one trial per run."""

from __future__ import annotations

from botocore.exceptions import ClientError
from smx_common.sagemaker_errors import name_taken


def ensure_experiment(sagemaker_client, experiment_name: str) -> None:
    """Create the experiment unless it exists (several runs, and users, share one)."""
    try:
        sagemaker_client.create_experiment(
            ExperimentName=experiment_name,
            Description="Cross-validated training runs of SMX-Validator",
        )
    except ClientError as error:
        if not name_taken(error):
            raise


def trial_name_taken(error: ClientError) -> bool:
    """CreateTrial refused the name because a trial of that name exists (names are per account)."""
    return name_taken(error)


def create_trial(sagemaker_client, *, trial_name: str, experiment_name: str, tags: list[dict]) -> None:
    """The run's trial: every fold's training job and the summary register in it.

    Raises the ClientError when the name is taken (see ``trial_name_taken``): the trial name is
    the run id, so taking it is how a run claims its id account-wide.
    """
    sagemaker_client.create_trial(TrialName=trial_name, ExperimentName=experiment_name, Tags=tags)
