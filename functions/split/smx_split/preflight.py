"""Pre-flight: the plan a run would produce, held to AWS's contracts before anything is written.

The split step (before it reads the dataset) and ``smx-validator validate`` build the plan with a
provisional run identity (the run id claimed later has the same length) and sample counts of a
billion lines (longer than any real count renders), and check:
- every fold's CreateTrainingJob request against SageMaker's service model (request_contract);
- the largest Step Functions state the run will carry against the payload budget (payload_budget).

Pure: nothing is read or written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from smx_common.deployment import Deployment

from . import payload_budget, prediction_files, request_contract
from .data_formats import FILE_EXTENSIONS
from .errors import InvalidInputError
from .job_spec import JobSpec
from .plan import build_plan
from .reservation import RunIdentity
from .s3_folds import fold_objects

# Only the request's shape is checked against it; the state machine passes the deployment's role.
PROVISIONAL_ROLE_ARN = "arn:aws:iam::123456789012:role/smx-validator-SageMakerExecutionRole"
# Without the dataset: the sample counts a dataset of up to a billion lines renders into the requests.
PROVISIONAL_LINES = 10**9


def provisional_plan(spec: JobSpec, deployment: Deployment, *, started_at: datetime, execution_name: str,
                     fold_sizes: Sequence[int] | None = None, num_classes: int | None = None,
                     strategy: str | None = None) -> dict:
    """The plan the run would return, under the run id it would claim first."""
    run = RunIdentity.at(spec, started_at, execution_name)
    if fold_sizes is None:
        fold_sizes = [PROVISIONAL_LINES // spec.n_splits] * spec.n_splits
    repeats = [None] if spec.n_repeats == 1 else list(range(spec.n_repeats))
    folds = [fold for repeat in repeats
             for fold in fold_objects(str(run.run_prefix), FILE_EXTENSIONS[spec.data_format], fold_sizes, repeat)]
    return build_plan(spec, run, deployment=deployment, strategy=strategy or spec.strategy,
                      num_samples=sum(fold_sizes), num_classes=num_classes, folds=folds)


def check(execution_input: Any, spec: JobSpec, deployment: Deployment, *, started_at: datetime,
          execution_name: str, offline: bool = False) -> None:
    """Raise InvalidInputError with every problem of the run's provisional plan (``offline``: the run goes
    to the offline engine, which also runs ``local:`` images)."""
    plan = provisional_plan(spec, deployment, started_at=started_at, execution_name=execution_name,
                            num_classes=PROVISIONAL_LINES)
    problems = plan_problems(execution_input, spec, plan, offline=offline)
    if problems:
        raise InvalidInputError(problems)


def plan_problems(execution_input: Any, spec: JobSpec, plan: dict, *, offline: bool = False) -> list[str]:
    """Every way the plan's requests or states would break AWS's contracts, each naming an input field."""
    problems: dict[str, str] = {}
    for fold in plan["folds"]:
        request = request_contract.compose_request(plan["job"], fold, PROVISIONAL_ROLE_ARN)
        for problem in request_contract.request_problems(request, user_tag_count=len(spec.tags), offline=offline):
            # What every fold's (or channel's) request repeats, with only its numbers changed, is one problem;
            # the user's own tags keep their index (two bad tags are two problems).
            problems.setdefault(_repeated_form(problem), problem)
    for fold in plan["folds"][:1]:  # every fold's transform request has the same shape
        if "transform" in fold:
            problems.update((problem, problem) for problem in prediction_files.request_problems(plan["job"], fold))
    prefix_problem = _output_prefix_problem(spec, plan)
    if prefix_problem:
        # One problem with the length that fits, instead of one per URI or key it makes too long.
        problems = {form: problem for form, problem in problems.items()
                    if not problem.startswith("job_config.output_prefix")}
    return ([prefix_problem] if prefix_problem else []) + list(problems.values()) + \
        payload_budget.budget_problems(execution_input, plan)


# SageMaker's S3 URIs (InputDataConfig's S3Uri, OutputDataConfig.S3OutputPath) are at most 1,024 characters
# (the service model); S3's object keys, such as the {S3OutputPath}/{job}/output/model.tar.gz SageMaker
# writes, at most 1,024 bytes (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html).
S3_LIMIT: Final = 1024
MODEL_KEY_SUFFIX: Final = "/output/model.tar.gz"


def _output_prefix_problem(spec: JobSpec, plan: dict) -> str | None:
    """The longest job_config.output_prefix whose fold URIs and model keys all fit, if the given one does not."""
    prefix = str(spec.output_prefix)
    output = plan["job"]["OutputDataConfig"]["S3OutputPath"]
    uris = [output] + [channel["DataSource"]["S3DataSource"]["S3Uri"]
                       for fold in plan["folds"] for channel in fold["InputDataConfig"]]
    model_uris = [f"{output.rstrip('/')}/{fold['TrainingJobName']}{MODEL_KEY_SUFFIX}" for fold in plan["folds"]]
    uri_overhead = max(len(uri) for uri in uris) - len(prefix)  # characters the run adds to the prefix
    key_overhead = max(len(key.encode("utf-8")) for key in model_uris) - len(prefix.encode("utf-8"))
    bucket_part = len(f"s3://{spec.output_prefix.bucket}/")  # in the URIs, not in the keys
    allowed = min(S3_LIMIT - uri_overhead, S3_LIMIT + bucket_part - key_overhead)
    longest = max(uri_overhead, key_overhead)
    if len(prefix.encode("utf-8")) <= allowed:
        return None
    return (f"job_config.output_prefix: is {len(prefix)} characters; the run writes its fold files and models up to "
            f"{longest} characters deeper, and SageMaker's S3 URIs and S3's object keys are at most {S3_LIMIT} long, "
            f"so with this job_config.name it may be at most {allowed} characters")


def _repeated_form(problem: str) -> str:
    field, _, rest = problem.partition(": ")
    user_tag = re.match(r"job_config\.tags\[\d+\]", field)
    head = user_tag.group(0) + re.sub(r"\d+", "#", field[user_tag.end():]) if user_tag else re.sub(r"\d+", "#", field)
    return head + ": " + re.sub(r"\d+", "#", rest)
