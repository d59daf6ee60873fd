"""Names follow the documented template and SageMaker's rules."""

from datetime import datetime

from smx_split import naming


def test_job_names_follow_the_documented_template():
    run = naming.run_id("my-training", datetime(2026, 11, 22, 9, 5, 7))
    assert naming.fold_job_name(run, 3) == "crossvalidator-my-training-20261122-090507-fold3"


def test_characters_sagemaker_rejects_become_single_hyphens():
    assert naming.sagemaker_safe("my_training.v2__final") == "my-training-v2-final"
    assert naming.sagemaker_safe("_edge_") == "edge"


def test_name_budget_shrinks_when_fold_indexes_need_two_digits():
    assert naming.max_name_length(10) == 26
    assert naming.max_name_length(11) == 25
