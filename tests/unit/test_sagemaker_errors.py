"""Both functions tell a taken SageMaker name by one rule, in every wording SageMaker uses."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from smx_common.sagemaker_errors import name_taken


def error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateTrialComponent")


@pytest.mark.parametrize("code, message", [
    ("ValidationException", "Trial component with name x already exists"),
    ("ValidationException", "The experiment name must be unique within an AWS account."),
    ("ResourceInUse", "Trial x is in use"),
])
def test_every_wording_of_a_taken_name_is_recognised(code, message):
    assert name_taken(error(code, message))


@pytest.mark.parametrize("code, message", [
    ("ValidationException", "1 validation error detected: Value 'x' at 'trialName' failed to satisfy constraint"),
    ("AccessDeniedException", "not authorized"),
    ("ThrottlingException", "Rate exceeded"),
])
def test_other_refusals_are_not_a_taken_name(code, message):
    assert not name_taken(error(code, message))
