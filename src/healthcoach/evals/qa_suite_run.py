"""Running the record-QA suite: items through Coach.ask, each reply scored, summarised per operation,
source, split, concept, window and unit, checked against eval/thresholds.yaml (section ``qa``)."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from healthcoach.coach import Coach
from healthcoach.compose.reply import Reply
from healthcoach.evals.qa_score import Cited, Verdict, score
from healthcoach.evals.qa_suite import OPERATIONS, Suite, load_suite, suite_dir
from healthcoach.evals.report import ThresholdCheck, check_thresholds, load_thresholds
from healthcoach.evals.truth.fhir_raw import RawPerson, load_bundle
from healthcoach.evals.truth.instantiate import Item, build_items
from healthcoach.store.records import RecordStore

Ask = Callable[[Item], tuple[Reply, list[Cited]]]
BREAKDOWNS = ("operation", "source", "split", "concept", "window", "unit")


@dataclass
class Outcome:
    """One asked item: the verdict, the time Coach.ask took, and the reply text."""

    item: Item
    verdict: Verdict
    latency_ms: float
    answer: str


def suite_items(suite: Suite, bundles: Sequence[tuple[str, Path]], split: str = "all"
                ) -> tuple[list[Item], Counter[str], list[RawPerson]]:
    """Items for (user id, FHIR bundle) pairs, filtered to a split (dev, test or all), and skip counts."""
    people = [load_bundle(path, key) for key, path in bundles]
    items, skips = build_items(suite, people)
    if split != "all":
        items = [i for i in items if i.split == split]
    return items, skips, people


def coach_ask(coach: Coach, records: RecordStore) -> Ask:
    """ask(item) -> (reply, cited records as the scorer sees them) through the one Coach.ask path."""

    def ask(item: Item) -> tuple[Reply, list[Cited]]:
        reply = coach.ask(item.person, item.question, item.history)
        found = records.get_records(item.person, [c.record_id for c in reply.citations])
        cited = []
        for c in reply.citations:
            rec = found.get(c.record_id)
            body = rec.model_dump_json(exclude={"id", "user_id", "related", "source"}) if rec else ""
            cited.append(Cited(c.n, c.label, f"{c.label} {c.value or ''} {c.unit or ''} {c.date or ''} {body}"))
        return reply, cited

    return ask


def run_items(items: Sequence[Item], ask: Ask, progress: Callable[[int], None] | None = None) -> list[Outcome]:
    """Ask every item once (after one warm-up question) and score it."""
    if items:
        ask(items[0])
    out = []
    for n, item in enumerate(items, 1):
        t0 = time.perf_counter()
        reply, cited = ask(item)
        ms = (time.perf_counter() - t0) * 1000
        verdict = score(item.expected, reply.text, cited, [item.question, *item.history], reply.blocked)
        out.append(Outcome(item, verdict, ms, reply.text))
        if progress and n % 200 == 0:
            progress(n)
    return out


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in [0, 1]); None when empty."""
    if not values:
        return None
    s = sorted(values)
    pos = q * (len(s) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return round(s[lo] + (s[hi] - s[lo]) * (pos - lo), 2)


def _rate(outs: Iterable[Outcome]) -> tuple[int, int, float | None]:
    got = [o.verdict.correct for o in outs]
    return sum(got), len(got), (round(sum(got) / len(got), 4) if got else None)


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Overall and per-breakdown accuracy, invented numbers and latency."""
    correct, n, acc = _rate(outcomes)
    lat = [o.latency_ms for o in outcomes]
    out: dict[str, Any] = {"n": n, "correct": correct, "accuracy": acc,
                           "invented_numbers": sum(len(o.verdict.invented) for o in outcomes),
                           "replies_with_invented_numbers": sum(1 for o in outcomes if o.verdict.invented),
                           "latency_p50_ms": percentile(lat, 0.5), "latency_p95_ms": percentile(lat, 0.95)}
    for key in BREAKDOWNS:
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in outcomes:
            groups[str(getattr(o.item, key))].append(o)
        out[f"by_{key}"] = {k: dict(zip(("correct", "n", "accuracy"), _rate(v), strict=True))
                            for k, v in sorted(groups.items())}
    by_split_op: dict[str, dict[str, Any]] = {}
    for split in ("dev", "test"):
        part = [o for o in outcomes if o.item.split == split]
        by_split_op[split] = {op: _rate([o for o in part if o.item.operation == op])[2] for op in OPERATIONS}
    out["by_split_operation"] = by_split_op
    return out


def metrics(summary: dict[str, Any]) -> dict[str, float | None]:
    """The metrics thresholds.yaml names: accuracy, accuracy_<operation>, invented_numbers, latency."""
    m: dict[str, float | None] = {"accuracy": summary["accuracy"],
                                  "invented_numbers": float(summary["invented_numbers"]),
                                  "latency_p50_ms": summary["latency_p50_ms"],
                                  "latency_p95_ms": summary["latency_p95_ms"]}
    for op in OPERATIONS:
        m[f"accuracy_{op}"] = summary["by_operation"].get(op, {}).get("accuracy")
    return m


def evaluate(outcomes: Sequence[Outcome], thresholds_path: Path) -> tuple[dict[str, Any], tuple[ThresholdCheck, ...]]:
    """Summary and threshold checks."""
    summary = summarize(outcomes)
    return summary, check_thresholds(metrics(summary), load_thresholds(thresholds_path, "qa"))


def misses(outcomes: Sequence[Outcome], limit: int | None = None) -> list[dict[str, Any]]:
    """Every wrong reply (and every reply with invented numbers) with the expected answer and why."""
    rows = [{"id": o.item.id, "operation": o.item.operation, "source": o.item.source, "split": o.item.split,
             "question": o.item.question, "history": o.item.history, "expected": o.item.expected.summary,
             "correct": o.verdict.correct, "reasons": o.verdict.reasons, "invented": o.verdict.invented,
             "answer": o.answer[:600]}
            for o in outcomes if not o.verdict.correct or o.verdict.invented]
    return rows[:limit] if limit else rows


def load_default_suite() -> Suite:
    """The suite shipped in eval/suites/qa."""
    return load_suite(suite_dir())
