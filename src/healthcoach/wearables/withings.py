"""Withings API bodies (measure getmeas, sleep summary, intraday activity) → daily records.

Values are `value × 10^unit`. Epoch seconds are UTC; the day is taken in `tz` when given, else in
the body's own `timezone`, else UTC. Sleep is dated by its end (the wake-up day).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from healthcoach.errors import IngestError
from healthcoach.records.base import AdapterResult
from healthcoach.wearables.daily import Agg, daily_record, resolve_tz, to_float
from healthcoach.wearables.jsonstream import load_json
from healthcoach.wearables.sleep import SleepDay
from healthcoach.wearables.vendors import emit_averaged, local_day

KIND = "withings"
_MEASURES = {1: "weight", 6: "body_fat", 11: "heart_rate"}
_SKIPPED = {4: "height", 9: "blood pressure", 10: "blood pressure", 5: "fat-free mass", 8: "fat mass", 54: "SpO2 spot"}


def _measures(body: dict[str, Any], tzi: tzinfo | None, res: AdapterResult) -> dict[str, dict[date, Agg]]:
    out: dict[str, dict[date, Agg]] = {m: {} for m in _MEASURES.values()}
    for grp in body.get("measuregrps") or []:
        day = local_day(float(grp["date"]), tzi)
        for m in grp.get("measures") or []:
            metric = _MEASURES.get(int(m["type"]))
            value = float(m["value"]) * 10 ** int(m["unit"])
            if metric is None or value <= 0:
                res.skip(f"measure type {m['type']} ({_SKIPPED.get(int(m['type']), 'not imported')})")
                continue
            out[metric].setdefault(day, Agg()).add(value)
    return out


def load_withings(path: Path, user_id: str, tz: str | None = None) -> AdapterResult:
    """Read one Withings body; unsupported measure types are counted in skipped."""
    doc = load_json(path)
    res = AdapterResult()
    body = doc.get("body") or {}
    tzi = resolve_tz(tz) or resolve_tz(body.get("timezone") if isinstance(body, dict) else None)
    try:
        if "measuregrps" in body:
            res.resources_seen["measuregrps"] += len(body["measuregrps"])
            for metric, per_day in _measures(body, tzi, res).items():
                emit_averaged(res, user_id, KIND, path.name, metric, per_day, tzi)
        elif isinstance(body.get("series"), list):
            _sleep(body["series"], user_id, path.name, tz, res)
        elif isinstance(body.get("series"), dict):
            _activity(body["series"], user_id, path.name, tzi, res)
        else:
            res.skip("unknown Withings body (not imported)")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IngestError(f"{path.name}: unexpected Withings body ({exc})") from exc
    return res


def _sleep(series: list[dict[str, Any]], user_id: str, file: str, tz: str | None, res: AdapterResult) -> None:
    days: dict[date, tuple[SleepDay, tzinfo | None]] = {}
    for s in series:
        res.resources_seen["sleep"] += 1
        tzi = resolve_tz(tz) or resolve_tz(s.get("timezone"))
        start = datetime.fromtimestamp(float(s["startdate"]), UTC).astimezone(tzi or UTC)
        end = datetime.fromtimestamp(float(s["enddate"]), UTC).astimezone(tzi or UTC)
        d = s.get("data") or {}
        stages = {k: (to_float(d.get(f)) or 0.0) / 60 for k, f in
                  (("deep", "deepsleepduration"), ("light", "lightsleepduration"), ("rem", "remsleepduration"),
                   ("awake", "wakeupduration")) if f in d}
        asleep = sum(v for k, v in stages.items() if k != "awake")
        sd, _ = days.setdefault(end.date(), (SleepDay(), tzi))
        sd.add(asleep, (end - start).total_seconds() / 60, stages, start=start, end=end)
    for day, (sd, tzi) in sorted(days.items()):
        res.records.append(sd.record(user_id, KIND, file, day, tzi))


def _activity(series: dict[str, dict[str, Any]], user_id: str, file: str, tzi: tzinfo | None,
              res: AdapterResult) -> None:
    totals: dict[tuple[str, date], list[float]] = {}
    for epoch, v in series.items():
        day = local_day(float(epoch), tzi)
        for metric, key, factor in (("steps", "steps", 1.0), ("distance", "distance", 0.001), ("calories", "calories", 1.0)):
            f = to_float(v.get(key))
            if f is not None:
                acc = totals.setdefault((metric, day), [0.0, 0.0])
                acc[0] += f * factor
                acc[1] += 1
    for (metric, day), (total, n) in sorted(totals.items()):
        if totals.get(("steps", day), [0.0])[0] <= 0:
            res.skip(f"{metric}: day without steps (not a zero)")
            continue
        orig = (round(total * 1000, 1), "m") if metric == "distance" else None
        value = round(total) if metric == "steps" else round(total, 3)
        res.records.append(daily_record(user_id, KIND, file, metric, day, value, tzi, samples=int(n), original=orig))
