"""iHealth API bodies (SpO2, sleep; blood pressure and glucose are counted as not wearable) → daily records.

`MDate`/`StartTime`/`EndTime` are the wearer's LOCAL wall-clock time written as epoch seconds,
with the offset in `TimeZone` ('-0800'): the wall-clock is read as UTC and the offset attached
(as the Open mHealth Shimmer mapper does). `tz`, when given, converts to that zone first.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any

from healthcoach.errors import IngestError
from healthcoach.records.base import AdapterResult
from healthcoach.wearables.daily import Agg, offset_tz, resolve_tz, to_float
from healthcoach.wearables.jsonstream import load_json
from healthcoach.wearables.sleep import SleepDay
from healthcoach.wearables.vendors import emit_averaged

KIND = "ihealth"
_NOT_WEARABLE = {"BPDataList": "blood pressure (not a wearable metric)", "BGDataList": "blood glucose (not a wearable metric)"}


def _local(epoch: float, zone: str | None, tzi: tzinfo | None) -> datetime:
    wall = datetime.fromtimestamp(epoch, UTC).replace(tzinfo=None)
    dt = wall.replace(tzinfo=offset_tz(zone) if zone else UTC)
    return dt.astimezone(tzi) if tzi else dt


def load_ihealth(path: Path, user_id: str, tz: str | None = None) -> AdapterResult:
    """Read one iHealth body."""
    doc: dict[str, Any] = load_json(path)
    tzi = resolve_tz(tz)
    res = AdapterResult()
    try:
        for key, reason in _NOT_WEARABLE.items():
            if key in doc:
                res.skip(reason, len(doc[key] or []))
        spo2: dict[date, Agg] = {}
        for e in doc.get("BODataList") or []:
            res.resources_seen["spo2"] += 1
            v = to_float(e.get("BO"))
            if not v:
                res.skip("spo2: entry without a value")
                continue
            spo2.setdefault(_local(float(e["MDate"]), e.get("TimeZone"), tzi).date(), Agg()).add(v)
        emit_averaged(res, user_id, KIND, path.name, "spo2", spo2, tzi, digits=1)
        days: dict[date, tuple[SleepDay, tzinfo | None]] = {}
        for e in doc.get("SRDataList") or []:
            res.resources_seen["sleep"] += 1
            start = _local(float(e["StartTime"]), e.get("TimeZone"), tzi)
            end = _local(float(e["EndTime"]), e.get("TimeZone"), tzi)
            asleep = to_float(e.get("HoursSlept")) or 0.0  # minutes, despite the name
            awake = to_float(e.get("Awaken")) or 0.0
            sd, _ = days.setdefault(end.date(), (SleepDay(), end.tzinfo))
            sd.add(asleep, (end - start).total_seconds() / 60, {"asleep": asleep, "awake": awake},
                   efficiency=to_float(e.get("SleepEfficiency")), start=start, end=end)
        for day, (sd, dtz) in sorted(days.items()):
            res.records.append(sd.record(user_id, KIND, path.name, day, dtz))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise IngestError(f"{path.name}: unexpected iHealth body ({exc})") from exc
    return res
