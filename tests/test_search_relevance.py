"""Search results are shown only when they are relevant (a shared content word, or a close meaning by
the tested cosine threshold), never as filler: an unrelated question gets an honest 'nothing matched'."""

from __future__ import annotations

from typing import Any

import pytest

from healthcoach.retrieval.hybrid import Hit, relevant
from healthcoach.settings import RetrievalSettings

THRESHOLD = RetrievalSettings().min_similarity


def _hit(text: str, sim: float | None) -> Hit:
    return Hit("c1", text, {}, 0.03, sim)


@pytest.mark.parametrize(("question", "text", "sim", "shown"), [
    # Measured on the bundled person with all-MiniLM-L6-v2: unrelated records score up to ~0.48 ...
    ("What's my blood type?", "2022-09-22: Hemoglobin [Mass/volume] in Blood was 13.9 g/dL", 0.48, False),
    ("Who is my doctor?", "2022-09-22: General examination of patient (visit). Provider: Clinic", 0.42, False),
    ("what's the weather tomorrow", "Body temperature history: 36.6 Cel on 2026-10-08", 0.29, False),
    # ... while a shared content word or a close meaning marks a relevant one.
    ("when did I hurt my back?", "2025-01-30: Low back pain (condition, status resolved)", 0.43, True),
    ("any notes about nausea?", "Prenatal intake visit. Patient feels well apart from mild nausea.", 0.30, True),
    ("was I pregnant?", "2021-11-27: Normal pregnancy (pregnancy record, status resolved)", 0.46, True),
    ("tell me about the peanut allergy", "2020-10-03: Allergy to peanuts (allergy, status active)", 0.68, True),
    ("what did they say about my diet?", "Progress note: Discussed diet, walking 30 minutes most days", None, True),
])
def test_relevance_rule(question: str, text: str, sim: float | None, shown: bool) -> None:
    assert relevant(question, _hit(text, sim), THRESHOLD) is shown


@pytest.mark.parametrize("question", ["what's my favourite colour?", "what's the weather tomorrow",
                                      "how far did I walk"])
def test_unrelated_questions_get_no_filler(sample_coach: Any, question: str) -> None:
    coach, _stores, _truth = sample_coach
    reply = coach.ask("maria", question)
    assert not reply.citations and reply.text.startswith("I found no records that match"), reply.text


def test_related_questions_still_find_their_records(sample_coach: Any) -> None:
    coach, _stores, _truth = sample_coach
    reply = coach.ask("maria", "when did I hurt my back?")
    assert any("back pain" in c.label.lower() for c in reply.citations), reply.text
    reply = coach.ask("maria", "what did they say about my diet?")
    assert reply.citations and "diet" in reply.text.lower()
