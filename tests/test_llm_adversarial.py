"""The scripted adversarial LLM suite (issue 19): through the one Coach.ask path, with the real pipeline
(sample person, real Chroma, real embeddings, typed queries), a model that answers with the right dates
in the wrong roles, the previous value as the latest, debris, loops, cut-off text, echoed instructions
or another language never gets its text shown: the person sees the checked template answer. A faithful
rephrasing is still shown, so the checks are not simply refusing everything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import TODAY, settings_for
from healthcoach.coach import Coach
from healthcoach.compose.llm import LLMComposer
from healthcoach.compose.prompts import Prompts
from healthcoach.compose.reply import Reply
from healthcoach.compose.templates import Answer
from healthcoach.container import build_coach, build_stores
from healthcoach.settings import Settings
from llm_attacks import attacks, faithful
from llm_fakes import ScriptedChatModel

QUESTIONS = [
    "What's my A1c?",  # latest value, typed query
    "When's the last time I got a flu shot?",  # the flu-shot case: latest event
    "How many flu shots have I had?",  # count
    "What was my highest LDL?",  # extreme
    "What's my blood pressure?",  # two-number value
    "What medications am I on?",  # list
    "Show my A1c history",  # list of values
]


@pytest.fixture(scope="module")
def coach(tmp_path_factory: pytest.TempPathFactory, sample_bundle: tuple[Path, Any], embedder: Any) -> Coach:
    stores = build_stores(settings_for(tmp_path_factory.mktemp("adversarial")), embedder=embedder)
    stores.ingestor.ingest("me", [sample_bundle[0]])
    stores.records.set_consent("me", records=True)
    built = build_coach(stores.settings, stores)
    built.today = lambda: TODAY
    return built


@pytest.fixture
def fake(coach: Coach) -> Iterator[ScriptedChatModel]:
    model = ScriptedChatModel()
    coach.llm = LLMComposer(model, Prompts.load(Settings().prompts_dir), coach.guards)
    yield model
    coach.llm = None


def template_reply(coach: Coach, question: str) -> Reply:
    llm, coach.llm = coach.llm, None
    try:
        return coach.ask("me", question)
    finally:
        coach.llm = llm


def llm_reply(coach: Coach, fake: ScriptedChatModel, question: str, text: str) -> Reply:
    fake.replies = [text]
    return coach.ask("me", question)


@pytest.mark.parametrize("question", QUESTIONS)
def test_no_adversarial_reply_is_shown(coach: Coach, fake: ScriptedChatModel, question: str) -> None:
    base = template_reply(coach, question)
    answer = Answer(base.text, base.citations, [])
    scripted = attacks(answer, base.intent)
    assert len(scripted) >= 20, [name for name, _ in scripted]
    shown = []
    for name, text in scripted:
        reply = llm_reply(coach, fake, question, text)
        reasons = [w for w in reply.warnings if w.startswith("llm_grounding_failed:")]
        if reply.text != base.text or not reasons:
            shown.append((name, reply.text[:200]))
    assert shown == [], f"wrong replies reached the person for {question!r}: {shown}"


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_faithful_rephrasing_is_still_shown(coach: Coach, fake: ScriptedChatModel, question: str) -> None:
    base = template_reply(coach, question)
    lead = faithful(Answer(base.text, base.citations, []))
    for text in (lead, base.text):
        reply = llm_reply(coach, fake, question, text)
        assert reply.text == text and not [w for w in reply.warnings if w.startswith("llm_")], reply.warnings


def test_streamed_attack_is_replaced_before_the_person_reads_on(coach: Coach, fake: ScriptedChatModel) -> None:
    question = "When's the last time I got a flu shot?"
    base = template_reply(coach, question)
    older = base.citations[2]
    fake.replies = [f"Your last flu shot was on {older.date} [3]."]  # a real, cited date: just not the latest
    events = list(coach.stream("me", question))
    replaced = [e[1]["text"] for e in events if e[0] == "replace"]
    final = events[-1][1]
    assert replaced == [base.text] and final.text == base.text and "llm_grounding_failed: headline_missing" in final.warnings
