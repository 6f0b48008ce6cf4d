"""Per-provider statistics for the LLM composer path (`healthcoach eval qa --llm`).

Accumulates LLMRun results: how often the model's own text was kept vs replaced by the template
answer (and why), model errors, latency and tokens/s. Exact-fact accuracy stays with the record-QA
eval (evals/qa.py), which scores the Reply the person actually sees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from healthcoach.compose.llm import LLMRun
from healthcoach.evals.qa import pct


@dataclass
class LLMStats:
    """Kept/replaced counts, grounding failure rate, latency and throughput for one provider + model."""

    provider: str
    model: str = ""
    runs: int = 0
    kept: int = 0  # the model's text passed the grounding check and was shown
    grounding_failed: int = 0  # replaced by the template answer: the check found a violation
    errors: int = 0  # replaced by the template answer: the model call failed
    skipped: int = 0  # no call made (remote model, no consent, nothing general to phrase)
    tokens: int = 0
    generation_s: float = 0.0
    latencies_s: list[float] = field(default_factory=list)
    first_token_s: list[float] = field(default_factory=list)
    failure_kinds: Counter[str] = field(default_factory=Counter)
    examples: list[dict[str, Any]] = field(default_factory=list)  # a few replaced texts' reasons, for the report

    def add(self, run: LLMRun, question: str = "") -> None:
        """Count one composer run (the final LLMRun of LLMComposer.stream/complete)."""
        self.runs += 1
        kinds = [w.split(":", 1)[1].strip() for w in run.warnings if w.startswith("llm_grounding_failed:")]
        if any(w.startswith("llm_skipped") for w in run.warnings):
            self.skipped += 1
            return
        self.latencies_s.append(run.latency_s)
        if run.first_token_s is not None:
            self.first_token_s.append(run.first_token_s)
        self.tokens += run.tokens
        self.generation_s += run.latency_s
        if run.kept:
            self.kept += 1
        elif kinds:
            self.grounding_failed += 1
            self.failure_kinds.update(kinds)
            if len(self.examples) < 10:
                self.examples.append({"question": question, "reason": kinds[0]})
        else:
            self.errors += 1
            self.failure_kinds.update(w.split(":", 1)[1].strip() for w in run.warnings if w.startswith("llm_error:"))

    def extend(self, runs: Iterable[LLMRun]) -> None:
        """Count several runs."""
        for run in runs:
            self.add(run)

    @property
    def called(self) -> int:
        """Runs where the model was actually called."""
        return self.runs - self.skipped

    @property
    def replaced(self) -> int:
        """Runs where the template answer was shown instead of the model's text."""
        return self.grounding_failed + self.errors

    @property
    def grounding_failure_rate(self) -> float:
        """Share of completed model replies that failed the grounding check."""
        done = self.kept + self.grounding_failed
        return round(self.grounding_failed / done, 4) if done else 0.0

    @property
    def fallback_rate(self) -> float:
        """Share of model calls whose text was not shown (grounding failure or error)."""
        return round(self.replaced / self.called, 4) if self.called else 0.0

    @property
    def tokens_per_s(self) -> float:
        """Streamed tokens per second of generation, prompt processing included."""
        return round(self.tokens / self.generation_s, 1) if self.generation_s > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """The numbers for the JSON report."""
        return {
            "provider": self.provider, "model": self.model, "runs": self.runs, "called": self.called,
            "kept": self.kept, "replaced": self.replaced, "grounding_failed": self.grounding_failed,
            "errors": self.errors, "skipped": self.skipped,
            "grounding_failure_rate": self.grounding_failure_rate, "fallback_rate": self.fallback_rate,
            "latency_p50_s": pct(self.latencies_s, 0.5), "latency_p95_s": pct(self.latencies_s, 0.95),
            "first_token_p50_s": pct(self.first_token_s, 0.5), "tokens": self.tokens,
            "tokens_per_s": self.tokens_per_s, "failure_kinds": dict(self.failure_kinds.most_common()),
            "examples": self.examples,
        }

    def markdown(self) -> str:
        """A Markdown section for the QA report."""
        s = self.summary()
        rows = [("model text kept", f"{s['kept']} of {s['called']}"),
                ("replaced by the template (grounding / error)", f"{s['grounding_failed']} / {s['errors']}"),
                ("grounding failure rate", s["grounding_failure_rate"]), ("fallback rate", s["fallback_rate"]),
                ("latency p50 / p95 (s)", f"{s['latency_p50_s']} / {s['latency_p95_s']}"),
                ("first token p50 (s)", s["first_token_p50_s"]), ("tokens/s", s["tokens_per_s"])]
        kinds = ", ".join(f"{k} ({n})" for k, n in s["failure_kinds"].items()) or "none"
        return "\n".join([f"## LLM path: {self.provider} {self.model}".rstrip(), "", "| metric | value |",
                          "|---|---|", *[f"| {k} | {v} |" for k, v in rows], "", f"Why text was replaced: {kinds}."])
