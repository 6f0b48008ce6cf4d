"""Apple Health export.xml → daily wearable records, streamed (real exports are gigabytes).

The file is read with iterparse; each top-level element is cleared once handled, so memory holds
per-day aggregates, never the tree. Time zones: Apple timestamps carry an offset; with `tz` they
are converted to that zone before picking the day, else the wall-clock date as written is used.

Overlapping sources (an iPhone and a Watch both count the same steps): for summed metrics (steps,
distance, active energy, exercise minutes, water) each day takes ONE source, the one with the
largest total that day; the others are counted in skipped, never added. Averaged metrics (heart
rate, SpO2, ...) pool every source, de-duplicated by timestamp.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta, timezone, tzinfo
from pathlib import Path

from healthcoach.errors import IngestError
from healthcoach.records.base import AdapterResult
from healthcoach.wearables.daily import (
    Agg,
    SeenSeconds,
    daily_record,
    heart_rate_record,
    resolve_tz,
    to_float,
    to_kg,
)
from healthcoach.wearables.sleep import SleepDay

KIND = "apple_health"
_HK = "HKQuantityTypeIdentifier"
SUMMED = {f"{_HK}StepCount": "steps", f"{_HK}DistanceWalkingRunning": "distance",
          f"{_HK}ActiveEnergyBurned": "calories", f"{_HK}AppleExerciseTime": "active_minutes",
          f"{_HK}DietaryWater": "water"}
AVERAGED = {f"{_HK}HeartRate": "heart_rate", f"{_HK}RestingHeartRate": "resting_heart_rate",
            f"{_HK}HeartRateVariabilitySDNN": "hrv", f"{_HK}OxygenSaturation": "spo2", f"{_HK}BodyMass": "weight",
            f"{_HK}BodyFatPercentage": "body_fat", f"{_HK}RespiratoryRate": "breathing_rate",
            f"{_HK}VO2Max": "vo2max"}
SLEEP = "HKCategoryTypeIdentifierSleepAnalysis"
_STAGE = {"AsleepCore": "light", "AsleepDeep": "deep", "AsleepREM": "rem", "Awake": "awake",
          "AsleepUnspecified": "asleep", "Asleep": "asleep", "InBed": "in_bed"}
_LABELS = {"calories": "Active calories", "active_minutes": "Exercise minutes"}
_UNITS = {"mi": ("km", 1.609344), "km": ("km", 1.0), "m": ("km", 0.001), "kJ": ("kcal", 1 / 4.184),
          "Cal": ("kcal", 1.0), "kcal": ("kcal", 1.0), "L": ("mL", 1000.0), "mL": ("mL", 1.0),
          "fl_oz_us": ("mL", 29.5735295625)}


def _parse(text: str) -> datetime:
    """'2024-01-01 01:01:36 +0200' → aware datetime."""
    off = text[20:]
    sign = -1 if off.startswith("-") else 1
    tzi = timezone(sign * timedelta(hours=int(off[1:3]), minutes=int(off[3:5])))
    return datetime.fromisoformat(text[:19]).replace(tzinfo=tzi)


def _convert(metric: str, value: float, unit: str) -> tuple[float, bool]:
    """Value in the metric's canonical unit, and whether it was converted."""
    if metric == "weight":
        return to_kg(value, unit), unit != "kg"
    if metric in ("spo2", "body_fat") and unit == "%":
        return value * 100 if value <= 1 else value, True  # Apple stores fractions (0.97)
    factor = _UNITS.get(unit)
    if factor is not None and factor[1] != 1.0:
        return value * factor[1], True
    return value, False


class _Apple:
    def __init__(self, user_id: str, tzi: tzinfo | None, file: str) -> None:
        self.user_id, self.tzi, self.file = user_id, tzi, file
        self.result = AdapterResult()
        self.summed: dict[tuple[str, date], dict[str, list[float]]] = {}  # source → [total, original total, n]
        self.units: dict[str, str] = {}
        self.averaged: dict[tuple[str, date], Agg] = {}
        self.seen = SeenSeconds()
        self.offsets: dict[date, tzinfo] = {}
        self.sleep: list[tuple[str, datetime, datetime, str]] = []

    def _local(self, dt: datetime) -> datetime:
        return dt.astimezone(self.tzi) if self.tzi else dt

    def record(self, a: dict[str, str]) -> None:
        rtype = a.get("type", "")
        self.result.resources_seen[rtype] += 1
        if rtype == SLEEP:
            stage = a.get("value", "").removeprefix("HKCategoryValueSleepAnalysis")
            if stage in _STAGE:
                self.sleep.append((a.get("sourceName", ""), _parse(a["startDate"]), _parse(a["endDate"]), stage))
            return
        metric = SUMMED.get(rtype) or AVERAGED.get(rtype)
        value = to_float(a.get("value"))
        if metric is None:
            self.result.skip(f"{rtype.removeprefix(_HK) or 'Record'}: not a daily wearable metric here")
            return
        if value is None:
            self.result.skip(f"{metric}: sample without a value")
            return
        start = self._local(_parse(a["startDate"]))
        day = start.date()
        self.offsets.setdefault(day, start.tzinfo)  # type: ignore[arg-type]
        unit = a.get("unit", "")
        canon, converted = _convert(metric, value, unit)
        sec = start.hour * 3600 + start.minute * 60 + start.second
        src = a.get("sourceName", "")
        if metric in SUMMED.values():
            if not self.seen.add((metric, src, day), sec):
                self.result.skip(f"{metric}: duplicate sample (same source and start time)")
                return
            acc = self.summed.setdefault((metric, day), {}).setdefault(src, [0.0, 0.0, 0])
            acc[0] += canon
            acc[1] += value
            acc[2] += 1
            if converted:
                self.units[metric] = unit
            return
        if not self.seen.add((metric, day), sec):
            self.result.skip(f"{metric}: duplicate sample (same start time)")
            return
        self.averaged.setdefault((metric, day), Agg()).add(canon)

    def finish(self) -> AdapterResult:
        out, u = self.result.records, self.user_id
        for (metric, day), by_src in sorted(self.summed.items()):
            src, (total, orig, n) = max(by_src.items(), key=lambda kv: kv[1][0])
            if len(by_src) > 1:
                self.result.skip(f"{metric}: overlapping source on a day (one source per day)", len(by_src) - 1)
            if total <= 0:
                self.result.skip(f"{metric}: day with a zero total (not recorded)")
                continue
            tzi = self.tzi or self.offsets.get(day)
            value = round(total) if metric == "steps" else round(total, 3 if metric == "distance" else 2)
            unit = self.units.get(metric)
            out.append(daily_record(u, KIND, self.file, metric, day, value, tzi, samples=int(n), device=src,
                                    label=_LABELS.get(metric), original=(round(orig, 3), unit) if unit else None,
                                    details={"other_sources": ", ".join(sorted(set(by_src) - {src})) or None}))
        for (metric, day), agg in sorted(self.averaged.items()):
            tzi = self.tzi or self.offsets.get(day)
            if metric == "heart_rate":
                out.append(heart_rate_record(u, KIND, self.file, day, agg, tzi))
            else:
                out.append(daily_record(u, KIND, self.file, metric, day, round(agg.mean, 2), tzi, samples=agg.n,
                                        details={"measure": "SDNN"} if metric == "hrv" else None))
        self._sleep()
        return self.result

    def _sleep(self) -> None:
        """Sleep samples → sessions per source (gaps < 2 h), each on its wake-up day; one source per day."""
        per_day: dict[date, dict[str, SleepDay]] = {}
        by_src: dict[str, list[tuple[datetime, datetime, str]]] = {}
        for src, s, e, stage in self.sleep:
            by_src.setdefault(src, []).append((self._local(s), self._local(e), stage))
        for src, rows in by_src.items():
            rows.sort()
            session: list[tuple[datetime, datetime, str]] = []
            for row in [*rows, None]:
                if row is None or (session and row[0] - max(r[1] for r in session) > timedelta(hours=2)):
                    self._session(per_day, src, session)
                    session = []
                if row is not None:
                    session.append(row)
        for day, by in sorted(per_day.items()):
            src, sd = max(by.items(), key=lambda kv: kv[1].asleep)
            if sd.asleep <= 0:
                continue
            sd.device = src
            tzi = self.tzi or self.offsets.get(day) or sd_tz(sd)
            self.result.records.append(sd.record(self.user_id, KIND, self.file, day, tzi))

    @staticmethod
    def _session(per_day: dict[date, dict[str, SleepDay]], src: str, rows: list[tuple[datetime, datetime, str]]) -> None:
        if not rows:
            return
        stages: dict[str, float] = {}
        for s, e, stage in rows:
            stages[_STAGE[stage]] = stages.get(_STAGE[stage], 0.0) + (e - s).total_seconds() / 60
        in_bed_span = (max(r[1] for r in rows) - rows[0][0]).total_seconds() / 60
        asleep = sum(v for k, v in stages.items() if k not in ("awake", "in_bed"))
        stages.pop("in_bed", None)
        end = max(r[1] for r in rows)
        sd = per_day.setdefault(end.date(), {}).setdefault(src, SleepDay())
        sd.add(round(asleep, 1), round(in_bed_span, 1), stages, start=rows[0][0], end=end)


def sd_tz(sd: SleepDay) -> tzinfo | None:
    return datetime.fromisoformat(sd.wake_time).tzinfo if sd.wake_time else None


def load_apple_health(path: Path, user_id: str, tz: str | None = None) -> AdapterResult:
    """Stream an Apple Health export.xml (or its folder) into daily records; see the module docstring."""
    if path.is_dir():
        path = next(iter(sorted(path.rglob("export.xml"))), path)
    state = _Apple(user_id, resolve_tz(tz), path.name)
    depth = 0
    root: ET.Element | None = None
    try:
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1:
                    root = elem
                continue
            depth -= 1
            if depth != 1:
                continue
            if elem.tag == "Record":
                try:
                    state.record(elem.attrib)
                except (KeyError, ValueError, IndexError):
                    state.result.skip("Record: unreadable dates")
            elif elem.tag not in ("ExportDate", "Me"):
                state.result.skip(f"{elem.tag}: not imported")
            elem.clear()
            if root is not None:
                root.clear()  # drop the cleared child from the root too, or millions of husks pile up
    except ET.ParseError as exc:
        line, col = exc.position
        raise IngestError(f"{path.name}: truncated or malformed XML at line {line}, column {col}") from exc
    return state.finish()
