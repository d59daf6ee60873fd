"""The moto internals the engine depends on (smx_validator/local/moto_bridge.py) still exist with
the shapes it assumes. When one of these fails after a moto upgrade, it names the symbol that
moved: re-check the bridge's use of it before changing the pin in requirements-dev.txt."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import moto
import pytest

from smx_validator.local import moto_bridge

REPO = Path(__file__).resolve().parents[2]


def _resolve(dotted: str):
    """Import the longest importable module prefix, then walk attributes; fail naming the symbol."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            if attribute == "_program_state" and inspect.isclass(target):
                # an instance attribute: check the class sets it
                assert "self._program_state" in inspect.getsource(target), f"moto internal moved: {dotted}"
                return target
            if attribute in {"training_jobs", "trial_components", "transform_jobs"} and inspect.isclass(target):
                # instance attributes: check the constructor sets them
                assert f"self.{attribute}" in inspect.getsource(target.__init__), f"moto internal moved: {dotted}"
                return target
            assert hasattr(target, attribute), f"moto internal moved: {dotted} (no attribute {attribute!r})"
            target = getattr(target, attribute)
        return target
    pytest.fail(f"moto internal moved: {dotted} (module not importable)")


def test_moto_is_the_pinned_version():
    # GIVEN the pin in requirements-dev.txt and the bridge's supported version
    pin = re.search(r"^moto\[server\]==(\S+)$", (REPO / "requirements-dev.txt").read_text(), re.MULTILINE)
    # THEN the installed moto is exactly that version
    assert pin is not None, "requirements-dev.txt must pin moto exactly (moto[server]==X.Y.Z)"
    assert pin.group(1) == moto_bridge.MOTO_VERSION == moto.__version__


@pytest.mark.parametrize("dotted", moto_bridge.INTERNALS)
def test_every_internal_the_bridge_uses_exists(dotted):
    _resolve(dotted)


@pytest.mark.parametrize("dotted, parameters", sorted(moto_bridge.HOOK_SIGNATURES.items()))
def test_hooks_keep_the_signature_the_bridge_assumes(dotted, parameters):
    # The bridge wraps some of these: inspect the original moto function it wrapped.
    function = inspect.unwrap(_resolve(dotted))
    assert tuple(inspect.signature(function).parameters) == parameters, f"moto internal changed signature: {dotted}"


def test_fake_training_job_serialises_the_attributes_the_bridge_sets():
    # GIVEN moto's job object: DescribeTrainingJob is its camel-cased __dict__
    source = inspect.getsource(moto.sagemaker.models.FakeTrainingJob)
    # THEN every attribute the bridge overwrites is one moto sets (so its name maps to the API field)
    for attribute in moto_bridge.JOB_ATTRIBUTES:
        assert f"self.{attribute} =" in source, f"moto internal moved: FakeTrainingJob.{attribute}"
    assert "gen_response_object" in source


@pytest.mark.parametrize("class_name, attributes", [
    ("FakeTransformJob", moto_bridge.TRANSFORM_JOB_ATTRIBUTES),
    ("Model", moto_bridge.MODEL_ATTRIBUTES),
])
def test_the_sagemaker_objects_keep_the_attributes_the_bridge_reads_and_sets(class_name, attributes):
    # GIVEN moto's transform job and model: DescribeTransformJob and DescribeModel are their camel-cased __dict__
    source = inspect.getsource(getattr(moto.sagemaker.models, class_name))
    # THEN every attribute the bridge reads or overwrites is one moto sets (so its name maps to the API field)
    for attribute in attributes:
        assert f"self.{attribute} =" in source, f"moto internal moved: {class_name}.{attribute}"
    assert "gen_response_object" in source


def test_install_routes_sagemaker_tasks_to_the_bridge():
    # GIVEN the bridge installed
    moto_bridge.install()
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import state_task_factory

    # WHEN moto's interpreter asks for the SageMaker service task
    task = state_task_factory.state_task_service_for(service_name="sagemaker")
    # THEN it gets the bridge's, and other services keep moto's own
    assert type(task).__name__ == "_SageMakerServiceTask"
    assert type(state_task_factory.state_task_service_for(service_name="lambda")).__name__ == "StateTaskServiceLambda"
