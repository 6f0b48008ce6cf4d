"""Every example of issue 13, asked through Coach.ask and read the way a person reads the answer.

Truth comes from the literal values in tests/query_person.py (June) or from the bundled person's raw FHIR
(Maria), computed here with plain arithmetic, never by the product's own code."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import query_person as P
from conftest import TODAY, settings_for
from healthcoach.compose.citations import fmt_date
from healthcoach.container import build_coach, build_stores
from healthcoach.records.models import format_number

DX = re.compile(r"\byou (?:have|are) (?:diabet|cancer|covid|a (?:\w+ )?(?:disease|disorder))|this means you", re.I)


@pytest.fixture(scope="module")
def june(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    work = tmp_path_factory.mktemp("june")
    stores = build_stores(settings_for(work / "stores"), embedder=embedder)
    path = work / "june.json"
    path.write_text(json.dumps(P.june_bundle()))
    stores.ingestor.ingest("june", [path])
    stores.records.set_consent("june", records=True)
    coach = build_coach(stores.settings, stores)
    coach.today = lambda: TODAY
    return coach


def ask(coach: Any, q: str, user: str = "june", history: list[str] | None = None) -> Any:
    reply = coach.ask(user, q, history or [])
    assert not reply.blocked, (q, reply.category, reply.text)
    assert not any(w.startswith("output_guard") for w in reply.warnings), (q, reply.warnings, reply.text)
    assert not DX.search(reply.text), reply.text
    for n in re.findall(r"\[(\d+)\]", reply.text):
        assert 1 <= int(n) <= len(reply.citations), reply.text
    return reply


def day(iso: str) -> str:
    return fmt_date(date.fromisoformat(iso[:10]))


def first_line(reply: Any) -> str:
    return reply.text.split("\n")[0]


# ───────────── extremes, firsts, counts, changes ─────────────

def test_worst_blood_pressure_is_the_highest_and_ties_are_reported_together(june: Any) -> None:
    reply = ask(june, "What was my worst blood pressure?")
    top = max(P.BP, key=lambda r: (r[1], r[2]))
    ties = [d for d, s, di in P.BP if (s, di) == top[1:]]
    assert f"**{top[1]}/{top[2]} mmHg**" in first_line(reply)
    assert all(day(d) in first_line(reply) for d in ties) and "two times" in reply.text
    assert reply.query.operation == "max"


def test_lowest_and_highest_and_first(june: Any) -> None:
    low = min(P.WEIGHT, key=lambda r: r[1])
    assert f"**{format_number(low[1])} kg** on {day(low[0])}" in first_line(ask(june, "my lowest weight ever"))
    first = P.CHOLESTEROL[0]
    reply = ask(june, "my very first cholesterol result")
    assert f"**{format_number(first[1])} mg/dL** on {day(first[0])}" in first_line(reply)
    assert f"earliest of {len(P.CHOLESTEROL)} tests" in reply.text


def test_count_of_a1c_tests_is_a_number_with_its_span(june: Any) -> None:
    reply = ask(june, "how many A1c tests have I had?")
    assert first_line(reply) == (f"You've had {len(P.A1C)} hemoglobin A1c tests, from {day(P.A1C[0][0])} [1] to "
                                 f"{day(P.A1C[-1][0])} [2].")


def test_improved_since_first_test_states_both_ends_and_the_change(june: Any) -> None:
    reply = ask(june, "has my A1c improved since my first test?")
    (d0, v0), (d1, v1) = P.A1C[0], P.A1C[-1]
    change = format_number(round(v0 - v1, 1))
    assert f"Since your first result ({format_number(v0)} % on {day(d0)} [1])" in reply.text
    assert f"gone down {change} points to **{format_number(v1)} %** ({day(d1)} [2])" in reply.text
    assert reply.query.operation == "change" and reply.query.filters.baseline == "first"


def test_weight_in_pounds_shows_the_conversion_and_how(june: Any) -> None:
    d, kg = P.WEIGHT[-1]
    reply = ask(june, "my weight in pounds")
    lb = format_number(round(kg * 2.20462, 1))
    assert first_line(reply).startswith(f"In pounds: **{lb} lb** ({format_number(kg)} kg on {day(d)} [1]")
    assert "1 kg = 2.20462 lb" in reply.text and reply.query.unit == "lb"


def test_other_conversions(june: Any) -> None:
    assert "**5 ft 5 in (65 in)**" in ask(june, "my height in feet and inches").text  # 165.1 cm
    assert "**98.6 °F**" in ask(june, "what was my temperature in fahrenheit?").text  # 37.0 °C


# ───────────── visits ─────────────

def test_last_at_the_doctors_is_the_latest_visit_and_offers_the_list(june: Any) -> None:
    reply = ask(june, "when was I last at the doctor's?")
    latest = max(P.VISITS, key=lambda v: v[3])
    assert f"Your most recent visit was on **{day(latest[3])}** [1]" in reply.text
    assert '"list my visits"' in reply.text


def test_hospital_in_2023_finds_the_week_long_emergency_stay(june: Any) -> None:
    reply = ask(june, "Did I go to the hospital in 2023?")
    stay = next(v for v in P.VISITS if v[1] == "EMER")
    assert f"{day(stay[3])} to {day(stay[4])}: Emergency room admission for Pneumonia [1]" in reply.text
    assert reply.query.filters.encounter_classes == ("emergency", "inpatient")


def test_who_is_my_doctor_names_the_clinician_on_record(june: Any) -> None:
    reply = ask(june, "Who is my doctor?")
    assert "don't name a regular doctor" in reply.text and P.CLINICIAN in reply.text


# ───────────── own-record look-ups the guard lets through ─────────────

@pytest.mark.parametrize(("question", "label"), [
    ("Did I have COVID?", "COVID-19"),
    ("Do I have a history of cancer?", "Malignant neoplasm of breast"),
    ("Do I have diabetes?", "Diabetic renal disease"),
    ("Am I allergic to penicillin?", "Allergy to penicillin"),
])
def test_do_i_have_questions_are_answered_from_the_records(june: Any, question: str, label: str) -> None:
    reply = ask(june, question)
    assert reply.category == "allowed" and reply.citations[0].label.startswith(label)
    assert "not a diagnosis" in reply.text


def test_how_many_allergies(june: Any) -> None:
    reply = ask(june, "How many allergies do I have?")
    assert first_line(reply) == "Your records list 2 active allergies:"
    assert {c.label for c in reply.citations} == {"Allergy to penicillin", "Allergy to peanuts"}


def test_symptoms_still_get_the_diagnosis_redirect(june: Any) -> None:
    reply = june.ask("june", "I'm always thirsty and tired, do I have diabetes?")
    assert reply.blocked and reply.category == "diagnosis"


# ───────────── lists in a window, comparisons ─────────────

def test_meds_in_2020_are_those_current_at_some_time_that_year(june: Any) -> None:
    reply = ask(june, "what meds was I on in 2020")
    assert {c.label for c in reply.citations} == P.MEDS_IN_2020


def test_compare_cholesterol_in_two_years(june: Any) -> None:
    reply = ask(june, "compare my cholesterol in 2016 and 2023")
    by_year = {d[:4]: v for d, v in P.CHOLESTEROL}
    assert f"in 2016: **{format_number(by_year['2016'])} mg/dL**" in reply.text
    assert f"in 2023: **{format_number(by_year['2023'])} mg/dL**" in reply.text
    assert f"gone down {format_number(by_year['2016'] - by_year['2023'])} mg/dL" in reply.text


def test_better_or_worse_than_last_year_compares_values_without_judging(june: Any) -> None:
    reply = ask(june, "Is my LDL better or worse than last year?")
    (d0, v0), (d1, v1) = P.LDL
    assert f"last year (2025): **{format_number(v0)} mg/dL** on {day(d0)}" in reply.text
    assert f"your latest: **{format_number(v1)} mg/dL** on {day(d1)}" in reply.text
    assert f"gone down {format_number(v0 - v1)} mg/dL" in reply.text
    assert "Questions to ask your doctor" not in reply.text and "clinician can say" in reply.text


# ───────────── honest not-found ─────────────

@pytest.mark.parametrize("question", ["What's my blood type?", "Have I had a mammogram?",
                                      "What's my vitamin D level?"])
def test_not_in_the_records_is_one_line_without_filler(june: Any, question: str) -> None:
    reply = ask(june, question)
    assert reply.text.startswith("I found no ") and "\n" not in reply.text.strip()
    assert re.search(r"among your \d+ [a-z ]+ from 1 source", reply.text)
    assert not reply.citations


def test_weight_in_a_year_without_data_says_so_and_shows_the_nearest(june: Any) -> None:
    reply = ask(june, "my weight in 2015")
    assert reply.text.startswith("I found no body weight readings in 2015")
    assert f"{format_number(P.WEIGHT[0][1])} kg on {day(P.WEIGHT[0][0])}" in reply.text


def test_maria_examples_without_matching_records(sample_coach: Any) -> None:
    coach, _stores, _truth = sample_coach
    for q in ("What's my blood type?", "Have I had a mammogram?", "What's my PSA?"):
        reply = ask(coach, q, "maria")
        assert reply.text.startswith("I found no ") and not reply.citations, reply.text
    reply = ask(coach, "What's my vitamin D level?", "maria")
    assert reply.text.startswith("I found no vitamin D") and "Vitamin D3" in reply.text  # the closest record


def test_maria_doctor_and_mammogram_never_list_a_screening_questionnaire(sample_coach: Any) -> None:
    coach, _stores, _truth = sample_coach
    for q in ("Who is my doctor?", "Have I had a mammogram?", "What's my blood type?"):
        reply = ask(coach, q, "maria")
        assert not any(re.search(r"HARK|violence|abuse|questionnaire", c.label, re.I) for c in reply.citations)


def test_care_plans_and_goals_are_records_too(june: Any) -> None:
    reply = ask(june, "what are my care plans and goals?")
    labels = {c.label for c in reply.citations}
    assert labels == {"Diabetes self management plan (record artifact)", "Hemoglobin A1c total in Blood < 7.0"}
    reply = ask(june, "did I have a care plan in 2023?")
    assert "Diabetes self management plan" in reply.text and "for Diabetic renal disease" in reply.text


# ───────────── wording ─────────────

def test_wording_and_units_read_as_english(june: Any) -> None:
    assert "Your most recent triglycerides were **150 mg/dL**" in ask(june, "what are my triglycerides").text
    assert "88 mL/min/1.73 m²" in ask(june, "what's my eGFR?").text
    assert "was **4** on" in ask(june, "what's my PHQ-9 score?").text
    visit = ask(june, "when was my last visit?").text
    assert "visits was" not in visit and "Your most recent visit was" in visit
    summary = ask(june, "summarize my records").text
    conditions = summary.split("**Active conditions**")[1].split("**Active medications**")[0]
    assert "employment" not in conditions and "abuse" not in conditions
    assert "Full-time employment" in summary.split("**Social history**")[1]
    assert not re.search(r"\{[^}]*\}|10\*3/uL|(\bmin) min\b|/min /min", summary)


def test_entered_by_you_reads_as_english(make_stores: Any) -> None:
    from healthcoach.wearables.manual import manual_entry

    stores = make_stores()
    stores.ingestor.add_records("sam", [manual_entry("sam", "weight", "70 kg", date(2026, 11, 20))])
    stores.records.set_consent("sam", records=True)
    coach = build_coach(stores.settings, stores)
    coach.today = lambda: TODAY
    reply = ask(coach, "What's my weight?", "sam")
    assert "entered by you" in reply.text and "from entered by you" not in reply.text


# ───────────── the typed query is visible ─────────────

def test_reply_carries_the_typed_query(june: Any) -> None:
    reply = ask(june, "what was my highest blood pressure in 2020?")
    q = reply.query.model_dump(mode="json")
    assert q["concepts"] == ["blood_pressure"] and q["operation"] == "max"
    assert q["window"]["start"] == "2020-01-01" and q["window"]["end"] == "2021-01-01"


def test_ask_json_prints_the_query(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from conftest import GUARD_CACHE
    from healthcoach.cli import app

    runner, home = CliRunner(), tmp_path / "home"
    path = tmp_path / "june.json"
    path.write_text(json.dumps(P.june_bundle()))
    env = {"HEALTHCOACH_CACHE_DIR": str(GUARD_CACHE)}
    for args in (["ingest", str(path), "--user", "june"], ["consent", "--user", "june", "--records", "on"]):
        assert runner.invoke(app, ["--data-dir", str(home), *args], env=env).exit_code == 0
    result = runner.invoke(app, ["--data-dir", str(home), "ask", "how many A1c tests have I had?", "--user", "june",
                                 "--json"], env=env)
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["intent"] and out["query"]["operation"] == "count" and out["query"]["concepts"] == ["a1c"]
    assert out["answer"].startswith(f"You've had {len(P.A1C)} hemoglobin A1c tests")
