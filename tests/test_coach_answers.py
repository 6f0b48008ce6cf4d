"""The seed questions, asked of the bundled person and read the way a user reads the answer."""

from __future__ import annotations

import re
from typing import Any

import pytest

from healthcoach.compose.citations import fmt_date
from healthcoach.records.models import format_number

DX_OR_DOSE = re.compile(r"\b(you have (?:diabetes|prediabetes|hypertension)|you are diabetic|this means you|"
                        r"take \d|increase (?:to|your)|decrease (?:to|your)|double (?:it|your))\b", re.I)


@pytest.fixture(scope="module")
def maria(sample_coach):  # type: ignore[no-untyped-def]
    return sample_coach


def ask(maria: Any, q: str, history: list[str] | None = None):  # type: ignore[no-untyped-def]
    coach, _stores, _truth = maria
    return coach.ask("maria", q, history or [])


def assert_readable(reply: Any) -> None:
    assert not reply.blocked, reply.text
    own = re.sub(r'"[^"]*"', '""', reply.text)  # quoted prescription text is the record speaking
    assert not DX_OR_DOSE.search(own), reply.text
    for n in re.findall(r"\[(\d+)\]", reply.text):
        assert 1 <= int(n) <= len(reply.citations)


def test_whats_my_a1c_gives_latest_value_date_source_and_trend(maria: Any) -> None:
    truth = maria[2]["hba1c"]
    reply = ask(maria, "What's my A1c?")
    assert_readable(reply)
    latest = truth["latest"]
    first_line = reply.text.split("\n")[0]
    assert f"{format_number(latest['value'])} %" in first_line
    assert fmt_date(__import__("datetime").date.fromisoformat(latest["date"])) in first_line
    assert "[1]" in first_line and reply.citations[0].date == latest["date"]
    assert "Earlier results" in reply.text
    assert re.search(r"\b(up|down|unchanged) from\b", reply.text)
    assert reply.intent == "latest_value"


def test_last_flu_shot_uses_any_influenza_code_and_ignores_not_done(maria: Any) -> None:
    truth = maria[2]["flu_shots"]
    reply = ask(maria, "When's the last time I got a flu shot?")
    assert_readable(reply)
    assert reply.citations[0].date == truth["latest"]["date"]
    assert f"You have {truth['count']} on record" in reply.text
    assert "not given are not counted" in reply.text


def test_summary_has_sections_that_say_when_they_are_truncated(maria: Any) -> None:
    reply = ask(maria, "Summarize my medical records")
    assert_readable(reply)
    for section in ("Active conditions", "Active medications", "Allergies", "Recent lab results",
                    "Immunizations", "Last visits"):
        assert f"**{section}**" in reply.text
    assert re.search(r"showing \d+ of \d+", reply.text)
    assert "Penicillin" in reply.text or "penicillin" in reply.text


def test_what_is_a1c_explains_and_adds_my_latest_value(maria: Any) -> None:
    reply = ask(maria, "What is A1c?")
    assert_readable(reply)
    assert "reference range" in reply.text and "two to three months" in reply.text
    assert reply.citations and reply.citations[0].date == maria[2]["hba1c"]["latest"]["date"]


def test_annual_lab_results_are_explained_not_interpreted(maria: Any) -> None:
    reply = ask(maria, "What do my annual lab results mean?")
    assert_readable(reply)
    assert "not what your results mean for you" in reply.text
    assert len(reply.citations) >= 5


def test_improving_cholesterol_is_general_personalised_and_ends_with_doctor_questions(maria: Any) -> None:
    reply = ask(maria, "How can I improve my cholesterol?")
    assert_readable(reply)
    assert "Questions to ask your doctor" in reply.text
    assert reply.citations and "cholesterol" in reply.citations[0].label.lower()
    assert "mg" not in reply.text.split("Your latest related results")[0]  # tips carry no doses


def test_dose_lookup_is_answered_from_the_record(maria: Any) -> None:
    reply = ask(maria, "What dose of lisinopril am I prescribed?")
    assert_readable(reply)
    assert "lisinopril" in reply.text.lower() and "10 MG" in reply.text
    assert "prescriber or pharmacist" in reply.text


def test_follow_ups_use_the_conversation(maria: Any) -> None:
    before = ask(maria, "and before that?", ["What's my A1c?"])
    assert before.intent == "history" and before.text.startswith("Before that")
    assert before.citations[0].date == maria[2]["hba1c"]["series"][-2]["date"]
    ldl = ask(maria, "what about LDL?", ["What's my total cholesterol?"])
    assert ldl.citations[0].date == maria[2]["latest_lipids"]["ldl"]["date"]
    assert format_number(maria[2]["latest_lipids"]["ldl"]["value"]) in ldl.text.split("\n")[0]


def test_missing_data_says_what_was_searched(maria: Any) -> None:
    reply = ask(maria, "What's my PSA?")
    assert not reply.citations
    assert re.search(r"I found no .*PSA.* among your \d+ lab results from \d+ source", reply.text), reply.text


def test_time_windows_filter_results(maria: Any) -> None:
    year = maria[2]["hba1c"]["series"][-3]["date"][:4]
    reply = ask(maria, f"my a1c in {year}")
    assert reply.citations and all(c.date.startswith(year) for c in reply.citations)  # type: ignore[union-attr]


def test_same_question_gives_identical_text(maria: Any) -> None:
    texts = {ask(maria, "Summarize my medical records").text for _ in range(10)}
    assert len(texts) == 1
    texts = {ask(maria, "What's my A1c?").text for _ in range(10)}
    assert len(texts) == 1
