"""The SAR packaging command: `smx-validator sar-template` must yield a template SAR can publish.

SAR does not rewrite a state machine's local DefinitionUri (aws/serverless-application-model#2000),
so the published template must carry the ASL inline; these tests run the command and check the
result the way CloudFormation and SAR will see it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from samcli.yamlhelper import yaml_parse

from smx_validator import sar

ASL = Path("statemachines/crossvalidator.asl.json")
STATE_MACHINE = "CrossValidatorStateMachine"
# SAR's documented list of the resource types it publishes, with its source and the date it was read.
SAR_SUPPORTED_RESOURCES = Path("resources/sar-supported-resources.txt")


@pytest.fixture(scope="module")
def sar_template_path(repo_root: Path, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("sar") / "sar-template.yaml"
    exit_code = sar.main([str(repo_root / "template.yaml"), "--output", str(output)])
    assert exit_code == 0, "smx-validator sar-template template.yaml failed (see stderr above)"
    return output


@pytest.fixture(scope="module")
def sar_template(sar_template_path: Path) -> dict[str, Any]:
    return yaml_parse(sar_template_path.read_text(encoding="utf-8"))


def test_state_machine_definition_is_inline_and_equal_to_the_asl(sar_template, source_template, repo_root):
    properties = sar_template["Resources"][STATE_MACHINE]["Properties"]
    assert "DefinitionUri" not in properties, "DefinitionUri is still there: SAR would deploy a broken path"
    expected = json.loads((repo_root / ASL).read_text(encoding="utf-8"))
    assert properties.get("Definition") == expected, f"the inline Definition differs from {ASL}"
    assert (
        properties["DefinitionSubstitutions"]
        == source_template["Resources"][STATE_MACHINE]["Properties"]["DefinitionSubstitutions"]
    )


def test_the_rest_of_the_template_is_unchanged(sar_template, source_template, sar_template_path, repo_root):
    # Local paths are rewritten relative to where the result was written; the SAR metadata
    # and every other resource must reach sam package exactly as they were.
    for logical_id, resource in source_template["Resources"].items():
        if logical_id != STATE_MACHINE:
            for key in ("CodeUri", "ContentUri"):
                if key in resource.get("Properties", {}):
                    moved = (
                        sar_template_path.parent / sar_template["Resources"][logical_id]["Properties"][key]
                    ).resolve()
                    assert moved == (repo_root / resource["Properties"][key]).resolve(), (
                        f"{logical_id}.{key} points elsewhere"
                    )
    for section in ("Parameters", "Conditions", "Outputs", "Globals"):
        assert sar_template.get(section) == source_template.get(section), f"{section} changed"
    for field in ("LicenseUrl", "ReadmeUrl"):
        path = sar_template["Metadata"]["AWS::ServerlessRepo::Application"][field]
        assert (sar_template_path.parent / path).resolve().is_file(), (
            f"{field} {path} does not resolve from the output's folder"
        )


def test_sam_translator_accepts_the_sar_template(sar_template, translate):
    translated = translate(sar_template)  # raises with the translator's message when invalid
    machine = translated["Resources"][STATE_MACHINE]
    assert machine["Type"] == "AWS::StepFunctions::StateMachine"
    assert "DefinitionS3Location" not in machine["Properties"], (
        "the translated state machine still loads its definition from S3"
    )
    assert machine["Properties"].get("DefinitionSubstitutions"), "DefinitionSubstitutions were lost in translation"


# --- SAR's supported resources ------------------------------------------------------------------


@pytest.fixture(scope="module")
def sar_supported_types(repo_root: Path) -> frozenset[str]:
    types = set()
    for line in (repo_root / SAR_SUPPORTED_RESOURCES).read_text(encoding="utf-8").splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            types.add(entry)
    # Guards against a file that lost its list: the check below would then refuse everything, or
    # (were it inverted by mistake) accept everything.
    assert len(types) > 100 and "AWS::Serverless::Function" in types, f"{SAR_SUPPORTED_RESOURCES} looks truncated"
    return frozenset(types)


def unsupported_resources(template: dict[str, Any], supported: frozenset[str]) -> list[str]:
    """'LogicalId (Type)' of every resource whose type is not on SAR's supported list."""
    return [
        f"{logical_id} ({resource.get('Type')})"
        for logical_id, resource in (template.get("Resources") or {}).items()
        if resource.get("Type") not in supported
    ]


def test_every_resource_type_of_the_sar_template_is_supported_by_sar(sar_template, sar_supported_types):
    # GIVEN the template `smx-validator sar-template` writes for sam package / sam publish
    # WHEN its resource types are looked up in SAR's documented list
    unsupported = unsupported_resources(sar_template, sar_supported_types)
    # THEN SAR accepts every one of them (sam publish refuses the whole application otherwise)
    assert not unsupported, (
        f"resource types SAR does not publish (see {SAR_SUPPORTED_RESOURCES}): {unsupported}"
    )


def test_every_resource_sam_generates_from_it_is_supported_by_sar(sar_template, sar_supported_types, translate):
    # GIVEN what CloudFormation creates from the SAR template (SAM-generated roles, layer versions...)
    translated = translate(sar_template)
    # WHEN those types are looked up too (conservative: SAR's check is documented for the template
    # as published, but a generated type off the list would be the next surprise)
    unsupported = unsupported_resources(translated, sar_supported_types)
    # THEN they are on the list as well
    assert not unsupported, f"SAM generates resource types SAR does not list: {unsupported}"


@pytest.mark.parametrize(
    "kind, properties",
    [
        # What template.yaml used before SAR blocked it (aws/serverless-application-model#2952).
        (
            "AWS::Serverless::Connector",
            {"Source": {"Id": "Machine"}, "Destination": {"Id": "Function"}, "Permissions": ["Write"]},
        ),
        ("AWS::SageMaker::Model", {"ExecutionRoleArn": "arn:aws:iam::123456789012:role/r"}),
    ],
)
def test_the_supported_resources_check_reports_a_type_sar_does_not_list(
    sar_template, sar_supported_types, kind: str, properties: dict[str, Any]
):
    # GIVEN the real SAR template plus one resource of a type SAR does not publish
    broken = dict(sar_template)
    broken["Resources"] = {**sar_template["Resources"], "Unpublishable": {"Type": kind, "Properties": properties}}
    # WHEN the same check runs on it
    unsupported = unsupported_resources(broken, sar_supported_types)
    # THEN it names that resource, and only that one
    assert unsupported == [f"Unpublishable ({kind})"]


def test_cfn_lint_accepts_the_sar_template(sar_template_path, run_tool):
    result = run_tool("cfn-lint", str(sar_template_path))
    assert result.returncode == 0, f"cfn-lint {sar_template_path}:\n{result.stdout}{result.stderr}"


def test_running_it_on_its_own_output_changes_nothing(sar_template_path):
    once = sar_template_path.read_text(encoding="utf-8")
    assert sar.inline_definition(sar_template_path) == once


def test_cli_writes_to_stdout_without_output(repo_root, capsys):
    assert sar.main([str(repo_root / "template.yaml")]) == 0
    printed = yaml_parse(capsys.readouterr().out)
    assert "Definition" in printed["Resources"][STATE_MACHINE]["Properties"]


def test_cli_reports_a_missing_definition_file(tmp_path, capsys):
    template = tmp_path / "template.yaml"
    template.write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Resources:\n"
        "  Machine:\n"
        "    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n"
        "      DefinitionUri: statemachines/missing.asl.json\n",
        encoding="utf-8",
    )
    assert sar.main([str(template), "--output", str(tmp_path / "out.yaml")]) == 2
    error = capsys.readouterr().err
    assert "Machine" in error and "missing.asl.json" in error, error
    assert not (tmp_path / "out.yaml").exists(), "a failed run must not leave a half-made template behind"


# --- README: the packaging bucket's policy -------------------------------------------------------

# The bucket policy of AWS's SAR developer guide ("How to Publish Applications", prerequisites),
# with the guide's bucket name and account ID as the README's placeholders. Without it SAR cannot
# read what `sam package` uploaded and `sam publish` fails.
SAR_BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "serverlessrepo.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::MY_BUCKET/*",
            "Condition": {"StringEquals": {"aws:SourceAccount": "ACCOUNT_ID"}},
        }
    ],
}


def _readme_section(readme: str, heading: str) -> str:
    start = readme.index(heading)
    following = readme.find("\n## ", start + len(heading))
    following_sub = readme.find("\n### ", start + len(heading))
    ends = [index for index in (following, following_sub) if index != -1]
    return readme[start : min(ends) if ends else len(readme)]


def test_readme_publishing_steps_give_the_bucket_policy_sar_needs(repo_root):
    # GIVEN the README's publishing section
    section = _readme_section(
        (repo_root / "README.md").read_text(encoding="utf-8"), "### Publishing to the Serverless Application Repository"
    )
    # WHEN its JSON block is read as a policy
    blocks = section.split("```json\n")[1:]
    assert len(blocks) == 1, "the publishing section must show exactly one JSON block: the bucket policy"
    policy = json.loads(blocks[0].split("```", 1)[0])
    # THEN it is AWS's documented policy, applied with put-bucket-policy before sam publish
    assert policy == SAR_BUCKET_POLICY
    apply = section.index("aws s3api put-bucket-policy --bucket MY_BUCKET --policy file://sar-bucket-policy.json")
    assert apply < section.index("sam publish --template"), "the bucket policy must come before sam publish"
