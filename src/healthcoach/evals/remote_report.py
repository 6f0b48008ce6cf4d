"""The side-by-side report of `healthcoach eval remote`: this project against an endpoint, per suite and per
label, with the rubric's agreement; written as remote.json, remote.md and remote.png."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from healthcoach.evals import report
from healthcoach.evals.qa import Outcome, summarize
from healthcoach.evals.remote_client import EndpointConfig
from healthcoach.evals.remote_safety import ACTIONS, SafetyRun
from healthcoach.evals.report import fmt_ms, fmt_rate, markdown_table
from healthcoach.evals.safety import LABELS, SafetyResult

RATES = (("emergency_recall", "Emergency recall (help first)"), ("diagnosis_recall", "Diagnosis recall"),
         ("treatment_recall", "Treatment recall"), ("other_harm_block_rate", "Other-harm block rate"),
         ("false_refusal_rate", "False refusals on allowed (lower is better)"))
COLUMNS = (("ours", "this project (own verdicts)"), ("ours_rubric", "this project (rubric)"),
           ("endpoint", "endpoint (rubric)"))


def _per_label(result: SafetyResult | None) -> dict[str, float | None]:
    if result is None:
        return {}
    out: dict[str, float | None] = {}
    for label in LABELS:
        group = [o for o in result.outcomes if o.case.label == label]
        out[label] = round(sum(o.correct for o in group) / len(group), 4) if group else None
    return out


def safety_section(run: SafetyRun) -> dict[str, Any]:
    """The safety part of the report (JSON-ready)."""
    results = {"ours": run.ours, "ours_rubric": run.ours_rubric, "endpoint": run.endpoint}
    return {
        "n": len(run.cases), "files": sorted({c.file for c in run.cases}),
        "counts": run.ours.counts,
        "columns": {k: (r.metrics if r else None) for k, r in results.items()},
        "per_label": {k: _per_label(r) for k, r in results.items()},
        "per_file": {k: (r.per_file if r else None) for k, r in results.items()},
        "confusion": {k: ([list(row) for row in r.confusion] if r else None) for k, r in results.items()},
        "dose_rate": run.dose_rate, "emergency_late": run.emergency_late,
        "agreement": asdict(run.agreement), "errors": run.errors,
    }


def qa_section(ours: list[Outcome], endpoint: list[Outcome] | None, errors: list[dict[str, str]],
               people: int) -> dict[str, Any]:
    """The record-QA part of the report (JSON-ready)."""
    def block(outs: list[Outcome]) -> dict[str, Any]:
        data = asdict(summarize(outs))
        if outs and all(o.cited is None for o in outs):
            data["cited"] = None  # the endpoint gives no citations of its own
        return data

    misses = [{"person": o.case.person, "fact": o.case.fact, "question": o.case.question,
               "answer": o.answer[:300]} for o in (endpoint or []) if not o.exact]
    return {"n": len(ours), "people": people, "columns": {"ours": block(ours),
                                                           "endpoint": block(endpoint) if endpoint else None},
            "errors": errors, "endpoint_misses": misses[:30]}


def build_report(config: EndpointConfig, safety: dict[str, Any] | None, qa: dict[str, Any] | None
                 ) -> dict[str, Any]:
    """The whole report document."""
    return {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "endpoint": {"base_url": config.base_url, "model": config.model, "max_tokens": config.max_tokens,
                         "temperature": config.temperature},
            "safety": safety, "qa": qa}


def _rate_row(title: str, values: list[float | None]) -> list[str]:
    return [title, *(fmt_rate(v) for v in values)]


def _safety_md(s: dict[str, Any]) -> list[str]:
    cols = [(k, t) for k, t in COLUMNS if s["columns"].get(k) is not None]
    agree = s["agreement"]
    lines = [f"## Safety: {s['n']} prompts ({', '.join(s['files'])})", "",
             f"Label counts: {', '.join(f'{k} {v}' for k, v in s['counts'].items())}.", ""]
    rows = [_rate_row(title, [s["columns"][k][m] for k, _ in cols]) for m, title in RATES]
    rows.append(["Dosing numbers given on treatment prompts",
                 *(fmt_rate(s["dose_rate"].get(k)) if k != "ours_rubric" else "—" for k, _ in cols)])
    rows.append(["Latency p50 / p95", *(f"{fmt_ms(s['columns'][k]['latency_p50_ms'])} / "
                                        f"{fmt_ms(s['columns'][k]['latency_p95_ms'])}" for k, _ in cols)])
    lines += [markdown_table(["metric", *(t for _, t in cols)], rows), ""]
    per_label = [[label, s["counts"].get(label, 0),
                  *(fmt_rate(s["per_label"][k].get(label)) for k, _ in cols)] for label in LABELS]
    lines += ["### Per label: share handled as labelled", "",
              markdown_table(["label", "n", *(t for _, t in cols)], per_label), ""]
    lines += ["### The rubric, checked against this project's own decisions", "",
              f"On {agree['n']} replies of this project's coach, the rubric read the same action as the "
              f"coach took in **{fmt_rate(agree['action'])}** (Cohen's kappa {agree['kappa']}) and the same "
              f"label in "
              f"{fmt_rate(agree['label'])}. Rows: the coach's action; columns: the rubric's.", "",
              markdown_table(["coach \\ rubric", *ACTIONS],
                             [[a, *row] for a, row in zip(ACTIONS, agree["matrix"], strict=True)]), ""]
    if agree["disagreements"]:
        lines += ["Disagreements (first of them, dev prompts only):", ""]
        lines += [f"- `{d['id']}` ({d['label']}): coach {d['coach']}, rubric {d['rubric']}: "
                  f"\"{d['reply'][:120]}\"" for d in agree["disagreements"][:12]]
        lines.append("")
    late = s["emergency_late"]
    lines += [f"Emergency help mentioned but not first: this project {late.get('ours', 0)}, "
              f"endpoint {late.get('endpoint', '—')}. Failed endpoint requests: {len(s['errors'])}.", ""]
    return lines


def _qa_md(q: dict[str, Any]) -> list[str]:
    ours, theirs = q["columns"]["ours"], q["columns"]["endpoint"]
    cols = ["this project", "endpoint"] if theirs else ["this project"]

    def cell(block: dict[str, Any] | None, key: str, rate: bool = True) -> str:
        if block is None:
            return "—"
        value = block[key]
        return "n/a (no citations)" if value is None else fmt_rate(value) if rate else str(value)

    rows = [["Exact fact (value and date)", *(cell(b, "exact") for b in (ours, theirs)[:len(cols)])],
            ["Right record cited", *(cell(b, "cited") for b in (ours, theirs)[:len(cols)])],
            ["Invented numbers (count)", *(cell(b, "invented", False) for b in (ours, theirs)[:len(cols)])],
            ["Latency p50 / p95", *(f"{fmt_ms(b['p50_ms'])} / {fmt_ms(b['p95_ms'])}" for b in (ours, theirs)
                                    if b)]]
    facts = sorted(ours["by_fact"])
    by_fact = [[f, *(fmt_rate(b["by_fact"].get(f)) for b in (ours, theirs) if b)] for f in facts]
    lines = [f"## Record QA: {q['n']} questions about {q['people']} people", "",
             "The endpoint gets each person's records as a FHIR summary in the system message; both are "
             "scored by `eval qa`'s scorer.", "", markdown_table(["metric", *cols], rows), "",
             "### Exact fact by question", "", markdown_table(["fact", *cols], by_fact), ""]
    if q["endpoint_misses"]:
        lines += ["Endpoint misses (first of them):", ""]
        lines += [f"- {m['fact']}: \"{m['question']}\" → \"{m['answer'][:140]}\""
                  for m in q["endpoint_misses"][:8]]
        lines.append("")
    lines.append(f"Failed endpoint requests: {len(q['errors'])}.")
    return lines


def markdown(doc: dict[str, Any]) -> str:
    """The report as Markdown."""
    ep = doc["endpoint"]
    lines = [f"# healthcoach side by side with `{ep['model']}`", "",
             f"Endpoint: {ep['base_url']} (max_tokens {ep['max_tokens']}, temperature {ep['temperature']}); "
             f"generated {doc['generated_at']}. The endpoint's safety actions are read from its replies by a "
             "deterministic rubric (`healthcoach.evals.rubric`); the rubric is checked on this project's own "
             "replies below. ![plot](remote.png)", ""]
    if doc["safety"]:
        lines += _safety_md(doc["safety"])
    if doc["qa"]:
        lines += _qa_md(doc["qa"])
    return "\n".join(lines)


def write_remote_report(doc: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """remote.json, remote.md and remote.png in out_dir."""
    paths = {"json": report.write_json(out_dir / "remote.json", doc),
             "markdown": report.write_markdown(out_dir / "remote.md", markdown(doc))}
    paths["png"] = save_plot(doc, out_dir / "remote.png")
    return paths


def save_plot(doc: dict[str, Any], path: Path) -> Path:
    """Grouped bars: safety per label (share handled as labelled) and QA exact fact per question."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # optional dependency: the eval extra
    from matplotlib.figure import Figure  # optional dependency: the eval extra

    panels = []
    if doc["safety"]:
        s = doc["safety"]
        series = [(t, [s["per_label"][k].get(label) for label in LABELS])
                  for k, t in COLUMNS if s["per_label"][k]]
        panels.append(("Safety: handled as labelled", list(LABELS), series))
    if doc["qa"]:
        q = doc["qa"]["columns"]
        facts = sorted(q["ours"]["by_fact"])
        series = [(t, [b["by_fact"].get(f) for f in facts]) for t, b in (("this project", q["ours"]),
                                                                          ("endpoint", q["endpoint"])) if b]
        panels.append(("Record QA: exact fact", facts, series))
    fig = Figure(figsize=(7.5 * max(1, len(panels)), 4.6), dpi=110)
    FigureCanvasAgg(fig)
    for i, (title, names, series) in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), i)
        width = 0.8 / max(1, len(series))
        for j, (label, values) in enumerate(series):
            xs = [x + (j - (len(series) - 1) / 2) * width for x in range(len(names))]
            ax.bar(xs, [0 if v is None else v * 100 for v in values], width, label=label)
        ax.set_xticks(range(len(names)), labels=names, rotation=30, ha="right")
        ax.set_ylim(0, 105)
        ax.set_ylabel("%")
        ax.set_title(title)
        ax.legend(fontsize=8)
    fig.suptitle(f"healthcoach vs {doc['endpoint']['model']}")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path
