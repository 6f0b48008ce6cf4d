"""Units people read (not raw UCUM), and conversions that say how they were computed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from healthcoach.compose.citations import Citer
from healthcoach.records.models import Category, Code, Component, Quantity, Record, Source
from healthcoach.records.units import UNIT_IDS, can_convert, convert, display_unit, display_value


@pytest.mark.parametrize(("ucum", "shown"), [
    ("mL/min/{1.73_m2}", "mL/min/1.73 m²"),
    ("{score}", ""),
    ("{#}", ""),
    ("{steps}", "steps"),
    ("{steps}/d", "steps/day"),
    ("mm[Hg]", "mmHg"),
    ("kg/m2", "kg/m²"),
    ("Cel", "°C"),
    ("[degF]", "°F"),
    ("10*3/uL", "×10³/µL"),
    ("10*6/uL", "×10⁶/µL"),
    ("m[IU]/L", "mIU/L"),
    ("/a", "per year"),
    ("{T-score}", ""),
    ("{INR}", ""),
    ("mg/dL", "mg/dL"),
    ("%", "%"),
    ("/min", "/min"),
    ("min", "min"),
    (None, ""),
])
def test_display_units(ucum: str | None, shown: str) -> None:
    assert display_unit(ucum) == shown


def _rec(value: float | None = None, unit: str | None = None, comps: tuple[Component, ...] = ()) -> Record:
    return Record(id="r1", user_id="u", category=Category.vital, label="x", codes=(Code(system="LOINC", code="1-8"),),
                  value=Quantity(value=value, unit=unit) if value is not None else None, components=comps,
                  start=datetime(2025, 1, 2, tzinfo=UTC), source=Source(kind="fhir", resource_type="Observation",
                                                                       resource_id="o1"))


def test_values_show_readable_units() -> None:
    assert display_value(_rec(90, "mL/min/{1.73_m2}")) == "90 mL/min/1.73 m²"
    assert display_value(_rec(4, "{score}")) == "4"
    assert display_value(_rec(8432, "{steps}")) == "8432 steps"


def test_a_citation_never_repeats_a_unit() -> None:
    # A sleep record: a value in minutes plus stage components. Shown once: "420 min", not "420 min min".
    stages = (Component(label="deep", value=Quantity(value=80, unit="min")),)
    cite = Citer()
    cite(_rec(420, "min", stages))
    c = cite.citations[0]
    assert f"{c.value} {c.unit or ''}".strip().count("min") == 1
    cite(_rec(72, "/min", (Component(label="max", value=Quantity(value=120, unit="/min")),)).model_copy(
        update={"id": "r2"}))
    c = cite.citations[1]
    assert f"{c.value} {c.unit or ''}".count("/min") == 1


@pytest.mark.parametrize(("value", "ucum", "target", "text", "rule"), [
    (70.0, "kg", "lb", "154.3 lb", "1 kg = 2.20462 lb"),
    (154.3, "[lb_av]", "kg", "70 kg", "1 kg = 2.20462 lb"),
    (162.2, "cm", "ft_in", "5 ft 3.9 in (63.9 in)", "1 in = 2.54 cm, 12 in = 1 ft"),
    (36.6, "Cel", "degF", "97.9 °F", "°F = °C × 9/5 + 32"),
    (98.6, "[degF]", "Cel", "37 °C", "°C = (°F − 32) × 5/9"),
    (99.0, "mg/dL", "mmol/L", "5.5 mmol/L", "glucose: 1 mmol/L = 18.016 mg/dL"),
    (5.5, "mmol/L", "mg/dL", "99 mg/dL", "glucose: 1 mmol/L = 18.016 mg/dL"),
])
def test_conversions(value: float, ucum: str, target: str, text: str, rule: str) -> None:
    conv = convert(value, ucum, target)
    assert conv is not None and conv.text == text and conv.rule == rule
    # Every number the answer writes for it (value and rule) is listed, so the guard can check them.
    import re

    written = set(re.findall(r"\d+(?:\.\d+)?", f"{conv.text} {conv.rule}"))
    assert written <= set(conv.numbers)


def test_conversions_only_within_one_quantity_and_concept() -> None:
    assert convert(70, "kg", "degF") is None
    assert convert(5.4, "%", "mmol/L") is None
    assert can_convert("weight", "lb") and can_convert("glucose", "mmol/L")
    assert not can_convert("a1c", "mmol/L") and not can_convert("blood_pressure", "lb")
    for unit in UNIT_IDS:
        assert any(can_convert(c, unit) for c in ("weight", "height", "temperature", "glucose"))
