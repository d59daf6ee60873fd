"""The refit job as the gather plans it and records it: the best candidate's hyperparameters rendered for the
whole dataset, and how its outcome reads in the summary."""

from __future__ import annotations

import pytest

from smx_gather.refit import refit_outcome, refit_plan, with_refit

RUN = "crossvalidator-demo-20261122-120000"
REFIT_REQUEST = {
    "TrainingJobName": f"{RUN}-refit",
    "InputDataConfig": [{"ChannelName": c, "DataSource": {"S3DataSource": {"S3Uri": f"s3://b/{RUN}/refit/data/"}}}
                        for c in ("train", "validation")],
    "ExperimentConfig": {"ExperimentName": "e", "TrialName": RUN, "TrialComponentDisplayName": "refit"},
    "Tags": [{"Key": "fold", "Value": "refit"}],
    "num_training_samples": 569,
    "num_validation_samples": 569,
}


def search_plan(refit: bool = True) -> dict:
    tuning = {"objective": {"metric": "validation:accuracy", "type": "Maximize"},
              "candidates": [{"index": 0, "hyperparameters": {"learning_rate": "0.1"}},
                             {"index": 1, "hyperparameters": {"learning_rate": "0.01", "epochs": "${num_classes}"}}]}
    if refit:
        tuning["refit"] = REFIT_REQUEST
    return {
        "job_config": {"run_id": RUN, "run_prefix": f"s3://b/{RUN}/"},
        "crossvalidation": {"num_classes": 2},
        "training": {"hyperparameters_template": {"mini_batch_size": "${num_training_samples}", "epochs": "5"}},
        "job": {"AlgorithmSpecification": {"TrainingImage": "img"}},
        "tuning": tuning,
    }


def test_the_refit_trains_the_best_candidate_with_placeholders_filled_for_the_whole_dataset():
    # GIVEN a search whose best candidate is 1, and a template with a per-job placeholder
    # WHEN the gather plans the refit
    plan = refit_plan(search_plan(), {"best_index": 1})
    # THEN the Map gets one job, alone, with the candidate's values over the template's, filled for 569 lines
    assert plan["phase"] == "refit" and plan["max_concurrency"] == 1
    [job] = plan["folds"]
    assert job["HyperParameters"] == {"mini_batch_size": "569", "epochs": "2", "learning_rate": "0.01"}
    assert (job["fold_index"], job["candidate_index"], job["TrainingJobName"]) == (None, 1, f"{RUN}-refit")
    assert job["InputDataConfig"] == REFIT_REQUEST["InputDataConfig"]
    assert plan["job"] == search_plan()["job"]


@pytest.mark.parametrize("plan, search", [
    (search_plan(refit=False), {"best_index": 0}),  # no refit asked
    (search_plan(), {"best_index": None}),  # no candidate completed every job: nothing was chosen
    ({**search_plan(), "tuning": None}, None),  # not a search
], ids=["refit-not-asked", "no-best-candidate", "no-search"])
def test_no_refit_without_a_request_or_a_chosen_candidate(plan, search):
    assert refit_plan(plan, search) is None


def _job() -> dict:
    return refit_plan(search_plan(), {"best_index": 0})["folds"][0]


def _search_output(failure_message: str = "") -> dict:
    return {"summary": {"tuning": {"best_index": 0}, "failure_message": failure_message,
                        "billable_seconds_total": 100, "training_seconds_total": 120}}


def test_a_completed_refit_names_the_final_model_and_counts_its_seconds():
    # GIVEN the refit job completed
    description = {"TrainingJobStatus": "Completed", "ModelArtifacts": {"S3ModelArtifacts": "s3://b/model.tar.gz"},
                   "TrainingTimeInSeconds": 7, "BillableTimeInSeconds": 5}
    # WHEN its outcome is added to the search's output
    output = with_refit(_search_output(), refit_outcome(_job(), description, {}))
    # THEN the summary names the model, adds its seconds, and no failure is said
    refit = output["summary"]["tuning"]["refit"]
    assert refit["ModelArtifacts"] == {"S3ModelArtifacts": "s3://b/model.tar.gz"}
    assert (output["summary"]["billable_seconds_total"], output["summary"]["training_seconds_total"]) == (105, 127)
    assert "refit_failure_message" not in output["summary"] and output["summary"]["failure_message"] == ""


def test_a_completed_refit_is_named_in_a_failed_search_message():
    description = {"TrainingJobStatus": "Completed", "ModelArtifacts": {"S3ModelArtifacts": "s3://b/model.tar.gz"}}
    output = with_refit(_search_output("1 of 4 training jobs failed: ..."), refit_outcome(_job(), description, {}))
    # The model comes first: the run fails for the other jobs, and its deliverable exists all the same
    assert output["summary"]["failure_message"] == ("the refit job completed, so the run has its final model at "
                                                    "s3://b/model.tar.gz; 1 of 4 training jobs failed: ...")


@pytest.mark.parametrize("description, caught, reason", [
    ({"TrainingJobStatus": "Failed", "FailureReason": "AlgorithmError: out of memory"}, {}, "AlgorithmError: out of memory"),
    (None, {"error": "SageMaker.AmazonSageMakerException", "cause": "quota"}, "SageMaker.AmazonSageMakerException: quota"),
], ids=["job-failed", "never-created"])
def test_a_failed_refit_says_there_is_no_final_model_and_why(description, caught, reason):
    output = with_refit(_search_output(), refit_outcome(_job(), description, caught))
    refit = output["summary"]["tuning"]["refit"]
    assert refit["ModelArtifacts"] is None and reason in refit["FailureReason"]
    message = output["summary"]["refit_failure_message"]
    assert "no final model" in message and reason in message and f"{RUN}-refit" in message
