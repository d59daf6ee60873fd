"""The split step's measure of the largest Step Functions state a run will carry (pure)."""

from __future__ import annotations

from smx_gather import payload as gather_payload
from smx_split import payload_budget


def _plan(folds: int, tag_bytes: int = 0, environment_bytes: int = 0) -> tuple[dict, dict]:
    tags = [{"Key": "k", "Value": "v" * tag_bytes}] if tag_bytes else []
    execution_input = {"job_config": {"tags": tags}, "training": {"environment": {"E": "e" * environment_bytes}}}
    plan = {
        "job_config": {"tags": tags}, "crossvalidation": {}, "training": {"environment": {"E": "e" * environment_bytes}},
        "job": {"Environment": {"E": "e" * environment_bytes}},
        "folds": [{"fold_index": i, "Tags": tags} for i in range(folds)],
    }
    return execution_input, plan


def test_the_budget_is_the_figure_the_gather_trims_its_output_to():
    # One budget for both ends of the run: the split refuses what the gather could not trim to fit.
    assert payload_budget.BUDGET_BYTES == gather_payload.LIMIT_BYTES < payload_budget.LIMIT_BYTES == 256 * 1024


def test_a_small_run_fits_and_the_states_are_measured_largest_first():
    execution_input, plan = _plan(folds=5)
    sizes = payload_budget.state_sizes(execution_input, plan)
    assert [state.bytes for state in sizes] == sorted((state.bytes for state in sizes), reverse=True)
    assert payload_budget.budget_problems(execution_input, plan) == []


def test_tags_repeated_in_every_fold_are_named_first_when_the_run_does_not_fit():
    # GIVEN 20 folds each repeating 12 KB of tags
    execution_input, plan = _plan(folds=20, tag_bytes=12_000)
    [problem] = payload_budget.budget_problems(execution_input, plan)
    # THEN the problem names the state, the budget and the tags as the biggest part
    assert problem.startswith("the run's largest Step Functions state would be ")
    assert "the biggest parts: job_config.tags 11.7 KiB x 22" in problem


def test_sizes_count_utf8_bytes_not_characters():
    assert payload_budget.size({"a": "é"}) == len('{"a":"é"}'.encode("utf-8")) == 10
