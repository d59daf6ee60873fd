"""Fixtures shared by every test layer: offline AWS credentials and the template's own handlers."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from samcli.yamlhelper import yaml_parse

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def offline_aws(monkeypatch):
    """No test may reach a real AWS account: fake credentials and one region."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


def load_handler(logical_id: str):
    """The handler a template function names (CodeUri + Handler), imported like Lambda does."""
    template = yaml_parse((REPO / "template.yaml").read_text())
    properties = template["Resources"][logical_id]["Properties"]
    code_dir = REPO / properties["CodeUri"]
    module_name, function_name = properties["Handler"].rsplit(".", 1)
    if str(code_dir) not in sys.path:
        sys.path.insert(0, str(code_dir))
    spec = importlib.util.spec_from_file_location(f"{logical_id}.{module_name}", code_dir / f"{module_name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, function_name)


@pytest.fixture
def function_handler():
    """``function_handler("SplitFunction")``: the template function's handler."""
    return load_handler


@dataclass
class FakeLambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 2048
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
