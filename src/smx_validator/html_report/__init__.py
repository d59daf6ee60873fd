"""The run's report: one self-contained HTML file with its figures (``smx-validator report``).

``page`` lays the execution output out as HTML; ``figures`` draws it with matplotlib. The gather step does
not write the report: matplotlib would take the gather function past Lambda's 250 MB (measured with
``sam build``: 282,561,457 bytes with matplotlib beside scikit-learn), so the CLI and the Python API render it
from the execution output or summary.json.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from .page import GENERATOR, render_fragment, render_html

__all__ = ["render_fragment", "render_html", "write_report", "is_report"]


def write_report(output: Mapping[str, Any], path: str | Path) -> Path:
    """Render the report of ``output`` (an execution output or summary.json) to ``path``, creating its folder.

    Only a previous report is replaced: a folder raises IsADirectoryError, any other existing file FileExistsError.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a folder: give the path of an HTML file, such as {target / 'report.html'}")
    if target.exists() and not is_report(target):
        raise FileExistsError(f"{target} exists and is not a report of a previous run: choose another path (a previous "
                              "report is replaced)")
    page = render_html(output)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    return target


def is_report(path: Path) -> bool:
    """Whether the file is a report this package wrote (its head names the generator)."""
    try:
        with path.open("rb") as file:
            return GENERATOR.encode() in file.read(4096)
    except OSError:
        return False
