"""`healthcoach eval qa --llm P`: the LLM path per intent and typed-query operation (issue 19).

For every question it keeps the Reply the person saw and the LLMRun behind it, then reports per group:
shown-fact accuracy (what was shown, LLM text or template, states the expected fact), the same over the
model's kept replies only, the kept rate, why text was replaced, first-token and total latency, and
tokens/s. Correctness comes from the eval's own truth: the question suite's independent scorer
(evals/qa_score.py) or, for the fixed phrasings, shown_fact_ok below, which reads facts in any date
format (a model writes 2025-07-31 as often as July 31, 2025); never from the composer.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healthcoach.compose.headline import facts_in
from healthcoach.compose.llm import LLMRun
from healthcoach.compose.reply import Reply
from healthcoach.evals.qa import Case, Outcome, pct


@dataclass
class Seen:
    """One asked question: the Reply shown and the model run behind it (None: the model was not called)."""

    question: str
    reply: Reply
    run: LLMRun | None


@dataclass
class Recorder:
    """Wraps an asker and the coach's llm_observer so each Reply is paired with its LLMRun."""

    ask: Callable[..., tuple[Reply, Any]]
    then: Callable[[LLMRun], None] | None = None  # another observer to pass each run on to (LLMStats.add)
    seen: list[Seen] = field(default_factory=list)
    scored: list[tuple[bool, Seen]] = field(default_factory=list)  # filled by the caller after scoring
    _run: LLMRun | None = None

    def observe(self, run: LLMRun) -> None:
        """The coach's llm_observer: remember the run of the question being asked."""
        self._run = run
        if self.then is not None:
            self.then(run)

    def __call__(self, *args: Any) -> tuple[Reply, Any]:
        self._run = None
        reply, cited = self.ask(*args)
        question = getattr(args[0], "question", args[-1])  # a suite Item, or (user, question)
        self.seen.append(Seen(str(question), reply, self._run))
        return reply, cited


def group_of(reply: Reply) -> str:
    """'intent / operation' of a reply ('latest_value / latest'; '-' without a typed query)."""
    op = reply.query.operation.value if reply.query is not None else "-"
    return f"{reply.intent} / {op}"


def _key(word: str) -> str:
    return next((w for w in word.lower().replace("(", " ").split() if len(w) > 3), word.lower())


def shown_fact_ok(case: Case, reply: Reply) -> bool:
    """Whether the shown text states the expected fact: value and date in its first paragraph (any date
    format), or every expected item named in the text or cited; for 'none recorded', no citation."""
    exp, text = case.expected, reply.text
    if exp.items is not None:
        if not exp.items:
            return not reply.citations
        low = text.lower()
        cited = {c.label for c in reply.citations if f"[{c.n}]" in text}
        return all(i in cited or _key(i) in low for i in exp.items)
    if exp.day is None:
        return not reply.citations
    first = text.strip().split("\n\n")[0]
    dates, numbers = facts_in(first, words=False)
    if exp.day not in dates:
        return False
    if exp.value is None:
        return True
    want = facts_in(exp.value, words=False)[1]
    return want <= numbers if want else exp.value.lower() in first.lower()


@dataclass
class Group:
    """Counts for one intent / operation."""

    n: int = 0
    called: int = 0
    kept: int = 0
    shown_ok: int = 0
    kept_ok: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    latency_s: list[float] = field(default_factory=list)
    first_token_s: list[float] = field(default_factory=list)
    tokens: int = 0

    def add(self, ok: bool, run: LLMRun | None) -> None:
        """Count one shown reply."""
        self.n += 1
        self.shown_ok += ok
        if run is None or any(w.startswith("llm_skipped") for w in run.warnings):
            return
        self.called += 1
        self.latency_s.append(run.latency_s)
        self.tokens += run.tokens
        if run.first_token_s is not None:
            self.first_token_s.append(run.first_token_s)
        if run.kept:
            self.kept += 1
            self.kept_ok += ok
        self.reasons.update(w.split(":", 1)[1].strip() for w in run.warnings if w.startswith("llm_"))

    def row(self) -> dict[str, Any]:
        """The group's figures for the report."""
        gen = sum(self.latency_s)
        return {"n": self.n, "called": self.called, "kept": self.kept,
                "kept_rate": round(self.kept / self.called, 3) if self.called else None,
                "shown_fact_accuracy": round(self.shown_ok / self.n, 3) if self.n else None,
                "kept_fact_accuracy": round(self.kept_ok / self.kept, 3) if self.kept else None,
                "fallback_reasons": dict(self.reasons.most_common()),
                "first_token_p50_s": pct(self.first_token_s, 0.5), "latency_p50_s": pct(self.latency_s, 0.5),
                "latency_p95_s": pct(self.latency_s, 0.95),
                "tokens_per_s": round(self.tokens / gen, 1) if gen > 0 else 0.0}


def legacy_scored(outcomes: list[Outcome], seen: list[Seen]) -> list[tuple[bool, Seen]]:
    """The fixed-phrasing outcomes with their shown replies (a warm-up ask before them is dropped)."""
    seen = seen[-len(outcomes):] if outcomes else []
    return [(shown_fact_ok(o.case, s.reply), s) for o, s in zip(outcomes, seen, strict=True)]


def llm_report(scored: list[tuple[bool, Seen]]) -> dict[str, Any]:
    """Per-group and overall figures from (shown fact correct, what was shown) pairs."""
    groups: dict[str, Group] = defaultdict(Group)
    total = Group()
    wrong_kept = []
    for ok, s in scored:
        groups[group_of(s.reply)].add(ok, s.run)
        total.add(ok, s.run)
        if s.run is not None and s.run.kept and not ok:
            wrong_kept.append({"question": s.question, "group": group_of(s.reply), "text": s.reply.text[:300]})
    return {"overall": total.row(), "by_group": {g: groups[g].row() for g in sorted(groups)},
            "wrong_kept": wrong_kept[:20]}


def write_llm_report(report: dict[str, Any], title: str, out_dir: Path) -> Path:
    """llm.json and llm.md (the table the README quotes)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "llm.json").write_text(json.dumps(report, indent=2, default=str))
    cols = ["n", "kept_rate", "shown_fact_accuracy", "kept_fact_accuracy", "first_token_p50_s", "latency_p50_s",
            "tokens_per_s"]
    lines = [f"# LLM path: {title}", "", "| intent / operation | " + " | ".join(cols) + " | fallback reasons |",
             "|---" * (len(cols) + 2) + "|"]
    for name, row in [("**all**", report["overall"]), *report["by_group"].items()]:
        reasons = ", ".join(f"{k} ({v})" for k, v in row["fallback_reasons"].items()) or "-"
        lines.append(f"| {name} | " + " | ".join("-" if row[c] is None else str(row[c]) for c in cols) +
                     f" | {reasons} |")
    if report["wrong_kept"]:
        lines += ["", "## Kept model text that did not state the expected fact", ""]
        lines += [f"- {w['group']}: \"{w['question']}\" → {w['text'][:160]!r}" for w in report["wrong_kept"]]
    path = out_dir / "llm.md"
    path.write_text("\n".join(lines) + "\n")
    return path

