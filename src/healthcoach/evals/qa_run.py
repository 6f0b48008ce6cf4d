"""Running the record-QA eval end to end and writing its report (JSON + Markdown)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from healthcoach.coach import Coach
from healthcoach.compose.reply import Reply
from healthcoach.container import Stores
from healthcoach.evals.qa import Case, Outcome, Summary, build_cases, load_phrasings, summarize
from healthcoach.evals.qa_suite_report import suite_markdown
from healthcoach.records.models import Record


def coach_asker(coach: Coach, stores: Stores):  # type: ignore[no-untyped-def]
    """ask(user, question) -> (Reply, cited records) through the one Coach.ask path."""

    def ask(user: str, question: str) -> tuple[Reply, list[Record]]:
        reply = coach.ask(user, question)
        found = stores.records.get_records(user, [c.record_id for c in reply.citations])
        return reply, [found[c.record_id] for c in reply.citations if c.record_id in found]

    return ask


def qa_report(ours: list[Outcome], baseline: list[Outcome] | None) -> dict[str, Any]:
    """The report: both systems side by side, per fact, and every miss."""
    def block(outs: list[Outcome]) -> dict[str, Any]:
        return asdict(summarize(outs))

    report: dict[str, Any] = {"healthcoach": block(ours)}
    if baseline is not None:
        report["naive_baseline"] = block(baseline)
    report["misses"] = [
        {"person": o.case.person, "fact": o.case.fact, "question": o.case.question, "exact": o.exact,
         "cited": o.cited, "invented": o.invented, "answer": o.answer[:400]}
        for o in ours if not o.exact or o.cited is False or o.invented
    ]
    return report


def write_qa_report(report: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """qa.json and qa.md: the question suite (when run) first, then the fixed-phrasing facts with the
    naive baseline (when run)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "qa.json").write_text(json.dumps(report, indent=2, default=str))
    lines = ["# Record-QA eval", ""]
    if report.get("suite"):
        lines += [*suite_markdown(report["suite"]), ""]
    if "healthcoach" in report:
        lines += _legacy_markdown(report)
    (out_dir / "qa.md").write_text("\n".join(lines) + "\n")
    return {"json": out_dir / "qa.json", "md": out_dir / "qa.md"}


def _legacy_markdown(report: dict[str, Any]) -> list[str]:
    ours = Summary(**report["healthcoach"])
    base = Summary(**report["naive_baseline"]) if "naive_baseline" in report else None
    lines = ["## Fixed phrasings of the facts in facts.json", "", f"{ours.n} questions.", "",
             "| metric | healthcoach | naive vector baseline |", "|---|---|---|"]
    for label, a, b in [
        ("exact fact (value and date)", ours.exact, base.exact if base else None),
        ("right record cited", ours.cited, base.cited if base else None),
        ("invented numbers", ours.invented, base.invented if base else None),
        ("latency p50 (ms)", ours.p50_ms, base.p50_ms if base else None),
        ("latency p95 (ms)", ours.p95_ms, base.p95_ms if base else None),
    ]:
        lines.append(f"| {label} | {a} | {'' if b is None else b} |")
    lines += ["", "### Exact fact by question type", "", "| fact | healthcoach | baseline |", "|---|---|---|"]
    for fact, v in ours.by_fact.items():
        lines.append(f"| {fact} | {v} | {base.by_fact.get(fact, '') if base else ''} |")
    if report.get("llm"):
        lines += ["", "### LLM path", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in report["llm"].items()]
    wear = report.get("wearables")
    if wear:
        lines += ["", "### Wearable QA (truth computed from the raw files)", "",
                  f"{wear['n']} questions; exact: {wear['exact']}"]
        lines += [f"- miss: \"{m['question']}\" expected {m['expected']}" for m in wear["misses"][:20]]
    if report["misses"]:
        lines += ["", "### Misses", ""]
        lines += [f"- {m['person']} / {m['fact']}: \"{m['question']}\"" for m in report["misses"][:50]]
    return lines


def people_cases(people: list[tuple[str, str, dict[str, Any]]], phrasings_path: Path) -> list[Case]:
    """Cases for the people with the phrasings file."""
    return build_cases(people, load_phrasings(phrasings_path))

