"""The report page: the execution output (or summary.json, the same document untrimmed) as one
self-contained HTML file. Pure: a document in, a string out.

Nothing is fetched when the page is viewed: the figures are inline SVG, the style is inline, and there is
no script. Every value from the output is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from smx_common.fold_labels import job_label
from smx_common.s3uri import S3Uri

from . import figures

# In every report's head: how a later run knows that a file it would replace is a report (input_files).
GENERATOR = '<meta name="generator" content="smx-validator report">'
# Every rule is scoped to the report's own element, so that the same markup can sit inside a notebook's page
# (``render_fragment``, Jupyter's _repr_html_) without restyling the notebook.
_STYLE = """
.smx-report { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 72em; color: #222; }
.smx-report h1 { font-size: 1.6em; margin-bottom: 0.2em; }
.smx-report h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
.smx-report table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
.smx-report th, .smx-report td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
.smx-report td.number { text-align: right; font-variant-numeric: tabular-nums; }
.smx-report th { background: #f4f4f4; }
.smx-report .status-ok { color: #1a7f37; font-weight: 600; }
.smx-report .status-failed { color: #b42318; font-weight: 600; }
.smx-report .note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 0.5em 0.8em; margin: 0.8em 0; }
.smx-report figure { margin: 1em 0; } .smx-report figure svg { max-width: 100%; height: auto; }
.smx-report code { font-size: 0.95em; }
"""
_PAGE_STYLE = "body { margin: 2em auto; max-width: 75em; padding: 0 1.5em; }"


def render_html(output: Mapping[str, Any]) -> str:
    """The report of one run from its execution output (``summary.json`` has the same shape, never trimmed)."""
    return (f"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n{GENERATOR}\n"
            f"<title>{escape(_title(output))}</title>\n<style>{_PAGE_STYLE}</style>\n</head>\n<body>\n"
            f"{render_fragment(output)}</body>\n</html>\n")


def render_fragment(output: Mapping[str, Any]) -> str:
    """The report as one element with its (scoped) style: what a notebook shows for a result."""
    summary = output.get("summary") or {}
    sections = [
        _run_section(output),
        _settings_section(output),
        _metrics_section(output),
        _folds_section(output),
        _tuning_section(summary.get("tuning")),
        _out_of_fold_section(summary.get("out_of_fold"), summary.get("metrics") or {}),
    ]
    body = "\n".join(section for section in sections if section)
    return (f"<style>{_STYLE}</style>\n<div class=\"smx-report\">\n<h1>{escape(_title(output))}</h1>\n"
            f"{_status_line(summary, output.get('splits') or [])}\n{body}\n"
            "<p><small>Made by smx-validator from the run's execution output; std is the population standard "
            "deviation.</small></p>\n</div>\n")


def _title(output: Mapping[str, Any]) -> str:
    job_config = output.get("job_config") or {}
    return f"Cross-validation report: {job_config.get('name') or job_config.get('run_id') or 'run'}"


def _status_line(summary: Mapping[str, Any], splits: Sequence[Mapping[str, Any]]) -> str:
    # Every job of the run (a search's summary.completed_folds counts only the best candidate's).
    completed = (sum(split.get("TrainingJobStatus") == "Completed" for split in splits) if splits
                 else len(summary.get("completed_folds") or []))
    failed = summary.get("failed_fold_count") or 0
    if summary.get("failure_message"):
        return (f"<p class=\"status-failed\" id=\"status\">{completed} completed, {failed} failed: "
                f"{escape(summary['failure_message'])}</p>")
    return f"<p class=\"status-ok\" id=\"status\">{completed} jobs completed, none failed.</p>"


def _run_section(output: Mapping[str, Any]) -> str:
    job_config, summary = output.get("job_config") or {}, output.get("summary") or {}
    region = _region(output)
    rows = [
        ("run id", escape(str(job_config.get("run_id", "")))),
        ("execution", escape(str(job_config.get("execution_name", "")))),
        ("started", escape(str(job_config.get("created_at", "")))),
        ("input", _s3_link(job_config.get("input_path"))),
        ("run prefix", _s3_link(job_config.get("run_prefix"))),
        ("summary.json", _s3_link(summary.get("summary_json"))),
        ("summary.csv", _s3_link(summary.get("summary_csv"))),
    ]
    if (summary.get("out_of_fold") or {}).get("predictions"):
        rows.append(("out-of-fold predictions", _s3_link(summary["out_of_fold"]["predictions"])))
    if job_config.get("experiment_name"):
        rows.append(("SageMaker Experiment", escape(f"{job_config['experiment_name']} / trial "
                                                    f"{job_config.get('trial_name', '')}")))
    if summary.get("trial_component_name"):
        rows.append(("summary trial component", escape(summary["trial_component_name"])))
    if summary.get("mlflow"):
        mlflow = summary["mlflow"]
        where = str(mlflow.get("tracking_uri", ""))
        text = escape(f"{mlflow.get('run_id', '')} in experiment {mlflow.get('experiment_name', '')!r} at {where}")
        if where.startswith(("http://", "https://")):
            target = f"{where.rstrip('/')}/#/experiments/{mlflow.get('experiment_id')}/runs/{mlflow.get('run_id')}"
            text += f" (<a href=\"{escape(target)}\">open</a>)"
        rows.append(("MLflow run", text))
    elif summary.get("mlflow_error"):
        rows.append(("MLflow run", escape(f"not recorded ({summary['mlflow_error'].get('Error')})")))
    if region:
        rows.append(("region", escape(region)))
    notes = [*(job_config.get("notes") or [])]
    trimmed = summary.get("trimmed_fields") or []
    if trimmed:
        notes.append(f"the execution output was trimmed to fit Step Functions' limit ({', '.join(trimmed)}); "
                     "render the report from summary.json to see every job")
    return ("<h2 id=\"run\">Run</h2>\n" + _table(("", ""), rows, with_header=False)
            + "".join(f"<p class=\"note\">{escape(note)}</p>\n" for note in notes))


def _settings_section(output: Mapping[str, Any]) -> str:
    crossvalidation, training = output.get("crossvalidation") or {}, output.get("training") or {}
    resources = training.get("resource_config") or {}
    image = (training.get("algorithm_specification") or {}).get("TrainingImage", "")
    rows = [(key, escape(str(value))) for key, value in (
        ("algorithm", training.get("algorithm_family", "")),
        ("training image", image),
        ("instances", f"{resources.get('InstanceCount', '')} x {resources.get('InstanceType', '')}"),
        ("folds (k)", crossvalidation.get("n_splits", "")),
        ("repeats", crossvalidation.get("n_repeats", 1)),
        ("random seed", crossvalidation.get("random_state", "")),
        ("strategy", crossvalidation.get("strategy", "")),
        ("jobs at a time", crossvalidation.get("max_concurrency", "")),
        ("lines", crossvalidation.get("num_samples", "")),
        # The labels' distinct values are classes only when the folds stratify on them (a regressor's are values).
        ("classes", crossvalidation.get("num_classes")
         if crossvalidation.get("num_classes") is not None and _stratified(crossvalidation) else "-"),
    )]
    hyperparameters = training.get("hyperparameters_template") or {}
    section = "<h2 id=\"settings\">Input settings</h2>\n" + _table(("", ""), rows, with_header=False)
    tuning = (output.get("summary") or {}).get("tuning")
    best = next((c for c in (tuning or {}).get("candidates", []) if c["index"] == (tuning or {}).get("best_index")), None)
    if best is not None:
        # A search's jobs never ran the template as it is: each candidate overrides some of it.
        values = {**hyperparameters, **{key: str(value) for key, value in best["overrides"].items()}}
        section += (f"<h3 id=\"hyperparameters\">Hyperparameters: the template, and the best candidate (c{best['index']}) "
                    "that overrides it</h3>\n" + _table(
                        ("name", "template", f"c{best['index']}"),
                        [(escape(k), f"<code>{escape(str(hyperparameters.get(k, '-')))}</code>",
                          f"<code>{escape(str(v))}</code>") for k, v in sorted(values.items())]))
    elif hyperparameters:
        section += "<h3 id=\"hyperparameters\">Hyperparameters</h3>\n" + _table(
            ("name", "value"), [(escape(k), f"<code>{escape(str(v))}</code>") for k, v in sorted(hyperparameters.items())])
    return section


def _metrics_section(output: Mapping[str, Any]) -> str:
    summary, splits = output.get("summary") or {}, output.get("splits") or []
    metrics = summary.get("metrics") or {}
    if not metrics:
        reason = summary.get("search_failure_message") or "no completed job reported a metric"
        return f"<h2 id=\"metrics\">Metrics</h2>\n<p class=\"note\">{escape(reason)}</p>\n"
    completed = summary.get("completed_folds") or []
    labels = [job_label(splits[position]) if position < len(splits) else f"job{position}" for position in completed]
    best = " of the best candidate" if summary.get("tuning") else ""
    shown = labels if len(labels) <= 12 else []
    header = ("metric", *shown, "mean ± std", "min", "max", "folds")
    rows = []
    for name in sorted(metrics):
        stats = metrics[name]
        values = stats.get("values") or []
        rows.append((escape(name), *(_cell(value) for value in values[:len(shown)]),
                     _cell_text(f"{_number(stats.get('mean'))} ± {_number(stats.get('std'))}"),
                     _cell(stats.get("min")), _cell(stats.get("max")), _cell_text(str(stats.get("count", len(values))))))
    figure = figures.metric_strips(metrics, labels)
    diverged = summary.get("diverged_folds") or []
    note = ""
    if diverged:
        named = ", ".join(job_label(splits[fold]) if fold < len(splits) else f"job{fold}" for fold in diverged)
        note = (f"<p class=\"note\" id=\"diverged\">{len(diverged)} job(s) diverged ({escape(named)}): a metric was NaN "
                "or infinite; it is shown as -, and the statistics leave those values out (the folds column counts "
                "the values kept).</p>\n")
    return (f"<h2 id=\"metrics\">Metrics{best}: each job's final value, mean ± std</h2>\n" + note + _table(header, rows)
            + _figure("metric-values", figure, "Each job's final value (points), the mean (line) and mean ± std "
                      "(band)."))


def _folds_section(output: Mapping[str, Any]) -> str:
    crossvalidation, summary = output.get("crossvalidation") or {}, output.get("summary") or {}
    splits = output.get("splits") or []
    reasons = {failed.get("TrainingJobName"): failed.get("FailureReason")
               for failed in summary.get("failed_folds") or [] if isinstance(failed, Mapping)}
    sizes = crossvalidation.get("fold_sizes") or []
    total = crossvalidation.get("num_samples")
    region = _region(output)
    rows = []
    for split in splits:
        name = split.get("TrainingJobName", "")
        fold = split.get("fold_index")
        validation = sizes[fold] if isinstance(fold, int) and fold < len(sizes) else None
        training = total - validation if validation is not None and total is not None else None
        status = split.get("TrainingJobStatus", "")
        rows.append((
            escape(job_label(split)), _job_link(name, region), _status(status), _cell(training), _cell(validation),
            _cell(split.get("TrainingTimeInSeconds")),
            escape(split.get("FailureReason") or reasons.get(name) or ""),
        ))
    section = "<h2 id=\"folds\">Folds</h2>\n"
    if rows:
        section += _table(("job", "training job", "status", "training lines", "validation lines", "seconds",
                           "failure reason"), rows)
    else:
        section += "<p class=\"note\">The output lists no jobs (trimmed): summary.json and summary.csv have each.</p>\n"
    class_counts = crossvalidation.get("fold_class_counts")
    if class_counts:
        classes = figures.class_order(list(class_counts[0]))
        repeats = crossvalidation.get("n_repeats", 1)
        section += ("<h3>Class balance of each fold's validation lines"
                    + (f" (repeat 0 of {repeats}; scikit-learn's repeats size folds alike)" if repeats > 1 else "")
                    + "</h3>\n") + _table(
            ("fold", *map(escape, map(str, classes)), "lines"),
            [(f"fold{index}", *(_cell(counts.get(name, 0)) for name in classes), _cell(sum(counts.values())))
             for index, counts in enumerate(class_counts)])
    return section + _figure("fold-balance", figures.fold_balance(sizes, class_counts),
                             "Validation lines per fold" + (", by class." if class_counts else "."))


def _tuning_section(tuning: Mapping[str, Any] | None) -> str:
    if not tuning:
        return ""
    objective = tuning["objective"]
    ranked = sorted(tuning["candidates"], key=lambda candidate: (candidate["rank"], candidate["index"]))
    rows = [(
        _cell_text(str(candidate["rank"]) if candidate.get("complete", True) else "-"),
        f"c{candidate['index']}",
        escape(", ".join(f"{k}={v}" for k, v in sorted(candidate["overrides"].items()))),
        _cell_text(f"{_number(candidate.get('mean'))} ± {_number(candidate.get('std'))}"),
        _cell_text(f"{candidate['completed']}/{candidate['jobs']}"),
    ) for candidate in ranked]
    section = (f"<h2 id=\"tuning\">Search: {len(ranked)} candidates ranked by {escape(objective['metric'])} "
               f"({escape(objective['type'])})</h2>\n"
               + _table(("rank", "candidate", "hyperparameters", "mean ± std", "jobs"), rows))
    refit = tuning.get("refit")
    if refit:
        model = (refit.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
        section += (f"<p id=\"refit\">Refit {escape(str(refit.get('TrainingJobStatus')))}: "
                    f"{escape(str(refit.get('TrainingJobName')))}"
                    + (f", final model {_s3_link(model)}" if model else f": {escape(str(refit.get('FailureReason')))}")
                    + "</p>\n")
    return section + _figure("candidate-ranking",
                             figures.candidate_ranking(tuning["candidates"], objective["metric"], tuning.get("best_index")),
                             "The objective's mean ± std over each candidate's jobs.")


def _out_of_fold_section(out_of_fold: Mapping[str, Any] | None, fold_metrics: Mapping[str, Any]) -> str:
    if not out_of_fold:
        return ""
    metrics = out_of_fold.get("metrics") or {}
    section = (f"<h2 id=\"out-of-fold\">Out-of-fold predictions: {out_of_fold.get('num_predictions')} predictions of "
               f"{out_of_fold.get('num_lines')} lines</h2>\n"
               + _table(("pooled metric", "value"), [(escape(name), _cell(value)) for name, value in metrics.items()]))
    for missing in out_of_fold.get("missing_folds") or []:
        section += (f"<p class=\"note\">missing: repeat {missing.get('repeat_index')} fold {missing.get('fold_index')}: "
                    f"{escape(str(missing.get('reason')))}</p>\n")
    for note in out_of_fold.get("notes") or []:
        section += f"<p class=\"note\">{escape(note)}</p>\n"
    matrix = out_of_fold.get("confusion_matrix")
    if matrix:
        drawn = figures.confusion_matrix(matrix["labels"], matrix["matrix"])
        if drawn is None:
            section += (f"<p class=\"note\">The confusion matrix has {len(matrix['labels'])} classes: too many to "
                        "draw; summary.json has it.</p>\n")
        section += _figure("confusion-matrix", drawn, "Rows: the label; columns: the out-of-fold prediction.")
    return section


def _stratified(crossvalidation: Mapping[str, Any]) -> bool:
    return str(crossvalidation.get("strategy", "")).startswith("stratified")


def _figure(identifier: str, svg: str | None, caption: str) -> str:
    if svg is None:
        return ""
    return f"<figure id=\"{identifier}\">\n{svg}\n<figcaption>{escape(caption)}</figcaption>\n</figure>\n"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, with_header: bool = True) -> str:
    head = "<tr>" + "".join(f"<th>{cell}</th>" for cell in header) + "</tr>\n" if with_header else ""
    body = "".join("<tr>" + "".join(cell if cell.startswith("<td") else f"<td>{cell}</td>" for cell in row)
                   + "</tr>\n" for row in rows)
    return f"<table>\n{head}{body}</table>\n"


def _cell(value: Any) -> str:
    return _cell_text(_number(value) if isinstance(value, float) else ("-" if value is None else str(value)))


def _cell_text(text: str) -> str:
    return f"<td class=\"number\">{escape(text)}</td>"


def _status(status: str) -> str:
    css = "status-ok" if status == "Completed" else "status-failed" if status in ("Failed", "Stopped") else ""
    return f"<td class=\"{css}\">{escape(status)}</td>"


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e5 else f"{value:.4g}"
    return str(value)


def _region(output: Mapping[str, Any]) -> str | None:
    for split in output.get("splits") or []:
        arn = str(split.get("TrainingJobArn") or "")
        if arn.startswith("arn:") and arn.count(":") >= 5:
            return arn.split(":")[3]
    return None


def _s3_link(uri: Any) -> str:
    """The URI as text, with a link to it in the S3 console (the object, or the folder for a prefix)."""
    if not uri:
        return "-"
    try:
        location = S3Uri.parse(str(uri))
    except ValueError:
        return escape(str(uri))
    # A key with a file name is an object; a run prefix is a folder (the console's "buckets" view of it).
    kind = "object" if "." in location.key.rpartition("/")[2] else "buckets"
    target = f"https://s3.console.aws.amazon.com/s3/{kind}/{quote(location.bucket)}?prefix={quote(location.key)}"
    return f"<code>{escape(str(uri))}</code> (<a href=\"{escape(target)}\">console</a>)"


def _job_link(name: str, region: str | None) -> str:
    if not name or not region:
        return escape(name)
    target = f"https://{region}.console.aws.amazon.com/sagemaker/home?region={region}#/jobs/{quote(name)}"
    return f"<a href=\"{escape(target)}\">{escape(name)}</a>"

