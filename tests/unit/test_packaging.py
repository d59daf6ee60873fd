"""pyproject.toml declares exactly what the installed packages import: the base install what
`validate` and `start` need, the `engine` extra what the offline engine and `sar-template` add."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
PACKAGES = ["src/smx_validator", "functions/shared/smx_common", "functions/split/smx_split", "functions/gather/smx_gather"]
# What needs the engine extra: the engine itself, and the template readers built on aws-sam-cli.
ENGINE_MODULES = ("src/smx_validator/local/", "src/smx_validator/template.py", "src/smx_validator/sar.py")
# The track function's package is not installed (only its Lambda function uses it), but the offline engine runs
# that function in-process: what it imports is the engine's to provide.
ENGINE_RUNS = ["functions/track/smx_track"]


def third_party_imports(files: list[Path]) -> set[str]:
    """The distributions the files import (top-level names mapped as importlib.metadata maps them)."""
    distributions = importlib.metadata.packages_distributions()
    names = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    third_party = {name for name in names if name not in sys.stdlib_module_names and not name.startswith("smx_")}
    return {_distribution(distributions[name]) for name in third_party}


def _distribution(candidates: list[str]) -> str:
    """The distribution that provides a top-level module. Some modules come from several (mlflow, mlflow-skinny
    and mlflow-tracing all install ``mlflow``), in no fixed order: the one pyproject.toml declares is the one."""
    names = sorted({candidate.lower() for candidate in candidates})
    declared_anywhere = declared(PYPROJECT["project"]["dependencies"]) | {
        name for extra in PYPROJECT["project"]["optional-dependencies"].values() for name in declared(extra)}
    return next((name for name in names if name in declared_anywhere), names[0])


def declared(requirements: list[str]) -> set[str]:
    return {re.split(r"[\[<>=~ ]", requirement, maxsplit=1)[0].lower() for requirement in requirements}


def installed_files() -> list[Path]:
    return [path for package in PACKAGES for path in (REPO / package).rglob("*.py")]


def is_engine(path: Path) -> bool:
    return path.relative_to(REPO).as_posix().startswith(ENGINE_MODULES)


def test_the_base_dependencies_are_what_validate_and_start_import():
    base = third_party_imports([path for path in installed_files() if not is_engine(path)])
    # The `dataframe` extra: what the Python API imports only when asked (to_frame), which says how to install it.
    optional = declared(PYPROJECT["project"]["optional-dependencies"]["dataframe"])
    assert optional <= base
    assert declared(PYPROJECT["project"]["dependencies"]) == base - optional


def test_the_engine_extra_adds_what_only_the_engine_and_sar_template_import():
    engine_files = [path for path in installed_files() if is_engine(path)]
    engine_files += [path for package in ENGINE_RUNS for path in (REPO / package).rglob("*.py")]
    engine_only = third_party_imports(engine_files) - declared(PYPROJECT["project"]["dependencies"])
    assert declared(PYPROJECT["project"]["optional-dependencies"]["engine"]) == engine_only


def test_the_development_install_takes_the_engine_extra():
    assert "-e .[engine]" in (REPO / "requirements-dev.txt").read_text().splitlines()
