"""The QA suite's own truth (raw FHIR JSON, no product code) agrees with facts.json's figures and with the
sample generator's truth, computed independently of both; and the suite instantiates as promised."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import TODAY, require_shared
from healthcoach.evals.qa_suite import OPERATIONS, Concept, load_suite, suite_dir
from healthcoach.evals.truth import facts, lists
from healthcoach.evals.truth.fhir_raw import RawPerson, load_bundle
from healthcoach.evals.truth.instantiate import Item, build_items
from healthcoach.evals.truth.people import load_people
from shared_data import load_facts, user_for

SUITE = load_suite(suite_dir())
C = SUITE.concepts
LIPIDS = {"ldl": C["ldl"], "hdl": C["hdl"], "total_cholesterol": C["total_cholesterol"],
          "triglycerides": C["triglycerides"]}
VITALS = {"body_weight": C["weight"], "body_height": C["height"], "bmi": C["bmi"], "heart_rate": C["heart_rate"],
          "body_temperature": Concept(kind="observation", codes=["loinc:8310-5"], value="quantity",
                                      names={"default": "body temperature"})}
ALL_CONDITIONS = Concept(kind="condition", names={"default": "conditions"})


def _latest(person: RawPerson, concept: Concept) -> list[Any]:
    rows = facts.concept_rows(person, concept)
    return facts.at_group(rows, concept, None, -1, "latest").expected.readings if rows else []


def check_against_facts(person: RawPerson, truth: dict[str, Any]) -> list[str]:
    """Every disagreement between our truth and a facts.json-shaped truth (empty = agree)."""
    out = []
    a1c = facts.concept_rows(person, C["a1c"])
    series = [{"date": r.day.isoformat(), "value": r.quantity.value} for r in a1c if r.day and r.quantity]
    if series != truth["hba1c"]["series"] or len(a1c) != truth["hba1c"]["count"]:
        out.append(f"a1c series {series} != {truth['hba1c']['series']}")
    flu = facts.concept_rows(person, C["flu_shot"])
    if [r.day.isoformat() for r in flu if r.day] != truth["flu_shots"]["dates"]:
        out.append(f"flu dates {[r.day for r in flu]} != {truth['flu_shots']['dates']}")
    groups = [(key, spec, truth["latest_lipids"].get(key)) for key, spec in LIPIDS.items()]
    groups += [(key, spec, truth["latest_vitals"].get(key)) for key, spec in VITALS.items()]
    for key, spec, fact in groups:
        mine = _latest(person, spec)
        if fact is None:
            if mine:
                out.append(f"{key}: facts has none, we have {mine}")
            continue
        values = {round(r.numbers[0], 6) for r in mine}
        if round(fact["value"], 6) not in values or any(fact["date"] not in r.dates for r in mine):
            out.append(f"{key}: {fact['value']} on {fact['date']} not in {mine}")
    bp, fact_bp = _latest(person, C["blood_pressure"]), truth["latest_vitals"].get("blood_pressure")
    if fact_bp and not any(r.numbers == [fact_bp["systolic"], fact_bp["diastolic"]] and fact_bp["date"] in r.dates
                           for r in bp):
        out.append(f"bp {fact_bp} not in {bp}")
    smoking, fact_smoking = _latest(person, C["smoking"]), truth.get("latest_smoking_status")
    if fact_smoking and not any(r.text == fact_smoking["value"] and fact_smoking["date"] in r.dates for r in smoking):
        out.append(f"smoking {fact_smoking} not in {smoking}")
    conditions = facts.concept_rows(person, ALL_CONDITIONS)
    current = {r.name for r in conditions if lists.is_current(r)}
    if current != set(truth["active_conditions"]):
        out.append(f"active conditions {sorted(current)} != {truth['active_conditions']}")
    allergies = {r.name for r in facts.concept_rows(person, C["allergies"])}
    if allergies != {a["display"] for a in truth["allergies"]}:
        out.append(f"allergies {sorted(allergies)}")
    meds = {r.name.casefold() for r in facts.concept_rows(person, C["medications"]) if lists.is_current(r)}
    expected_meds = truth.get("active_medications") or [
        m["medication"] for m in truth["medications"] if "active" in m["statuses"]]
    if meds != {m.casefold() for m in expected_meds}:
        out.append(f"active meds {sorted(meds)} != {expected_meds}")
    kinds = Counter(r.kind for r in person.rows)
    for resource, kind in (("Encounter", "encounter"), ("Procedure", "procedure"), ("Condition", "condition"),
                           ("AllergyIntolerance", "allergy")):
        if kinds[kind] != truth["resource_counts"].get(resource, 0):
            out.append(f"{resource}: {kinds[kind]} rows, {truth['resource_counts'].get(resource, 0)} resources")
    return out


@pytest.mark.shared
def test_truth_agrees_with_facts_json_for_every_shared_patient() -> None:
    shared = require_shared("data/fhir")
    problems = {}
    for p in load_facts(shared.parent.parent):
        person = load_bundle(shared / p["file"])
        assert person.key == user_for(p)
        found = check_against_facts(person, p)
        if found:
            problems[p["name"]] = found
    assert problems == {}


def test_truth_agrees_with_the_sample_generators_truth(sample_bundle: tuple[Path, dict[str, Any]]) -> None:
    path, truth = sample_bundle
    person = load_bundle(path, "sample")
    assert check_against_facts(person, truth) == []
    # the generator's trap: a flu shot marked not-done is not a vaccination
    assert len(facts.concept_rows(person, C["flu_shot"])) == truth["flu_shots"]["count"]


@pytest.fixture(scope="module")
def suite_items(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Item], Counter[str]]:
    from healthcoach.sample.generator import write_person

    assert SUITE.today == TODAY, "tests ask the coach with the suite's own today"
    shared = require_shared("data")
    sample, _ = write_person(tmp_path_factory.mktemp("qa_sample"), seed=42, today=SUITE.today)
    return build_items(SUITE, load_people(shared, sample))


@pytest.mark.shared
def test_the_suite_has_600_plus_questions_over_16_people_and_40_plus_per_operation(
        suite_items: tuple[list[Item], Counter[str]]) -> None:
    items, skips = suite_items
    assert len(items) >= 600 and len({i.person for i in items}) == 16
    per_op = Counter(i.operation for i in items)
    assert all(per_op[op] >= 40 for op in OPERATIONS), per_op
    assert len({i.id for i in items}) == len(items)
    assert {i.split for i in items} == {"dev", "test"}
    assert all(i.source.startswith("writer-") for i in items)
    assert sum(skips.values()) > 0, "ambiguous or unanswerable instantiations are skipped and counted"


@pytest.mark.shared
def test_the_suite_is_the_same_on_every_build(suite_items: tuple[list[Item], Counter[str]]) -> None:
    items, _ = suite_items
    again, _ = build_items(SUITE, load_people(require_shared("data"), None))
    shared_only = [i for i in items if i.person != "sample"]
    assert [i.model_dump() for i in again] == [i.model_dump() for i in shared_only]
