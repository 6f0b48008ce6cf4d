"""Google Fit REST `dataset` bodies → daily records.

Times are epoch nanoseconds in UTC (strings); the day is taken in `tz` when given, else UTC.
Step deltas are summed per day (de-duplicated by start/end time); heart rate and weight averaged.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from healthcoach.errors import IngestError
from healthcoach.records.base import AdapterResult
from healthcoach.wearables.daily import Agg, daily_record, resolve_tz, to_float
from healthcoach.wearables.jsonstream import load_json
from healthcoach.wearables.vendors import emit_averaged, local_day

KIND = "google_fit"
_TYPES = {"com.google.step_count.delta": "steps", "com.google.heart_rate.bpm": "heart_rate",
          "com.google.weight": "weight"}


def load_google_fit(path: Path, user_id: str, tz: str | None = None) -> AdapterResult:
    """Read one Google Fit dataset body; activity segments and other types are counted in skipped."""
    body = load_json(path)
    tzi = resolve_tz(tz)
    result = AdapterResult()
    steps: dict[date, list[float]] = {}
    averaged: dict[str, dict[date, Agg]] = {"heart_rate": {}, "weight": {}}
    seen: set[tuple[str, str, str]] = set()
    try:
        for p in body.get("point") or []:
            dtype = p.get("dataTypeName", "")
            result.resources_seen[dtype] += 1
            metric = _TYPES.get(dtype)
            if metric is None:
                result.skip(f"{dtype or 'point'}: not imported")
                continue
            key = (dtype, p["startTimeNanos"], p["endTimeNanos"])
            if key in seen:
                result.skip(f"{metric}: duplicate point")
                continue
            seen.add(key)
            vals = p.get("value") or [{}]
            v = to_float(vals[0].get("fpVal", vals[0].get("intVal")))
            if v is None:
                result.skip(f"{metric}: point without a value")
                continue
            day = local_day(int(p["startTimeNanos"]) / 1e9, tzi)
            if metric == "steps":
                acc = steps.setdefault(day, [0.0, 0])
                acc[0] += v
                acc[1] += 1
            else:
                averaged[metric].setdefault(day, Agg()).add(v)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IngestError(f"{path.name}: unexpected Google Fit body ({exc})") from exc
    for day, (total, n) in sorted(steps.items()):
        if total <= 0:
            result.skip("steps: day without steps (not a zero)")
            continue
        result.records.append(daily_record(user_id, KIND, path.name, "steps", day, round(total), tzi, samples=int(n)))
    for metric, per_day in averaged.items():
        emit_averaged(result, user_id, KIND, path.name, metric, per_day, tzi)
    return result
