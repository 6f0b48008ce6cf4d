"""Rendering of a safety eval result: the JSON document, Markdown with the summary table first, and the
confusion-matrix PNG, written together by write_safety_report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from healthcoach.evals import report
from healthcoach.evals.report import fmt_ms, fmt_rate, markdown_table
from healthcoach.evals.safety import LABELS, LOSO_METRICS, CaseOutcome, SafetyResult
from healthcoach.evals.safety_groups import PUBLISHED_TRIAGE

_RATE_METRICS = (
    ("emergency_recall", "Emergency recall (escalated)"),
    ("diagnosis_recall", "Diagnosis recall"),
    ("treatment_recall", "Treatment recall"),
    ("other_harm_block_rate", "Other-harm block rate"),
    ("false_refusal_rate", "False refusals on allowed"),
    ("health_anxiety_false_refusal_rate", "False refusals on health anxiety"),
    ("health_anxiety_care_rate", "Health anxiety answered with care"),
    ("care_rate", "Allowed answered with care"),
)
_TRIAGE_METRICS = (
    ("triage_emergent_escalated", "Triage: emergent vignettes escalated"),
    ("triage_nonemergent_escalated", "Triage: non-emergent vignettes escalated"),
    ("triage_accuracy", "Triage accuracy (emergent escalated, others not)"),
)
_LOSO_TITLES = {
    "loso_emergency_recall": "LOSO emergency + self-harm recall (escalated)",
    "loso_treatment_recall": "LOSO treatment recall",
    "loso_diagnosis_recall": "LOSO diagnosis recall",
    "loso_other_harm_block_rate": "LOSO other-harm block rate",
    "loso_false_refusal_rate": "LOSO false refusals (allowed + near-misses)",
    "loso_care_false_refusal_rate": "LOSO false refusals on care examples",
    "loso_care_rate": "LOSO care examples answered with care",
}
_PROMPT_CHARS = 200


def _fmt(metric: str, value: float | None) -> str:
    return fmt_ms(value) if metric.endswith("_ms") else fmt_rate(value)


def _summary(result: SafetyResult) -> str:
    checks = {c.metric: c for c in result.checks}
    rows = []
    names = [*_RATE_METRICS, *_TRIAGE_METRICS, *_LOSO_TITLES.items(),
             ("latency_p50_ms", "Guard latency p50"), ("latency_p95_ms", "Guard latency p95")]
    for metric, title in names:
        check = checks.get(metric)
        target = "—" if check is None else f"{'≥' if check.op == 'min' else '≤'} {_fmt(metric, check.target)}"
        status = "—" if check is None else check.status.upper()
        rows.append((title, _fmt(metric, result.metrics[metric]), target, status))
    return markdown_table(("Metric", "Value", "Target", "Status"), rows)


def _groups(result: SafetyResult, name: str, groups: dict[str, dict[str, float | None]],
            key: Callable[[CaseOutcome], str], status: dict[str, str] | None = None) -> str:
    headers = (name, "Rows", *(title for _, title in _RATE_METRICS), "p95", *(("Status",) if status else ()))
    rows = []
    for group, metrics in groups.items():
        n = sum(key(o) == group for o in result.outcomes)
        rates = (fmt_rate(metrics[m]) for m, _ in _RATE_METRICS)
        extra = (status.get(group, "—"),) if status else ()
        rows.append((group, n, *rates, fmt_ms(metrics["latency_p95_ms"]), *extra))
    return markdown_table(headers, rows)


def _file_status(result: SafetyResult) -> dict[str, str]:
    out = {}
    for file, checks in result.file_checks.items():
        failed = [c.metric for c in checks if c.status == "fail"]
        out[file] = ("FAIL: " + ", ".join(failed)) if failed else "PASS"
    return out


def _triage(result: SafetyResult) -> str:
    if result.metrics["triage_accuracy"] is None:
        return "No triage vignettes (`orig_category` with `triage=em|ne|sc`) in this run."
    rows = [(title, _fmt(m, result.metrics[m]), fmt_rate(PUBLISHED_TRIAGE.get(m)))
            for m, title in _TRIAGE_METRICS]
    return (markdown_table(("Triage (Semigran vignettes)", "Ours", "Published symptom checkers"), rows) +
            "\n\nPublished: Semigran et al., BMJ 2015 (appropriate triage advice in 57% of evaluations, 80% "
            "for emergent cases; a three-level match). Ours is binary: escalate or not.")


def _loso(result: SafetyResult) -> str:
    loso = result.loso
    if loso is None:
        return "Not computed in this run."
    metrics = [m.removeprefix("loso_") for m in LOSO_METRICS]
    rows = [(s, sum(loso.counts[s].values()), *(fmt_rate(loso.per_source[s][m]) for m in metrics))
            for s in loso.per_source]
    rows.append(("**pooled**", len(loso.judged), *(fmt_rate(loso.pooled[m]) for m in metrics)))
    rows.append(("**mean over sources**", "", *(fmt_rate(loso.macro[m]) for m in metrics)))
    table = markdown_table(("held-out source", "Examples", *metrics), rows)
    return ("The classifier is trained on every source of guardrails/ examples but one; the whole guard "
            "(patterns, classifier, decision, care) then judges the source left out. Emergency counts "
            "only when escalated; care examples must be answered.\n\n" + table)


def _confusion(result: SafetyResult) -> str:
    rows = [(label, *row) for label, row in zip(LABELS, result.confusion, strict=True)]
    return markdown_table(("true \\ predicted", *LABELS), rows)


def _misses(result: SafetyResult) -> str:
    misses = result.misclassified
    hidden = (f"\n\n{result.hidden_test_misses} misses among `split: test` prompts are counted above and "
              "not listed." if result.hidden_test_misses else "")
    if not misses:
        return "None." + hidden
    rows = []
    for o in misses:
        prompt = o.case.prompt if len(o.case.prompt) <= _PROMPT_CHARS else o.case.prompt[:_PROMPT_CHARS] + "…"
        if o.case.history:
            prompt = f"[after {len(o.case.history)} turn(s)] {prompt}"
        rows.append((o.case.id, o.case.label, o.predicted, o.action, prompt))
    return markdown_table(("id", "label", "predicted", "action", "prompt"), rows) + hidden


def render_markdown(result: SafetyResult, png_name: str) -> str:
    """The Markdown report: verdict and summary table first, then triage, LOSO, files, sources, splits,
    confusion and the misses that may be read."""
    verdict = ("PASS" if result.passed else "FAIL") if result.checks else "no thresholds given"
    counts = ", ".join(f"{label} {n}" for label, n in result.counts.items())
    parts = [
        "# Safety eval",
        f"**{verdict}** — {len(result.outcomes)} prompts ({counts}).",
        _summary(result),
        "Emergency recall counts a prompt only when it was escalated. Other-harm and allowed are "
        "scored on the action: blocked (any category) or answered (`answer` or `answer_with_care`). "
        "Health-anxiety prompts are scored apart from the other allowed prompts.",
        f"Diagnosis/treatment prompts redirected under the other medical label (safe, but a recall "
        f"miss): {result.cross_medical}.",
        "## Triage",
        _triage(result),
        "## Leave-one-source-out (classifier)",
        _loso(result),
        "## Per file",
        _groups(result, "File", result.per_file, lambda o: o.case.file, _file_status(result) or None),
        "## Per source",
        _groups(result, "Source", result.per_source, lambda o: o.case.source),
        "## Per split",
        _groups(result, "Split", result.per_split, lambda o: o.case.split or "unsplit"),
        "## Confusion matrix",
        f"![confusion matrix]({png_name})",
        _confusion(result),
        f"## Misclassified ({len(result.misclassified)})",
        _misses(result),
    ]
    return "\n\n".join(parts)


def _loso_dict(result: SafetyResult) -> dict[str, Any] | None:
    if result.loso is None:
        return None
    loso = result.loso
    return {
        "pooled": loso.pooled, "mean_over_sources": loso.macro, "per_source": loso.per_source,
        "counts": loso.counts,
        "misses": [{"source": j.example.source, "label": j.example.label, "category": j.category,
                    "action": j.action, "text": j.example.text} for j in loso.misses],
    }


def result_to_dict(result: SafetyResult) -> dict[str, Any]:
    """The JSON report: summary, thresholds, per-file/source/split metrics, triage next to the published
    figures, LOSO, confusion, the misses that may be read, and every case as {id, label, predicted, action}."""
    rows = {f: sum(o.case.file == f for o in result.outcomes) for f in result.per_file}
    return {
        "suite": "safety",
        "passed": result.passed,
        "n_cases": len(result.outcomes),
        "counts": result.counts,
        "metrics": result.metrics,
        "thresholds": [c.as_dict() for c in result.checks],
        "file_thresholds": {f: [c.as_dict() for c in checks] for f, checks in result.file_checks.items()},
        "cross_medical_redirects": result.cross_medical,
        "per_file": {f: {"rows": rows[f], **m} for f, m in result.per_file.items()},
        "per_source": result.per_source,
        "per_split": result.per_split,
        "triage_published": PUBLISHED_TRIAGE,
        "loso": _loso_dict(result),
        "confusion": {
            "labels": list(LABELS),
            "predicted": list(LABELS),
            "matrix": [list(r) for r in result.confusion],
        },
        "hidden_test_misses": result.hidden_test_misses,
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
