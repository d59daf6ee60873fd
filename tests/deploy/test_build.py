"""`sam build` (no container) succeeds and every function fits Lambda's 250 MB unzipped limit.

The split function carries scikit-learn, SciPy and NumPy: the biggest risk of a deploy that
fails only at CreateFunction time. Run with `pytest -s` to see the measured sizes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from samcli.yamlhelper import yaml_parse

from smx_validator import sar

pytestmark = pytest.mark.slow

# Lambda: function code plus all its layers, unzipped, at most 262,144,000 bytes.
LAMBDA_UNZIPPED_LIMIT = 262_144_000
# Warn (in the printed report) when a function uses more than this share of the limit.
HEADROOM_WARNING = 0.90


@pytest.fixture(scope="module")
def build_dir(run_tool, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("sam-build") / "build"
    result = run_tool("sam", "build", "--template", "template.yaml", "--build-dir", str(target), timeout=900)
    assert result.returncode == 0, (
        f"sam build failed (exit code {result.returncode}); is python3.12 on PATH?\n{result.stdout}\n{result.stderr}"
    )
    return target


@pytest.fixture(scope="module")
def built_template(build_dir: Path) -> dict[str, Any]:
    return yaml_parse((build_dir / "template.yaml").read_text(encoding="utf-8"))


def unzipped_size(path: Path) -> int:
    """Bytes Lambda counts for a package: the sum of its files' sizes (what the zip expands to)."""
    if path.is_file():
        return path.stat().st_size
    return sum((Path(root) / name).stat().st_size for root, _, names in os.walk(path) for name in names)


def _layer_ids(function: dict[str, Any]) -> list[str]:
    ids = []
    for layer in function["Properties"].get("Layers", []):
        assert isinstance(layer, dict) and "Ref" in layer, (
            f"layer {layer!r} is not one of this template's layers: measure it too"
        )
        ids.append(layer["Ref"])
    return ids


@pytest.fixture(scope="module")
def sizes(build_dir: Path, built_template: dict[str, Any]) -> dict[str, dict[str, int]]:
    """{function: {function: bytes, layer...: bytes}}, paths resolved as in the built template."""
    resources = built_template["Resources"]
    measured = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        parts = {logical_id: unzipped_size(build_dir / resource["Properties"]["CodeUri"])}
        for layer_id in _layer_ids(resource):
            parts[layer_id] = unzipped_size(build_dir / resources[layer_id]["Properties"]["ContentUri"])
        measured[logical_id] = parts
    assert measured, "the built template has no functions"
    return measured


def test_sam_build_builds_every_function(build_dir, built_template):
    for logical_id, resource in built_template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            code = build_dir / resource["Properties"]["CodeUri"]
            assert code.is_dir() and any(code.iterdir()), f"sam build produced no code for {logical_id} ({code})"


def test_largest_function_with_its_layers_fits_lambda(sizes):
    report = ["", f"{'function':<22}{'code':>14}{'layers':>12}{'total':>14}  share of the 250 MB limit"]
    for function, parts in sorted(sizes.items(), key=lambda item: -sum(item[1].values())):
        total = sum(parts.values())
        layers = total - parts[function]
        flag = "  <- close to the limit" if total > HEADROOM_WARNING * LAMBDA_UNZIPPED_LIMIT else ""
        report.append(
            f"{function:<22}{parts[function]:>14,}{layers:>12,}{total:>14,}  {total / LAMBDA_UNZIPPED_LIMIT:6.1%}{flag}"
        )
    print("\n".join(report))

    largest, parts = max(sizes.items(), key=lambda item: sum(item[1].values()))
    total = sum(parts.values())
    breakdown = ", ".join(f"{name} {size:,}" for name, size in parts.items())
    assert total < LAMBDA_UNZIPPED_LIMIT, (
        f"{largest} is {total:,} bytes unzipped with its layers ({breakdown}); Lambda allows "
        f"{LAMBDA_UNZIPPED_LIMIT:,}: CreateFunction would fail at deploy time"
    )


def test_sar_template_from_the_build_output(build_dir, translate):
    # What `make sar-template` does: inline the definition in the built template, next to it.
    output = build_dir / "sar-template.yaml"
    assert sar.main([str(build_dir / "template.yaml"), "--output", str(output)]) == 0
    template = yaml_parse(output.read_text(encoding="utf-8"))
    properties = template["Resources"]["CrossValidatorStateMachine"]["Properties"]
    assert "DefinitionUri" not in properties and properties.get("Definition", {}).get("StartAt"), (
        "the built template's state machine definition was not inlined"
    )
    translate(template)


def test_split_function_ships_the_botocore_the_tests_ran_with(build_dir, built_template):
    # GIVEN the built split function (the Lambda runtime's own boto3 would otherwise be used,
    # and it is older than the conditional PutObject the run reservation needs: botocore >= 1.35)
    import botocore

    code = build_dir / built_template["Resources"]["SplitFunction"]["Properties"]["CodeUri"]
    # WHEN its packaged botocore is looked up
    shipped = sorted(path.name for path in code.glob("botocore-*.dist-info"))
    # THEN it is there, at the version of this environment (the split checks requests against
    # botocore's sagemaker model: the deployed model must be the one tested)
    assert shipped == [f"botocore-{botocore.__version__}.dist-info"], (
        f"SplitFunction ships {shipped or 'no botocore'}; expected botocore {botocore.__version__} "
        "(pin it in functions/split/requirements.txt)"
    )
    assert (code / "boto3").is_dir(), "SplitFunction ships no boto3: the runtime's copy would be used"
