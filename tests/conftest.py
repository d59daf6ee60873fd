"""Fixtures shared by every test layer: offline AWS credentials and the template's own handlers."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from smx_validator.local.lambda_runtime import FunctionCode
from smx_validator.local.lambda_runtime import load_handler as load_function_handler
from smx_validator.template import SamTemplate

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
    """The handler a template function names (CodeUri + Handler), imported as the engine and Lambda do."""
    function = SamTemplate.load(REPO / "template.yaml").function(logical_id)
    return load_function_handler(FunctionCode(
        function_name=logical_id,
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:{logical_id}",
        code_dir=function.code_dir,
        handler=function.handler,
    ))


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
