"""The record-QA suite's part of eval/results/qa.json and qa.md: verdict, thresholds, accuracy per
operation (all / dev / test), per source, split, window and unit, skips and misses."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from healthcoach.evals.qa_suite import OPERATIONS
from healthcoach.evals.qa_suite_run import Outcome, misses
from healthcoach.evals.report import ThresholdCheck, fmt_rate, markdown_table

MISSES_SHOWN = 60


def suite_report(outcomes: Sequence[Outcome], summary: dict[str, Any], checks: Sequence[ThresholdCheck],
                 skips: Counter[str], split: str, people: int) -> dict[str, Any]:
    """The JSON-ready suite section."""
    return {
        "split": split, "people": people, "passed": all(c.status != "fail" for c in checks),
        "summary": summary, "thresholds": [c.as_dict() for c in checks],
        "skipped": {"total": sum(skips.values()), "by_reason": dict(skips.most_common())},
        "misses": misses(outcomes),
        "items": [{"id": o.item.id, "correct": o.verdict.correct, "invented": o.verdict.invented,
                   "latency_ms": round(o.latency_ms, 2)} for o in outcomes],
    }


def _rows(block: dict[str, dict[str, Any]]) -> list[list[object]]:
    return [[k, v["n"], v["correct"], fmt_rate(v["accuracy"])] for k, v in block.items()]


def _value(v: float | None, metric: str) -> str:
    if v is None:
        return "—"
    if metric.startswith("accuracy"):
        return fmt_rate(v)
    return f"{v:g}"


def suite_markdown(part: dict[str, Any]) -> list[str]:
    """Markdown lines for the suite section."""
    s = part["summary"]
    lines = [f"## Question suite (eval/suites/qa): {'PASS' if part['passed'] else 'FAIL'}", "",
             f"{s['n']} questions over {part['people']} people (split: {part['split']}); "
             f"{part['skipped']['total']} template instantiations skipped as not answerable or ambiguous.", ""]
    lines.append(markdown_table(
        ["metric", "value", "target", "status"],
        [[c["metric"], _value(c["value"], c["metric"]), f"{'≥' if c['op'] == 'min' else '≤'} {c['target']:g}",
          c["status"]] for c in part["thresholds"]]))
    dev, test = s["by_split_operation"]["dev"], s["by_split_operation"]["test"]
    op_rows = [[op, s["by_operation"].get(op, {}).get("n", 0), fmt_rate(s["by_operation"].get(op, {}).get("accuracy")),
                fmt_rate(dev.get(op)), fmt_rate(test.get(op))] for op in OPERATIONS]
    lines += ["", "### Accuracy by operation", "",
              markdown_table(["operation", "n", "all", "dev", "test"], op_rows)]
    for key, title in (("source", "phrasing author"), ("split", "split"), ("window", "window"), ("unit", "unit")):
        lines += ["", f"### By {title}", "", markdown_table([key, "n", "correct", "accuracy"], _rows(s[f"by_{key}"]))]
    lines += ["", "### Other", "",
              f"- invented numbers: {s['invented_numbers']} (in {s['replies_with_invented_numbers']} replies)",
              f"- latency p50 / p95: {s['latency_p50_ms']} / {s['latency_p95_ms']} ms (Coach.ask, this machine)"]
    top = list(part["skipped"]["by_reason"].items())[:15]
    if top:
        lines += ["", "### Most frequent skips", ""] + [f"- {n} × {reason}" for reason, n in top]
    if part["misses"]:
        lines += ["", f"### Misses (first {MISSES_SHOWN} of {len(part['misses'])}; all in qa.json)", ""]
        for m in part["misses"][:MISSES_SHOWN]:
            asked = " / ".join([*m["history"], m["question"]])
            why = "; ".join(m["reasons"] + ([f"invented {', '.join(m['invented'])}"] if m["invented"] else []))
            lines.append(f"- `{m['id']}` \"{asked}\": expected {m['expected']}; {why}")
    return lines
