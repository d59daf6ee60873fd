"""Generated inputs and generated datasets: every outcome is a valid plan or a clear error.

A clear error is InvalidInputError whose problems each start with where they are (a field
path, or ``line N``) and stay short; anything else that escapes (a TypeError, a ValueError from
scikit-learn, a traceback) fails these properties.
"""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from smx_split import naming
from smx_split.dataset import scan_dataset
from smx_split.errors import InvalidInputError
from smx_split.fold_files import split_in_memory, write_validation_chunks
from smx_split.folds import STRATEGIES, assign_folds, resolve_strategy
from smx_split.inputs import Deployment, JobSpec, validate_input

from .conftest import EXAMPLES, SAMPLE_EVENT, assert_clear_error

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The two main properties get more examples: each takes milliseconds, and most of their cases are refused.
BROAD = settings(PROPERTY, max_examples=400)

SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
EXPERIMENT_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}$")
BASES = [SAMPLE_EVENT, *EXAMPLES.values()]


# --- generated execution inputs --------------------------------------------------------------

odd_strings = st.sampled_from([
    "", " ", "s3://", "s3://bucket/", "s3://bucket/data/", "s3://Bucket/x.csv", "s3://smx-in/x.csv", "s3://smx-in/x",
    "my_training", "my.training", "-x", "x" * 300, "é", "\u0000", "a\nb", "${num_classes}", "${num_class}", "${",
    "${}", "aws:tag", "fold", "ml.m5.large", "p3.2xlarge", "File", "Pipe", "csv", "jsonl", "text", "kfold",
    "stratified", "group", "stratified_group", "auto", "true", "5", "NaN",
])
numbers = st.sampled_from([-1, 0, 1, 2, 3, 5, 19, 20, 21, 100, 7200, 2**32 - 1, 2**32, 2.0, 5.0, 2.5, 1e300, -0.0, True, False])
scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | numbers | odd_strings | st.text(max_size=20) | \
    st.floats(allow_nan=False, allow_infinity=False)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8) | odd_strings, children, max_size=3),
    max_leaves=6,
)
near_miss_keys = st.sampled_from([
    "n_split", "nsplits", "hyperparameter_template", "hyperparameters_template", "input", "Name", "tags", "seed",
    "strategy", "group_attribute", "label_attribute", "max_concurrency", "managed_spot_training", "channels",
    "vpc_config", "environment", "MaxWaitTimeInSeconds", "InstanceType", "", "job config",
])


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _parent(document, path):
    for part in path[:-1]:
        document = document[part]
    return document


@st.composite
def mutated_inputs(draw):
    """A documented input (doc/sample_event.json or doc/examples/*.json) with 1-4 mutations."""
    document = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.sampled_from([1, 1, 1, 2, 2, 3, 4]))):
        paths = list(_paths(document))
        path = draw(st.sampled_from(paths))
        operation = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if not path:  # the root: replace it (rarely) or add a key to it
            if operation == "replace" and draw(st.integers(0, 9)) == 0:
                document = draw(json_values)
                continue
            operation = "add"
        target = _parent(document, path) if path else None
        if operation == "replace":
            target[path[-1]] = draw(_like(target[path[-1]]) | json_values)
        elif operation == "delete":
            del target[path[-1]]
        else:
            node = _parent(document, (*path, None))
            if isinstance(node, dict):
                node[draw(near_miss_keys | st.text(max_size=12))] = draw(json_values)
            elif isinstance(node, list):
                node.append(draw(json_values))
    return document


def _like(value):
    """Values of the same JSON type as ``value``: mutations that get past the type checks."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, (int, float)):
        return numbers | st.integers(-1, 30) | st.integers(0, 2**33)
    if isinstance(value, str):
        return odd_strings | st.text(max_size=30) | st.sampled_from([value.upper(), value + "_2", value[:-1]])
    return json_values


deployments = st.sampled_from([
    Deployment(),
    Deployment(input_bucket="smx-demo-input", output_bucket="smx-demo-output", default_max_concurrency=3),
    Deployment(input_bucket="bucket", output_bucket="bucket"),
])


def assert_valid_spec(spec: JobSpec) -> None:
    """What every accepted input must give SageMaker and Step Functions."""
    assert type(spec.n_splits) is int and 2 <= spec.n_splits <= 20
    assert type(spec.random_state) is int and 0 <= spec.random_state < 2**32
    last_job = naming.fold_job_name(naming.run_id(spec.job_name, datetime(2099, 12, 31, 23, 59, 59)), spec.n_splits - 1)
    assert SAGEMAKER_NAME.match(last_job), last_job
    assert EXPERIMENT_NAME.match(spec.experiment_name), spec.experiment_name
    assert all(type(key) is str and type(value) is str for key, value in spec.hyperparameters.items())
    assert all(type(value) is int for value in spec.stopping_condition.values())
    assert all(type(spec.resource_config[key]) is int for key in ("InstanceCount", "VolumeSizeInGB"))
    if spec.managed_spot_training:
        assert spec.stopping_condition["MaxWaitTimeInSeconds"] >= spec.stopping_condition["MaxRuntimeInSeconds"]
    else:
        assert "MaxWaitTimeInSeconds" not in spec.stopping_condition
    assert spec.data_format in ("csv", "jsonl", "text") and spec.channel_layout is not None
    # The plan's sections travel through Step Functions as JSON.
    json.dumps([spec.job_config_section(), spec.crossvalidation_section(), spec.training_section()], allow_nan=False)


def validated(document, deployment=None):
    try:
        spec = validate_input(document, deployment)
    except InvalidInputError as error:
        assert_clear_error(error)
        return None
    assert_valid_spec(spec)
    return spec


@BROAD
@given(document=mutated_inputs(), deployment=deployments)
def test_a_mutated_input_gives_a_valid_job_or_a_clear_error(document, deployment):
    event("accepted" if validated(document, deployment) else "refused")


@PROPERTY
@given(document=json_values)
@example(document=None)
@example(document=[SAMPLE_EVENT])
@example(document=json.dumps(SAMPLE_EVENT))
def test_any_json_value_as_the_input_gives_a_clear_error(document):
    validated(document)


@PROPERTY
@given(text=st.text(max_size=200) | st.binary(max_size=200) | st.builds(
    lambda base, cut: json.dumps(base)[:cut], st.sampled_from(BASES), st.integers(0, 2000)))
@example(text='{"job_config": NaN}')
@example(text=b"\xff\xfe{}")
@example(text='{"a": ' + "9" * 5000 + "}")
def test_any_text_as_the_input_file_gives_a_clear_error(text):
    # (what `smx-validator validate` reads: text that may not even be JSON)
    validated(text)


def test_the_documented_inputs_are_valid():
    # The bases the mutations start from are accepted as they are (so mutations test the rules).
    for document in BASES:
        assert validated(document) is not None


# --- generated datasets ----------------------------------------------------------------------

labels = st.sampled_from(["0", "1", "2", "cat", "dog", "x" * 120, "é", "-1.5"])
bad_bytes = st.binary(min_size=1, max_size=12).filter(lambda raw: b"\n" not in raw)


def csv_line(draw, label: str, width: int, corruption: str | None) -> bytes:
    line = ",".join([label] + [str(draw(st.integers(-5, 5))) for _ in range(width - 1)]).encode()
    return {
        None: line, "short": line.rsplit(b",", 1)[0] if width > 1 else line + b",1", "quote": b'"' + line,
        "json": b'{"class": "1"}', "empty": b"", "bytes": draw(bad_bytes), "cr": line + b"\r" + line,
        "empty-label": b"," + line,
    }[corruption]


def jsonl_line(draw, label: str, width: int, corruption: str | None) -> bytes:
    value = {"source-ref": f"s3://b/{draw(st.integers(0, 999))}.jpg", "class": draw(st.just(label) | st.integers(0, 1)),
             "g": draw(st.integers(0, 6))}
    if corruption == "no-label":
        del value["class"]
    if corruption == "bad-label":
        value["class"] = draw(st.none() | st.booleans() | st.just([1]))
    line = json.dumps(value, ensure_ascii=draw(st.booleans())).encode()
    return {"broken": line[:-1], "csv": b"1,2,3", "empty": b"", "bytes": draw(bad_bytes), "array": b"[1]",
            "huge-number": line[:-1] + b', "n": ' + b"9" * 5000 + b"}"}.get(corruption, line)


def text_line(draw, label: str, width: int, corruption: str | None) -> bytes:
    words = " ".join(draw(st.lists(st.sampled_from(["a", "b", "scipy", "fft", "é"]), max_size=4)))
    return {
        None: f"__label__{label} {words}".encode(),
        "unlabelled": words.encode() or b"plain",
        "empty-label": f"__label__ {words}".encode(),
        "empty": b"",
        "bytes": draw(bad_bytes),
    }[corruption]


LINES = {"csv": csv_line, "jsonl": jsonl_line, "text": text_line}
CORRUPTIONS = {
    "csv": ["short", "quote", "json", "empty", "bytes", "cr", "empty-label"],
    "jsonl": ["no-label", "bad-label", "broken", "csv", "empty", "bytes", "array", "huge-number"],
    "text": ["unlabelled", "empty-label", "empty", "bytes"],
}


@st.composite
def datasets(draw):
    """(format, data, blocks, scan options, n_splits, strategy, seed): about half of them splittable."""
    data_format = draw(st.sampled_from(["csv", "jsonl", "text"]))
    pool = draw(st.lists(labels, min_size=1, max_size=3, unique=True))
    width = draw(st.integers(1, 4))
    corruption_rate = draw(st.sampled_from([0, 0, 0, 0.05, 0.3]))
    lines = []
    for _ in range(draw(st.integers(0, 60))):
        corrupted = corruption_rate and draw(st.floats(0, 1)) < corruption_rate
        corruption = draw(st.sampled_from(CORRUPTIONS[data_format])) if corrupted else None
        lines.append(LINES[data_format](draw, draw(st.sampled_from(pool)), width, corruption))
    newline = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = newline.join(lines) + (newline if lines and draw(st.booleans()) else b"")
    if draw(st.integers(0, 19)) == 0:
        data = draw(st.binary(max_size=300))  # any bytes at all
    elif draw(st.integers(0, 19)) == 0:
        data = b"\xef\xbb\xbf" + data  # a byte order mark
    group = None
    if draw(st.integers(0, 3)) == 0 and data_format != "text":
        group = "g" if data_format == "jsonl" else draw(st.integers(0, width))
    options = {"label_attribute": "class", "group_attribute": group}
    n_splits = draw(st.integers(2, 8))
    strategy = draw(st.sampled_from(["auto", "auto", "auto", "kfold", *STRATEGIES]))
    seed = draw(st.integers(0, 2**32 - 1))
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=5)))
    blocks = [data[start:stop] for start, stop in zip([0, *cuts], [*cuts, len(data)])]
    return data_format, data, blocks, options, n_splits, strategy, seed


def records(data: bytes) -> list[bytes]:
    """The dataset's records as the fold files hold them: each line with a newline at its end."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    return [line + b"\n" for line in lines] if data else []


@BROAD
@given(case=datasets())
def test_a_generated_dataset_gives_a_valid_split_or_a_clear_error(case):
    data_format, data, blocks, options, n_splits, strategy, seed = case
    # WHEN the dataset is scanned and folded as the split step does
    try:
        scan = scan_dataset(iter(blocks), data_format, **options)
        resolved = resolve_strategy(strategy, has_labels=scan.labels is not None, has_groups=scan.groups is not None)
        assignment = assign_folds(scan, n_splits=n_splits, random_state=seed, strategy=resolved)
    except InvalidInputError as error:
        # THEN either it is refused with problems that say where
        assert_clear_error(error)
        event(f"refused: {error.problems[0].split(':')[0] if error.problems[0].startswith('line') else error.problems[0][:40]}"[:60])
        return
    event("split")
    # OR every line is in exactly one validation chunk, as the in-memory reference puts it
    assert scan.num_lines == len(records(data)) == assignment.num_lines
    assert len(assignment.fold_sizes) == n_splits and min(assignment.fold_sizes) >= 1
    with tempfile.TemporaryDirectory() as workdir:
        chunks = write_validation_chunks(lambda: iter(blocks), assignment, Path(workdir), window_bytes=64)
        written = [chunk.read_bytes() for chunk in chunks]
    reference, _ = split_in_memory(data if data.endswith(b"\n") else data + b"\n", assignment)
    assert written == reference
    chunk_lines = [line + b"\n" for chunk in written for line in chunk.split(b"\n")[:-1]]
    assert Counter(chunk_lines) == Counter(records(data))
    assert [chunk.count(b"\n") for chunk in written] == list(assignment.fold_sizes)
    # AND a group never spans two folds
    if scan.groups is not None:
        for group in np.unique(scan.groups):
            assert len(np.unique(assignment.fold_of[scan.groups == group])) == 1
