"""A seeded generator of a minute-level Fitbit Takeout export, with its own truth.

`generate_fitbit_takeout(out_dir, start, days)` writes Takeout/Fitbit/Global Export Data under
out_dir: heart_rate-<day>.json (one sample every 5-15 s while worn, like real Fitbit), per-minute
steps/calories/distance (string values, distance in cm) in monthly files, daily active-minute
series, resting heart rate, sleep logs (stages) and weekly weigh-ins (lb), plus ~4% days without
wear (no heart rate, zero steps, basal calories only). Files are written sample by sample, so
memory stays flat. The returned truth holds the daily aggregates computed while writing.
"""

from __future__ import annotations

import json
import math
import random
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any


class _ArrayWriter:
    """Append elements to a JSON array file without holding them."""

    def __init__(self, path: Path) -> None:
        self.fh: IO[str] = path.open("w", encoding="utf-8")
        self.fh.write("[")
        self.first = True

    def write(self, obj: Any) -> None:
        self.fh.write(("" if self.first else ",") + json.dumps(obj, separators=(",", ":")))
        self.first = False

    def close(self) -> None:
        self.fh.write("]")
        self.fh.close()


def _mdy(d: date) -> str:
    return d.strftime("%m/%d/%y")


def generate_fitbit_takeout(out_dir: Path, start: date, days: int = 365, seed: int = 7) -> dict[str, Any]:
    """Write `days` days from `start`; return {"days": {iso: aggregates}, "no_wear_days": [...], "samples": {...}}."""
    rng = random.Random(seed)
    gdir = Path(out_dir) / "Takeout" / "Fitbit" / "Global Export Data"
    gdir.mkdir(parents=True, exist_ok=True)
    dates = [start + timedelta(days=i) for i in range(days)]
    worn = {d: rng.random() > 0.04 for d in dates}
    truth: dict[str, Any] = {"days": {}, "no_wear_days": [d.isoformat() for d in dates if not worn[d]],
                             "timezone_assumption": "local wall-clock, no offset", "samples": {}}
    writers: dict[str, _ArrayWriter] = {}
    month = None
    hr_total = minute_total = 0
    for d in dates:
        if (d.year, d.month) != month:
            for w in writers.values():
                w.close()
            month = (d.year, d.month)
            writers = {name: _ArrayWriter(gdir / f"{name}-{d.isoformat()}.json") for name in (
                "steps", "calories", "distance", "very_active_minutes", "moderately_active_minutes",
                "lightly_active_minutes", "sedentary_minutes", "resting_heart_rate", "sleep", "weight")}
        day: dict[str, Any] = {}
        minute_total += _minutes(rng, d, worn[d], writers, day)
        if worn[d]:
            hr_total += _heart_rate(rng, gdir, d, day)
            rhr = round(58 + 3 * math.sin(d.toordinal() / 20) + rng.uniform(-1.5, 1.5), 2)
            writers["resting_heart_rate"].write({"dateTime": f"{_mdy(d)} 00:00:00",
                                                 "value": {"date": _mdy(d), "value": rhr, "error": 6.5}})
            day["resting_heart_rate"] = rhr
            if worn.get(d - timedelta(days=1), True):
                day["sleep"] = _sleep(rng, d, writers["sleep"])
            if d.weekday() == 0:
                lb = round(150 + 2 * math.sin(d.toordinal() / 45) + rng.uniform(-0.6, 0.6), 1)
                writers["weight"].write({"logId": d.toordinal(), "weight": lb, "bmi": round(lb / 2.2046 / 2.9929, 2),
                                         "date": _mdy(d), "time": "07:01:00", "source": "Aria"})
                day["weight_kg"] = round(lb / 2.2046226218, 2)
            truth["days"][d.isoformat()] = day
    for w in writers.values():
        w.close()
    truth["samples"] = {"heart_rate": hr_total, "minute_series": minute_total}
    return truth


def _minutes(rng: random.Random, d: date, worn: bool, w: dict[str, _ArrayWriter], day: dict[str, Any]) -> int:
    steps_total, cal_total, cm_total = 0, 0.0, 0.0
    active = {"very": 0, "moderately": 0, "lightly": 0, "sedentary": 0}
    walk_hours = {7, 8, 12, 17, 18} if d.weekday() < 5 else {9, 10, 11, 15, 16}
    for m in range(1440):
        stamp = f"{_mdy(d)} {m // 60:02d}:{m % 60:02d}:00"
        steps = 0
        if worn and 6 <= m // 60 <= 22:
            p = 0.35 if m // 60 in walk_hours else 0.08
            steps = rng.randint(20, 130) if rng.random() < p else 0
        cal = round(1.1 + steps * 0.045 + rng.uniform(-0.05, 0.05), 2)
        cm = round(steps * 72.5 + (rng.uniform(0, 5) if steps else 0), 1)
        w["steps"].write({"dateTime": stamp, "value": str(steps)})
        w["calories"].write({"dateTime": stamp, "value": f"{cal:.2f}"})
        w["distance"].write({"dateTime": stamp, "value": str(cm)})
        steps_total += steps
        cal_total += float(f"{cal:.2f}")
        cm_total += float(str(cm))
        level = "very" if steps > 110 else "moderately" if steps > 90 else "lightly" if steps else "sedentary"
        active[level] += 1
    for level, n in active.items():
        w[f"{level}_active_minutes" if level != "sedentary" else "sedentary_minutes"].write(
            {"dateTime": f"{_mdy(d)} 00:00:00", "value": str(n)})
    if worn:
        day.update(steps=steps_total, calories=round(cal_total, 2), distance_km=round(cm_total / 100000, 3),
                   active_minutes=active["very"] + active["moderately"], active_levels=active)
    return 1440 * 3


def _heart_rate(rng: random.Random, gdir: Path, d: date, day: dict[str, Any]) -> int:
    writer = _ArrayWriter(gdir / f"heart_rate-{d.isoformat()}.json")
    t, n, total, lo, hi, skipped = rng.randint(0, 9), 0, 0.0, 999, 0, 0
    while t < 86400:
        hour = t // 3600
        base = 56 if hour < 6 or hour >= 23 else 72
        bpm = max(40, min(190, int(base + 12 * math.sin(t / 5000) + rng.gauss(0, 5))))
        conf = 0 if rng.random() < 0.01 else rng.choice((2, 3, 3, 3))
        writer.write({"dateTime": f"{_mdy(d)} {hour:02d}:{t % 3600 // 60:02d}:{t % 60:02d}",
                      "value": {"bpm": bpm, "confidence": conf}})
        if conf == 0:
            skipped += 1
        else:
            n, total, lo, hi = n + 1, total + bpm, min(lo, bpm), max(hi, bpm)
        t += rng.randint(5, 15)
    writer.close()
    day["heart_rate"] = {"samples": n, "min": lo, "max": hi, "avg": round(total / n, 1), "confidence_0": skipped}
    return n + skipped


def _sleep(rng: random.Random, d: date, w: _ArrayWriter) -> dict[str, Any]:
    bed = datetime.combine(d - timedelta(days=1), datetime.min.time()) + timedelta(hours=22, minutes=rng.randint(30, 90))
    stages = {"deep": rng.randint(50, 110), "light": rng.randint(180, 260), "rem": rng.randint(60, 120),
              "wake": rng.randint(10, 45)}
    in_bed = sum(stages.values())
    end = bed + timedelta(minutes=in_bed)
    asleep = in_bed - stages["wake"]
    fmt = "%Y-%m-%dT%H:%M:%S.000"
    w.write({"logId": 4_800_000_000 + d.toordinal(), "dateOfSleep": end.date().isoformat(),
             "startTime": bed.strftime(fmt), "endTime": end.strftime(fmt), "duration": in_bed * 60000,
             "minutesToFallAsleep": 0, "minutesAsleep": asleep, "minutesAwake": stages["wake"],
             "minutesAfterWakeup": 0, "timeInBed": in_bed, "efficiency": round(100 * asleep / in_bed),
             "type": "stages", "infoCode": 0, "logType": "auto_detected", "mainSleep": True,
             "levels": {"summary": {k: {"count": 1, "minutes": v} for k, v in stages.items()}, "data": []}})
    return {"minutesAsleep": asleep, "timeInBed": in_bed, "deep_min": stages["deep"], "rem_min": stages["rem"]}
