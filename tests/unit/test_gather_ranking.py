"""A search's ranking as the gather computes it (GridSearchCV's rank_test_score, error_score=nan), and what the
summary says when the search can choose no candidate."""

from __future__ import annotations

from smx_gather.ranking import focus_on_best, tuning_summary

METRIC = "validation:accuracy"


def _search(values_by_candidate: list[list[float | None]]) -> tuple[dict, list[dict]]:
    plan = {"tuning": {"objective": {"metric": METRIC, "type": "Maximize"},
                       "candidates": [{"index": c, "hyperparameters": {"eta": str(c)}}
                                      for c in range(len(values_by_candidate))]},
            "training": {"hyperparameters_template": {"rounds": "10"}}}
    splits = []
    for candidate, values in enumerate(values_by_candidate):
        for fold, value in enumerate(values):
            metrics = [] if value is None else [{"MetricName": METRIC, "Value": value}]
            splits.append({"candidate_index": candidate, "fold_index": fold, "TrainingJobStatus": "Completed",
                           "FinalMetricDataList": metrics})
    return plan, splits


def test_ties_share_the_lowest_rank_and_a_candidate_missing_a_value_ranks_last():
    # GIVEN two candidates tied on their mean, a worse one, and one whose second job reported nothing
    plan, splits = _search([[0.8, 0.9], [0.9, 0.8], [0.7, 0.7], [0.99, None]])
    # WHEN ranked
    search = tuning_summary(plan, splits)
    # THEN the tie shares rank 1 (the first is chosen, as GridSearchCV's best_index_), and the incomplete
    # candidate ranks last, however good its one value
    assert [c["rank"] for c in search["candidates"]] == [1, 1, 3, 4]
    assert search["best_index"] == 0 and search["best_hyperparameters"] == {"rounds": "10", "eta": "0"}


def test_a_search_whose_jobs_never_report_the_objective_chooses_no_candidate_and_says_why():
    # GIVEN every job completed, none reporting the objective
    plan, splits = _search([[None, None], [None, None]])
    search = tuning_summary(plan, splits)
    summary = {"metrics": {"train:loss": {}}, "failure_message": ""}
    # WHEN the summary is focused on the best candidate
    focus_on_best(summary, search, splits, refit_asked=True)
    # THEN there is none: no pooled metrics pass for an estimate, and the message says why and that nothing was refit
    assert search["best_index"] is None and summary["metrics"] == {}
    assert summary["search_failure_message"].startswith(
        "no candidate has validation:accuracy from every one of its jobs")
    assert "nothing was refit" in summary["search_failure_message"]
