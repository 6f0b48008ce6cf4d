"""`eval qa --llm`'s per intent/operation report, run on the record-QA suite of the bundled person with two
scripted models: one that restates the checked answer (its text is kept, every shown fact is right) and
an adversarial one (nothing it writes is kept, so what is shown stays as accurate as the templates)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage

from healthcoach.compose.llm import LLMComposer
from healthcoach.compose.prompts import Prompts
from healthcoach.evals.llm_report import Recorder, legacy_scored, llm_report, write_llm_report
from healthcoach.evals.qa import run_cases
from healthcoach.evals.qa_run import coach_asker, people_cases
from healthcoach.settings import Settings, packaged_dir
from llm_fakes import ScriptedChatModel

PHRASINGS = packaged_dir("eval") / "suites" / "qa" / "phrasings.yaml"
_ROW = re.compile(r"^\[(\d+)\] \| (\S+) [^|]*\| ([^|]*) \| ([^|]*) \| ([^|]*) \|", re.M)


def facts_of(prompt: str) -> str:
    return prompt.split("(the facts to convey):\n", 1)[1].split("\n</records>", 1)[0]


class ParrotModel(ScriptedChatModel):
    """Restates the checked answer's first paragraph, as a well-behaved model would."""

    def _next(self, messages: list[BaseMessage]) -> str:
        self.calls.append(list(messages))
        return facts_of(str(messages[-1].content)).split("\n\n")[0]


class AdversarialModel(ScriptedChatModel):
    """Answers with an older row as the latest, table debris, a cut-off or wrong number, or Spanish."""

    def _next(self, messages: list[BaseMessage]) -> str:
        self.calls.append(list(messages))
        prompt = str(messages[-1].content)
        rows = _ROW.findall(prompt)
        first = facts_of(prompt).split("\n\n")[0]
        n, day, label, value, unit = rows[min(1, len(rows) - 1)] if rows else ("1", "2020-01-01", "x", "5", "")
        options = [
            f"Your most recent {label.strip()} was {value.strip() or label.strip()} {unit.strip()} on {day} [{n}].",
            f"**{day} | {label} |" + " | |" * 30 + " [n]",
            f"{first} The lab's reference range is",
            re.sub(r"(?<![\w.\[])(\d+)(?![\d\]])", lambda m: str(int(m.group(1)) + 1), first, count=1),
            f"Su resultado más reciente fue {value} el {day} [{n}], según los registros de la clínica.",
        ]
        return options[len(self.calls) % len(options)]


@pytest.fixture
def run_suite(sample_coach: Any) -> Iterator[Any]:
    coach, stores, truth = sample_coach

    def run(model: ScriptedChatModel | None) -> tuple[dict[str, Any], list[Any]]:
        coach.llm = LLMComposer(model, Prompts.load(Settings().prompts_dir), coach.guards) if model else None
        recorder = Recorder(coach_asker(coach, stores))
        coach.llm_observer = recorder.observe
        cases = people_cases([("Maria Lopez", "maria", truth)], PHRASINGS)
        outcomes = run_cases(cases, recorder)
        return llm_report(legacy_scored(outcomes, recorder.seen)), outcomes

    yield run
    coach.llm, coach.llm_observer = None, None


def test_templates_alone_state_every_expected_fact(run_suite: Any) -> None:
    report, _ = run_suite(None)
    assert report["overall"]["shown_fact_accuracy"] == 1.0, report["by_group"]
    assert report["overall"]["called"] == 0 and report["overall"]["kept_rate"] is None


def test_a_faithful_model_is_kept_and_right(run_suite: Any, tmp_path: Path) -> None:
    report, _ = run_suite(ParrotModel())
    overall = report["overall"]
    assert overall["called"] == overall["n"] >= 50
    assert overall["shown_fact_accuracy"] == 1.0 and overall["kept_fact_accuracy"] == 1.0, report["wrong_kept"]
    assert overall["kept_rate"] >= 0.9, overall["fallback_reasons"]
    md = write_llm_report(report, "parrot", tmp_path).read_text()
    assert "| **all** |" in md and "latest_value / latest" in md


def test_an_adversarial_model_is_never_shown(run_suite: Any) -> None:
    report, _ = run_suite(AdversarialModel())
    overall = report["overall"]
    assert overall["kept"] == 0 and report["wrong_kept"] == [], report["wrong_kept"]
    assert overall["shown_fact_accuracy"] == 1.0
    reasons = set(overall["fallback_reasons"])
    assert reasons >= {"headline_missing", "truncated", "wrong_language"}, reasons
    assert any(r.startswith("degenerate_") for r in reasons) and "headline_other" in reasons, reasons

