"""A cross-validated search through the real state machine: every candidate on the same repeated folds,
ranked as GridSearchCV ranks them, with a failed job affecting only its candidate."""

from __future__ import annotations

import json
import os
import statistics

import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn.model_selection import ParameterGrid

from .conftest import DATASETS, EXAMPLES, describe_jobs, list_keys
from .test_state_machine import peak_training_overlap

METRIC = "validation:binary_classification_accuracy"
GRID = {"learning_rate": ["0.1", "0.001"], "l1": ["0", "0.01"]}


def search_input(example) -> dict:
    document = example("linear-learner")
    document["crossvalidation"].update(n_splits=3, n_repeats=2, random_state=5, max_concurrency=2)
    document["tuning"] = {"objective": {"metric": METRIC, "type": "Maximize"}, "grid": GRID, "refit": True}
    return document


def final(split: dict, metric: str = METRIC) -> float | None:
    return next((m["Value"] for m in split.get("FinalMetricDataList") or [] if m["MetricName"] == metric), None)


def test_a_grid_search_ranks_candidates_on_the_same_folds_and_a_failed_job_stays_in_its_candidate(app_engine, example):
    # GIVEN a 2x2 grid x 3 folds x 2 repeats with refit, and candidate 1's r0-fold1 job refused by SageMaker
    app_engine.training.inject_create_error(
        "ValidationException", "injected refusal", job_names=lambda name: name.endswith("-c1-r0-fold1"))
    # WHEN the search runs
    result = app_engine.run(search_input(example), timeout=600)
    # THEN every other job trained, and the run reports the one failure (as any run with a failed job does)
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    # (the refit's gather returns the search's whole output, from summary.json, with the refit's outcome)
    output = _lambda_outputs(result)[-1]
    splits, search = output["splits"], output["summary"]["tuning"]
    assert len(splits) == 24 and output["summary"]["failed_fold_count"] == 1
    # AND the candidates are ParameterGrid's, in its order
    assert [c["overrides"] for c in search["candidates"]] == list(ParameterGrid(GRID))
    # AND every candidate trained on the same folds: job (c, r, i) reads repeat r's fold i whatever c
    plan = next(o for o in _lambda_outputs(result) if "folds" in o)
    inputs = {}
    for job in plan["folds"]:
        inputs.setdefault((job["repeat_index"], job["fold_index"]), set()).add(str(job["InputDataConfig"]))
    assert len(inputs) == 6 and all(len(uris) == 1 for uris in inputs.values())
    # AND each candidate's values, mean and std are its jobs' final metrics in repeat then fold order
    for candidate in search["candidates"]:
        jobs = [s for s in splits if s["candidate_index"] == candidate["index"]]
        assert [(s["repeat_index"], s["fold_index"]) for s in jobs] == [(r, i) for r in range(2) for i in range(3)]
        expected = [final(s) if s["TrainingJobStatus"] == "Completed" else None for s in jobs]
        assert candidate["values"] == expected
        present = [v for v in expected if v is not None]
        assert candidate["completed"] == len(present)
        assert abs(candidate["mean"] - statistics.fmean(present)) < 1e-12
        assert abs(candidate["std"] - statistics.pstdev(present)) < 1e-12
    # AND the failed job counts against candidate 1 only
    assert [c["completed"] for c in search["candidates"]] == [6, 5, 6, 6]
    # AND the ranks are GridSearchCV's rank_test_score with error_score=nan: candidate 1, missing a job's score,
    # has no mean to rank and comes last (rankdata of the negated means, "min" ties, NaN tied below the worst)
    means = np.array([c["mean"] if c["complete"] else np.nan for c in search["candidates"]])
    assert [c["complete"] for c in search["candidates"]] == [True, False, True, True]
    filled = np.where(np.isnan(means), np.nanmin(means) - 1, means)
    assert [c["rank"] for c in search["candidates"]] == rankdata(-filled, method="min").astype(int).tolist()
    assert search["candidates"][1]["rank"] == 4
    best = int(np.argmin(rankdata(-filled, method="min")))  # GridSearchCV's best_index_
    assert search["best_index"] == best
    assert search["best_hyperparameters"] == {**plan["training"]["hyperparameters_template"],
                                              **search["candidates"][best]["overrides"]}
    # AND the summary's metrics are the best candidate's: the cross-validated estimate of what the search chose
    assert output["summary"]["metrics"] == search["candidates"][best]["metrics"]
    assert output["summary"]["completed_folds"] == [p for p, s in enumerate(splits) if s["candidate_index"] == best]
    # AND each candidate is a trial component of the run's trial, with its rank
    sagemaker = app_engine.client("sagemaker")
    for candidate in search["candidates"]:
        component = sagemaker.describe_trial_component(
            TrialComponentName=f"{output['job_config']['run_id']}-c{candidate['index']}")
        assert component["Parameters"]["rank"]["NumberValue"] == candidate["rank"]
    # AND no more than max_concurrency jobs trained at once
    created = [s["TrainingJobName"] for s in splits if s["TrainingJobStatus"] == "Completed"]
    assert peak_training_overlap(describe_jobs(app_engine, created)) <= 2
    # AND the best candidate was refit on every line of the dataset, after the search, as the run's final model
    refit = _lambda_outputs(result)[-1]["summary"]["tuning"]["refit"]
    job = sagemaker.describe_training_job(TrainingJobName=refit["TrainingJobName"])
    assert refit["TrainingJobName"] == f"{output['job_config']['run_id']}-refit"
    assert (job["TrainingJobStatus"], refit["candidate_index"]) == ("Completed", best)
    assert job["HyperParameters"] == search["best_hyperparameters"]
    assert refit["ModelArtifacts"]["S3ModelArtifacts"] == job["ModelArtifacts"]["S3ModelArtifacts"]
    assert job["TrainingStartTime"] >= max(j["TrainingEndTime"] for j in describe_jobs(app_engine, created))
    channels = {c["ChannelName"]: c["DataSource"]["S3DataSource"]["S3Uri"] for c in job["InputDataConfig"]}
    trained_on = _read_prefix(app_engine, channels["train"])
    dataset = (DATASETS / "breast_cancer.csv").read_bytes()
    assert sorted(trained_on.splitlines()) == sorted(dataset.splitlines())
    assert channels["validation"] == channels["train"]
    # AND summary.json holds the refit as the execution's last output does, and the search's gather handed on
    # nothing but the refit's plan
    summary_json = json.loads(_read_object(app_engine, output["summary"]["summary_json"]))
    assert summary_json["summary"]["tuning"]["refit"] == refit
    assert [set(o) for o in _lambda_outputs(result)[1:-1]] == [{"refit_plan"}]


def _read_object(engine, uri: str) -> bytes:
    bucket, _, key = uri[len("s3://"):].partition("/")
    return engine.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def _read_prefix(engine, uri: str) -> bytes:
    keys = list_keys(engine, uri)
    assert len(keys) == 1, keys
    return _read_object(engine, f"{uri[:uri.index('/', 5)]}/{keys[0]}")


def _lambda_outputs(result) -> list[dict]:
    return [json.loads(event["lambdaFunctionSucceededEventDetails"]["output"])
            for event in result.history if event["type"] == "LambdaFunctionSucceeded"]


def test_a_failed_refit_fails_the_run_after_the_search_is_summarised(app_engine, example):
    # GIVEN a search with refit whose every cross-validation job trains, and a refit job SageMaker refuses
    document = example("linear-learner")
    document["crossvalidation"].update(n_splits=2, random_state=3)
    document["tuning"] = {"objective": {"metric": METRIC, "type": "Maximize"},
                          "grid": {"learning_rate": ["0.1", "0.01"]}, "refit": True}
    app_engine.training.inject_create_error(
        "ValidationException", "injected refusal", job_names=lambda name: name.endswith("-refit"))
    # WHEN it runs
    result = app_engine.run(document, timeout=600)
    # THEN the run fails as RefitFailed, saying the run has no final model and why
    assert (result.status, result.error) == ("FAILED", "RefitFailed")
    assert "no final model" in result.cause and "injected refusal" in result.cause
    # AND summary.json keeps the search's ranking, with the refit's failure
    last = _lambda_outputs(result)[-1]
    summary = json.loads(_read_object(app_engine, last["summary"]["summary_json"]))["summary"]
    assert summary["failed_fold_count"] == 0 and [c["rank"] for c in summary["tuning"]["candidates"]]
    refit = summary["tuning"]["refit"]
    assert (refit["TrainingJobStatus"], refit["ModelArtifacts"]) == ("NotCreated", None)
    assert refit["candidate_index"] == summary["tuning"]["best_index"]


def _rates_search(example, candidates: int, n_splits: int = 3) -> dict:
    """The linear-learner example as a search of ``candidates`` learning rates (x l1 values past 100)."""
    document = example("linear-learner")
    document["crossvalidation"].update(n_splits=n_splits, random_state=7)
    document["job_config"]["name"] = "bench"
    rates = [f"{0.2 / (index + 1):.6g}" for index in range(min(candidates, 100))]
    grid = {"learning_rate": rates, **({"l1": [f"{0.001 * j:.3g}" for j in range(candidates // 100)]}
                                       if candidates > 100 else {})}
    document["tuning"] = {"objective": {"metric": METRIC, "type": "Maximize"}, "refit": True, "grid": grid}
    return document


def _payload_sizes(result) -> list[int]:
    return [len(details[field].encode()) for event in result.history for key, details in event.items()
            if key.endswith("EventDetails") and isinstance(details, dict)
            for field in ("input", "output") if isinstance(details.get(field), str)]


def test_a_search_past_the_inline_maps_states_runs_through_the_distributed_map_with_its_failures(
        app_engine, example):
    # GIVEN 16 candidates x 3 folds (one candidate more than the inline Map's states carry for this input),
    # and one job refused by SageMaker
    app_engine.training.inject_create_error(
        "ValidationException", "injected refusal for the distributed map",
        job_names=lambda name: name.endswith("-c3-fold2") and "bench" in name)
    # WHEN it runs
    result = app_engine.run(_rates_search(example, 16), timeout=900)
    # THEN the jobs ran as the Distributed Map's children, read from the jobs file the split wrote
    assert (result.status, result.error) == ("FAILED", "FoldsFailed")
    entered = [event["stateEnteredEventDetails"]["name"] for event in result.history if event["type"] == "MapStateEntered"]
    assert entered == ["TrainFoldsFromS3", "TrainFolds"]  # the search, then the refit alone
    plan = _lambda_outputs(result)[0]
    assert "folds" not in plan and plan["jobs_file"]["count"] == 48
    # AND the refusal's cause reached the summary through the ResultWriter's result files
    output = _lambda_outputs(result)[-1]
    [failed] = output["summary"]["failed_folds"]
    assert failed["TrainingJobName"].endswith("-c3-fold2") and "injected refusal" in failed["FailureReason"]
    assert output["summary"]["failed_fold_count"] == 1 and len(output["splits"]) == 48
    assert [c["completed"] for c in output["summary"]["tuning"]["candidates"]].count(2) == 1
    # AND the best complete candidate was refit, and no state came near Step Functions' 256 KiB
    refit = _lambda_outputs(result)[-1]["summary"]["tuning"]["refit"]
    assert refit["TrainingJobStatus"] == "Completed" and refit["candidate_index"] != 3
    assert max(_payload_sizes(result)) < 240 * 1024


LARGEST_SEARCH_JOBS = 1000  # smx_split.tuning.MAX_JOBS: make bench-tuning reports the same ceiling


@pytest.mark.skipif(os.environ.get("SMX_TEST_CEILING") != "1", reason=(
    "the 1,000-job search takes about 3 minutes of the suite's 15: `make test-ceiling` runs it (as does "
    "`BENCH_CANDIDATES=ceiling make bench-tuning`)"))
def test_the_largest_search_the_design_supports_runs_and_one_more_job_is_refused(app_engine, example):
    # GIVEN the largest search a run may start: 500 candidates (100 learning rates x 5 l1 values) x 2 folds
    # (one epoch each: the offline trainer's time is not what this test measures)
    document = _rates_search(example, 500, n_splits=2)
    document["training"]["hyperparameters_template"]["epochs"] = "1"
    # WHEN it runs through the state machine (the Distributed Map)
    result = app_engine.run(document, timeout=1800)
    # THEN every job and the refit completed, and no state came near Step Functions' 256 KiB: the execution
    # output dropped the per-job entries, which summary.json keeps
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    summary = result.output["summary"]
    assert summary["failed_fold_count"] == 0 and "splits" in summary["trimmed_fields"]
    assert summary["tuning"]["refit"]["TrainingJobStatus"] == "Completed"
    assert max(_payload_sizes(result)) < 240 * 1024
    written = json.loads(_read_object(app_engine, summary["summary_json"]))
    assert len(written["splits"]) == LARGEST_SEARCH_JOBS
    assert all(split["TrainingJobStatus"] == "Completed" for split in written["splits"])
    # AND the ranking in summary.json is GridSearchCV's over every candidate's mean
    candidates = written["summary"]["tuning"]["candidates"]
    means = np.array([candidate["mean"] for candidate in candidates])
    assert len(candidates) == 500
    assert [c["rank"] for c in candidates] == rankdata(-means, method="min").astype(int).tolist()
    # AND never more jobs trained at once than max_concurrency (2 by default)
    names = [split["TrainingJobName"] for split in written["splits"]]
    assert peak_training_overlap(describe_jobs(app_engine, names)) <= 2
    # AND one more candidate is refused before anything is written, saying how many jobs and what to narrow
    refused = app_engine.run(_rates_search(example, 501, n_splits=2) | {"tuning": {
        **document["tuning"], "candidates": [{"learning_rate": "0.0001", "l1": "0.5"}]}}, timeout=300)
    assert refused.status == "FAILED" and "1002 training jobs, more than the 1000 one run may start" in refused.cause


def test_one_job_past_the_largest_search_is_refused_before_anything_is_written(app_engine, example):
    # GIVEN a search of 1,002 jobs: 501 candidates x 2 folds, one more candidate than the largest search
    document = _rates_search(example, 500, n_splits=2)
    document["tuning"]["candidates"] = [{"learning_rate": "0.0001", "l1": "0.5"}]
    # WHEN it runs
    refused = app_engine.run(document, timeout=300)
    # THEN the split refuses it, saying how many jobs and what to narrow, before any job starts
    assert (refused.status, refused.error) == ("FAILED", "InvalidInputError")
    assert "1002 training jobs, more than the 1000 one run may start" in refused.cause


@pytest.mark.parametrize("name", sorted(path.stem for path in EXAMPLES.glob("*-search.json")))
def test_every_search_example_ranks_distinct_candidates_and_refits_the_best(app_engine, example, name):
    # GIVEN a search example of doc/examples (one per algorithm family)
    document = example(name)
    # WHEN it runs
    result = app_engine.run(document, timeout=900)
    # THEN every job completed and every candidate has a score
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    search = result.output["summary"]["tuning"]
    assert all(candidate["complete"] for candidate in search["candidates"])
    # AND the offline trainer honoured the searched hyperparameters: the candidates' scores differ
    assert len({round(candidate["mean"], 9) for candidate in search["candidates"]}) > 1
    # AND the best candidate was refit when the example asks for it
    if document["tuning"].get("refit"):
        assert search["refit"]["TrainingJobStatus"] == "Completed"
        assert search["refit"]["candidate_index"] == search["best_index"]


def test_a_search_whose_jobs_never_report_the_objective_fails_saying_no_candidate_was_chosen(app_engine, example):
    # GIVEN a custom container ranked on a metric its MetricDefinitions name but its script never prints
    document = example("custom-search")
    document["crossvalidation"]["n_splits"] = 2
    document["training"]["algorithm_specification"]["MetricDefinitions"].append(
        {"Name": "validation:f1", "Regex": "validation f1: ([0-9.]+)"})
    document["tuning"] = {"objective": {"metric": "validation:f1", "type": "Maximize"},
                          "grid": {"C": ["0.1", "1.0"]}, "refit": True}
    # WHEN it runs
    result = app_engine.run(document, timeout=600)
    # THEN every job completed, and the run fails saying why the search chose none and that nothing was refit
    assert (result.status, result.error) == ("FAILED", "NoCandidateScored")
    assert "no candidate has validation:f1 from every one of its jobs" in result.cause
    assert "nothing was refit" in result.cause
    output = _lambda_outputs(result)[-1]
    assert output["summary"]["failed_fold_count"] == 0 and output["summary"]["metrics"] == {}
    assert "refit_plan" not in output and output["summary"]["tuning"]["best_index"] is None
