"""Where a file of the application's checkout is, for code that runs from one (the CLI, the local engine,
the tests, and a function's code imported outside Lambda).

The checkout is found by its marker, the SAM template at its root, above this file: an installed
copy in another layout raises a clear error instead of reading a wrong path. A deployed function
never asks: it reads what it needs from its layers (for example SMX_INPUT_SCHEMA).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MARKER = "template.yaml"


@lru_cache(maxsize=1)
def repository_root() -> Path:
    here = Path(__file__).resolve()
    for folder in here.parents:
        if (folder / MARKER).is_file() and (folder / "functions").is_dir():
            return folder
    raise FileNotFoundError(
        f"{here}: not inside an SMX-Validator checkout (no {MARKER} with functions/ above it); "
        "run from a clone of the repository, installed with pip install -e ."
    )


def repository_path(relative: str) -> Path:
    """A file of the checkout, by its path from the repository root (such as resources/schemas/input.schema.json)."""
    return repository_root() / relative
