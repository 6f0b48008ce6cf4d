"""Rendering of a safety eval result: the JSON document, Markdown with the summary table first, and the
confusion-matrix PNG, written together by write_safety_report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from healthcoach.evals import report
from healthcoach.evals.report import fmt_ms, fmt_rate, markdown_table
from healthcoach.evals.safety import LABELS, SafetyResult

_RATE_METRICS = (
    ("emergency_recall", "Emergency recall (escalated)"),
    ("diagnosis_recall", "Diagnosis recall"),
    ("treatment_recall", "Treatment recall"),
    ("other_harm_block_rate", "Other-harm block rate"),
    ("false_refusal_rate", "False refusals on allowed"),
)
_PROMPT_CHARS = 200


def _fmt(metric: str, value: float | None) -> str:
    return fmt_ms(value) if metric.endswith("_ms") else fmt_rate(value)


def _summary(result: SafetyResult) -> str:
    checks = {c.metric: c for c in result.checks}
    rows = []
    names = [*_RATE_METRICS, ("latency_p50_ms", "Guard latency p50"), ("latency_p95_ms", "Guard latency p95")]
    for metric, title in names:
        check = checks.get(metric)
        target = "—" if check is None else f"{'≥' if check.op == 'min' else '≤'} {_fmt(metric, check.target)}"
        status = "—" if check is None else check.status.upper()
        rows.append((title, _fmt(metric, result.metrics[metric]), target, status))
    return markdown_table(("Metric", "Value", "Target", "Status"), rows)


def _per_file(result: SafetyResult) -> str:
    headers = ("File", "Rows", *(title for _, title in _RATE_METRICS), "p95")
    rows = []
    for file, metrics in result.per_file.items():
        n = sum(o.case.file == file for o in result.outcomes)
        rates = (fmt_rate(metrics[m]) for m, _ in _RATE_METRICS)
        rows.append((file, n, *rates, fmt_ms(metrics["latency_p95_ms"])))
    return markdown_table(headers, rows)


def _confusion(result: SafetyResult) -> str:
    rows = [(label, *row) for label, row in zip(LABELS, result.confusion, strict=True)]
    return markdown_table(("true \\ predicted", *LABELS), rows)


def _misses(result: SafetyResult) -> str:
    misses = result.misclassified
    if not misses:
        return "None."
    rows = []
    for o in misses:
        prompt = o.case.prompt if len(o.case.prompt) <= _PROMPT_CHARS else o.case.prompt[:_PROMPT_CHARS] + "…"
        if o.case.history:
            prompt = f"[after {len(o.case.history)} turn(s)] {prompt}"
        rows.append((o.case.id, o.case.label, o.predicted, o.action, prompt))
    return markdown_table(("id", "label", "predicted", "action", "prompt"), rows)


def render_markdown(result: SafetyResult, png_name: str) -> str:
    """The Markdown report: verdict and summary table first, then counts, files, confusion, misses."""
    verdict = ("PASS" if result.passed else "FAIL") if result.checks else "no thresholds given"
    counts = ", ".join(f"{label} {n}" for label, n in result.counts.items())
    parts = [
        "# Safety eval",
        f"**{verdict}** — {len(result.outcomes)} prompts ({counts}).",
        _summary(result),
        "Emergency recall counts a prompt only when it was escalated. Other-harm and allowed are "
        "scored on the action: blocked (any category) or answered.",
        f"Diagnosis/treatment prompts redirected under the other medical label (safe, but a recall "
        f"miss): {result.cross_medical}.",
        "## Per file",
        _per_file(result),
        "## Confusion matrix",
        f"![confusion matrix]({png_name})",
        _confusion(result),
        f"## Misclassified ({len(result.misclassified)})",
        _misses(result),
    ]
    return "\n\n".join(parts)


def result_to_dict(result: SafetyResult) -> dict[str, Any]:
    """The JSON report: summary, thresholds, per-file metrics, confusion, misses and every case."""
    return {
        "suite": "safety",
        "passed": result.passed,
        "n_cases": len(result.outcomes),
        "counts": result.counts,
        "metrics": result.metrics,
        "thresholds": [c.as_dict() for c in result.checks],
        "cross_medical_redirects": result.cross_medical,
        "per_file": {
            f: {"rows": sum(o.case.file == f for o in result.outcomes), **m}
            for f, m in result.per_file.items()
        },
        "confusion": {
            "labels": list(LABELS),
            "predicted": list(LABELS),
            "matrix": [list(r) for r in result.confusion],
        },
        "misclassified": [
            {
                "id": o.case.id,
                "file": o.case.file,
                "label": o.case.label,
                "predicted": o.predicted,
                "category": o.category,
                "action": o.action,
                "prompt": o.case.prompt,
                "history": list(o.case.history),
            }
            for o in result.misclassified
        ],
        "cases": [
            {"id": o.case.id, "label": o.case.label, "predicted": o.predicted, "action": o.action}
            for o in result.outcomes
        ],
    }


def write_safety_report(result: SafetyResult, report_dir: Path) -> dict[str, Path]:
    """Write safety.json, safety.md and safety_confusion.png under ``report_dir``; returns their paths."""
    png = report.save_heatmap_png(
        report_dir / "safety_confusion.png",
        result.confusion,
        LABELS,
        LABELS,
        title="Safety eval: true label vs predicted",
        xlabel="predicted (allowed = answered)",
        ylabel="true label",
    )
    return {
        "json": report.write_json(report_dir / "safety.json", result_to_dict(result)),
        "markdown": report.write_markdown(report_dir / "safety.md", render_markdown(result, png.name)),
        "png": png,
    }
