"""Fitbit Web API response bodies (v1/v1.2 JSON, as saved from the API) → daily wearable records.

One body per file; the endpoint is recognised from its top-level keys. Dates in the bodies are the
user's local calendar days (the API answers in the profile's zone); `tz` makes the midnights
tz-aware, else UTC. Weight units follow the request's Accept-Language: the unit is inferred from
BMI when present (see daily.weight_unit_from_bmi), else kg (the API's default, metric).
A daily steps value of 0 is a day without wear and produces no record.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, tzinfo
from pathlib import Path
from typing import Any

from healthcoach.errors import IngestError
from healthcoach.records.base import AdapterResult
from healthcoach.wearables.daily import (
    Agg,
    component,
    daily_record,
    heart_rate_record,
    resolve_tz,
    to_float,
    to_kg,
    weight_unit_from_bmi,
)
from healthcoach.wearables.jsonstream import load_json
from healthcoach.wearables.sleep import SleepDay, add_fitbit_log

KIND = "fitbit_api"
MARKERS = ("activities-", '"sleep"', '"cardioScore"', '"br"', '"hrv"', '"weight"', '"fat"', '"bp"', '"foods"',
           '"deviceVersion"', '"minutes"', '"avg"',
           '"caloriesBMR"', '"activityParentId"')
_NOT_MAPPED = {"bp": "blood pressure (not a wearable metric)", "foods": "food log (not imported)",
               "activities-active-zone-minutes": "active zone minutes (not imported)"}


def is_fitbit_api(path: Path, head: str) -> bool:
    """A Fitbit Web API response body (activities, sleep, heart rate, weight, ... and device lists)."""
    return path.suffix.lower() == ".json" and any(m in head for m in MARKERS)


class _Body:
    def __init__(self, path: Path, user_id: str, tzi: tzinfo | None, result: AdapterResult) -> None:
        self.file, self.user_id, self.tzi, self.result = path.name, user_id, tzi, result

    def add(self, metric: str, day: date, value: float, **kw: Any) -> None:
        self.result.records.append(daily_record(self.user_id, KIND, self.file, metric, day, value, self.tzi, **kw))

    def heart(self, body: Mapping[str, Any]) -> None:
        days = body.get("activities-heart") or []
        for entry in days:
            day = date.fromisoformat(entry["dateTime"])
            value = entry.get("value")
            rhr = to_float(value.get("restingHeartRate")) if isinstance(value, Mapping) else None
            if rhr:
                self.add("resting_heart_rate", day, rhr)
        intraday = (body.get("activities-heart-intraday") or {}).get("dataset") or []
        if intraday and len(days) == 1:
            agg = Agg()
            for point in intraday:
                v = to_float(point.get("value"))
                if v and v > 0:
                    agg.add(v)
            if agg.n:
                self.result.records.append(heart_rate_record(
                    self.user_id, KIND, self.file, date.fromisoformat(days[0]["dateTime"]), agg, self.tzi))
        elif intraday:
            self.result.skip("heart rate intraday: date not stated in the body", len(intraday))

    def steps(self, body: Mapping[str, Any]) -> None:
        for entry in body.get("activities-steps") or []:
            steps = to_float(entry.get("value"))
            if not steps:
                self.result.skip("steps: day without wear (0 steps, not a zero)")
                continue
            self.add("steps", date.fromisoformat(entry["dateTime"]), round(steps))

    def summary(self, body: Mapping[str, Any]) -> None:
        """GET activities/date/{date}.json: the date is in the request, not the body; take it from the
        logged activities' startDate when they agree, else skip (counted)."""
        s = body["summary"]
        dates = {a.get("startDate") for a in body.get("activities") or [] if a.get("startDate")}
        if len(dates) != 1:
            self.result.skip("activity summary: date not stated in the body")
            return
        day = date.fromisoformat(dates.pop())
        steps = to_float(s.get("steps"))
        if not steps:
            self.result.skip("activity summary: day without wear (0 steps)")
            return
        self.add("steps", day, round(steps))
        total = next((to_float(d.get("distance")) for d in s.get("distances") or [] if d.get("activity") == "total"), None)
        if total:
            self.add("distance", day, round(total, 3))
        if to_float(s.get("caloriesOut")):
            self.add("calories", day, to_float(s.get("caloriesOut")) or 0.0)
        levels = {"very": s.get("veryActiveMinutes"), "moderately": s.get("fairlyActiveMinutes"),
                  "lightly": s.get("lightlyActiveMinutes"), "sedentary": s.get("sedentaryMinutes")}
        lv = {k: f for k, v in levels.items() if (f := to_float(v)) is not None}
        if lv:
            self.add("active_minutes", day, lv.get("very", 0.0) + lv.get("moderately", 0.0),
                     components=[component(k, v, "min") for k, v in lv.items()],
                     details={"definition": "very + moderately active minutes"})
        if to_float(s.get("restingHeartRate")):
            self.add("resting_heart_rate", day, to_float(s.get("restingHeartRate")) or 0.0)

    def sleep(self, body: Mapping[str, Any]) -> None:
        days: dict[date, SleepDay] = {}
        seen: set[object] = set()
        for log in body.get("sleep") or []:
            key = log.get("logId") or (log.get("startTime"), log.get("endTime"))
            if key in seen:
                self.result.skip("sleep: duplicate log")
                continue
            seen.add(key)
            try:
                add_fitbit_log(days, log, self.tzi)
            except (KeyError, TypeError, ValueError):
                self.result.skip("sleep: log without usable times or minutes")
        for day, sd in sorted(days.items()):
            self.result.records.append(sd.record(self.user_id, KIND, self.file, day, self.tzi))

    def weight(self, body: Mapping[str, Any]) -> None:
        rows: dict[date, list[tuple[float, float, str]]] = {}
        seen: set[tuple[str, str]] = set()
        for e in body.get("weight") or []:
            w = to_float(e.get("weight"))
            key = (str(e.get("date")), str(e.get("time")))
            if not w or key in seen:
                self.result.skip("weight: duplicate or empty entry")
                continue
            seen.add(key)
            unit = weight_unit_from_bmi(w, to_float(e.get("bmi")), "kg")
            rows.setdefault(date.fromisoformat(e["date"]), []).append((to_kg(w, unit), w, unit))
        for day, r in sorted(rows.items()):
            unit = r[0][2]
            orig = (round(sum(x[1] for x in r) / len(r), 2), unit) if unit != "kg" else None
            self.add("weight", day, round(sum(x[0] for x in r) / len(r), 2), samples=len(r), original=orig)

    def simple(self, metric: str, entries: list[Any], pick: str, extra: Mapping[str, object] | None = None) -> None:
        """Daily series {dateTime, value{<pick>}} or {date, <pick>} (fat) averaged per day."""
        per_day: dict[date, Agg] = {}
        for e in entries:
            value = e.get("value") if isinstance(e.get("value"), Mapping) else e
            v = to_float(value.get(pick))
            if v is None:
                self.result.skip(f"{metric}: entry without a value")
                continue
            per_day.setdefault(date.fromisoformat(str(e.get("dateTime") or e.get("date"))[:10]), Agg()).add(v)
        for day, agg in sorted(per_day.items()):
            self.add(metric, day, round(agg.mean, 2), samples=agg.n, details=extra)

    def hrv(self, body: Mapping[str, Any]) -> None:
        entries = body["hrv"]
        if entries and "minutes" in entries[0]:
            for e in entries:
                agg = Agg()
                for m in e.get("minutes") or []:
                    v = to_float((m.get("value") or {}).get("rmssd"))
                    if v:
                        agg.add(v)
                if agg.n:
                    self.add("hrv", date.fromisoformat(e["dateTime"]), round(agg.mean, 2), samples=agg.n,
                             details={"measure": "RMSSD (mean of 5-minute windows during sleep)"})
            return
        self.simple("hrv", entries, "dailyRmssd", {"measure": "RMSSD"})

    def vo2max(self, body: Mapping[str, Any]) -> None:
        for e in body["cardioScore"]:
            raw = str((e.get("value") or {}).get("vo2Max", "")).strip()
            lo, _, hi = raw.partition("-")
            a, b = to_float(lo), to_float(hi) if hi else None
            if a is None:
                self.result.skip("vo2max: entry without a value")
                continue
            day = date.fromisoformat(e["dateTime"])
            if b is not None:
                self.add("vo2max", day, round((a + b) / 2, 1), details={"estimate": "true", "range": raw})
            else:
                self.add("vo2max", day, a, details={"estimate": "true"})

    def spo2(self, body: Mapping[str, Any]) -> None:
        day = date.fromisoformat(str(body["dateTime"])[:10])
        if isinstance(body.get("value"), Mapping):
            v = body["value"]
            avg = to_float(v.get("avg"))
            if avg:
                comps = [component(k, f, "%") for k in ("min", "avg", "max") if (f := to_float(v.get(k))) is not None]
                self.add("spo2", day, avg, components=comps)
            return
        agg = Agg()
        for m in body.get("minutes") or []:
            f = to_float(m.get("value"))
            if f:
                agg.add(f)
        if agg.n:
            comps = [component("min", agg.lo, "%"), component("avg", round(agg.mean, 1), "%"),
                     component("max", agg.hi, "%")]
            self.add("spo2", day, round(agg.mean, 1), components=comps, samples=agg.n)


def load_fitbit_api(path: Path, user_id: str, tz: str | None = None) -> AdapterResult:
    """Read one Fitbit Web API response body (BOM tolerated) and return its daily records."""
    result = AdapterResult()
    body = load_json(path)
    b = _Body(path, user_id, resolve_tz(tz), result)
    if isinstance(body, list):
        result.skip("devices list (not a measurement)" if body and "deviceVersion" in body[0] else "unknown body")
        return result
    if not isinstance(body, Mapping):
        raise IngestError(f"{path.name}: expected a JSON object")
    try:
        keys = set(body)
        result.resources_seen.update(k for k in keys if k not in ("summary", "goals"))
        if "activities-heart" in keys:
            b.heart(body)
        elif "activities-steps" in keys:
            b.steps(body)
        elif "summary" in keys and isinstance(body["summary"], Mapping) and "steps" in body["summary"]:
            b.summary(body)
        elif "sleep" in keys:
            b.sleep(body)
        elif "weight" in keys:
            b.weight(body)
        elif "fat" in keys:
            b.simple("body_fat", body["fat"], "fat")
        elif "br" in keys:
            b.simple("breathing_rate", body["br"], "breathingRate")
        elif "hrv" in keys:
            b.hrv(body)
        elif "cardioScore" in keys:
            b.vo2max(body)
        elif "dateTime" in keys and ("value" in keys or "minutes" in keys):
            b.spo2(body)
        else:
            reason = next((r for k, r in _NOT_MAPPED.items() if k in keys), "unknown Fitbit body (not imported)")
            result.skip(reason)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IngestError(f"{path.name}: unexpected Fitbit API body ({type(exc).__name__}: {exc})") from exc
    return result
