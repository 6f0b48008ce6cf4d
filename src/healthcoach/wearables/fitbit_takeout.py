"""Fitbit Google Takeout ("Takeout/Fitbit/Global Export Data") → daily wearable records.

Time zones: Takeout timestamps carry no offset. They are read as the wearer's local wall-clock
time (as the export writes them), so the calendar day is the date as written; `tz` (an IANA name)
makes the records' midnights tz-aware in that zone, else UTC. Only the per-minute SpO2 CSVs are
in UTC ('Z'): they are converted to `tz` (or kept in UTC) before picking the day.

A day is worn when it has a heart-rate sample or at least one step; steps, distance, calories and
active minutes are only reported for worn days (Fitbit writes basal calories and 1440 sedentary
minutes for days the tracker sat in a drawer; those are not zeros to average).
Every series is de-duplicated by timestamp (first sample wins), so overlapping files count once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from healthcoach.errors import IngestError
from healthcoach.records.base import AdapterResult
from healthcoach.wearables import fitbit_csv
from healthcoach.wearables.daily import (
    Agg,
    SeenSeconds,
    component,
    daily_record,
    heart_rate_record,
    resolve_tz,
    to_float,
    to_kg,
    weight_unit_from_bmi,
)
from healthcoach.wearables.jsonstream import iter_array
from healthcoach.wearables.sleep import SleepDay, add_fitbit_log

KIND = "fitbit"
_FILE_RE = re.compile(r"^([a-z0-9_]+)-(\d{4}-\d{2}-\d{2})\.json$")
_MINUTE_SERIES = {"steps": "steps", "calories": "calories", "distance": "distance"}
_ACTIVE = {"very_active_minutes": "very", "moderately_active_minutes": "moderately",
           "lightly_active_minutes": "lightly", "sedentary_minutes": "sedentary"}
HANDLED = {"heart_rate", "resting_heart_rate", "sleep", "weight", *_MINUTE_SERIES, *_ACTIVE}


def find_export_dir(path: Path) -> Path | None:
    """The folder holding `<metric>-<date>.json` files: the path itself, or its 'Global Export Data'."""
    if not path.is_dir():
        return None
    for cand in (path / "Global Export Data", path / "Fitbit" / "Global Export Data",
                 path / "Takeout" / "Fitbit" / "Global Export Data"):
        if cand.is_dir():
            return cand
    if any(is_takeout_file(p) for p in path.glob("*.json")):
        return path
    return None


def is_takeout_file(p: Path, head: str = "") -> bool:
    """A file of a Takeout export: '<metric>-<date>.json' for a metric this adapter reads (the name
    says it; the head is not needed)."""
    m = _FILE_RE.match(p.name)
    return bool(m and m.group(1) in HANDLED)


class _Takeout:
    def __init__(self, user_id: str, tzi: tzinfo | None) -> None:
        self.user_id, self.tzi = user_id, tzi
        self.result = AdapterResult()
        self.files: dict[tuple[str, date], str] = {}
        self.hr: dict[date, Agg] = {}
        self.hr_seen = SeenSeconds()
        self.series: dict[str, dict[date, float]] = {m: {} for m in _MINUTE_SERIES}
        self.series_n: dict[str, dict[date, int]] = {m: {} for m in _MINUTE_SERIES}
        self.series_seen: dict[str, SeenSeconds] = {m: SeenSeconds() for m in _MINUTE_SERIES}
        self.active: dict[date, dict[str, float]] = {}
        self.rhr: dict[date, float] = {}
        self.sleep: dict[date, SleepDay] = {}
        self.sleep_ids: set[object] = set()
        self.weights: dict[tuple[str, str], tuple[date, float, float, str, float | None]] = {}
        self._days: dict[str, date] = {}

    # -- parsing helpers -------------------------------------------------------------------------
    def _day(self, s: str) -> date:
        d = self._days.get(s)
        if d is None:
            d = self._days[s] = datetime.strptime(s, "%m/%d/%y").date()
        return d

    def _stamp(self, s: str) -> tuple[date, int]:
        """'MM/DD/YY HH:MM:SS' → (day, second of day)."""
        return self._day(s[:8]), int(s[9:11]) * 3600 + int(s[12:14]) * 60 + int(s[15:17])

    def _items(self, path: Path) -> Iterator[tuple[int, Any]]:
        yield from enumerate(iter_array(path))

    def _bad(self, path: Path, index: int, what: str) -> None:
        self.result.skip(f"{path.name.split('-')[0]}: {what}")

    # -- per file type -------------------------------------------------------------------------
    def heart_rate(self, path: Path) -> None:
        skip = self.result.skip
        for i, el in self._items(path):
            try:
                value = el["value"]
                day, sec = self._stamp(el["dateTime"])
                bpm = to_float(value["bpm"])
            except (KeyError, TypeError, ValueError):
                self._bad(path, i, "sample without a usable time or bpm")
                continue
            if value.get("confidence") == 0:
                skip("heart_rate: sample with confidence 0")
                continue
            if bpm is None or bpm <= 0:
                skip("heart_rate: sample without a usable time or bpm")
                continue
            if not self.hr_seen.add(day, sec):
                skip("heart_rate: duplicate sample (same timestamp)")
                continue
            agg = self.hr.get(day)
            if agg is None:
                agg = self.hr[day] = Agg()
                self.files.setdefault(("heart_rate", day), path.name)
            agg.add(bpm)

    def minute_series(self, path: Path, metric: str) -> None:
        totals, counts, seen = self.series[metric], self.series_n[metric], self.series_seen[metric]
        for i, el in self._items(path):
            try:
                day, sec = self._stamp(el["dateTime"])
                v = to_float(el["value"])
            except (KeyError, TypeError, ValueError):
                v = None
            if v is None:
                self._bad(path, i, "sample without a usable time or value")
                continue
            if not seen.add(day, sec):
                self.result.skip(f"{metric}: duplicate sample (same timestamp)")
                continue
            if day not in totals:
                self.files.setdefault((metric, day), path.name)
            totals[day] = totals.get(day, 0.0) + v
            counts[day] = counts.get(day, 0) + 1

    def active_minutes(self, path: Path, level: str) -> None:
        for i, el in self._items(path):
            try:
                day = self._day(el["dateTime"][:8])
                v = to_float(el["value"])
            except (KeyError, TypeError, ValueError):
                v = None
            if v is None:
                self._bad(path, i, "entry without a usable date or value")
                continue
            levels = self.active.setdefault(day, {})
            if level in levels:
                self.result.skip("active minutes: duplicate day")
                continue
            levels[level] = v
            self.files.setdefault(("active_minutes", day), path.name)

    def resting_heart_rate(self, path: Path) -> None:
        for _, el in self._items(path):
            value = el.get("value") if isinstance(el, dict) else None
            bpm = to_float(value.get("value")) if isinstance(value, dict) else None
            if not isinstance(value, dict) or not value.get("date") or not bpm:
                self.result.skip("resting_heart_rate: row without a date or value (null/0.0)")
                continue
            day = self._day(str(value["date"])[:8])
            if day in self.rhr:
                self.result.skip("resting_heart_rate: duplicate day")
                continue
            self.rhr[day] = bpm
            self.files.setdefault(("resting_heart_rate", day), path.name)

    def sleep_logs(self, path: Path) -> None:
        for _, log in self._items(path):
            key = log.get("logId") if isinstance(log, dict) else None
            if key is None and isinstance(log, dict):
                key = (log.get("startTime"), log.get("endTime"))
            if key in self.sleep_ids:
                self.result.skip("sleep: duplicate log")
                continue
            try:
                day = add_fitbit_log(self.sleep, log, self.tzi)
            except (KeyError, TypeError, ValueError, AttributeError):
                self.result.skip("sleep: log without usable times or minutes")
                continue
            self.sleep_ids.add(key)
            self.files.setdefault(("sleep", day), path.name)

    def weight(self, path: Path) -> None:
        for _, el in self._items(path):
            try:
                day = self._day(str(el["date"])[:8])
                w = to_float(el["weight"])
            except (KeyError, TypeError, ValueError):
                w = None
            if w is None or w <= 0:
                self.result.skip("weight: entry without a usable date or weight")
                continue
            key = (str(el.get("date")), str(el.get("time")))
            if key in self.weights:
                self.result.skip("weight: duplicate entry (same date and time)")
                continue
            unit = weight_unit_from_bmi(w, to_float(el.get("bmi")), "lb")
            self.weights[key] = (day, to_kg(w, unit), w, unit, to_float(el.get("fat")))
            self.files.setdefault(("weight", day), path.name)

    # -- output ---------------------------------------------------------------------------------
    def finish(self) -> AdapterResult:
        u, tzi, out, f = self.user_id, self.tzi, self.result.records, self.files
        for day, agg in sorted(self.hr.items()):
            out.append(heart_rate_record(u, KIND, f.get(("heart_rate", day)), day, agg, tzi))
        worn = {d for d, a in self.hr.items() if a.n} | {d for d, v in self.series["steps"].items() if v > 0}
        for metric, totals in self.series.items():
            for day, total in sorted(totals.items()):
                if day not in worn:
                    self.result.skip(f"{metric}: day without wear (not a zero)")
                    continue
                n = self.series_n[metric][day]
                if metric == "steps":
                    out.append(daily_record(u, KIND, f.get((metric, day)), metric, day, round(total), tzi, samples=n))
                elif metric == "distance":
                    out.append(daily_record(u, KIND, f.get((metric, day)), metric, day, round(total / 100000, 3), tzi,
                                            samples=n, original=(round(total, 2), "cm")))
                else:
                    out.append(daily_record(u, KIND, f.get((metric, day)), metric, day, round(total, 2), tzi, samples=n))
        for day, lv in sorted(self.active.items()):
            if day not in worn and lv.get("very", 0) + lv.get("moderately", 0) + lv.get("lightly", 0) == 0:
                self.result.skip("active_minutes: day without wear (not a zero)")
                continue
            comps = [component(k, lv[k], "min") for k in ("very", "moderately", "lightly", "sedentary") if k in lv]
            value = lv.get("very", 0.0) + lv.get("moderately", 0.0)
            out.append(daily_record(u, KIND, f.get(("active_minutes", day)), "active_minutes", day, value, tzi,
                                    components=comps, details={"definition": "very + moderately active minutes"}))
        for day, bpm in sorted(self.rhr.items()):
            out.append(daily_record(u, KIND, f.get(("resting_heart_rate", day)), "resting_heart_rate", day, bpm, tzi))
        for day, sd in sorted(self.sleep.items()):
            out.append(sd.record(u, KIND, f.get(("sleep", day)), day, tzi))
        self._weights()
        return self.result

    def _weights(self) -> None:
        by_day: dict[date, list[tuple[float, float, str, float | None]]] = {}
        for day, kg, orig, unit, fat in self.weights.values():
            by_day.setdefault(day, []).append((kg, orig, unit, fat))
        for day, rows in sorted(by_day.items()):
            file = self.files.get(("weight", day))
            kg = sum(r[0] for r in rows) / len(rows)
            orig = sum(r[1] for r in rows) / len(rows)
            unit = rows[0][2]
            self.result.records.append(daily_record(
                self.user_id, KIND, file, "weight", day, round(kg, 2), self.tzi, samples=len(rows),
                original=None if unit == "kg" else (round(orig, 2), unit)))
            fats = [r[3] for r in rows if r[3] is not None]
            if fats:
                self.result.records.append(daily_record(
                    self.user_id, KIND, file, "body_fat", day, round(sum(fats) / len(fats), 2), self.tzi,
                    samples=len(fats)))


def load_fitbit_takeout(path: Path, user_id: str, tz: str | None = None) -> AdapterResult:
    """Read a Takeout root, its 'Fitbit' folder or 'Global Export Data' and return daily records.

    Files this adapter does not import (other metrics, badges, profile, ...) are counted in
    result.skipped under 'Takeout file not imported'. A truncated JSON file raises IngestError.
    """
    export = find_export_dir(path)
    if export is None:
        raise IngestError(f"{path.name}: no Fitbit Takeout files found")
    state = _Takeout(user_id, resolve_tz(tz))
    for file in sorted(p for p in export.iterdir() if p.is_file()):
        m = _FILE_RE.match(file.name)
        name = m.group(1) if m else ""
        state.result.resources_seen[name or "other"] += 1
        try:
            if name == "heart_rate":
                state.heart_rate(file)
            elif name in _MINUTE_SERIES:
                state.minute_series(file, _MINUTE_SERIES[name])
            elif name in _ACTIVE:
                state.active_minutes(file, _ACTIVE[name])
            elif name == "resting_heart_rate":
                state.resting_heart_rate(file)
            elif name == "sleep":
                state.sleep_logs(file)
            elif name == "weight":
                state.weight(file)
            else:
                state.result.skip("Takeout file not imported (unknown or unsupported)")
        except (AttributeError, TypeError) as exc:
            raise IngestError(f"{file.name}: unexpected JSON shape ({exc})") from exc
    root = export.parent
    fitbit_csv.load_csv_folders(root, state.user_id, KIND, state.tzi, state.result)
    return state.finish()
