"""Sleep: one record per wake-up day.

The sleep day is the local calendar day on which a sleep period ENDS (the wake-up date), so
"last night" is the record dated today. Several periods ending on one day (a main sleep and naps)
are summed; details["nights"] counts main sleeps and details["naps"] the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from healthcoach.records.models import Record
from healthcoach.wearables.daily import component, daily_record, to_float

# Fitbit level names → component labels ("wake" and classic "awake" are both awake time).
_STAGE_LABELS = {"deep": "deep", "light": "light", "rem": "rem", "wake": "awake", "awake": "awake",
                 "asleep": "asleep", "restless": "restless"}
_STAGE_ORDER = ("deep", "light", "rem", "asleep", "restless", "awake")


@dataclass
class SleepDay:
    """Sleep periods that end on one day, summed."""

    asleep: float = 0.0
    in_bed: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    nights: int = 0
    naps: int = 0
    efficiency: float | None = None  # of the main sleep when the source states it
    bedtime: str | None = None
    wake_time: str | None = None
    device: str | None = None

    def add(
        self,
        asleep: float,
        in_bed: float,
        stages: Mapping[str, float],
        *,
        main: bool = True,
        efficiency: float | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> None:
        """Add one sleep period."""
        self.asleep += asleep
        self.in_bed += in_bed
        for k, v in stages.items():
            self.stages[k] = self.stages.get(k, 0.0) + v
        if main:
            self.nights += 1
            if efficiency is not None:
                self.efficiency = efficiency
            if start is not None:
                self.bedtime = start.isoformat(timespec="minutes")
            if end is not None:
                self.wake_time = end.isoformat(timespec="minutes")
        else:
            self.naps += 1

    def record(self, user_id: str, kind: str, file: str | None, day: date, tzi: tzinfo | None) -> Record:
        """The daily sleep record: value = minutes asleep, components = stage minutes."""
        eff = self.efficiency
        if (eff is None or self.nights + self.naps > 1) and self.in_bed > 0:
            eff = round(100 * self.asleep / self.in_bed)
        comps = [component(k, round(self.stages[k], 1), "min") for k in _STAGE_ORDER if k in self.stages]
        details: dict[str, object] = {
            "efficiency": eff,
            "time_in_bed_min": round(self.in_bed, 1),
            "nights": self.nights,
            "naps": self.naps or None,
            "bedtime": self.bedtime,
            "wake_time": self.wake_time,
        }
        return daily_record(user_id, kind, file, "sleep", day, round(self.asleep, 1), tzi,
                            components=comps, details=details, device=self.device)


def parse_local(text: str) -> datetime:
    """Fitbit sleep times: 'YYYY-MM-DDTHH:MM:SS.000', local wall-clock without an offset."""
    return datetime.fromisoformat(text[:19])


def add_fitbit_log(days: dict[date, SleepDay], log: Mapping[str, Any], tzi: tzinfo | None) -> date:
    """Add a Fitbit sleep log (Takeout or Web API v1/v1.2) to its wake-up day; return that day.

    The day is the date of endTime (the wake-up date), falling back to dateOfSleep when endTime is absent.
    Raises KeyError/ValueError on a log without usable times or minutes (the caller counts it).
    """
    end_text = log.get("endTime")
    start = parse_local(str(log["startTime"])) if log.get("startTime") else None
    if end_text:
        end = parse_local(str(end_text))
    elif start is not None and log.get("duration"):
        end = start + timedelta(milliseconds=float(log["duration"]))
    else:
        end = None
    day = end.date() if end else date.fromisoformat(str(log["dateOfSleep"]))
    asleep = to_float(log.get("minutesAsleep"))
    if asleep is None:
        raise ValueError("no minutesAsleep")
    in_bed = to_float(log.get("timeInBed")) or asleep
    summary = (log.get("levels") or {}).get("summary") or {}
    stages: dict[str, float] = {}
    for name, body in summary.items():
        label = _STAGE_LABELS.get(name)
        minutes = to_float(body.get("minutes")) if isinstance(body, Mapping) else None
        if label and minutes is not None:
            stages[label] = stages.get(label, 0.0) + minutes
    main_flag = log.get("mainSleep", log.get("isMainSleep", True))
    sd = days.setdefault(day, SleepDay())
    if tzi is not None:
        start = start.replace(tzinfo=tzi) if start else None
        end = end.replace(tzinfo=tzi) if end else None
    sd.add(asleep, in_bed, stages, main=bool(main_flag), efficiency=to_float(log.get("efficiency")), start=start, end=end)
    return day
