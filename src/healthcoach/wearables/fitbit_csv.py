"""The CSV folders of a Fitbit Takeout: 'Oxygen Saturation (SpO2)' and 'Heart Rate Variability'.

Daily summary files win over per-minute files for the same day. Per-minute SpO2 timestamps are
UTC ('Z') and are converted to the wearer's zone (when given) before picking the local day;
timestamps without an offset are local wall-clock time.
"""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path

from healthcoach.errors import IngestError
from healthcoach.records.base import AdapterResult
from healthcoach.wearables.daily import Agg, component, daily_record, to_float

_FOLDERS = {"Oxygen Saturation (SpO2)": "spo2", "Heart Rate Variability": "hrv"}
# value columns, most specific first
_VALUE_COLUMNS = {"spo2": ("average_value", "value", "spo2"), "hrv": ("rmssd", "value")}


def _local_day(stamp: str, tzi: tzinfo | None) -> date:
    text = stamp.strip().replace("Z", "+00:00")
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is not None:
        dt = dt.astimezone(tzi or UTC)
    return dt.date()


def load_csv_folders(root: Path, user_id: str, kind: str, tzi: tzinfo | None, result: AdapterResult) -> None:
    """Add daily SpO2 / HRV records from the Takeout CSV folders under `root`, when present."""
    for folder, metric in _FOLDERS.items():
        base = root / folder
        if not base.is_dir():
            continue
        daily: dict[date, tuple[Agg, str]] = {}
        minute: dict[date, tuple[Agg, str]] = {}
        for path in sorted(base.glob("*.csv")):
            name = path.name.lower()
            is_detail = "minute" in name or "details" in name
            if metric == "spo2" and not ("spo2" in name or "oxygen" in name):
                result.skip("Takeout CSV not imported (unknown)")
                continue
            target = minute if is_detail else daily
            _read_csv(path, metric, tzi, target, result)
        for day in sorted(set(daily) | set(minute)):
            agg, file = daily.get(day) or minute[day]
            if day in daily and day in minute:
                result.skip(f"{metric}: per-minute samples on a day with a daily summary", minute[day][0].n)
            value = round(agg.mean, 1 if metric == "spo2" else 2)
            comps = []
            if metric == "spo2" and agg.n > 1:
                comps = [component("min", agg.lo, "%"), component("avg", value, "%"), component("max", agg.hi, "%")]
            result.records.append(daily_record(user_id, kind, file, metric, day, value, tzi, components=comps,
                                               samples=agg.n, details={"measure": "RMSSD"} if metric == "hrv" else None))


def _read_csv(path: Path, metric: str, tzi: tzinfo | None, target: dict[date, tuple[Agg, str]],
              result: AdapterResult) -> None:
    result.resources_seen[f"csv:{metric}"] += 1
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip().lower() for f in reader.fieldnames or []]
        col = next((c for c in _VALUE_COLUMNS[metric] if c in fields), None)
        if "timestamp" not in fields or col is None:
            raise IngestError(f"{path.name}: expected columns 'timestamp' and one of {_VALUE_COLUMNS[metric]}")
        seen: set[str] = set()
        for line, row in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): v for k, v in row.items()}
            stamp, value = row.get("timestamp") or "", to_float(row.get(col))
            if not stamp or value is None or value <= 0:
                result.skip(f"{metric}: CSV row without a timestamp or value")
                continue
            if stamp in seen:
                result.skip(f"{metric}: duplicate sample (same timestamp)")
                continue
            seen.add(stamp)
            try:
                day = _local_day(stamp, tzi)
            except ValueError as exc:
                raise IngestError(f"{path.name}: line {line}: bad timestamp {stamp!r}") from exc
            agg, _ = target.setdefault(day, (Agg(), path.name))
            agg.add(value)
