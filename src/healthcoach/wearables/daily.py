"""Daily summary records: the metric table, canonical units, and the helpers every adapter shares.

Conventions (the planner and composer rely on them): one Record per (source kind, metric, local
calendar day); `date` = the local day, `start` = local midnight (tz-aware), `end` = next midnight;
`details["metric"]` names the metric; the value is in the canonical unit of METRICS; a day
without data has no record (never a zero).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from healthcoach.records.models import (
    Category,
    Code,
    Component,
    Quantity,
    Record,
    Source,
    format_number,
    record_id,
)


@dataclass(frozen=True)
class MetricInfo:
    """A daily metric: what a person calls it, its canonical unit, and its LOINC code when one fits."""

    label: str
    unit: str
    loinc: str | None = None
    loinc_display: str | None = None


METRICS: dict[str, MetricInfo] = {
    "steps": MetricInfo("Steps", "{steps}", "55423-8", "Number of steps in unspecified time Pedometer"),
    "distance": MetricInfo("Distance", "km"),
    "active_minutes": MetricInfo("Active minutes", "min"),
    "calories": MetricInfo("Calories burned", "kcal"),
    "resting_heart_rate": MetricInfo("Resting heart rate", "/min", "40443-4", "Heart rate --resting"),
    "heart_rate": MetricInfo("Heart rate", "/min", "8867-4", "Heart rate"),
    "sleep": MetricInfo("Sleep", "min", "93832-4", "Sleep duration"),
    "spo2": MetricInfo("Blood oxygen (SpO2)", "%", "59408-5", "Oxygen saturation by Pulse oximetry"),
    "hrv": MetricInfo("Heart rate variability", "ms", "80404-7", "R-R interval.standard deviation"),
    "weight": MetricInfo("Weight", "kg", "29463-7", "Body weight"),
    "body_fat": MetricInfo("Body fat", "%", "41982-0", "Percentage of body fat Measured"),
    "breathing_rate": MetricInfo("Breathing rate", "/min", "9279-1", "Respiratory rate"),
    "vo2max": MetricInfo("Cardio fitness (VO2 max)", "mL/kg/min"),
    "water": MetricInfo("Water", "mL"),
}

LB_PER_KG = 2.2046226218
KG_PER_STONE = 6.35029318


def resolve_tz(tz: str | None) -> tzinfo | None:
    """ZoneInfo for an IANA name; None when no name is given (callers then use offsets in the data, else UTC)."""
    if not tz:
        return None
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {tz!r} (expected an IANA name such as 'Europe/Paris')") from exc


def day_bounds(day: date, tzi: tzinfo | None) -> tuple[datetime, datetime]:
    """Local midnight of `day` and of the next day, tz-aware (UTC when no zone is known)."""
    zone = tzi or UTC
    start = datetime.combine(day, time(0), tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


def offset_tz(text: str) -> timezone:
    """'-0800' or '+01:00' → a fixed-offset tzinfo."""
    t = text.replace(":", "").strip()
    sign = -1 if t.startswith("-") else 1
    digits = t.lstrip("+-")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))


def to_float(value: object) -> float | None:
    """A number from a number or a numeric string ('7428', '1.14'); None for empty, null or NaN."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        f = float(value)
    elif isinstance(value, str):
        s = value.strip().replace(",", "")
        if not s:
            return None
        try:
            f = float(s)
        except ValueError:
            return None
    else:
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def weight_unit_from_bmi(weight: float, bmi: float | None, default: str) -> str:
    """'kg', 'lb' or 'stone' for a Fitbit weight whose unit follows the account setting.

    weight/BMI = height² in the weight's unit: 2.2-4.5 for kg (1.5-2.1 m), 5-9.8 for lb, 0.35-0.7 for stone;
    the ranges do not overlap, so BMI settles the unit. Without a BMI the adapter's default is used.
    """
    if not bmi or bmi <= 0:
        return default
    ratio = weight / bmi
    if ratio < 1.2:
        return "stone"
    return "kg" if ratio < 4.75 else "lb"


def to_kg(value: float, unit: str) -> float:
    """Weight in kg from kg, lb or stone."""
    u = unit.lower()
    if u in ("lb", "lbs", "pound", "pounds", "[lb_av]"):
        return value / LB_PER_KG
    if u in ("stone", "st"):
        return value * KG_PER_STONE
    if u == "g":
        return value / 1000
    return value


def component(label: str, value: float, unit: str) -> Component:
    """A labelled part of a daily value (min/avg/max, sleep stages, active-minute intensities)."""
    return Component(label=label, value=Quantity(value=value, unit=unit))


def daily_record(
    user_id: str,
    kind: str,
    file: str | None,
    metric: str,
    day: date,
    value: float,
    tzi: tzinfo | None,
    *,
    components: Iterable[Component] = (),
    details: Mapping[str, object] | None = None,
    samples: int | None = None,
    device: str | None = None,
    original: tuple[float, str] | None = None,
    label: str | None = None,
) -> Record:
    """One daily summary record in the shared convention (see the module docstring)."""
    info = METRICS[metric]
    codes = [Code(system="healthcoach", code=metric, display=info.label)]
    if info.loinc:
        codes.append(Code(system="LOINC", code=info.loinc, display=info.loinc_display))
    det: dict[str, str] = {"metric": metric}
    for k, v in (details or {}).items():
        if v is not None:
            det[k] = format_number(v) if isinstance(v, float | int) and not isinstance(v, bool) else str(v)
    if samples is not None:
        det["samples"] = str(samples)
    if device:
        det["device"] = device
    if original is not None:
        det["original_value"] = format_number(original[0])
        det["original_unit"] = original[1]
    start, end = day_bounds(day, tzi)
    rtype = "daily:" + metric
    rid = day.isoformat()
    return Record(
        id=record_id(user_id, kind, rtype, rid),
        user_id=user_id,
        category=Category.wearable,
        label=label or info.label,
        codes=tuple(codes),
        value=Quantity(value=value, unit=info.unit),
        components=tuple(components),
        status="final",
        start=start,
        end=end,
        date=day,
        details=det,
        source=Source(kind=kind, file=file, resource_type=rtype, resource_id=rid),
    )


class Agg:
    """Running count/sum/min/max of one metric on one day."""

    __slots__ = ("hi", "lo", "n", "total")

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.lo = math.inf
        self.hi = -math.inf

    def add(self, v: float) -> None:
        self.n += 1
        self.total += v
        if v < self.lo:
            self.lo = v
        if v > self.hi:
            self.hi = v

    @property
    def mean(self) -> float:
        return self.total / self.n if self.n else math.nan


class SeenSeconds:
    """Which second of each local day already has a sample: 10.8 KB per day, so a year of 5-second
    heart-rate samples is de-duplicated in ~4 MB (a set of timestamps would take hundreds of MB)."""

    __slots__ = ("_days",)

    def __init__(self) -> None:
        self._days: dict[object, bytearray] = {}

    def add(self, key: object, second: int) -> bool:
        """Mark `second` (0-86399) of `key` (a day, or a (day, source) pair); False if already seen."""
        bm = self._days.get(key)
        if bm is None:
            bm = self._days[key] = bytearray(10800)
        byte, bit = divmod(second, 8)
        mask = 1 << bit
        if bm[byte] & mask:
            return False
        bm[byte] |= mask
        return True


def heart_rate_record(
    user_id: str, kind: str, file: str | None, day: date, agg: Agg, tzi: tzinfo | None, device: str | None = None
) -> Record:
    """Daily heart rate: value = average, components min/avg/max."""
    avg = round(agg.mean, 1)
    comps = [component("min", agg.lo, "/min"), component("avg", avg, "/min"), component("max", agg.hi, "/min")]
    return daily_record(user_id, kind, file, "heart_rate", day, avg, tzi, components=comps, samples=agg.n, device=device)
