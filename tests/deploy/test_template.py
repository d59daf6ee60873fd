"""template.yaml and the state machine definition: what `sam deploy` and `sam publish` need.

The linters run as a developer runs them; the rest checks what no linter looks at: the ASL
behind DefinitionUri (SAM passes it through unread), its placeholders, and the SAR metadata.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ASL = Path("statemachines/crossvalidator.asl.json")
STATE_MACHINE = "CrossValidatorStateMachine"
SAGEMAKER_SYNC = "arn:aws:states:::sagemaker:createTrainingJob.sync"

# CreateTrainingJob refusals raised before a job exists, as Step Functions names them
# (src/smx_validator/local/error_shapes.py has the sources): retrying them with the same TrainingJobName
# cannot collide with a job the failed attempt created. A job that ran and failed (States.TaskFailed),
# a timeout, or a taken name (ResourceInUse) may already own the name forever.
PRE_CREATION_ERRORS = {"SageMaker.ResourceLimitExceededException", "SageMaker.AmazonSageMakerException"}
# The generic name is retried only for these codes in its cause.
PRE_CREATION_CAUSES = {"*Error Code: Throttling*", "*Error Code: ResourceLimitExceeded;*"}


def _output(result) -> str:
    return f"exit code {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


# --- the linters -------------------------------------------------------------------------------


def test_cfn_lint_passes(run_tool):
    result = run_tool("cfn-lint", "template.yaml")
    assert result.returncode == 0, "cfn-lint template.yaml reports problems:\n" + _output(result)


def test_sam_validate_lint_passes(run_tool):
    result = run_tool("sam", "validate", "--lint")
    assert result.returncode == 0, "sam validate --lint fails:\n" + _output(result)


def test_sam_validate_translates_the_template(run_tool):
    # Only plain `sam validate` runs the SAM translator (policy templates, Globals).
    result = run_tool("sam", "validate", "--region", "us-east-1")
    assert result.returncode == 0, "sam validate --region us-east-1 fails:\n" + _output(result)


# --- the state machine definition -----------------------------------------------------------------


@pytest.fixture(scope="module")
def asl_text(repo_root: Path) -> str:
    return (repo_root / ASL).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def asl(asl_text: str) -> dict[str, Any]:
    try:
        return json.loads(asl_text)
    except json.JSONDecodeError as error:
        pytest.fail(f"{ASL} is not valid JSON: {error}")


@pytest.fixture(scope="module")
def state_machine(source_template) -> dict[str, Any]:
    resource = source_template["Resources"][STATE_MACHINE]
    assert resource["Type"] == "AWS::Serverless::StateMachine"
    assert resource["Properties"].get("DefinitionUri") == str(ASL), f"{STATE_MACHINE} must load {ASL}"
    return resource["Properties"]


def test_every_placeholder_has_a_substitution_and_vice_versa(asl_text, state_machine):
    used = set(re.findall(r"\$\{([^}]*)\}", asl_text))
    declared = set(state_machine.get("DefinitionSubstitutions", {}))
    assert not used - declared, (
        f"{ASL} uses ${{...}} placeholders that DefinitionSubstitutions does not define: {sorted(used - declared)}. "
        "SAM leaves them verbatim and the execution fails at that state."
    )
    assert not declared - used, f"DefinitionSubstitutions defines values {ASL} never uses: {sorted(declared - used)}"


def _scopes(states: dict[str, Any], where: str = "States") -> Iterator[tuple[str, dict[str, Any]]]:
    """Each States block (top level, Map ItemProcessors, Parallel branches) with a label."""
    yield where, states
    for name, state in states.items():
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from _scopes(processor["States"], f"{name}.ItemProcessor")
        for index, branch in enumerate(state.get("Branches", [])):
            yield from _scopes(branch["States"], f"{name}.Branches[{index}]")


def _transitions(state: dict[str, Any]) -> Iterator[str]:
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    for choice in state.get("Choices", []):
        yield choice["Next"]
    for catcher in state.get("Catch", []):
        yield catcher["Next"]


def test_every_transition_targets_a_state_of_its_own_scope(asl):
    # Step Functions rejects the whole definition at deploy time otherwise (and a Map's
    # iteration cannot jump out of its ItemProcessor).
    problems = []
    for where, states in _scopes(asl["States"]):
        for name, state in states.items():
            problems += [f"{where}.{name} -> {target}" for target in _transitions(state) if target not in states]
            if state["Type"] not in ("Choice", "Succeed", "Fail") and "Next" not in state and not state.get("End"):
                problems.append(f"{where}.{name}: neither Next nor End")
    assert not problems, "transitions to states that do not exist in the same scope:\n" + "\n".join(problems)


@pytest.fixture(scope="module")
def states(asl) -> dict[str, Any]:
    return asl["States"]


@pytest.fixture(scope="module")
def fold_states(states) -> dict[str, Any]:
    return states["TrainFolds"]["ItemProcessor"]["States"]


@pytest.fixture(scope="module")
def training_tasks(fold_states) -> dict[str, Any]:
    tasks = {name: s for name, s in fold_states.items() if s["Type"] == "Task"}
    assert tasks, "TrainFolds' ItemProcessor has no Task: nothing trains the folds"
    return tasks


def test_starts_with_the_split_task_feeding_the_map(asl, states):
    assert asl["StartAt"] == "SplitDataset"
    split = states["SplitDataset"]
    assert split["Type"] == "Task" and split["Resource"] == "${SplitFunctionArn}", split
    # The plan goes to the inline Map, or to the Distributed Map when the split wrote its jobs to S3
    choose = states[split["Next"]]
    assert choose["Type"] == "Choice" and choose["Default"] == "TrainFolds"
    [distributed] = choose["Choices"]
    assert (distributed["Variable"], distributed["IsPresent"], distributed["Next"]) == (
        "$.plan.jobs_file", True, "TrainFoldsFromS3")


def test_the_distributed_map_runs_the_inline_maps_iteration_reading_jobs_and_writing_results_on_s3(states):
    # One definition of how a job runs, whichever Map runs it: the two ItemProcessors' states are the same
    inline, distributed = states["TrainFolds"], states["TrainFoldsFromS3"]
    assert distributed["ItemProcessor"]["States"] == inline["ItemProcessor"]["States"]
    assert distributed["ItemProcessor"]["StartAt"] == inline["ItemProcessor"]["StartAt"]
    assert distributed["ItemSelector"] == inline["ItemSelector"]
    assert distributed["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    # AND it reads the plan's jobs file and writes its results under the run's prefix, at the same concurrency
    assert distributed["ItemReader"] == {
        "Resource": "arn:aws:states:::s3:getObject", "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket.$": "$.plan.jobs_file.Bucket", "Key.$": "$.plan.jobs_file.Key"}}
    assert distributed["ResultWriter"]["Parameters"] == {
        "Bucket.$": "$.plan.map_results.Bucket", "Prefix.$": "$.plan.map_results.Prefix"}
    assert distributed["MaxConcurrencyPath"] == inline["MaxConcurrencyPath"]
    # AND a child that fails anyway (outside the Catch) never keeps the gather from running
    assert distributed["ToleratedFailurePercentage"] == 100
    assert distributed["ResultPath"] == inline["ResultPath"] and distributed["Next"] == inline["Next"]


def test_train_folds_is_an_inline_map_with_concurrency_from_the_input(states):
    train = states["TrainFolds"]
    assert train["Type"] == "Map"
    assert train.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "INLINE", (
        "TrainFolds must use ItemProcessor with ProcessorConfig.Mode INLINE (Iterator is the legacy field)"
    )
    assert "Iterator" not in train and "Parameters" not in train, (
        "legacy Map fields: use ItemProcessor and ItemSelector"
    )
    assert train.get("MaxConcurrencyPath"), (
        "MaxConcurrencyPath lets a run override the deployment's default concurrency"
    )
    assert "MaxConcurrency" not in train, "MaxConcurrency and MaxConcurrencyPath are mutually exclusive"
    assert train.get("ItemSelector"), "ItemSelector must hand each iteration its fold plus the shared job settings"
    assert train["Next"] == "GatherResults"


# Out-of-fold predictions: the fold's model, then its Batch Transform job, in the same iteration.
PREDICTION_RESOURCES = {"CreateFoldModel": "arn:aws:states:::sagemaker:createModel",
                        "CreateFoldModelInVpc": "arn:aws:states:::sagemaker:createModel",
                        "PredictFold": "arn:aws:states:::sagemaker:createTransformJob.sync"}


def test_each_fold_trains_with_the_sagemaker_sync_integration(training_tasks):
    # No Lambda per fold: every Task of an iteration is a SageMaker integration, the .sync training job itself
    # or, with out-of-fold predictions, the fold's model and its .sync transform.
    wrong = {name: t["Resource"] for name, t in training_tasks.items()
             if t["Resource"] != PREDICTION_RESOURCES.get(name, SAGEMAKER_SYNC)}
    assert not wrong, f"fold Tasks must use {SAGEMAKER_SYNC}: {wrong}"
    assert {"TrainFold", "TrainFoldInVpc"} <= set(training_tasks), sorted(training_tasks)
    # The .sync output is the whole DescribeTrainingJob (~4-9 KB): trimmed, k folds fit in 256 KiB.
    # CreateModel's response is discarded (ResultPath null).
    untrimmed = [name for name, t in training_tasks.items()
                 if "ResultSelector" not in t and not ("ResultPath" in t and t["ResultPath"] is None)]
    assert not untrimmed, f"fold Tasks without ResultSelector: {untrimmed}"


def test_sagemaker_retries_only_errors_raised_before_the_job_exists(training_tasks, fold_states):
    # A Retry matches error names only and SageMaker's throttling shares its name with validation errors,
    # so the training tasks have none: the fold's Choice reads the cause and loops back with a backoff. The
    # prediction tasks retry only the modeled quota error, which never means anything else.
    assert not [name for name, task in training_tasks.items() if "Retry" in task and name not in PREDICTION_RESOURCES]
    for name in PREDICTION_RESOURCES:
        errors = {error for rule in training_tasks[name].get("Retry", []) for error in rule["ErrorEquals"]}
        assert errors <= {"SageMaker.ResourceLimitExceededException"}, (name, errors)
    problems = []
    for rule in fold_states["ClassifyFoldFailure"]["Choices"]:
        if rule["Next"] != "BackOffBeforeCreateRetry":
            continue
        conditions = rule["And"]
        errors = {c["StringEquals"] for c in conditions if c.get("Variable") == "$.failure.Error"}
        causes = {c["StringMatches"] for c in conditions if c.get("Variable") == "$.failure.Cause"}
        bounded = any(c.get("Variable") == "$.create_retry.attempt" and "NumericLessThan" in c for c in conditions)
        if not errors or not errors <= PRE_CREATION_ERRORS or not bounded:
            problems.append(f"retry rule on {sorted(errors)} (bounded: {bounded})")
        if errors == {"SageMaker.AmazonSageMakerException"} and not (causes and causes <= PRE_CREATION_CAUSES):
            problems.append(f"the generic SageMaker error retried for causes {sorted(causes) or 'any'}")
    assert not problems, (
        "a retry after the training job was created reuses its TrainingJobName and fails with ResourceInUse "
        "(job names are unique forever); a validation error never clears; retry only refusals raised before the "
        "job exists, a bounded number of times:\n" + "\n".join(problems)
    )


def test_a_failed_fold_is_caught_inside_its_iteration(training_tasks, fold_states):
    # An uncaught iteration failure aborts the inline Map and stops every other fold's job.
    for name, task in training_tasks.items():
        catchers = [c for c in task.get("Catch", []) if "States.ALL" in c["ErrorEquals"]]
        assert catchers, f"{name} has no Catch on States.ALL: one failed fold would stop all the others"
        target = catchers[0]["Next"]
        assert target in fold_states, f"{name}'s Catch leaves the ItemProcessor ({target})"
        assert fold_states[target]["Type"] != "Fail", f"{name}'s Catch ends in a Fail state: the Map would still abort"
        assert "ResultPath" in catchers[0], (
            f"{name}'s Catch must keep the fold's input (ResultPath) for the gather step"
        )


def test_gather_then_check_folds_fails_naming_the_failed_folds(states):
    gather = states["GatherResults"]
    assert gather["Type"] == "Task" and gather["Resource"] == "${GatherFunctionArn}", gather
    # Without a refit plan the gather's output goes to CheckFolds, through the MLflow track step when the input asks
    choose = states[gather["Next"]]
    tracking = states[choose["Default"]]
    assert choose["Type"] == "Choice" and tracking["Type"] == "Choice" and tracking["Default"] == "CheckFolds", choose
    check = states["CheckFolds"]
    assert check["Type"] == "Choice"
    targets = {choice["Next"] for choice in check["Choices"]} | {check.get("Default")}
    fails = [states[t] for t in targets if states.get(t, {}).get("Type") == "Fail"]
    assert fails, "CheckFolds must lead to a Fail state when folds failed"
    assert all(f.get("CausePath") and f.get("Error") for f in fails), (
        "the Fail state needs Error and a CausePath (the gather step's message naming the failed folds)"
    )
    assert any(states.get(t, {}).get("Type") == "Succeed" for t in targets), "CheckFolds must also lead to success"


def test_the_track_step_runs_only_when_asked_and_never_fails_the_run(states):
    # GIVEN the Choice after the gather's refit Choice
    tracking = states[states[states["GatherResults"]["Next"]]["Default"]]
    [rule] = tracking["Choices"]
    # THEN only a run whose plan has job_config.mlflow is tracked, and the track step goes on to CheckFolds
    assert (rule["Variable"], rule["IsPresent"]) == ("$.job_config.mlflow", True)
    track = states[rule["Next"]]
    assert track["Resource"] == "${TrackFunctionArn}" and track["Next"] == "CheckFolds"
    # AND its failure, whatever it is, is kept in the summary and the run still ends in CheckFolds
    [catcher] = track["Catch"]
    assert catcher == {"ErrorEquals": ["States.ALL"], "ResultPath": "$.summary.mlflow_error", "Next": "CheckFolds"}
    assert track["ResultPath"] == "$.summary.mlflow"


def test_a_refit_plan_runs_through_the_same_map_and_gather(states):
    # The refit job gets the folds' failure handling (throttling backoff, VPC placement, the Catch) by running
    # through TrainFolds, and its outcome is gathered by the same function, not a second copy of either.
    choose = states[states["GatherResults"]["Next"]]
    [refit_rule] = choose["Choices"]
    assert (refit_rule["Variable"], refit_rule["IsPresent"]) == ("$.refit_plan", True)
    prepare = states[refit_rule["Next"]]
    assert prepare["Type"] == "Pass" and prepare["Parameters"] == {"plan.$": "$.refit_plan"}
    assert prepare["Next"] == "TrainFolds" and states["TrainFolds"]["Next"] == "GatherResults"


def test_the_split_and_the_gather_receive_the_same_deployment_settings(states):
    # The gather encrypts its summaries with OutputKmsKeyId as the split encrypts the folds: both read it
    # from the same block of template parameters (smx_common.deployment), not one from the other's output.
    split, gather = states["SplitDataset"]["Parameters"], states["GatherResults"]["Parameters"]
    assert gather["deployment"] == split["deployment"]
    assert set(split["deployment"]) == {"input_bucket", "output_bucket", "default_max_concurrency", "output_kms_key_id",
                                        "mlflow_tracking_server_arn"}


# --- Serverless Application Repository metadata ---------------------------------------------------

# Limits of SAR's CreateApplication API (botocore's serverlessrepo model documents them).
SAR_AUTHOR = re.compile(r"^[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?$")
SAR_NAME = re.compile(r"^[a-zA-Z0-9\-]{1,140}$")
SAR_LABEL = re.compile(r"^[a-zA-Z0-9+\-_:/@]{1,127}$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


@pytest.fixture(scope="module")
def sar(source_template) -> dict[str, Any]:
    metadata = source_template.get("Metadata", {}).get("AWS::ServerlessRepo::Application")
    assert metadata, "template.yaml has no Metadata AWS::ServerlessRepo::Application: sam publish cannot publish it"
    return metadata


def test_sar_metadata_has_every_field_a_public_app_needs(sar):
    required = [
        "Name",
        "Description",
        "Author",
        "SpdxLicenseId",
        "LicenseUrl",
        "ReadmeUrl",
        "SemanticVersion",
        "SourceCodeUrl",
        "Labels",
    ]
    missing = [field for field in required if not sar.get(field)]
    assert not missing, f"SAR metadata lacks {missing}"


def test_sar_metadata_is_literal(sar):
    # SAR reads the block as is: an intrinsic function would be published as a JSON object.
    def intrinsics(node: Any, path: str) -> Iterator[str]:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Ref" or key == "Condition" or key.startswith("Fn::"):
                    yield f"{path}: {key}"
                yield from intrinsics(value, f"{path}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from intrinsics(value, f"{path}[{index}]")

    found = list(intrinsics(sar, "AWS::ServerlessRepo::Application"))
    assert not found, f"intrinsic functions in the SAR metadata: {found}"


def test_sar_metadata_values_are_accepted_by_sar(sar):
    problems = []
    if not SAR_NAME.match(str(sar["Name"])):
        problems.append(f"Name {sar['Name']!r}: 1-140 of [a-zA-Z0-9-]")
    if not SAR_AUTHOR.match(str(sar["Author"])) or len(str(sar["Author"])) > 127:
        problems.append(f"Author {sar['Author']!r}: lowercase letters, digits and single hyphens, at most 127")
    if len(str(sar["Description"])) > 256:
        problems.append(f"Description is {len(str(sar['Description']))} characters; SAR allows at most 256")
    if not SEMVER.match(str(sar["SemanticVersion"])):
        problems.append(f"SemanticVersion {sar['SemanticVersion']!r} is not semver")
    labels = sar["Labels"]
    if len(labels) > 10 or not all(SAR_LABEL.match(str(label)) for label in labels):
        problems.append(f"Labels {labels}: at most 10, each 1-127 of [a-zA-Z0-9+-_:/@]")
    for field in ("SourceCodeUrl", "HomePageUrl"):
        if field in sar and not str(sar[field]).startswith("https://"):
            problems.append(f"{field} {sar[field]!r} is not an https URL")
    assert not problems, "sam publish would be refused:\n" + "\n".join(problems)


@pytest.mark.parametrize("field", ["LicenseUrl", "ReadmeUrl"])
def test_sar_license_and_readme_files_exist(sar, field, repo_root):
    # sam package uploads these local files; SAR shows them on the application's page.
    path = repo_root / sar[field]
    assert path.is_file(), f"{field} {sar[field]} does not exist"
    size = path.stat().st_size
    assert 0 < size <= 5 * 1024 * 1024, (
        f"{field} {sar[field]} is {size} bytes; SAR needs a non-empty file of at most 5 MB"
    )


# --- outputs ----------------------------------------------------------------------------------------


def test_outputs_give_the_state_machine_arn(source_template):
    output = source_template.get("Outputs", {}).get("CrossValidatorStateMachineArn")
    assert output, "Outputs lack CrossValidatorStateMachineArn: users need it for start-execution"
    # Ref of an AWS::Serverless::StateMachine is its ARN.
    assert output["Value"] in ({"Ref": STATE_MACHINE}, {"Fn::GetAtt": [STATE_MACHINE, "Arn"]}), output["Value"]


# --- the shared code layer ------------------------------------------------------------------------


def test_every_function_that_imports_the_shared_package_has_its_layer():
    # GIVEN the template's functions and the code under each CodeUri
    from samcli.yamlhelper import yaml_parse

    resources = yaml_parse(Path("template.yaml").read_text())["Resources"]
    functions = {name: resource["Properties"] for name, resource in resources.items()
                 if resource["Type"] == "AWS::Serverless::Function"}
    assert resources["SharedCodeLayer"]["Properties"]["ContentUri"] == "functions/shared/"
    for name, properties in functions.items():
        code = "\n".join(path.read_text() for path in Path(properties["CodeUri"]).rglob("*.py"))
        # WHEN its code imports smx_common THEN Lambda must mount the layer that holds it (a checkout's
        # editable install would hide a missing layer from every other test)
        if re.search(r"^\s*(from|import) smx_common\b", code, re.MULTILINE):
            layers = [layer.get("Ref") for layer in properties.get("Layers", [])]
            assert "SharedCodeLayer" in layers, f"{name} imports smx_common but does not mount SharedCodeLayer"
