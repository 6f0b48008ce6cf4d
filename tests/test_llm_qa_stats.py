"""LLMStats: kept vs replaced, grounding failure rate, latency and tokens/s for the eval report."""

from __future__ import annotations

from healthcoach.compose.llm import LLMRun
from healthcoach.evals.llm_qa import LLMStats


def test_stats_count_kept_replaced_errors_and_skips() -> None:
    stats = LLMStats("llamacpp", "SmolLM2-135M")
    stats.add(LLMRun("ok [1]", [], kept=True, latency_s=1.0, first_token_s=0.2, tokens=100))
    stats.add(LLMRun("template", ["llm_grounding_failed: ungrounded_number"], latency_s=2.0, tokens=150), "A1c?")
    stats.add(LLMRun("template", ["llm_grounding_failed: missing_citation"], latency_s=1.0, tokens=50))
    stats.add(LLMRun("template", ["llm_error: TimeoutError"], latency_s=1.0))
    stats.add(LLMRun("template", ["llm_skipped: records_not_sent"]))
    s = stats.summary()
    assert (s["runs"], s["called"], s["kept"], s["replaced"], s["skipped"]) == (5, 4, 1, 3, 1)
    assert s["grounding_failure_rate"] == round(2 / 3, 4) and s["fallback_rate"] == 0.75
    assert s["tokens_per_s"] == 60.0  # 300 tokens over 5 s
    assert s["failure_kinds"] == {"ungrounded_number": 1, "missing_citation": 1, "TimeoutError": 1}
    assert s["examples"][0] == {"question": "A1c?", "reason": "ungrounded_number"}
    md = stats.markdown()
    assert "## LLM path: llamacpp SmolLM2-135M" in md and "| model text kept | 1 of 4 |" in md


def test_empty_stats_are_zero_not_errors() -> None:
    s = LLMStats("none").summary()
    assert s["grounding_failure_rate"] == s["fallback_rate"] == s["tokens_per_s"] == 0.0
