"""How SageMaker says a name is taken: the one rule both functions match it by. Pure."""

from __future__ import annotations

from typing import Any


def name_taken(error: Any) -> bool:
    """A Create* call refused the name because a resource of that name exists (names are per account).

    SageMaker words it both ways ("... already exists", "... must be unique within an AWS account"),
    under ResourceInUse or ValidationException; ``error`` is a botocore ClientError.
    """
    details = getattr(error, "response", {}).get("Error", {})
    message = details.get("Message", "").lower()
    return details.get("Code") == "ResourceInUse" or "already exist" in message or "must be unique" in message
