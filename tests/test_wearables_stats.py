"""Stats over daily records, manual entries, the generator's truth, and streaming a large export.xml."""

from __future__ import annotations

import resource
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

import pytest

from healthcoach.ingest.sources import load_wearables
from healthcoach.wearables.daily import daily_record
from healthcoach.wearables.generator import generate_fitbit_takeout
from healthcoach.wearables.manual import manual_entry
from healthcoach.wearables.stats import daily_table, summarize, weekday_vs_weekend


def test_week_with_two_missing_days() -> None:
    mon = date(2025, 3, 17)
    recs = [daily_record("u", "fitbit", "f", "sleep", mon + timedelta(days=i), v, None)
            for i, v in [(0, 400), (1, 420), (3, 380), (4, 410), (6, 440)]]
    s = summarize(recs, "sleep", mon, mon + timedelta(days=6))
    assert (s.days_in_window, s.days_with_data) == (7, 5)
    assert s.mean == pytest.approx(410) and s.total == 2050
    assert (s.min, s.min_day, s.max, s.max_day) == (380, mon + timedelta(days=3), 440, mon + timedelta(days=6))
    assert len(s.record_ids) == 5
    wk, we = weekday_vs_weekend(recs, "sleep", mon, mon + timedelta(days=6))
    assert (wk.days_in_window, wk.days_with_data, we.days_in_window, we.days_with_data) == (5, 4, 2, 1)
    assert we.mean == 440
    empty = summarize(recs, "steps", mon, mon)
    assert empty.days_with_data == 0 and empty.mean is None
    assert set(daily_table(recs)) == {"sleep"}


def test_manual_entries() -> None:
    w = manual_entry("u", "weight", "160 lb", date(2025, 1, 2))
    assert w.value is not None and w.value.value == pytest.approx(72.57, abs=0.01) and w.value.unit == "kg"
    assert (w.details["original_value"], w.details["original_unit"], w.source.kind) == ("160", "lb", "manual")
    assert manual_entry("u", "weight", "72.5kg").value.value == 72.5  # type: ignore[union-attr]
    assert manual_entry("u", "water", "500ml").value.value == 500  # type: ignore[union-attr]
    assert manual_entry("u", "water", "2 cups").value.value == 480  # type: ignore[union-attr]
    a = manual_entry("u", "water", "250 ml", date(2025, 1, 2))
    b = manual_entry("u", "water", "250 ml", date(2025, 1, 2))
    assert a.id != b.id  # two glasses on one day are two entries
    for bad, msg in [("seventy", "could not read"), ("72", "weight unit"), ("-5kg", "could not read"),
                     ("900 kg", "outside")]:
        with pytest.raises(ValueError, match=msg):
            manual_entry("u", "weight", bad)
    with pytest.raises(ValueError, match="volume unit"):
        manual_entry("u", "water", "2 buckets")


def test_generator_truth_equals_adapter(tmp_path: Path) -> None:
    truth = generate_fitbit_takeout(tmp_path, date(2024, 2, 26), days=14, seed=3)
    res = load_wearables(tmp_path, "u", tz="Europe/Paris")
    table = daily_table(res.records)
    worn = {date.fromisoformat(d) for d in truth["days"]}
    for metric in ("steps", "heart_rate", "resting_heart_rate", "calories", "distance", "active_minutes"):
        assert set(table[metric]) == worn, metric  # no records for days without wear
    for iso, t in truth["days"].items():
        d = date.fromisoformat(iso)
        assert table["steps"][d].value.value == t["steps"]  # type: ignore[union-attr]
        assert table["calories"][d].value.value == pytest.approx(t["calories"], abs=0.011)  # type: ignore[union-attr]
        assert table["distance"][d].value.value == pytest.approx(t["distance_km"], abs=1e-3)  # type: ignore[union-attr]
        assert table["active_minutes"][d].value.value == t["active_minutes"]  # type: ignore[union-attr]
        hr = table["heart_rate"][d]
        comps = {c.label: c.value.value for c in hr.components}  # type: ignore[union-attr]
        assert (comps["min"], comps["avg"], comps["max"]) == (t["heart_rate"]["min"], t["heart_rate"]["avg"],
                                                               t["heart_rate"]["max"])
        assert hr.details["samples"] == str(t["heart_rate"]["samples"])
        assert table["resting_heart_rate"][d].value.value == t["resting_heart_rate"]  # type: ignore[union-attr]
        if "sleep" in t:
            assert table["sleep"][d].value.value == t["sleep"]["minutesAsleep"]  # type: ignore[union-attr]
        if "weight_kg" in t:
            assert table["weight"][d].value.value == pytest.approx(t["weight_kg"], abs=0.01)  # type: ignore[union-attr]
    conf0 = sum(t["heart_rate"]["confidence_0"] for t in truth["days"].values())
    assert res.skipped["heart_rate: sample with confidence 0"] == conf0


_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_US">\n<ExportDate value="2024-06-01 08:00:00 +0200"/>\n'


def _write_export(path: Path, days: int) -> int:
    """~50 MB of heart rate and steps from a watch and a phone (overlapping steps)."""
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        fh.write(_HEAD)
        for i in range(days):
            d = date(2024, 1, 1) + timedelta(days=i)
            rows = []
            for m in range(0, 1440, 2):
                t = f"{d} {m // 60:02d}:{m % 60:02d}:00 +0100"
                rows.append(f'<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="Watch" unit="count/min" '
                            f'creationDate="{t}" startDate="{t}" endDate="{t}" value="{60 + m % 30}">'
                            f'<MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="0"/></Record>\n')
                if m % 10 == 0:
                    for src, v in (("Watch", 10), ("iPhone", 8)):
                        rows.append(f'<Record type="HKQuantityTypeIdentifierStepCount" sourceName="{src}" unit="count" '
                                    f'creationDate="{t}" startDate="{t}" endDate="{t}" value="{v}"/>\n')
            n += len(rows)
            fh.write("".join(rows))
        fh.write("</HealthData>\n")
    return n


def test_large_export_xml_streams(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    n = _write_export(path, 180)
    assert path.stat().st_size > 40_000_000
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    res = load_wearables(path, "u")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert peak < 150 * 2**20, f"peak traced {peak / 2**20:.0f} MB"
    assert (after - before) * 1024 < 150 * 2**20
    steps = daily_table(res.records)["steps"]
    assert len(steps) == 180 and steps[date(2024, 1, 1)].value.value == 144 * 10  # type: ignore[union-attr]
    assert steps[date(2024, 1, 1)].details["device"] == "Watch"  # one source per day, never watch + phone
    assert res.skipped["steps: overlapping source on a day (one source per day)"] == 180
    assert sum(res.resources_seen.values()) == n


def test_truncated_export_xml(tmp_path: Path) -> None:
    path = tmp_path / "export.xml"
    path.write_text(_HEAD + '<Record type="HKQuantityTypeIdentifierHeartRate" sourceName="W" unit="count/min" st')
    from healthcoach.errors import IngestError

    with pytest.raises(IngestError, match=r"export\.xml: truncated or malformed XML at line 4"):
        load_wearables(path, "u")
