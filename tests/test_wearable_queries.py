"""Wearable questions beyond 'last week': a date without a year is read inside the data's own span,
'how far' is answered in distance when it is stored, and trend questions say up or down."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from conftest import TODAY, settings_for
from healthcoach.container import build_coach, build_stores
from healthcoach.wearables.generator import generate_fitbit_takeout


@pytest.fixture(scope="module")
def walker(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    work = tmp_path_factory.mktemp("walker2025")
    stores = build_stores(settings_for(work / "stores"), embedder=embedder)
    truth = generate_fitbit_takeout(work / "gen", date(2025, 2, 20), days=30, seed=3)  # data ends March 21, 2025
    stores.ingestor.ingest("walker", [work / "gen"])
    stores.records.set_consent("walker", records=True)
    coach = build_coach(stores.settings, stores)
    coach.today = lambda: TODAY  # November 2026: "March 20" alone would otherwise mean 2026
    return coach, truth


def test_a_date_without_a_year_is_read_in_the_data_span(walker: Any) -> None:
    coach, truth = walker
    reply = coach.ask("walker", "how many steps did I take on March 20?")
    steps = truth["days"]["2025-03-20"]["steps"]
    assert "March 20, 2025" in reply.text and f"{steps} steps" in reply.text, reply.text
    assert "You didn't say which year" in reply.text and not reply.blocked


def test_how_far_is_answered_in_distance(walker: Any) -> None:
    coach, truth = walker
    reply = coach.ask("walker", "how far did I walk on March 20?")
    km = truth["days"]["2025-03-20"]["distance_km"]
    assert reply.text.count("Distance") == 1 and re.search(rf"\b{round(km, 1)} km\b", reply.text), reply.text


@pytest.mark.parametrize("question", ["is my resting heart rate going up or down?", "are my steps trending up?"])
def test_trend_questions_say_up_or_down(walker: Any, question: str) -> None:
    coach, _truth = walker
    reply = coach.ask("walker", question)
    assert re.search(r"Trend: \*\*(up|down|about the same)\*\*", reply.text), reply.text
    assert not any(w.startswith("output_guard") for w in reply.warnings), reply.text


def test_distance_falls_back_to_steps_and_says_so(make_stores: Any, tmp_path: Any) -> None:
    from healthcoach.wearables.daily import daily_record

    stores = make_stores()
    stores.ingestor.add_records("sam", [daily_record("sam", "fitbit", None, "steps", date(2026, 11, 22), 9000, None)])
    stores.records.set_consent("sam", records=True)
    coach = build_coach(stores.settings, stores)
    coach.today = lambda: TODAY
    reply = coach.ask("sam", "how far did I walk yesterday?")
    assert "no distance" in reply.text and "9000 steps" in reply.text, reply.text
