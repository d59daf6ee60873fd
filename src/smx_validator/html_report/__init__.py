"""The run's report: one self-contained HTML file with its figures (``smx-validator report``).

``page`` lays the execution output out as HTML; ``figures`` draws it with matplotlib. The gather step does
not write the report: matplotlib would take the gather function past Lambda's 250 MB (measured with
``sam build``: 282,561,457 bytes with matplotlib beside scikit-learn), so the CLI and the Python API render it
from the execution output or summary.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .page import render_html

__all__ = ["render_html", "write_report"]


def write_report(output: Mapping[str, Any], path: str | Path) -> Path:
    """Render the report of ``output`` (an execution output or summary.json) to ``path``."""
    target = Path(path)
    target.write_text(render_html(output), encoding="utf-8")
    return target
