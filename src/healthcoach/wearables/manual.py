"""Manual entries: `healthcoach log weight 72.5kg` and `healthcoach log water 500ml`.

Weight is stored in kg (the typed value and unit kept in details), water in mL. Each entry is its
own record: several glasses of water on one day are all kept, so the id includes the entry's
timestamp (microseconds) as well as the day: resource_id = "<YYYY-MM-DD>T<HH:MM:SS.ffffff>".
Daily totals are computed by summing the day's entries.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from healthcoach.records.models import Category, Code, Quantity, Record, Source, record_id
from healthcoach.wearables.daily import METRICS, to_kg

FIRST_DAY = date(1900, 1, 1)
_AMOUNT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*([a-zA-Z. ]*)\s*$")
_WEIGHT_UNITS = {"kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg", "kilogram": "kg", "kilograms": "kg",
                 "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb", "st": "stone", "stone": "stone"}
_WATER_ML = {"ml": 1.0, "milliliter": 1.0, "milliliters": 1.0, "l": 1000.0, "liter": 1000.0, "liters": 1000.0,
             "litre": 1000.0, "litres": 1000.0, "cup": 240.0, "cups": 240.0, "glass": 250.0, "glasses": 250.0,
             "oz": 29.5735295625, "floz": 29.5735295625, "fl oz": 29.5735295625}


def parse_amount(kind: Literal["weight", "water"], amount: str) -> tuple[float, float, str]:
    """'72.5kg' → (72.5 kg canonical, 72.5, 'kg'); '2 cups' → (480.0 mL, 2, 'cups'). Raises ValueError."""
    m = _AMOUNT.match(amount or "")
    if not m:
        raise ValueError(f"could not read {amount!r}: write a number and a unit, e.g. "
                         f"{'72.5kg or 160 lb' if kind == 'weight' else '500ml or 2 cups'}")
    if len(m.group(1)) > 12:
        raise ValueError(f"{amount[:20]!r}…: the number is too long; write it with at most 12 digits")
    value = float(m.group(1).replace(",", "."))
    unit = m.group(2).strip().lower().rstrip(".")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{amount!r}: the amount must be more than zero")
    if kind == "weight":
        if unit not in _WEIGHT_UNITS:
            raise ValueError(f"{amount!r}: give a weight unit (kg, lb or stone), e.g. '72.5kg'")
        kg = to_kg(value, _WEIGHT_UNITS[unit])
        if not 2 <= kg <= 400:
            raise ValueError(f"{amount!r}: {kg:.1f} kg is outside 2-400 kg; check the number and unit")
        return kg, value, unit
    if kind == "water":
        if unit not in _WATER_ML:
            raise ValueError(f"{amount!r}: give a volume unit (ml, l, cups, glasses, oz), e.g. '500ml'")
        ml = value * _WATER_ML[unit]
        if ml > 10000:
            raise ValueError(f"{amount!r}: {ml:.0f} mL in one entry is more than 10 L; check the number")
        return ml, value, unit
    raise ValueError(f"unknown entry kind {kind!r} (weight or water)")


def manual_entry(user_id: str, kind: Literal["weight", "water"], amount: str, when: date | None = None,
                 *, now: datetime | None = None) -> Record:
    """A manual weight or water entry as a wearable record (source kind 'manual').

    `when` is the day (default today); `now` stamps the entry (default the current UTC time) and
    makes its id unique, so two entries on one day are two records.
    """
    canon, original, unit = parse_amount(kind, amount)
    stamp = now or datetime.now(UTC)
    day = when or stamp.date()
    if not FIRST_DAY <= day <= stamp.date() + timedelta(days=1):  # a day ahead: the user's time zone
        raise ValueError(f"{day.isoformat()} is not a day you can log: give a date between "
                         f"{FIRST_DAY.isoformat()} and today")
    at = datetime.combine(day, stamp.timetz())
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    info = METRICS[kind]
    codes = [Code(system="healthcoach", code=kind, display=info.label)]
    if info.loinc:
        codes.append(Code(system="LOINC", code=info.loinc, display=info.loinc_display))
    rid = f"{day.isoformat()}T{stamp.time().isoformat(timespec='microseconds')}"
    value = round(canon, 2) if kind == "weight" else round(canon, 1)
    details = {"metric": kind, "entry": "manual", "original_value": f"{original:g}", "original_unit": unit}
    return Record(
        id=record_id(user_id, "manual", "entry:" + kind, rid),
        user_id=user_id, category=Category.wearable, label=info.label, codes=tuple(codes),
        value=Quantity(value=value, unit=info.unit), status="final", start=at, end=None, date=day,
        details=details, source=Source(kind="manual", file=None, resource_type="entry:" + kind, resource_id=rid),
    )
