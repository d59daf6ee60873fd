"""Shared fixtures of the deployment tests: the repository's paths, the SAM/cfn-lint tools and
an offline SAM translation of a template (what CloudFormation deploys, SAM-generated roles and
expanded SAM policy templates included)."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from samcli.yamlhelper import yaml_parse

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def tool_env() -> dict[str, str]:
    """The environment the Makefile gives sam/cfn-lint: this venv's bin first (so `sam build`
    finds python3.12), no telemetry, a region (plain `sam validate` needs one; no credentials)."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SAM_CLI_TELEMETRY"] = "0"
    env["AWS_DEFAULT_REGION"] = REGION
    return env


@pytest.fixture(scope="session")
def run_tool(tool_env: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run a command from the repository root, the way a developer or CI runs it."""

    def run(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(args), cwd=REPO_ROOT, env=tool_env, capture_output=True, text=True, timeout=timeout, check=False
        )

    return run


class _NoManagedPolicyLookups:
    """`sam validate` looks up AWS-managed policy ARNs through IAM. Offline, samtranslator's
    bundled name->ARN map answers for the AWS-managed policies it knows; nothing else resolves."""

    def load(self) -> dict[str, str]:
        return {}


def translate_template(template: dict[str, Any]) -> dict[str, Any]:
    """What `sam validate --region us-east-1` translates, in-process: local CodeUri/ContentUri/
    DefinitionUri are swapped for placeholder S3 URIs first, exactly as `sam validate` does.
    Raises samcli's InvalidSamDocumentException with the translator's message when invalid."""
    from samcli.lib.translate.sam_template_validator import SamTemplateValidator

    # The validator rewrites its input in place: give it a copy so callers keep theirs intact.
    validator = SamTemplateValidator(copy.deepcopy(template), _NoManagedPolicyLookups(), region=REGION)
    return yaml_parse(validator.get_translated_template_if_valid())


@pytest.fixture(scope="session")
def source_template(repo_root: Path) -> dict[str, Any]:
    return yaml_parse((repo_root / "template.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def translated_template(source_template: dict[str, Any]) -> dict[str, Any]:
    """template.yaml after the SAM transform."""
    return translate_template(source_template)


@pytest.fixture(scope="session")
def translate() -> Callable[[dict[str, Any]], dict[str, Any]]:
    """translate_template, for tests that translate a template of their own."""
    return translate_template
