"""Units as people read them, and the output conversions a question can ask for.

Records keep the UCUM unit their source wrote (`mL/min/{1.73_m2}`, `{score}`, `/min`); answers show
`mL/min/1.73 m²`, a bare score, `/min`. Conversions (kg↔lb, cm↔ft-in, °C↔°F, glucose mg/dL↔mmol/L) return
the converted number together with the rule used, so an answer can say how it computed it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from healthcoach.records.models import Quantity, Record, ReferenceRange, blood_pressure, format_number

UnitId = Literal["lb", "kg", "ft_in", "cm", "degF", "Cel", "mmol/L", "mg/dL"]
UNIT_IDS: tuple[str, ...] = ("lb", "kg", "ft_in", "cm", "degF", "Cel", "mmol/L", "mg/dL")
# UCUM (as exports write it) → what a person reads. Annotations alone ({score}, {#}) show no unit.
DISPLAY_UNITS: dict[str, str] = {
    "mm[Hg]": "mmHg",
    "mL/min/{1.73_m2}": "mL/min/1.73 m²",
    "mL/min/1.73m2": "mL/min/1.73 m²",
    "kg/m2": "kg/m²",
    "Cel": "°C",
    "[degF]": "°F",
    "degF": "°F",
    "10*3/uL": "×10³/µL",
    "10*6/uL": "×10⁶/µL",
    "10*9/L": "×10⁹/L",
    "10*12/L": "×10¹²/L",
    "ug/dL": "µg/dL",
    "ug/L": "µg/L",
    "uL": "µL",
    "m[IU]/L": "mIU/L",
    "[iU]/L": "IU/L",
    "/a": "per year",
    "{steps}": "steps",
    "{steps}/d": "steps/day",
    "/d": "per day",
    "[lb_av]": "lb",
    "[in_i]": "in",
    "[ft_i]": "ft",
    "h": "h",
    "{beats}/min": "/min",
}
_ANNOTATION = re.compile(r"\{[^}]*\}")

# Per quantity: the UCUM spellings that mean a unit id.
_ALIASES: dict[str, set[str]] = {
    "kg": {"kg"},
    "lb": {"[lb_av]", "lb", "lbs"},
    "cm": {"cm"},
    "ft_in": {"[in_i]", "in"},
    "Cel": {"Cel", "°C", "C"},
    "degF": {"[degF]", "degF", "°F", "F"},
    "mg/dL": {"mg/dL"},
    "mmol/L": {"mmol/L"},
}
SHOWN_UNIT = {"kg": "kilograms", "lb": "pounds", "cm": "centimetres", "ft_in": "feet and inches", "Cel": "Celsius",
              "degF": "Fahrenheit", "mg/dL": "mg/dL", "mmol/L": "mmol/L"}
# Which concepts each kind of conversion applies to (glucose factors are glucose's own).
CONVERTIBLE: dict[str, tuple[str, ...]] = {
    "mass": ("weight",),
    "length": ("height", "waist_circumference"),
    "temperature": ("temperature",),
    "glucose": ("glucose",),
}
QUANTITY_OF = {"kg": "mass", "lb": "mass", "cm": "length", "ft_in": "length", "Cel": "temperature",
               "degF": "temperature", "mg/dL": "glucose", "mmol/L": "glucose"}
LB_PER_KG = 2.20462
CM_PER_IN = 2.54
GLUCOSE_MG_PER_MMOL = 18.016


def display_unit(unit: str | None) -> str:
    """A UCUM unit as a person reads it ('' for bare annotations such as {score})."""
    if not unit:
        return ""
    if unit in DISPLAY_UNITS:
        return DISPLAY_UNITS[unit]
    return " ".join(_ANNOTATION.sub("", unit).split())


def display_quantity(q: Quantity) -> str:
    """'7.2 %', '< 0.5 mg/dL', '90 mL/min/1.73 m²', '4' (a score)."""
    prefix = f"{q.comparator} " if q.comparator else ""
    unit = display_unit(q.unit)
    return f"{prefix}{format_number(q.value)} {unit}".strip()


def display_value(rec: Record) -> str:
    """A record's value for people: blood pressure as '128/82 mmHg', units readable, else its text."""
    bp = blood_pressure(rec)
    if bp:
        return bp
    if rec.value is not None:
        return display_quantity(rec.value)
    if rec.components:
        return "; ".join(f"{c.label} {display_quantity(c.value) if c.value else (c.text or '')}".strip()
                         for c in rec.components)
    return rec.text or ""


def display_range(rr: ReferenceRange) -> str:
    """A reference range with a readable unit: '4-5.6 %', '>= 60 mL/min/1.73 m²', or the source's text."""
    if rr.text:
        return rr.text
    return rr.model_copy(update={"unit": display_unit(rr.unit) or None}).display()


@dataclass(frozen=True)
class Converted:
    """A value converted for display: the text, the numbers written, and how."""

    text: str  # '154.3 lb', '5 ft 3.9 in'
    numbers: tuple[str, ...]  # every number the text and the rule write, as written
    rule: str  # '1 kg = 2.20462 lb'


def unit_id(ucum: str | None) -> str | None:
    """The conversion unit id a record's UCUM unit is, or None."""
    for uid, names in _ALIASES.items():
        if ucum in names:
            return uid
    return None


def can_convert(concept_id: str, target: str) -> bool:
    """Whether values of this concept may be shown in the target unit."""
    return concept_id in CONVERTIBLE.get(QUANTITY_OF.get(target, ""), ())


def to_base(value: float, ucum: str | None) -> float | None:
    """A value in its quantity's base unit (kg, cm, °C, mg/dL), or None when the unit is unknown."""
    uid = unit_id(ucum)
    if uid is None:
        return None
    return {
        "kg": value, "lb": value / LB_PER_KG, "cm": value, "ft_in": value * CM_PER_IN, "Cel": value,
        "degF": (value - 32) * 5 / 9, "mg/dL": value, "mmol/L": value * GLUCOSE_MG_PER_MMOL,
    }[uid]


def convert(value: float, ucum: str | None, target: str) -> Converted | None:
    """`value` (in `ucum`) shown in the target unit, or None when they are not the same kind of quantity."""
    source = unit_id(ucum)
    if source is None or QUANTITY_OF.get(source) != QUANTITY_OF.get(target):
        return None
    base = to_base(value, ucum)
    assert base is not None
    if target == "kg":
        v = round(base, 1)
        return Converted(f"{format_number(v)} kg", (format_number(v), "1", "2.20462"), "1 kg = 2.20462 lb")
    if target == "lb":
        v = round(base * LB_PER_KG, 1)
        return Converted(f"{format_number(v)} lb", (format_number(v), "1", "2.20462"), "1 kg = 2.20462 lb")
    if target == "cm":
        v = round(base, 1)
        return Converted(f"{format_number(v)} cm", (format_number(v), "1", "2.54"), "1 in = 2.54 cm")
    if target == "ft_in":
        inches = round(base / CM_PER_IN, 1)
        feet, rest = divmod(inches, 12)
        rest = round(rest, 1)
        nums = (format_number(feet), format_number(rest), format_number(inches), "1", "2.54", "12")
        return Converted(f"{format_number(feet)} ft {format_number(rest)} in ({format_number(inches)} in)", nums,
                         "1 in = 2.54 cm, 12 in = 1 ft")
    if target == "degF":
        v = round(base * 9 / 5 + 32, 1)
        return Converted(f"{format_number(v)} °F", (format_number(v), "9", "5", "32"), "°F = °C × 9/5 + 32")
    if target == "Cel":
        v = round(base, 1)
        return Converted(f"{format_number(v)} °C", (format_number(v), "9", "5", "32"), "°C = (°F − 32) × 5/9")
    if target == "mmol/L":
        v = round(base / GLUCOSE_MG_PER_MMOL, 1)
        return Converted(f"{format_number(v)} mmol/L", (format_number(v), "1", "18.016"),
                         "glucose: 1 mmol/L = 18.016 mg/dL")
    v = round(base)
    return Converted(f"{format_number(v)} mg/dL", (format_number(v), "1", "18.016"),
                     "glucose: 1 mmol/L = 18.016 mg/dL")
