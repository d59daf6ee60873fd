"""The state machine definition under AWS's own linter rules (cfn-lint E3601).

cfn-lint validates a definition against the Step Functions schema only in a plain
AWS::StepFunctions::StateMachine whose Definition is inline; behind SAM's DefinitionUri (and in
the SAR template's AWS::Serverless::StateMachine) it never looks at it. So the tests put the ASL,
read from the file at test time, where cfn-lint does look: as the Definition object with the
template's DefinitionSubstitutions, the form CloudFormation receives after the SAM transform.

E3601 covers the schema (state types, required and unknown fields, value types and ranges) and
that every StartAt names a state. It does not check Next targets or MaxConcurrency together with
MaxConcurrencyPath: test_template.py checks those itself.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ASL = Path("statemachines/crossvalidator.asl.json")
STATE_MACHINE = "CrossValidatorStateMachine"

# Plausible deployment values; cfn-lint only reads the keys (it skips schema errors on a
# "${Key}" string whose key is substituted), but a reader of a failure sees realistic ARNs.
SUBSTITUTION_VALUES = {
    "SplitFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:smx-validator-SplitFunction-AbCdEf123456",
    "GatherFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:smx-validator-GatherFunction-AbCdEf123456",
    "SageMakerExecutionRoleArn": "arn:aws:iam::123456789012:role/smx-validator-SageMakerExecutionRole-AbCdEf123456",
    "InputBucketName": "smx-test-input",
    "OutputBucketName": "smx-test-output",
    "DefaultMaxConcurrency": "2",
    "OutputKmsKeyId": "",
}


def _plain_state_machine_template(definition: dict[str, Any], substitution_keys: list[str]) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "StateMachine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {
                    "RoleArn": "arn:aws:iam::123456789012:role/smx-validator-CrossValidatorStateMachineRole",
                    "Definition": definition,
                    "DefinitionSubstitutions": {
                        key: SUBSTITUTION_VALUES.get(key, f"placeholder-{key}") for key in substitution_keys
                    },
                },
            }
        },
    }


def cfn_lint_findings(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(rule id, message, path) of every cfn-lint finding on the template, through cfn-lint's API."""
    from cfnlint.api import lint_all

    return [
        (match.rule.id, match.message, "/".join(str(part) for part in match.path or []))
        for match in lint_all(json.dumps(template))
    ]


@pytest.fixture
def definition(repo_root: Path) -> dict[str, Any]:
    # Read per test: the definition is being changed in the same tree; a fresh copy per test
    # also lets a test mutate it freely.
    return json.loads((repo_root / ASL).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def substitution_keys(source_template: dict[str, Any]) -> list[str]:
    keys = list(source_template["Resources"][STATE_MACHINE]["Properties"]["DefinitionSubstitutions"])
    assert keys, f"{STATE_MACHINE} has no DefinitionSubstitutions"
    return keys


def test_cfn_lint_finds_no_error_or_warning_in_the_state_machine_definition(definition, substitution_keys):
    # GIVEN the ASL as the inline Definition of a plain AWS::StepFunctions::StateMachine
    template = _plain_state_machine_template(definition, substitution_keys)
    # WHEN cfn-lint checks it
    findings = cfn_lint_findings(template)
    # THEN it reports nothing at error or warning level (informational findings are advice)
    problems = [f"{rule} {message} (at {path})" for rule, message, path in findings if rule[0] in "EW"]
    assert not problems, f"cfn-lint on {ASL} as an inline Definition:\n" + "\n".join(problems)


def _fold_states(definition: dict[str, Any]) -> dict[str, Any]:
    return definition["States"]["TrainFolds"]["ItemProcessor"]["States"]


def _drop_resource_of_the_split_task(definition: dict[str, Any]) -> None:
    del definition["States"]["SplitDataset"]["Resource"]


def _start_at_a_missing_state(definition: dict[str, Any]) -> None:
    definition["StartAt"] = "NoSuchState"


def _start_the_fold_iteration_at_a_missing_state(definition: dict[str, Any]) -> None:
    definition["States"]["TrainFolds"]["ItemProcessor"]["StartAt"] = "NoSuchState"


def _misspell_a_field_of_a_training_task(definition: dict[str, Any]) -> None:
    task = _fold_states(definition)["TrainFold"]
    task["Parameter"] = task.pop("Parameters")


def _retry_a_negative_number_of_times(definition: dict[str, Any]) -> None:
    definition["States"]["GatherResults"]["Retry"] = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": -1}]


def _choice_without_choices(definition: dict[str, Any]) -> None:
    del definition["States"]["CheckFolds"]["Choices"]


@pytest.mark.parametrize(
    "mutate",
    [
        _drop_resource_of_the_split_task,
        _start_at_a_missing_state,
        _start_the_fold_iteration_at_a_missing_state,
        _misspell_a_field_of_a_training_task,
        _retry_a_negative_number_of_times,
        _choice_without_choices,
    ],
    ids=lambda mutate: mutate.__name__.lstrip("_"),
)
def test_cfn_lint_reports_e3601_for_a_broken_definition(
    definition, substitution_keys, mutate: Callable[[dict[str, Any]], None]
):
    # GIVEN the real ASL with one mistake Step Functions would refuse at deploy time
    broken = copy.deepcopy(definition)
    mutate(broken)
    # WHEN the same cfn-lint check runs on it
    findings = cfn_lint_findings(_plain_state_machine_template(broken, substitution_keys))
    # THEN E3601 reports it: the passing test above is not passing because cfn-lint looked at nothing
    assert any(rule == "E3601" for rule, _, _ in findings), (
        f"cfn-lint did not report E3601 after {mutate.__name__}; findings: {findings}"
    )
