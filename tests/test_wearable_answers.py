"""Wearable questions are computed from the daily table: the window, the days with data, cited days."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from conftest import TODAY, require_shared, settings_for
from healthcoach.container import build_coach, build_stores
from healthcoach.evals.wearable_qa import (
    build_wear_cases,
    load_takeout_truth,
    normalise_truth,
    run_wear_cases,
)
from healthcoach.wearables.generator import generate_fitbit_takeout


@pytest.fixture(scope="module")
def wear(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    work = tmp_path_factory.mktemp("wear")
    stores = build_stores(settings_for(work / "stores"), embedder=embedder)
    truth = generate_fitbit_takeout(work / "gen", date(2026, 11, 2), days=21, seed=3)
    stores.ingestor.ingest("walker", [work / "gen"])
    stores.records.set_consent("walker", records=True)
    coach = build_coach(stores.settings, stores)
    coach.today = lambda: TODAY
    return coach, stores, truth


def test_last_week_sleep_states_window_and_nights_recorded(wear: Any) -> None:
    coach, _stores, truth = wear
    reply = coach.ask("walker", "How did I sleep last week?")
    assert "November 16, 2026 to November 22, 2026" in reply.text
    nights = [d for d in truth["days"] if "2026-11-16" <= d <= "2026-11-22" and truth["days"][d].get("sleep")]
    assert f"{len(nights)} of 7 nights recorded" in reply.text
    assert len(reply.citations) == len(nights)
    assert "never counted as zero" in reply.text


def test_missing_days_are_not_zero(wear: Any) -> None:
    coach, _stores, truth = wear
    cases = build_wear_cases("walker", normalise_truth(truth), max_days=21)
    result = run_wear_cases(coach, cases)
    assert result["exact"] >= 0.98, result["misses"]


def test_weekend_comparison_and_highest_heart_rate(wear: Any) -> None:
    coach, _stores, truth = wear
    reply = coach.ask("walker", "Do I sleep better on weekends?")
    assert re.search(r"weekdays .* weekends ", reply.text), reply.text
    yesterday = truth["days"].get("2026-11-22", {}).get("heart_rate")
    reply = coach.ask("walker", "What was my highest heart rate yesterday?")
    if yesterday:
        assert f"highest {yesterday['max']} bpm" in reply.text
    else:
        assert "no days with data" in reply.text or "There is no" in reply.text


def test_shared_takeout_sample_answers_match_truth_json(tmp_path: Path, embedder: Any) -> None:
    takeout = require_shared("data/wearables/fitbit_takeout_synthetic")
    stores = build_stores(settings_for(tmp_path / "s"), embedder=embedder)
    stores.ingestor.ingest("jacki", [takeout])
    stores.records.set_consent("jacki", records=True)
    coach = build_coach(stores.settings, stores)
    result = run_wear_cases(coach, build_wear_cases("jacki", load_takeout_truth(takeout)))
    assert result["exact"] >= 0.98, result["misses"]


def test_manual_weight_entry_becomes_the_latest_weight(make_stores: Any, embedder: Any) -> None:
    from healthcoach.wearables.manual import manual_entry

    stores = make_stores()
    stores.ingestor.add_records("sam", [manual_entry("sam", "weight", "160 lb", date(2026, 11, 20))])
    stores.records.set_consent("sam", records=True)
    coach = build_coach(stores.settings, stores)
    reply = coach.ask("sam", "What's my weight?")
    assert "72.57 kg" in reply.text and "entered by you" in reply.text, reply.text
