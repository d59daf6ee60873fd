"""The end-of-run summary: each fold's job and status, then every metric per fold with the
cross-validated mean ± std (the gather step's statistics, not recomputed here)."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping

from smx_common.fold_labels import job_label

from .progress import FoldState

# The end of a job's name: its fold label (smx_common.fold_labels), "fold3", "r1-fold3" or "c2-r1-fold3".
_LABEL_AT_END = re.compile(r"(?:c\d+-)?(?:r\d+-)?fold\d+$")


def summary_table(gather_output: Mapping[str, Any]) -> str:
    splits = gather_output.get("splits") or []
    summary = gather_output.get("summary") or {}
    statistics = summary.get("metrics") or {}
    lines = ["Folds"]
    if not splits and "splits" in (summary.get("trimmed_fields") or []):
        lines.append("  (too many jobs for the execution output: each is in summary.csv and summary.json)")
    label_width = max([7, *(len(job_label(split)) for split in splits)])
    for split in splits:
        seconds = split.get("TrainingTimeInSeconds")
        line = (f"  {job_label(split):<{label_width}} {split.get('TrainingJobStatus', '?'):<10} "
                f"{split.get('TrainingJobName', '')}" + (f"  {seconds} s" if seconds is not None else ""))
        if split.get("FailureReason"):
            line += f"\n         {split['FailureReason']}"
        lines.append(line)
    if summary.get("tuning"):
        lines += ["", *ranking_table(summary["tuning"])]
    elif statistics:
        completed = summary.get("completed_folds") or []
        # Past MAX_JOB_COLUMNS jobs (repeats), only the statistics: summary.csv has every job's value.
        repeated = any("repeat_index" in split for split in splits)
        shown = completed if len(completed) <= (MAX_REPEATED_JOB_COLUMNS if repeated else MAX_JOB_COLUMNS) else []
        name_width = max(len(name) for name in statistics) + 2
        labels = {position: job_label(splits[position]) for position in completed if position < len(splits)}
        # Each column as wide as its widest cell plus a space (a regressor's 1234.5678 is wider than 0.9825).
        width = 1 + max([8, *(len(str(labels.get(i, i))) for i in shown),
                         *(len(_number(value)) for stats in statistics.values() for value in stats.get("values", []))])
        header = f"  {'metric':<{name_width}}" + "".join(f"{labels.get(i, i):>{width}}" for i in shown) + "   mean ± std"
        lines += ["", f"Metrics ({len(completed)} completed fold{'s' if len(completed) != 1 else ''}; "
                      "std is the population standard deviation"
                      f"{'' if shown else '; each job in summary.csv'})", header]
        for name in sorted(statistics):
            stats = statistics[name]
            diverged = set(stats.get("diverged_folds") or [])
            values = "".join(f"{'diverged' if fold in diverged else _number(value):>{width}}"
                             for fold, value in zip(shown, stats.get("values", [])))
            over = f"  (over {stats['count']} of {len(completed)} folds)" if diverged else ""
            lines.append(f"  {name:<{name_width}}{values}   {_number(stats['mean'])} ± {_number(stats['std'])}{over}")
        if summary.get("diverged_fold_count"):
            folds = ", ".join(job_label(splits[fold]) if fold < len(splits) else f"fold{fold}"
                              for fold in summary["diverged_folds"])
            lines += ["", f"{summary['diverged_fold_count']} fold(s) diverged ({folds}): a metric was NaN or infinite; "
                          "the statistics leave those values out"]
    if summary.get("out_of_fold"):
        lines += ["", *out_of_fold_lines(summary["out_of_fold"], statistics)]
    if summary.get("failure_message"):
        lines += ["", summary["failure_message"]]
    if summary.get("summary_json"):
        lines += ["", f"Summary: {summary['summary_json']}"]
    lines += mlflow_lines(summary)
    return "\n".join(lines)


def mlflow_lines(summary: Mapping[str, Any]) -> list[str]:
    """Where the track step recorded the run in MLflow, or why it could not."""
    recorded, failed = summary.get("mlflow"), summary.get("mlflow_error")
    if recorded:
        where = recorded["tracking_uri"]
        link = (f"{where.rstrip('/')}/#/experiments/{recorded['experiment_id']}/runs/{recorded['run_id']}"
                if where.startswith(("http://", "https://")) else where)
        lines = [f"MLflow: run {recorded['run_id']} with {recorded['nested_runs']} nested runs (one per training job) "
                 f"in experiment {recorded['experiment_name']!r}: {link}"]
        if recorded.get("experiment_restored"):
            lines.append(f"  note: the experiment {recorded['experiment_name']!r} had been deleted in MLflow; it is "
                         "restored (MLflow keeps a deleted experiment's name)")
        if recorded.get("artifacts_error"):
            lines.append(f"  note: summary.json and summary.csv are not among its artifacts: {recorded['artifacts_error']}")
        return lines
    if failed:
        return [f"warning: MLflow tracking failed ({failed.get('Error')}): {_cause_message(failed.get('Cause'))}"]
    return []


def _cause_message(cause: Any) -> str:
    """A Lambda error's cause is the runtime's JSON: its errorMessage."""
    try:
        payload = json.loads(cause or "")
    except (TypeError, ValueError):
        return str(cause or "")
    return str(payload.get("errorMessage", cause)) if isinstance(payload, dict) else str(cause)


# The most jobs whose values are shown side by side (a plain run's 20 folds at most fit; repeats may not).
MAX_JOB_COLUMNS = 20
MAX_REPEATED_JOB_COLUMNS = 10
# The most candidates whose other metrics are shown side by side (the ranking lists them all).
MAX_METRIC_COLUMNS = 8


def ranking_table(search: Mapping[str, Any]) -> list[str]:
    """The search's candidates, best first: rank, overrides, the objective's mean ± std over the candidate's
    jobs; then every metric's mean ± std for the best candidates."""
    objective = search["objective"]
    ranked = sorted(search["candidates"], key=lambda candidate: (candidate["rank"], candidate["index"]))
    settings = {c["index"]: ", ".join(f"{k}={v}" for k, v in sorted(c["overrides"].items())) for c in ranked}
    width = max(len("hyperparameters"), *(len(text) for text in settings.values()))
    lines = [f"Search: {len(ranked)} candidates ranked by {objective['metric']} ({objective['type']}; mean ± std over "
             "each candidate's jobs)",
             f"  {'rank':>4}  {'':<5} {'hyperparameters':<{width}}  {'mean ± std':>17}  jobs"]
    for candidate in ranked:
        score = f"{_number(candidate['mean'])} ± {_number(candidate['std'])}"
        # A candidate missing a job's objective has no score: it ranks last whatever its partial mean says.
        # A candidate missing a job's value has no score: its mean over the other jobs would flatter it, so it
        # ranks after every scored one (shown "-": its rank number is the same for all of them).
        scored = candidate.get("complete", True)
        unscored = "" if scored else "  (no score: a job failed or did not report the objective)"
        rank = candidate["rank"] if scored else "-"
        lines.append(f"  {rank:>4}  c{candidate['index']:<4} {settings[candidate['index']]:<{width}}  "
                     f"{score:>17}  {candidate['completed']}/{candidate['jobs']}{unscored}")
    shown = [candidate for candidate in ranked if candidate.get("metrics")][:MAX_METRIC_COLUMNS]
    names = sorted({name for candidate in shown for name in candidate["metrics"]})
    if names:
        name_width = max(len(name) for name in names) + 2
        lines += ["", f"  {'metric (mean ± std)':<{name_width}}" + "".join(f"{'c' + str(c['index']):>18}" for c in shown)]
        for name in names:
            cells = []
            for candidate in shown:
                stats = candidate["metrics"].get(name) or {}
                cells.append(f"{_number(stats.get('mean'))} ± {_number(stats.get('std'))}")
            lines.append(f"  {name:<{name_width}}" + "".join(f"{cell:>18}" for cell in cells))
    if search.get("best_index") is not None:
        lines += ["", f"Best: c{search['best_index']} ({settings[search['best_index']]})"]
    else:
        lines += ["", "Best: none (no candidate has the objective from every one of its jobs)"]
    lines += refit_lines(search.get("refit"))
    return lines


# Per-fold metrics that measure what a pooled metric measures (the part after "<channel>:"), so that the two
# are shown side by side: the algorithms' own names (linear-learner, knn, xgboost, image-classification,
# blazingtext).
COMPARABLE_FOLD_METRICS = {
    "accuracy": ("accuracy", "binary_classification_accuracy", "multiclass_accuracy"),
    "log_loss": ("logloss", "mlogloss"),
    "roc_auc": ("auc",),
    "rmse": ("rmse",),
    "mae": ("mae", "absolute_loss"),
}
# The most classes whose confusion matrix is printed (summary.json has any size).
MAX_MATRIX_CLASSES = 12


def out_of_fold_lines(out_of_fold: Mapping[str, Any], fold_statistics: Mapping[str, Any]) -> list[str]:
    """The pooled metrics of the out-of-fold predictions beside the per-fold mean ± std of the same measure,
    the confusion matrix, and the folds whose predictions are missing."""
    lines = [f"Out-of-fold predictions: {_predicted(out_of_fold)}, each by the fold model that did not train on it "
             f"({out_of_fold['predictions']})"]
    metrics = out_of_fold.get("metrics") or {}
    if metrics:
        width = max(len(name) for name in metrics) + 2
        lines.append(f"  {'metric':<{width}}{'pooled':>9}   per-fold mean ± std")
        for name, value in metrics.items():
            # On the lines each fold held out (its validation or test channel), never on its training lines.
            comparable = [metric for metric in sorted(fold_statistics)
                          if metric.rpartition(":")[2] in COMPARABLE_FOLD_METRICS.get(name, ())
                          and not metric.startswith("train:")]
            beside = "".join(f"   {_number(fold_statistics[metric]['mean'])} ± "
                             f"{_number(fold_statistics[metric]['std'])} ({metric})" for metric in comparable[:1])
            lines.append(f"  {name:<{width}}{_number(value):>9}{beside}")
    matrix = out_of_fold.get("confusion_matrix")
    if matrix and len(matrix["labels"]) <= MAX_MATRIX_CLASSES:
        labels = [str(label)[:8] for label in matrix["labels"]]
        width = max(6, *(len(label) + 1 for label in labels), *(len(str(n)) + 1 for row in matrix["matrix"] for n in row))
        lines += ["  confusion matrix (rows: label, columns: prediction)",
                  "    " + " " * width + "".join(f"{label:>{width}}" for label in labels)]
        lines += ["    " + f"{label:>{width}}" + "".join(f"{count:>{width}}" for count in row)
                  for label, row in zip(labels, matrix["matrix"])]
    elif matrix:
        lines.append(f"  confusion matrix: {len(matrix['labels'])} classes, in summary.json")
    for note in out_of_fold.get("notes") or []:
        lines.append(f"  note: {note}")
    for missing in out_of_fold.get("missing_folds") or []:
        lines.append(f"  missing: repeat {missing['repeat_index']} fold {missing['fold_index']} "
                     f"({missing['TransformJobName']}): {missing['reason']}")
    return lines


def _predicted(out_of_fold: Mapping[str, Any]) -> str:
    """"569 of 569 lines predicted", or with repeats "4552 of 4552 predictions (569 lines x 8 repeats)"."""
    repeats, lines, done = out_of_fold.get("n_repeats", 1), out_of_fold["num_lines"], out_of_fold["num_predictions"]
    if repeats == 1:
        return f"{done} of {lines} lines predicted"
    return f"{done} of {lines * repeats} predictions ({lines} lines x {repeats} repeats)"


def refit_lines(refit: Mapping[str, Any] | None) -> list[str]:
    """Where the final model is: the refit job's model, or why there is none."""
    if not refit:
        return []
    if refit.get("TrainingJobStatus") == "Completed":
        model = (refit.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        return [f"Final model: {model}",
                f"  (c{refit['candidate_index']} refit on all {refit['num_training_samples']} lines by "
                f"{refit['TrainingJobName']})"]
    return [f"Refit {refit.get('TrainingJobStatus')}: {refit.get('TrainingJobName')}: no final model",
            f"  {refit.get('FailureReason')}"]


def progress_line(states: list[FoldState], previous: Mapping[int, FoldState], name: str | None = None,
                  labels: list[str] | None = None) -> list[str]:
    """One line per fold whose state changed since ``previous``. A state is called by ``labels[index]`` (the
    plan's job labels: ``c2-r1-fold3``), else by its job's name, else ``name`` or its Map index."""
    lines = []
    for state in states:
        if previous.get(state.index) != state:
            match = _LABEL_AT_END.search(state.job_name or "")
            if labels and state.index < len(labels):
                label = labels[state.index]
            else:
                label = match.group(0) if match else name or f"fold{state.index}"
            text = f"{label:<7} {state.state:<10}"
            if state.job_name:
                text += f" {state.job_name}"
            if state.detail:
                text += f"  ({state.detail})"
            lines.append(text)
    return lines


def map_run_progress(item_counts: Mapping[str, Any], planned: int | None = None) -> tuple[int, int, str]:
    """A Distributed Map's progress from DescribeMapRun's itemCounts: (jobs done, jobs in all, the line to
    print). Each item is one training job, whose child execution ends succeeded whether the job completed or
    failed (the Catch inside it); its own events are in the child's history, not the run's."""
    done = sum(item_counts.get(key) or 0 for key in ("succeeded", "failed", "timedOut", "aborted"))
    total = planned or item_counts.get("total", 0)
    return done, total, f"jobs    {done} of {total} done, {item_counts.get('running', 0)} running"


# A Distributed Map's progress is printed every this many percent of its jobs (and at its end).
MAP_RUN_STEP_PERCENT = 5


def _number(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.4f}"
