"""Names follow the documented template and SageMaker's rules."""

import json
import re
from datetime import datetime
from pathlib import Path

import botocore.session
import pytest

from smx_common.sagemaker_names import sagemaker_safe
from smx_split import naming

TRAINING_JOB_NAME = botocore.session.get_session().get_service_model("sagemaker").shape_for("TrainingJobName")


def test_job_names_follow_the_documented_template():
    run = naming.run_id("my-training", datetime(2026, 11, 22, 9, 5, 7))
    assert naming.fold_job_name(run, 3) == "crossvalidator-my-training-20261122-090507-fold3"


def test_characters_sagemaker_rejects_become_single_hyphens():
    assert sagemaker_safe("my_training.v2__final") == "my-training-v2-final"
    assert sagemaker_safe("_edge_") == "edge"


@pytest.mark.parametrize("given", ["my_training", "Modèle v2", "a--b", "-x-", "日本", "x" * 26, "9_lives"])
def test_derived_names_match_the_service_models_pattern_for_training_jobs(given):
    # GIVEN any name a user writes; WHEN it is made safe and a fold's job name is built from it
    safe = sagemaker_safe(given)
    if not safe:
        return  # nothing to build a name from: job_config_section refuses it
    name = naming.fold_job_name(naming.run_id(safe[:26], datetime(2026, 11, 30, 9, 0, 0)), 9)
    # THEN SageMaker's own pattern and length accept it (botocore's sagemaker model)
    assert re.fullmatch(TRAINING_JOB_NAME.metadata["pattern"], name)
    assert len(name) <= TRAINING_JOB_NAME.metadata["max"]


def test_name_budget_shrinks_when_fold_indexes_need_two_digits():
    assert naming.max_name_length(10) == 26
    assert naming.max_name_length(11) == 25


def test_the_schema_states_the_name_budget_naming_computes():
    # The input schema tells users how long job_config.name may be; it must say what naming.py enforces.
    schema = json.loads((Path(__file__).resolve().parents[2] / "resources/schemas/input.schema.json").read_text())
    description = schema["properties"]["job_config"]["properties"]["name"]["description"]
    assert (f"At most {naming.max_name_length(10)} characters when n_splits <= 10, "
            f"{naming.max_name_length(11)} otherwise") in description
    assert naming.JOB_NAME_TEMPLATE.replace("{name}", "x").startswith(naming.JOB_NAME_PREFIX + "-")
