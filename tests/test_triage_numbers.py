"""Reading numbers: every unit and format a person types becomes the typed value the triage
thresholds check (temperatures in °C, ages in months, glucose in mg/dL, dose multiples)."""

from __future__ import annotations

import math

import pytest

from healthcoach.guardrails.doses import read_doses
from healthcoach.guardrails.numbers import (
    BloodPressure,
    Readings,
    news2,
    read_ages,
    read_blood_pressures,
    read_glucose,
    read_heart_rates,
    read_numbers,
    read_resp_rates,
    read_spo2,
    read_temperatures,
)


@pytest.mark.parametrize(
    ("text", "celsius", "unit"),
    [
        ("his temperature is 102.5 f", 39.17, "F"),
        ("fever of 101°f", 38.33, "F"),
        ("she is at 39.5 c", 39.5, "C"),
        ("39.5°c this morning", 39.5, "C"),
        ("38 degrees celsius", 38.0, "C"),
        ("100.4 fahrenheit", 38.0, "F"),
        ("a temp of 104", 40.0, "?"),  # no unit: 93-113 is Fahrenheit
        ("temperature 38.2", 38.2, "?"),  # no unit: 34-43.5 is Celsius
        ("fever to 102.2 overnight", 39.0, "?"),
        ("he's burning up, 102.5", 39.17, "?"),  # a bare febrile decimal when the message talks about fever
        ("my 4 month old is 39.5", 39.5, "?"),
        ("fiebre de 38.5", 38.5, "?"),
        ("39 de fievre", 39.0, "?"),
    ],
)
def test_temperatures(text: str, celsius: float, unit: str) -> None:
    temps = read_temperatures(text)
    assert temps and temps[0].celsius == pytest.approx(celsius, abs=0.01) and temps[0].unit == unit


def test_decimal_comma_is_read_as_a_decimal() -> None:
    assert read_numbers("39,5°C").temperatures[0].celsius == 39.5
    assert read_numbers("mon bébé a 38,5 de fièvre").temperatures[0].celsius == 38.5


@pytest.mark.parametrize(
    "text",
    ["fever for 3 days", "she is 38 years old", "i walked 102 steps", "my weight is 102.5 lbs",
     "temp job for 40 hours", "my a1c is 7.2"],
)
def test_not_temperatures(text: str) -> None:
    assert read_temperatures(text) == []


@pytest.mark.parametrize(
    ("text", "months"),
    [
        ("my 6 week old", 1.38),
        ("6-week-old baby", 1.38),
        ("2 month old baby", 2.0),
        ("a 10 day old", 0.33),
        ("a 70-year-old man", 840.0),
        ("my 3 yr old", 36.0),
        ("65 yo male", 780.0),
        ("aged 70", 840.0),
        ("she is 5 weeks", 1.15),
        ("mi bebe de 2 meses", 2.0),
        ("mon bebe de 6 semaines", 1.38),
        ("my newborn", 0.5),
    ],
)
def test_ages(text: str, months: float) -> None:
    assert read_ages(text)[0] == pytest.approx(months, abs=0.01)


def test_ages_ignore_durations() -> None:
    assert read_ages("i've had this cough for 3 weeks") == []
    assert read_ages("5 years ago i had surgery") == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("sats 84%", 84), ("oxygen 86", 86), ("spo2 of 88", 88), ("o2 sat 91%", 91),
     ("oxygen saturation of 92 percent", 92), ("pulse ox says 85", 85), ("89% on room air", 89)],
)
def test_spo2(text: str, value: int) -> None:
    assert read_spo2(text) == [value]


def test_spo2_ignores_oxygen_flow() -> None:
    assert read_spo2("on 2 liters of oxygen") == []


@pytest.mark.parametrize(
    ("text", "bp"),
    [("bp 220/130", (220, 130)), ("blood pressure 80 over 50", (80, 50)), ("95/65 mmhg", (95, 65)),
     ("pressure of 144/92", (144, 92)), ("it was 180/120", (180, 120))],
)
def test_blood_pressure(text: str, bp: tuple[int, int]) -> None:
    assert read_blood_pressures(text) == [BloodPressure(*bp)]


@pytest.mark.parametrize("text", ["meeting on 12/25", "pain is 10/10", "24/7 support", "scored 80/100"])
def test_not_blood_pressure(text: str) -> None:
    assert read_blood_pressures(text) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [("heart rate 112", 112), ("hr 40", 40), ("pulse of 35", 35), ("heart is racing at 190", 190),
     ("150 bpm", 150), ("tachycardic (heart rate 105 bpm)", 105)],
)
def test_heart_rate(text: str, value: int) -> None:
    assert read_heart_rates(text) == [value]


def test_pulse_ox_is_not_a_heart_rate() -> None:
    assert read_heart_rates("pulse ox 88") == []


@pytest.mark.parametrize(("text", "value"), [("rr 28", 28), ("respiratory rate of 22", 22),
                                             ("32 breaths per minute", 32)])
def test_resp_rate(text: str, value: int) -> None:
    assert read_resp_rates(text) == [value]


@pytest.mark.parametrize(
    ("text", "mg_dl", "unit"),
    [
        ("blood sugar 35", 35.0, "mg/dL"),
        ("glucose 450 mg/dl", 450.0, "mg/dL"),
        ("my meter reads 41", 41.0, "mg/dL"),
        ("glucose 2.1 mmol", 37.8, "mmol/L"),
        ("blood sugar 3.0 mmol/l", 54.0, "mmol/L"),
        ("cgm says 2.4", 43.2, "mmol/L"),  # a bare decimal is mmol/L
        ("sugar is 15", 270.2, "mmol/L"),  # a bare number under 20 is mmol/L
        ("bg 600", 600.0, "mg/dL"),
        ("blood sugar is lo", 20.0, "meter"),
        ("meter says hi", 600.0, "meter"),
    ],
)
def test_glucose(text: str, mg_dl: float, unit: str) -> None:
    g = read_glucose(text)[0]
    assert g.mg_dl == pytest.approx(mg_dl, abs=0.2) and g.unit == unit


def test_glucose_20_to_35_is_marked_ambiguous() -> None:
    assert read_glucose("blood sugar 25")[0].ambiguous
    assert not read_glucose("blood sugar 85")[0].ambiguous


def test_glucose_ignores_other_numbers_near_it() -> None:
    assert read_glucose("checked my glucose 3 times today") == []
    assert read_glucose("glucose tabs, 15 grams") == []


@pytest.mark.parametrize(
    ("text", "multiple"),
    [
        ("took 20 units instead of 2", 10.0),
        ("5 pills instead of 1", 5.0),
        ("gave her 2000 mg rather than 200", 10.0),
        ("took 10x my dose", 10.0),
        ("10 times the prescribed dose", 10.0),
        ("pt received 10x the ordered dose of morphine", 10.0),
        ("took the whole bottle", math.inf),
        ("swallowed all of her pills", math.inf),
        ("double dosed twice", 3.0),
        ("took a double dose", 2.0),
        ("gave him an extra dose", 2.0),
        ("took my insulin twice", 2.0),
        ("took a triple dose", 3.0),
        ("took 30 tylenol", 30.0),
        ("swallowed 12 pills", 12.0),
        ("tome 10 unidades en vez de 1", 10.0),
        ("20 unites au lieu de 2", 10.0),
    ],
)
def test_dose_multiples(text: str, multiple: float) -> None:
    assert max(d.multiple for d in read_doses(text)) == multiple


@pytest.mark.parametrize("text", ["take it 3 times a day", "i took 45 minutes to walk", "took 2 tablets as prescribed",
                                  "took 400 mg of ibuprofen"])
def test_not_dose_errors(text: str) -> None:
    assert read_doses(text) == []


def test_accidental_flag() -> None:
    assert read_numbers("I gave him his medicine twice by mistake").accidental
    assert not read_numbers("I gave him his medicine at 8").accidental


def test_news2_scores_a_set_of_vitals() -> None:
    r = read_numbers("rr 22, spo2 92%, temp 38.3 c, heart rate 90, bp 144/92")
    assert news2(r, confused=False) == 5  # RR 2 + SpO2 2 + temp 1
    assert news2(r, confused=True) == 8


def test_news2_needs_three_vitals() -> None:
    assert news2(read_numbers("heart rate 120, temp 38.5 c"), confused=False) is None
    assert news2(Readings(), confused=True) is None


def test_readings_values_by_measure() -> None:
    r = read_numbers("my 6 week old has a temp of 38.2, sats 95%")
    assert r.values("age_months") == [1.38] and r.values("temperature_c") == [38.2] and r.values("spo2") == [95.0]


def test_glucose_in_grams_per_litre() -> None:
    assert read_glucose("ma glycemie est a 0.40 g/l")[0].mg_dl == 40.0


def test_pressure_in_cmhg_as_written_in_france_and_spain() -> None:
    assert read_blood_pressures("ma tension est a 17/11") == [BloodPressure(170, 110)]
    assert read_blood_pressures("3/4 cup of flour") == []


@pytest.mark.parametrize(
    ("text", "multiple"),
    [("methotrexate daily instead of weekly", 7.0),
     ("the doctor said 0.5 ml and i gave 5 ml", 10.0),
     ("i gave the medicine 10 times too much", 10.0)],
)
def test_dose_errors_by_frequency_and_by_amount(text: str, multiple: float) -> None:
    assert max(d.multiple for d in read_doses(text)) == multiple


def test_a_question_about_a_dose_is_not_a_dose_error() -> None:
    assert read_doses("should i take 2 tablets instead of 1 since the pain is bad?") == []
