"""Least privilege, checked on what CloudFormation really deploys: template.yaml after
the SAM transform, so SAM-generated roles and the policies SAM expands from its policy
templates (the state machine's LambdaInvokePolicy) are included.

Intrinsics are resolved with made-up deployment values (below), so every check and the IAM
linter see concrete ARNs. OutputKmsKeyId, InputKmsKeyId, MlflowTrackingServerArn and
MlflowArtifactBucketName are set: their statements exist only then, and the policies without them are a
subset of these.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smx_split import naming

PARTITION, REGION, ACCOUNT = "aws", "us-east-1", "123456789012"
INPUT_BUCKET, OUTPUT_BUCKET = "smx-test-input", "smx-test-output"
KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
INPUT_KMS_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/66666666-7777-8888-9999-000000000000"
MLFLOW_SERVER = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:mlflow-tracking-server/team-server"
MLFLOW_ARTIFACT_BUCKET = "smx-test-mlflow-artifacts"
PARAMETERS = {
    "MlflowTrackingServerArn": MLFLOW_SERVER,
    "MlflowArtifactBucketName": MLFLOW_ARTIFACT_BUCKET,
    "InputBucketName": INPUT_BUCKET,
    "OutputBucketName": OUTPUT_BUCKET,
    "OutputKmsKeyId": KMS_KEY,
    "InputKmsKeyId": INPUT_KMS_KEY,
    "DefaultMaxConcurrency": "2",
    "AWS::Partition": PARTITION,
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::StackName": "smx-validator",
    "AWS::URLSuffix": "amazonaws.com",
}
SAGEMAKER_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/SageMakerExecutionRole"
# The run's names start with the job-name prefix (naming.py): the grants on "crossvalidator-*" must follow it.
JOB_PREFIX = naming.JOB_NAME_PREFIX + "-"

# The only actions allowed on Resource "*": each has no usable resource-level permission.
STAR_RESOURCE_ALLOWED = {
    "ecr:GetAuthorizationToken": "no resource-level permissions: the login token is not tied to a repository",
    "cloudwatch:PutMetricData": "no resource-level permissions; the cloudwatch:namespace condition scopes it instead",
    "sagemaker:ListTags": "the .sync integration lists tags before it knows the job ARN (AWS documents *)",
    "ec2:DescribeNetworkInterfaces": "Describe* actions have no resource-level permissions",
    "ec2:DescribeVpcs": "Describe* actions have no resource-level permissions",
    "ec2:DescribeDhcpOptions": "Describe* actions have no resource-level permissions",
    "ec2:DescribeSubnets": "Describe* actions have no resource-level permissions",
    "ec2:DescribeSecurityGroups": "Describe* actions have no resource-level permissions",
    "ec2:CreateNetworkInterface": "the subnets and security groups come with each run's vpc_config, unknown at deploy",
    "ec2:CreateNetworkInterfacePermission": "SageMaker's ENIs get IDs at run time; AWS's SageMaker VPC policy uses *",
    "ec2:DeleteNetworkInterface": "SageMaker's ENIs get IDs at run time; AWS's SageMaker VPC policy uses *",
    "ec2:DeleteNetworkInterfacePermission": "SageMaker's ENIs get IDs at run time; AWS's SageMaker VPC policy uses *",
}

# SageMaker resource types the app may touch, and the names it may touch them by.
SAGEMAKER_NAMES = {
    "training-job": JOB_PREFIX + "*",
    "experiment-trial": JOB_PREFIX + "*",
    "experiment-trial-component": JOB_PREFIX + "*",
    # Out-of-fold predictions: each fold's model and transform job are named as its training job.
    "model": JOB_PREFIX + "*",
    "transform-job": JOB_PREFIX + "*",
    # The user names the experiment (job_config.experiment, default: the job name), so the
    # split step must be able to create/describe/tag any experiment of the account.
    "experiment": "*",
}

# Anything that is not a read: S3 write/delete/permission actions on the input bucket are bugs.
S3_READ_ACTIONS = re.compile(r"^s3:(Get|List|Head)")

# Roles that would make least privilege meaningless.
BROAD_MANAGED_POLICY = re.compile(
    r":policy/(.*/)?([A-Za-z0-9]*FullAccess[A-Za-z0-9]*|AdministratorAccess|PowerUserAccess)$"
)


# --- resolving intrinsics -----------------------------------------------------------------------

_NO_VALUE = object()


class _Resolver:
    """Just enough of CloudFormation to turn the translated template's policies concrete."""

    def __init__(self, template: dict[str, Any]):
        self.resources = template.get("Resources", {})
        self.conditions = template.get("Conditions", {})

    def arn_of(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        if kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{ACCOUNT}:role/{logical_id}"
        if kind == "AWS::Lambda::Function":
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"
        if kind == "AWS::StepFunctions::StateMachine":
            return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{logical_id}"
        raise AssertionError(f"test resolver: no ARN format for {logical_id} ({kind}); add one")

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        if name in PARAMETERS:
            return PARAMETERS[name]
        if name in self.resources:
            return self.arn_of(name) if self.resources[name]["Type"] == "AWS::StepFunctions::StateMachine" else name
        raise AssertionError(f"test resolver: unknown Ref {name!r}")

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions[name]))

    def sub(self, text: str, variables: dict[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                assert attribute == "Arn", f"test resolver: unsupported ${{{name}}}"
                return self.arn_of(logical_id)
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", replace, text)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [value for value in map(self.resolve, node) if value is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, value),) = node.items()
            if key == "Ref":
                return self.ref(value)
            if key == "Fn::GetAtt":
                logical_id, attribute = value if isinstance(value, list) else value.split(".", 1)
                assert attribute == "Arn", f"test resolver: unsupported GetAtt {value}"
                return self.arn_of(logical_id)
            if key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], self.resolve(value[1]))
                return self.sub(text, variables)
            if key == "Fn::Join":
                return value[0].join(self.resolve(value[1]))
            if key == "Fn::If":
                name, if_true, if_false = value
                return self.resolve(if_true if self.condition(name) else if_false)
            if key == "Fn::Equals":
                left, right = self.resolve(value)
                return left == right
            if key == "Fn::Not":
                return not self.resolve(value[0])
            if key == "Condition":
                return self.condition(value)
        return {
            key: resolved
            for key, resolved in ((k, self.resolve(v)) for k, v in node.items())
            if resolved is not _NO_VALUE
        }


# --- collecting the policies ---------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    where: str  # e.g. "SplitFunctionRole/SplitFunctionRolePolicy0 [ReadDataset]"
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    raw: dict[str, Any]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.fixture(scope="module")
def deployed(translated_template: dict[str, Any]) -> dict[str, Any]:
    return _Resolver(translated_template).resolve(translated_template)


@pytest.fixture(scope="module")
def policy_documents(deployed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every identity policy document CloudFormation would create, by 'resource/policy name'."""
    documents = {}
    for logical_id, resource in deployed["Resources"].items():
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::IAM::Role":
            for policy in properties.get("Policies", []):
                documents[f"{logical_id}/{policy['PolicyName']}"] = policy["PolicyDocument"]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents[logical_id] = properties["PolicyDocument"]
    return documents


@pytest.fixture(scope="module")
def allow_statements(policy_documents: dict[str, dict[str, Any]]) -> list[Statement]:
    statements = []
    for name, document in policy_documents.items():
        for index, statement in enumerate(_as_list(document["Statement"])):
            if statement["Effect"] != "Allow":
                continue
            assert "NotAction" not in statement and "NotResource" not in statement, (
                f"{name} statement {index}: NotAction/NotResource grant everything not listed; list what is allowed"
            )
            statements.append(
                Statement(
                    where=f"{name} [{statement.get('Sid', f'statement {index}')}]",
                    actions=tuple(_as_list(statement["Action"])),
                    resources=tuple(_as_list(statement["Resource"])),
                    raw=statement,
                )
            )
    return statements


def grants(statements: list[Statement], action_pattern: str) -> Iterator[tuple[Statement, str, str]]:
    """(statement, action, resource) for every Allow of an action matching the glob."""
    for statement in statements:
        for action in statement.actions:
            if fnmatch.fnmatchcase(action.lower(), action_pattern.lower()):
                for resource in statement.resources:
                    yield statement, action, resource


# --- the checks -----------------------------------------------------------------------------------


APP_ROLES = {"SageMakerExecutionRole", "SplitFunctionRole", "GatherFunctionRole", "TrackFunctionRole",
             "CrossValidatorStateMachineRole"}


def test_every_role_of_the_app_is_checked(policy_documents, allow_statements):
    # Guards the checks below against passing because the collection above found nothing.
    checked = {name.split("/")[0] for name in policy_documents}
    assert APP_ROLES <= checked, (
        f"roles whose policies were not found in the translated template: {APP_ROLES - checked}"
    )
    # The state machine invokes the two functions through SAM's LambdaInvokePolicy templates:
    # the statements SAM expands them to must be seen too.
    invokes = [s for s in allow_statements if "lambda:InvokeFunction" in s.actions]
    assert invokes, (
        "no lambda:InvokeFunction grant found: the state machine's LambdaInvokePolicy expansions are missing "
        "from the checks"
    )


def test_no_wildcard_actions(allow_statements):
    wild = "\n".join(f"{s.where}: {a}" for s in allow_statements for a in s.actions if "*" in a)
    assert not wild, f"wildcard actions grant whatever AWS adds to a service later; list each action:\n{wild}"


def test_star_resource_only_where_aws_requires_it(allow_statements):
    offending = [
        f"{statement.where}: {action}"
        for statement, action, resource in grants(allow_statements, "*")
        if resource == "*" and action not in STAR_RESOURCE_ALLOWED
    ]
    assert not offending, (
        'Resource "*" on actions that support resource-level permissions (scope them, or add the action '
        "to STAR_RESOURCE_ALLOWED with the reason AWS requires *):\n" + "\n".join(offending)
    )


def test_s3_only_on_the_two_buckets_and_read_only_on_the_input_bucket(allow_statements):
    problems = []
    for statement, action, resource in grants(allow_statements, "s3:*"):
        bucket = re.fullmatch(r"arn:aws:s3:::([^/]+)(/.+)?", resource)
        if bucket and bucket.group(1) == MLFLOW_ARTIFACT_BUCKET:
            # The managed tracking server's artifact store: the track function uploads the summaries, nothing else.
            if not (statement.where.startswith("TrackFunctionRole/") and action == "s3:PutObject"):
                problems.append(f"{statement.where}: {action} on the MLflow artifact bucket (only the track "
                                "function's s3:PutObject)")
            continue
        if not bucket or bucket.group(1) not in (INPUT_BUCKET, OUTPUT_BUCKET):
            problems.append(f"{statement.where}: {action} on {resource} (only InputBucketName/OutputBucketName)")
        elif bucket.group(1) == INPUT_BUCKET and not S3_READ_ACTIONS.match(action):
            problems.append(f"{statement.where}: {action} on the input bucket, which the app may only read")
    assert not problems, "\n".join(problems)


def test_sagemaker_only_on_this_apps_names(allow_statements):
    problems = []
    for statement, action, resource in grants(allow_statements, "sagemaker:*"):
        if resource == "*":
            continue  # allowed or refused by test_star_resource_only_where_aws_requires_it
        parsed = re.fullmatch(rf"arn:aws:sagemaker:{REGION}:{ACCOUNT}:([a-z-]+)/(.+)", resource)
        if not parsed:
            problems.append(f"{statement.where}: {action} on {resource} (not this account's and region's SageMaker)")
            continue
        kind, name = parsed.groups()
        if SAGEMAKER_NAMES.get(kind) != name:
            problems.append(
                f"{statement.where}: {action} on {resource}; allowed: {kind}/{SAGEMAKER_NAMES.get(kind, '(none)')}"
            )
        for noun, own_kind in (("TrainingJob", "training-job"), ("TransformJob", "transform-job"),
                               ("Model", "model")):
            if action.endswith(noun) and kind != own_kind:
                problems.append(
                    f"{statement.where}: {action} on {resource}: {own_kind} actions belong on {own_kind}/{JOB_PREFIX}*")
    assert not problems, "\n".join(problems)


# SAM's LambdaInvokePolicy ends the ARN in "*" so that the function's versions and aliases
# (function:NAME:QUALIFIER) are covered too; CloudFormation names the functions
# <stack>-<LogicalId>-<random suffix>, so the prefix reaches no other function of this app.
INVOKABLE_FUNCTIONS = {
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:SplitFunction*",
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:GatherFunction*",
    f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:TrackFunction*",
}


def test_only_the_state_machine_invokes_and_only_the_split_and_gather_functions(allow_statements):
    # GIVEN every Allow of a Lambda action in the deployed policies
    lambda_grants = list(grants(allow_statements, "lambda:*"))

    # WHEN they are sorted into who may do what on which function
    invoked = {resource for _, action, resource in lambda_grants if action == "lambda:InvokeFunction"}
    problems = [
        f"{statement.where}: {action} on {resource}"
        for statement, action, resource in lambda_grants
        if action != "lambda:InvokeFunction" or not statement.where.startswith("CrossValidatorStateMachineRole/")
    ]

    # THEN the state machine's role may invoke the two functions of the app and nothing else may happen
    assert not problems, (
        "Lambda grants beyond the state machine invoking its two functions (InvokeAsync, management "
        "actions, or another role):\n" + "\n".join(problems)
    )
    assert invoked == INVOKABLE_FUNCTIONS, (
        f"lambda:InvokeFunction on {sorted(invoked)}; expected exactly {sorted(INVOKABLE_FUNCTIONS)}"
    )


def test_mlflow_only_by_the_track_function_on_the_deployed_tracking_server(allow_statements):
    # GIVEN every Allow of a SageMaker-with-MLflow action (service prefix sagemaker-mlflow)
    mlflow_grants = list(grants(allow_statements, "sagemaker-mlflow:*"))
    # THEN the track function alone may call MLflow, and only on the server given at deploy time
    assert mlflow_grants, "no sagemaker-mlflow grant: the track function could not write to a managed server"
    problems = [f"{statement.where}: {action} on {resource}" for statement, action, resource in mlflow_grants
                if not statement.where.startswith("TrackFunctionRole/") or resource != MLFLOW_SERVER]
    assert not problems, "MLflow grants beyond the track function on MlflowTrackingServerArn:\n" + "\n".join(problems)


def test_pass_role_only_for_the_execution_role_to_sagemaker(allow_statements):
    problems = []
    iam_grants = list(grants(allow_statements, "iam:*"))
    assert iam_grants, "no iam:PassRole at all: the state machine cannot start training jobs with the execution role"
    for statement, action, resource in iam_grants:
        if action != "iam:PassRole":
            problems.append(f"{statement.where}: {action} (iam:PassRole is the only IAM action the app needs)")
        if resource != SAGEMAKER_ROLE_ARN:
            problems.append(
                f"{statement.where}: PassRole on {resource}; only the SageMaker execution role may be passed"
            )
        passed_to = statement.raw.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService")
        if _as_list(passed_to) != ["sagemaker.amazonaws.com"]:
            problems.append(
                f"{statement.where}: PassRole needs Condition StringEquals "
                f"iam:PassedToService = sagemaker.amazonaws.com, has {passed_to!r}"
            )
    assert not problems, "\n".join(problems)


def test_kms_only_on_the_deployers_keys(allow_statements):
    problems = [
        f"{statement.where}: {action} on {resource}"
        for statement, action, resource in grants(allow_statements, "kms:*")
        if resource != KMS_KEY and not (resource == INPUT_KMS_KEY and action == "kms:Decrypt")
    ]
    assert not problems, (
        "KMS actions must be limited to the OutputKmsKeyId parameter, and to kms:Decrypt on InputKmsKeyId:\n"
        + "\n".join(problems))


def test_the_input_key_lets_the_split_function_and_the_training_jobs_decrypt_and_nothing_else(allow_statements):
    # GIVEN InputKmsKeyId (the input bucket's objects under a customer managed key)
    roles = {statement.where.split("/")[0] for statement, action, resource in grants(allow_statements, "kms:*")
             if resource == INPUT_KMS_KEY}
    actions = {action for statement, action, resource in grants(allow_statements, "kms:*") if resource == INPUT_KMS_KEY}
    # THEN the split function (reads the dataset) and the training jobs (read a manifest's source-ref objects)
    # may decrypt with it, and nobody may do more
    assert roles == {"SplitFunctionRole", "SageMakerExecutionRole"} and actions == {"kms:Decrypt"}


def test_no_broad_aws_managed_policies(deployed, source_template):
    attached = [
        f"{logical_id}: {arn}"
        for logical_id, resource in deployed["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
        for arn in resource.get("Properties", {}).get("ManagedPolicyArns", [])
        if BROAD_MANAGED_POLICY.search(str(arn))
    ]
    # Also by name in the source, in case the translator ever leaves a name unresolved.
    named = [
        f"{logical_id}: {policy}"
        for logical_id, resource in source_template["Resources"].items()
        for policy in _as_list(resource.get("Properties", {}).get("Policies", []))
        if isinstance(policy, str) and BROAD_MANAGED_POLICY.search(":policy/" + policy)
    ]
    assert not attached + named, "AWS-managed *FullAccess/admin policies on a role:\n" + "\n".join(attached + named)


# --- IAM policy linter ----------------------------------------------------------------------------

# parliament findings accepted beyond the Resource "*" allowlist: (finding, action, why the app needs it).
_OTHER_ACCEPTED_FINDINGS = [
    ("CREDENTIALS_EXPOSURE", "ecr:GetAuthorizationToken", "SageMaker logs in to ECR with it to pull the image"),
    ("PERMISSIONS_MANAGEMENT_ACTIONS", "iam:PassRole", "starts the jobs with their role; test_pass_role_* scopes it"),
    ("PERMISSIONS_MANAGEMENT_ACTIONS", "ec2:CreateNetworkInterfacePermission", "SageMaker VPC training attaches ENIs"),
    ("PERMISSIONS_MANAGEMENT_ACTIONS", "ec2:DeleteNetworkInterfacePermission", "SageMaker VPC training detaches ENIs"),
    ("PERMISSIONS_MANAGEMENT_ACTIONS", "kms:CreateGrant", "SageMaker lets its instances use the key; test_kms_*"),
    ("RESOURCE_MISMATCH", "states:DescribeExecution",
     "parliament wants the express-execution resource too; the Distributed Map's children are STANDARD executions"),
]
PARLIAMENT_ACCEPTED = {
    **{("RESOURCE_STAR", action.lower()): reason for action, reason in STAR_RESOURCE_ALLOWED.items()},
    **{(issue, action.lower()): reason for issue, action, reason in _OTHER_ACCEPTED_FINDINGS},
}




@pytest.fixture(scope="module")
def sam_policy_template_documents(source_template: dict[str, Any]) -> set[str]:
    """Names ('<Id>Role/<Id>RolePolicy<N>') of the documents SAM expands from its policy templates.

    SAM names each entry of a resource's Policies '<Id>RolePolicy<N>' by its position N; an entry
    that is a single-key mapping naming one of SAM's policy templates is such an expansion."""
    from samtranslator.policy_template_processor.processor import PolicyTemplatesProcessor

    template_names = set(PolicyTemplatesProcessor.get_default_policy_templates_json()["Templates"])
    names = set()
    for logical_id, resource in source_template["Resources"].items():
        for index, policy in enumerate(_as_list(resource.get("Properties", {}).get("Policies", []))):
            if isinstance(policy, dict) and len(policy) == 1 and next(iter(policy)) in template_names:
                names.add(f"{logical_id}Role/{logical_id}RolePolicy{index}")
    return names


def _finding_actions(finding: Any) -> list[str]:
    # Core auditors put the actions in `detail` (names, or mappings with an "action"), community auditors in
    # `location["actions"]`.
    actions = finding.detail if isinstance(finding.detail, list) else finding.location.get("actions", [])
    return [str(action["action"] if isinstance(action, dict) else action).lower() for action in actions] or [""]


def test_iam_policy_linter_parliament(policy_documents, sam_policy_template_documents):
    import parliament
    unexplained = []
    for name, document in policy_documents.items():
        policy = parliament.analyze_policy_string(json.dumps(document), include_community_auditors=True)
        for finding in policy.findings:
            if finding.issue == "NO_VERSION" and name in sam_policy_template_documents:
                # SAM writes its policy templates' expansions without "Version", which IAM reads as
                # 2008-10-17: the same meaning for statements without policy variables, as these are.
                # Our own documents get no such pass: they must say 2012-10-17.
                assert "${aws:" not in json.dumps(document), f"{name}: policy variables need Version 2012-10-17"
                continue
            title = parliament.config.get(finding.issue, {}).get("title", "")
            unexplained += [
                f"{name}: {finding.issue} ({title}) {action}".rstrip()
                for action in _finding_actions(finding)
                if (finding.issue, action) not in PARLIAMENT_ACCEPTED
            ]
    assert not unexplained, (
        "parliament findings without an explained exception (fix the policy, or add the finding to "
        "PARLIAMENT_ACCEPTED with its reason):\n" + "\n".join(unexplained)
    )


# What the state machine's role needs for each SageMaker integration its ASL uses, as AWS's "IAM policies for
# Amazon SageMaker AI" (Step Functions developer guide) lists it: the API, and for .sync the describe and stop
# calls and the EventBridge rule Step Functions manages for that kind of job.
REPO = Path(__file__).resolve().parents[2]
SAGEMAKER_INTEGRATION_GRANTS = {
    "createTrainingJob.sync": [("sagemaker:CreateTrainingJob", "training-job"),
                               ("sagemaker:DescribeTrainingJob", "training-job"),
                               ("sagemaker:StopTrainingJob", "training-job"), ("sagemaker:AddTags", "training-job"),
                               ("events:PutRule", "rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule")],
    "createModel": [("sagemaker:CreateModel", "model"), ("sagemaker:AddTags", "model")],
    "createTransformJob.sync": [("sagemaker:CreateTransformJob", "transform-job"),
                                ("sagemaker:DescribeTransformJob", "transform-job"),
                                ("sagemaker:StopTransformJob", "transform-job"), ("sagemaker:AddTags", "transform-job"),
                                ("events:PutRule", "rule/StepFunctionsGetEventsForSageMakerTransformJobsRule")],
}


def test_the_state_machine_may_call_every_sagemaker_integration_its_definition_uses(allow_statements):
    # GIVEN every SageMaker Task resource of the ASL (training, and out-of-fold models and transforms)
    definition = (REPO / "statemachines" / "crossvalidator.asl.json").read_text()
    used = set(re.findall(r'"arn:aws:states:::sagemaker:([A-Za-z.]+)"', definition))
    assert used == set(SAGEMAKER_INTEGRATION_GRANTS), used
    # THEN the state machine's role grants each call it needs on this app's resources of that kind
    role = [statement for statement in allow_statements if statement.where.startswith("CrossValidatorStateMachineRole")]
    missing = [f"{integration}: {action} on {kind}"
               for integration, needs in SAGEMAKER_INTEGRATION_GRANTS.items() for action, kind in needs
               if not any(resource.rpartition(":")[2].startswith(kind) for _, _, resource in grants(role, action))]
    assert missing == []
