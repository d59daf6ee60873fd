"""template.yaml read as a deployment sees it (smx_validator.template)."""

from __future__ import annotations

import pytest

from smx_validator.template import IntrinsicResolver, SamTemplate, TemplateError

from .conftest import REPO

BUCKETS = {"InputBucketName": "in-bucket", "OutputBucketName": "out-bucket"}


@pytest.fixture(scope="module")
def template() -> SamTemplate:
    return SamTemplate.load(REPO / "template.yaml")


def resolver(template: SamTemplate, **parameters: str) -> IntrinsicResolver:
    return IntrinsicResolver(
        template, parameters=template.parameter_values({**BUCKETS, **parameters}), region="eu-west-1",
        account_id="111122223333",
        attributes={("SplitFunction", "Arn"): "arn:split", ("GatherFunction", "Arn"): "arn:gather",
                    ("TrackFunction", "Arn"): "arn:track", ("SageMakerExecutionRole", "Arn"): "arn:role"},
        physical_ids={"SplitFunction": "stack-split"},
    )


def test_functions_come_with_their_code_handler_and_merged_environment(template):
    functions = {function.logical_id: function for function in template.functions()}
    split = functions["SplitFunction"]
    assert split.code_dir == REPO / "functions" / "split"
    assert split.handler == "app.lambda_handler"
    assert split.environment["POWERTOOLS_SERVICE_NAME"] == "smx-validator"  # from Globals
    assert split.environment["SMX_INPUT_SCHEMA"] == "/opt/input.schema.json"
    assert template.layer_content_dir("InputSchemaLayer") == REPO / "resources" / "schemas"


def test_parameters_get_their_defaults_and_constraints(template):
    values = template.parameter_values(BUCKETS)
    assert values == {**BUCKETS, "DefaultMaxConcurrency": "2", "OutputKmsKeyId": "", "InputKmsKeyId": "",
                      "MlflowTrackingServerArn": "", "MlflowArtifactBucketName": ""}
    with pytest.raises(TemplateError, match="InputBucketName: required"):
        template.parameter_values({"OutputBucketName": "out-bucket"})
    with pytest.raises(TemplateError, match="OutputBucketName: 'Not_A_Bucket' does not match"):
        template.parameter_values({**BUCKETS, "OutputBucketName": "Not_A_Bucket"})
    with pytest.raises(TemplateError, match="DefaultMaxConcurrency: 41 is above the maximum 40"):
        template.parameter_values({**BUCKETS, "DefaultMaxConcurrency": "41"})
    with pytest.raises(TemplateError, match="Unknown template parameter"):
        template.parameter_values({**BUCKETS, "Nope": "x"})


def test_the_state_machine_substitutions_resolve_to_the_deployed_resources(template):
    machine = template.state_machine()
    assert machine.definition_path == REPO / "statemachines" / "crossvalidator.asl.json"
    assert resolver(template).resolve(machine.substitutions) == {
        "SplitFunctionArn": "arn:split", "GatherFunctionArn": "arn:gather", "TrackFunctionArn": "arn:track",
        "SageMakerExecutionRoleArn": "arn:role", "InputBucketName": "in-bucket", "OutputBucketName": "out-bucket",
        "DefaultMaxConcurrency": "2", "OutputKmsKeyId": "", "MlflowTrackingServerArn": "",
    }


def test_conditions_and_sub_resolve_like_cloudformation(template):
    role = next(role for role in template.roles() if role.logical_id == "SageMakerExecutionRole")
    without_key = resolver(template).resolve(role.properties)["Policies"]
    key = "arn:aws:kms:eu-west-1:111122223333:key/abc-123"
    with_key = resolver(template, OutputKmsKeyId=key).resolve(role.properties)["Policies"]
    # The KMS policy exists only when a key is given (Fn::If + AWS::NoValue).
    assert [policy["PolicyName"] for policy in without_key] == ["training-data", "training-runtime"]
    assert with_key[-1]["PolicyName"] == "training-kms"
    assert with_key[-1]["PolicyDocument"]["Statement"][0]["Resource"] == key
    # Fn::Sub with pseudo parameters and a resource's Ref.
    output = template.document["Outputs"]["SplitFunctionLogGroup"]["Value"]
    assert resolver(template).resolve(output) == "/aws/lambda/stack-split"
    reads = with_key[0]["PolicyDocument"]["Statement"][0]["Resource"]
    assert reads == ["arn:aws:s3:::in-bucket/*", "arn:aws:s3:::out-bucket/*"]
