"""SMX-Validator workstation tools: the Python API, the CLI, the offline engine and the SAR packaging helper.

``from smx_validator import cross_validate`` (smx_validator.api) runs a cross-validation from Python.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CrossValidation", "CrossValidationFailed", "CrossValidationResult", "cross_validate"]


def __getattr__(name: str) -> Any:
    # The API is imported on first use: the CLI's commands start without loading it.
    if name in __all__:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'smx_validator' has no attribute {name!r}")
