"""The report's figures, drawn with matplotlib and returned as inline SVG markup. Pure (no I/O).

Each function takes the pieces of the execution output it draws and returns one ``<svg>`` element, or None
when there is nothing to draw. The object-oriented API (``matplotlib.figure.Figure``) is used on purpose:
pyplot's global state and backend selection have no place in a library that a notebook imports.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure

# Text stays text in the SVG (searchable, scalable, drawn by the browser's own fonts), and the element ids
# matplotlib generates are the same from one run to the next, so one output always gives one file.
_SVG_SETTINGS = {"svg.fonttype": "none", "svg.hashsalt": "smx-validator", "font.size": 9,
                 "axes.spines.top": False, "axes.spines.right": False}
_MEAN_COLOUR, _POINT_COLOUR, _BEST_COLOUR, _UNSCORED_COLOUR = "#d62728", "#1f77b4", "#2ca02c", "#9e9e9e"
# Beyond this many classes the confusion matrix is drawn without a count in each cell.
MAX_ANNOTATED_CLASSES = 12
# Beyond this many classes the matrix is not drawn at all (summary.json has it): no one reads the cells.
MAX_DRAWN_CLASSES = 50


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    # No date in the metadata: one output always renders to the same file.
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    # The XML declaration and DOCTYPE belong to a file, not to an element inside an HTML page.
    return text[text.index("<svg"):]


def metric_strips(metrics: Mapping[str, Mapping[str, Any]], job_labels: Sequence[str]) -> str | None:
    """One small panel per metric: each job's value as a point, the mean as a line and mean ± std as a band.

    ``job_labels[i]`` names the job of ``values[i]`` (the summary's ``completed_folds`` order)."""
    names = sorted(name for name, stats in metrics.items() if _finite(stats.get("values") or []))
    if not names:
        return None
    columns = min(3, len(names))
    rows = math.ceil(len(names) / columns)
    with rc_context(_SVG_SETTINGS):
        figure = Figure(figsize=(3.4 * columns, 2.4 * rows), layout="constrained")
        for position, name in enumerate(names):
            stats = metrics[name]
            axes = figure.add_subplot(rows, columns, position + 1)
            values = [math.nan if value is None else float(value) for value in stats["values"]]
            xs = list(range(len(values)))
            mean, std = stats.get("mean"), stats.get("std")
            if mean is not None and std is not None:
                axes.axhspan(mean - std, mean + std, color=_MEAN_COLOUR, alpha=0.12, linewidth=0)
                axes.axhline(mean, color=_MEAN_COLOUR, linewidth=1.2)
            axes.plot(xs, values, "o", color=_POINT_COLOUR, markersize=5)
            axes.set_title(f"{name}\n{_number(mean)} ± {_number(std)}", fontsize=9)
            axes.ticklabel_format(axis="y", useOffset=False)  # values equal to 1e-17 are not an axis of their own
            labels = list(job_labels[:len(values)]) + [str(i) for i in range(len(job_labels), len(values))]
            if len(values) <= 12:
                axes.set_xticks(xs, labels, rotation=45 if len(values) > 5 else 0, ha="right" if len(values) > 5 else "center")
            else:
                axes.set_xlabel(f"{len(values)} jobs")
                axes.set_xticks([])
            axes.margins(x=0.15)
        return _svg(figure)


def class_order(names: Sequence[str]) -> list[str]:
    """Class names as a reader counts them: numerically when they are all numbers ("2" before "10")."""
    try:
        return sorted(names, key=float)
    except ValueError:
        return sorted(names)


def fold_balance(fold_sizes: Sequence[int], class_counts: Sequence[Mapping[str, int]] | None) -> str | None:
    """Each fold's validation lines as a horizontal bar, split by class when the counts are known (one colour a
    class: tab10 up to 10 classes, tab20 up to 20, then a continuous map)."""
    if not fold_sizes:
        return None
    labels = [f"fold{index}" for index in range(len(fold_sizes))]
    with rc_context(_SVG_SETTINGS):
        figure = Figure(figsize=(7.0, 0.45 * len(fold_sizes) + 1.3), layout="constrained")
        axes = figure.add_subplot()
        if class_counts:
            classes = class_order(list(class_counts[0]))
            colours = _class_colours(len(classes))
            left = [0] * len(class_counts)
            for name, colour in zip(classes, colours):
                widths = [counts.get(name, 0) for counts in class_counts]
                axes.barh(labels, widths, left=left, label=str(name), color=colour)
                left = [a + b for a, b in zip(left, widths)]
            axes.legend(title="class", loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False,
                        ncols=1 + (len(classes) - 1) // 15, fontsize=8)
            axes.set_title("validation lines per fold, by class")
        else:
            axes.barh(labels, list(fold_sizes), color=_POINT_COLOUR)
            axes.set_title("validation lines per fold")
        axes.invert_yaxis()
        axes.set_xlabel("lines")
        return _svg(figure)


def _class_colours(count: int) -> list:
    from matplotlib import colormaps

    if count <= 10:
        return [colormaps["tab10"](i) for i in range(count)]
    if count <= 20:
        return [colormaps["tab20"](i) for i in range(count)]
    return [colormaps["viridis"](i / (count - 1)) for i in range(count)]


def candidate_ranking(candidates: Sequence[Mapping[str, Any]], metric: str, best_index: int | None) -> str | None:
    """The objective's mean ± std for each candidate of a search, best rank first."""
    # A candidate missing a job's objective has no score (the ranking puts it last, "-"): drawn apart, hollow and
    # grey, after the scored ones, so that its partial mean never reads as a rank.
    drawn = sorted((c for c in candidates if c.get("mean") is not None),
                   key=lambda candidate: (not candidate.get("complete", True), candidate["rank"], candidate["index"]))
    if not drawn:
        return None

    with rc_context(_SVG_SETTINGS):
        figure = Figure(figsize=(7.0, 0.35 * len(drawn) + 1.4), layout="constrained")
        axes = figure.add_subplot()
        names = [f"c{candidate['index']}" + ("" if candidate.get("complete", True) else " (no score)")
                 for candidate in drawn]
        for y, candidate in enumerate(drawn):
            complete = candidate.get("complete", True)
            colour = _BEST_COLOUR if candidate["index"] == best_index else _POINT_COLOUR if complete else _UNSCORED_COLOUR
            axes.errorbar(candidate["mean"], y, xerr=candidate.get("std") or 0, fmt="o", color=colour, capsize=3,
                          markerfacecolor=colour if complete else "none")
        axes.set_yticks(range(len(drawn)), names)
        axes.invert_yaxis()
        axes.set_xlabel(f"{metric} (mean ± std over each candidate's jobs)")
        axes.set_title("candidates by rank" + ("" if best_index is None else f" (best: c{best_index}, green)"))
        return _svg(figure)


def confusion_matrix(labels: Sequence[Any], matrix: Sequence[Sequence[int]]) -> str | None:
    """The out-of-fold confusion matrix as a heat map (rows: label, columns: prediction)."""
    if not labels or len(labels) > MAX_DRAWN_CLASSES:
        return None
    size = min(9.0, 2.2 + 0.45 * len(labels))
    names = [str(label) for label in labels]
    with rc_context(_SVG_SETTINGS):
        figure = Figure(figsize=(size + 1.2, size), layout="constrained")
        axes = figure.add_subplot()
        image = axes.imshow(matrix, cmap="Blues")
        figure.colorbar(image, ax=axes, shrink=0.8, label="lines")
        axes.set_xticks(range(len(names)), names, rotation=90 if len(names) > 8 else 0)
        axes.set_yticks(range(len(names)), names)
        axes.set_xlabel("prediction")
        axes.set_ylabel("label")
        axes.spines[:].set_visible(False)
        if len(labels) <= MAX_ANNOTATED_CLASSES:
            highest = max((count for row in matrix for count in row), default=0)
            for row_index, row in enumerate(matrix):
                for column_index, count in enumerate(row):
                    axes.text(column_index, row_index, str(count), ha="center", va="center",
                              color="white" if count > highest / 2 else "black")
        axes.set_title("out-of-fold confusion matrix")
        return _svg(figure)


def _finite(values: Sequence[Any]) -> bool:
    return any(value is not None and math.isfinite(value) for value in values)


def _number(value: Any) -> str:
    """As the report's tables write numbers (page._number): four decimals, so a figure and its table agree."""
    if value is None:
        return "-"
    return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
