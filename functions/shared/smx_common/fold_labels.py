"""How a run names one of its training jobs after the run id, for users to read. Pure.

``fold{i}``; ``r{r}-fold{i}`` in a repeated k-fold run; ``c{c}-...`` before that for candidate c of a
search: the end of the job's name, its trial component's display name, its fold tag, and how the
gather's summary and failure messages name it. The job that refits a search's best candidate on the whole
dataset is ``refit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

REFIT_LABEL = "refit"


def fold_label(fold_index: int, repeat_index: int | None = None, candidate_index: int | None = None) -> str:
    label = f"fold{fold_index}" if repeat_index is None else f"r{repeat_index}-fold{fold_index}"
    return label if candidate_index is None else f"c{candidate_index}-{label}"


def job_label(job: Mapping[str, Any]) -> str:
    """The label of a plan's fold entry or a summary's split (``fold_index``, and ``repeat_index`` and
    ``candidate_index`` if any); the refit job's (``fold_index`` None) is ``refit``."""
    if job.get("fold_index") is None:
        return REFIT_LABEL
    return fold_label(job["fold_index"], job.get("repeat_index"), job.get("candidate_index"))
