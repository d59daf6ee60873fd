"""The end-of-run summary: each fold's job and status, then every metric per fold with the
cross-validated mean ± std (the gather step's statistics, not recomputed here)."""

from __future__ import annotations

from typing import Any, Mapping

from .progress import FoldState


def summary_table(gather_output: Mapping[str, Any]) -> str:
    splits = gather_output.get("splits") or []
    summary = gather_output.get("summary") or {}
    statistics = summary.get("metrics") or {}
    lines = ["Folds"]
    for split in splits:
        seconds = split.get("TrainingTimeInSeconds")
        line = (f"  fold{split['fold_index']:<3} {split.get('TrainingJobStatus', '?'):<10} "
                f"{split.get('TrainingJobName', '')}" + (f"  {seconds} s" if seconds is not None else ""))
        if split.get("FailureReason"):
            line += f"\n         {split['FailureReason']}"
        lines.append(line)
    if statistics:
        completed = summary.get("completed_folds") or []
        name_width = max(len(name) for name in statistics) + 2
        header = f"  {'metric':<{name_width}}" + "".join(f"{'fold' + str(i):>9}" for i in completed) + "   mean ± std"
        lines += ["", f"Metrics ({len(completed)} completed fold{'s' if len(completed) != 1 else ''}; "
                      "std is the population standard deviation)", header]
        for name in sorted(statistics):
            stats = statistics[name]
            values = "".join(f"{_number(value):>9}" for value in stats.get("values", []))
            lines.append(f"  {name:<{name_width}}{values}   {_number(stats['mean'])} ± {_number(stats['std'])}")
    if summary.get("failure_message"):
        lines += ["", summary["failure_message"]]
    if summary.get("summary_json"):
        lines += ["", f"Summary: {summary['summary_json']}"]
    return "\n".join(lines)


def progress_line(states: list[FoldState], previous: Mapping[int, FoldState]) -> list[str]:
    """One line per fold whose state changed since ``previous``."""
    lines = []
    for state in states:
        if previous.get(state.index) != state:
            text = f"fold{state.index:<3} {state.state:<10}"
            if state.job_name:
                text += f" {state.job_name}"
            if state.detail:
                text += f"  ({state.detail})"
            lines.append(text)
    return lines


def _number(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}"
