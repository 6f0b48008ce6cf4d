"""Wearable adapters on the shared fixtures (real files) and on bad input written here."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from conftest import require_shared
from healthcoach.errors import IngestError
from healthcoach.ingest.sources import detect, load_wearables
from healthcoach.wearables import METRICS

SHARED = Path(__file__).parents[1] / ".." / "shared"
WEAR = SHARED / "data" / "wearables"


def _need_shared() -> None:
    require_shared("data/wearables")


def _fixtures() -> list[Path]:
    if not WEAR.is_dir():
        return []
    files = [p for p in WEAR.rglob("*") if p.suffix in (".json", ".xml") and p.name != "truth.json"
             and "Global Export Data" not in str(p)]
    return sorted(files)


def _by(records, metric):  # type: ignore[no-untyped-def]
    return {r.date: r for r in records if r.details["metric"] == metric}


@pytest.mark.parametrize("path", _fixtures() or [None], ids=lambda p: p.name if p else "none")
def test_every_fixture_imports(path: Path | None) -> None:
    _need_shared()
    assert path is not None
    fmt = detect(path)
    assert fmt is not None, f"{path.name} not detected"
    result = load_wearables(path, "u1")
    assert result.records or result.skipped, f"{path.name}: nothing imported and nothing counted"
    for rec in result.records:
        metric = rec.details["metric"]
        assert metric in METRICS
        assert rec.value is not None and rec.value.unit == METRICS[metric].unit
        assert rec.start is not None and rec.start.tzinfo is not None and rec.date == rec.start.date()
        assert rec.source.resource_type == f"daily:{metric}" and rec.source.resource_id == rec.date.isoformat()


def test_takeout_matches_truth() -> None:
    _need_shared()
    base = WEAR / "fitbit_takeout_synthetic"
    truth = json.loads((base / "truth.json").read_text())
    assert detect(base) == "fitbit_takeout"
    res = load_wearables(base, "u1", tz="America/New_York")
    for iso, t in truth["days"].items():
        d = date.fromisoformat(iso)
        assert _by(res.records, "steps")[d].value.value == t["steps_total"]
        # truth sums the generator's unrounded per-minute kcal; the files hold them rounded to 0.01, so
        # 1440 roundings of <= 0.005 kcal separate the two (observed <= 0.11 kcal)
        assert _by(res.records, "calories")[d].value.value == pytest.approx(t["calories_total_kcal"], abs=0.25)
        assert _by(res.records, "distance")[d].value.value == pytest.approx(t["distance_total_km"], abs=5e-4)
        assert _by(res.records, "resting_heart_rate")[d].value.value == pytest.approx(t["resting_heart_rate_bpm"])
        hr = _by(res.records, "heart_rate")[d]
        comps = {c.label: c.value.value for c in hr.components}
        assert (comps["min"], comps["max"]) == (t["heart_rate_min_bpm"], t["heart_rate_max_bpm"])
        assert hr.details["samples"] == str(t["heart_rate_samples"])
        am = _by(res.records, "active_minutes")[d]
        levels = {c.label: c.value.value for c in am.components}
        assert levels == {k: float(v) for k, v in t["active_minutes"].items()}
        assert am.value.value == t["active_minutes"]["very"] + t["active_minutes"]["moderately"]
        sl = _by(res.records, "sleep")[d]
        s = t["sleep_ending_this_morning"]
        assert sl.value.value == s["minutesAsleep"]
        assert sl.details["time_in_bed_min"] == str(s["timeInBed"])
        stages = {c.label: c.value.value for c in sl.components}
        assert (stages["deep"], stages["rem"]) == (s["deep_min"], s["rem_min"])
        assert sl.start.isoformat() == f"{iso}T00:00:00-04:00"
    weights = _by(res.records, "weight")
    for mdy, lb in truth["weight_lb"].items():
        m, dd, yy = mdy.split("/")
        w = weights[date(2000 + int(yy), int(m), int(dd))]
        assert w.value.value == pytest.approx(lb / 2.2046226218, abs=0.01)
        assert w.details["original_unit"] == "lb" and float(w.details["original_value"]) == lb
    assert set(res.skipped) == {"file not a recognised wearable export (ignored)"}  # truth.json itself


def test_fitbit_api_bom_vo2max_and_codes() -> None:
    _need_shared()
    res = load_wearables(WEAR / "api_responses" / "fitbit_net", "u1")
    vo2 = _by(res.records, "vo2max")[date(2023, 10, 15)]
    assert vo2.value.value == 44 and vo2.details["estimate"] == "true" and vo2.details["range"] == "42-46"
    steps = _by(res.records, "steps")
    assert date(2014, 9, 8) not in steps  # "0" steps = not worn, never a zero
    assert steps[date(2014, 9, 4)].value.value == 7428
    assert {c.key for c in steps[date(2014, 9, 4)].codes} == {"healthcoach:steps", "LOINC:55423-8"}
    assert res.skipped["blood pressure (not a wearable metric)"] == 1


def test_apple_health_fixture() -> None:
    _need_shared()
    res = load_wearables(WEAR / "apple_health" / "apple_health_parser_export.xml", "u1")
    hr = _by(res.records, "heart_rate")[date(2024, 1, 1)]
    assert hr.value.value == 74.5 and hr.start.utcoffset().total_seconds() == 7200  # type: ignore[union-attr]


def test_truncated_json_names_file(tmp_path: Path) -> None:
    gdir = tmp_path / "Global Export Data"
    gdir.mkdir()
    (gdir / "heart_rate-2025-03-20.json").write_text('[{"dateTime":"03/20/25 00:00:04","value":{"bpm":57,"confid')
    with pytest.raises(IngestError, match=r"heart_rate-2025-03-20\.json.*truncated"):
        load_wearables(tmp_path, "u1")
    bad = tmp_path / "api.json"
    bad.write_text('{"activities-steps": [{"dateTime": "2024-01-01", "value": "12"')
    with pytest.raises(IngestError, match=r"api\.json: truncated JSON at line 1"):
        load_wearables(bad, "u1")


def _hr(ts: str, bpm: int, conf: int = 3) -> dict[str, object]:
    return {"dateTime": ts, "value": {"bpm": bpm, "confidence": conf}}


def test_unknown_files_confidence_zero_and_duplicate_days(tmp_path: Path) -> None:
    gdir = tmp_path / "Takeout" / "Fitbit" / "Global Export Data"
    gdir.mkdir(parents=True)
    day1 = [_hr("01/05/24 10:00:00", 60), _hr("01/05/24 10:00:10", 80), _hr("01/05/24 10:00:20", 200, 0)]
    (gdir / "heart_rate-2024-01-05.json").write_text(json.dumps(day1), encoding="utf-8")
    (gdir / "heart_rate-2024-01-05-copy.json").write_text("[]")  # unknown name pattern
    # the same day again in a second file (re-exported): counted once
    (gdir / "heart_rate-2024-01-06.json").write_text(json.dumps(day1[:2]), encoding="utf-8-sig")  # BOM too
    steps = [{"dateTime": "01/05/24 10:00:00", "value": "40"}, {"dateTime": "01/05/24 10:01:00", "value": "60"}]
    (gdir / "steps-2024-01-01.json").write_text(json.dumps(steps))
    (gdir / "steps-2024-01-05.json").write_text(json.dumps(steps))  # overlapping chunk
    (gdir / "badge-2024-01-01.json").write_text("[]")
    (gdir / "notes.txt").write_text("hello")
    res = load_wearables(tmp_path, "u1")
    hr = _by(res.records, "heart_rate")
    assert list(hr) == [date(2024, 1, 5)]
    assert hr[date(2024, 1, 5)].value.value == 70 and hr[date(2024, 1, 5)].details["samples"] == "2"
    assert res.skipped["heart_rate: sample with confidence 0"] == 1
    assert res.skipped["heart_rate: duplicate sample (same timestamp)"] == 2
    assert res.skipped["Takeout file not imported (unknown or unsupported)"] == 3
    assert _by(res.records, "steps")[date(2024, 1, 5)].value.value == 100
    assert res.skipped["steps: duplicate sample (same timestamp)"] == 2


def test_mixed_weight_units(tmp_path: Path) -> None:
    gdir = tmp_path / "Global Export Data"
    gdir.mkdir()
    rows = [{"logId": 1, "weight": 160.0, "bmi": 23.6, "date": "02/01/24", "time": "07:00:00"},
            {"logId": 2, "weight": 72.5, "bmi": 23.6, "date": "02/02/24", "time": "07:00:00"}]
    (gdir / "weight-2024-02-01.json").write_text(json.dumps(rows))
    w = _by(load_wearables(tmp_path, "u1").records, "weight")
    assert w[date(2024, 2, 1)].value.value == pytest.approx(72.57, abs=0.01)
    assert w[date(2024, 2, 1)].details["original_unit"] == "lb"
    assert w[date(2024, 2, 2)].value.value == 72.5 and "original_unit" not in w[date(2024, 2, 2)].details
