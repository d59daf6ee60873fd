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


def test_a_run_whose_jobs_the_inline_states_cannot_carry_goes_through_the_distributed_map():
    # GIVEN 20 folds each repeating 12 KB of tags: about 240 KB of plan in every inline state
    execution_input, plan = _plan(folds=20, tag_bytes=12_000)
    # THEN it runs through the Distributed Map, whose states hold one job each, and it is accepted
    assert payload_budget.state_sizes(execution_input, plan)[0].bytes > payload_budget.BUDGET_BYTES
    assert payload_budget.map_mode(execution_input, plan) == payload_budget.DISTRIBUTED
    # (its largest state is the gather's output, which the gather trims to the budget)
    assert payload_budget.distributed_state_sizes(execution_input, plan)[0].bytes <= payload_budget.BUDGET_BYTES
    assert payload_budget.budget_problems(execution_input, plan) == []


def test_a_job_too_large_for_one_state_is_refused_naming_what_it_repeats():
    # GIVEN one job whose hyperparameters take 250 KB (100 values of 2,500 characters, SageMaker's maxima)
    execution_input, plan = _plan(folds=3)
    template = {f"p{i:02d}": "v" * 2500 for i in range(100)}
    execution_input["training"]["hyperparameters_template"] = template
    plan["folds"] = [{**fold, "HyperParameters": template} for fold in plan["folds"]]
    [problem] = payload_budget.budget_problems(execution_input, plan)
    # THEN the problem names the job's state, the budget and the hyperparameters as the biggest part
    assert problem.startswith("the run's largest Step Functions state would be ")
    assert "(a job's DescribeTrainingJob result)" in problem
    assert "the biggest parts: training.hyperparameters_template 245.0 KiB x 1 (in the job's request, and again" in problem


def test_sizes_count_utf8_bytes_not_characters():
    assert payload_budget.size({"a": "é"}) == len('{"a":"é"}'.encode("utf-8")) == 10
