"""Every per-operation template, rendered with one record and with several, for every kind of record:
plurals agree, no raw UCUM reaches a person, and every number it writes passes the output guard
(record values from the cited records, computed numbers only as the executor produced them)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from healthcoach.compose.grounding import evidence_text, own_words
from healthcoach.compose.query_templates import QueryComposer
from healthcoach.compose.templates import number_tokens
from healthcoach.guardrails.output import OutputGuard
from healthcoach.guardrails.policy import load_policy
from healthcoach.knowledge.catalog import load_catalog
from healthcoach.knowledge.vocabulary import Operation, load_vocabulary
from healthcoach.records.models import Category, Code, Component, Quantity, Record, Source
from healthcoach.retrieval import operations
from healthcoach.retrieval.executor import QueryResult
from healthcoach.retrieval.query import Filters, Query, Span
from healthcoach.retrieval.selection import target

CATALOG = load_catalog()
VOCAB = load_vocabulary(catalog=CATALOG)
COMPOSER = QueryComposer(CATALOG)
POLICY = load_policy(Path(__file__).resolve().parents[1] / "guardrails")
GUARD = OutputGuard(POLICY.output, POLICY.responses.values())
TODAY = date(2026, 11, 23)
SRC = Source(kind="fhir", organization="Example Clinic", resource_type="Observation", resource_id="x")
NOUNS = "tests|readings|visits|doses|results|records|allergies|conditions|medications|procedures|times"
SINGULAR = "test|reading|visit|dose|result|record|allergy|condition|medication|procedure"


def _rec(i: int, category: Category, label: str, codes: tuple[str, ...], when: date, value: float | None = None,
         unit: str | None = None, bp: tuple[float, float] | None = None, status: str | None = None,
         end: date | None = None, details: dict[str, str] | None = None) -> Record:
    comps: tuple[Component, ...] = ()
    if bp:
        comps = tuple(Component(label=n, codes=(Code(system="LOINC", code=c),), value=Quantity(value=v, unit="mm[Hg]"))
                      for n, c, v in (("systolic", "8480-6", bp[0]), ("diastolic", "8462-4", bp[1])))
    return Record(
        id=f"{category}-{i}", user_id="u", category=category, label=label,
        codes=tuple(Code(system=k.split(":")[0], code=k.split(":")[1]) for k in codes),
        value=Quantity(value=value, unit=unit) if value is not None else None, components=comps, status=status,
        start=datetime(when.year, when.month, when.day, 9, tzinfo=UTC), date=when,
        end=datetime(end.year, end.month, end.day, tzinfo=UTC) if end else None, details=details or {},
        source=SRC.model_copy(update={"resource_id": f"r{i}"}))


DAYS = [date(2026, 10, 1), date(2025, 4, 2), date(2024, 3, 3)]
KINDS: dict[str, tuple[Query, list[Record]]] = {
    "a1c": (Query(concepts=("a1c",)), [_rec(i, Category.lab, "Hemoglobin A1c", ("LOINC:4548-4",), d, v, "%")
                                       for i, (d, v) in enumerate(zip(DAYS, (5.9, 6.2, 6.4), strict=True))]),
    "triglycerides": (Query(concepts=("triglycerides",)), [
        _rec(i, Category.lab, "Triglycerides", ("LOINC:2571-8",), d, v, "mg/dL")
        for i, (d, v) in enumerate(zip(DAYS, (150, 141, 160), strict=True))]),
    "egfr": (Query(concepts=("egfr",)), [_rec(i, Category.lab, "eGFR", ("LOINC:33914-3",), d, v, "mL/min/{1.73_m2}")
                                         for i, (d, v) in enumerate(zip(DAYS, (88, 90, 91), strict=True))]),
    "bp": (Query(concepts=("blood_pressure",)), [
        _rec(i, Category.vital, "Blood pressure", ("LOINC:85354-9",), d, bp=bp)
        for i, (d, bp) in enumerate(zip(DAYS, ((128, 80), (171, 98), (130, 85)), strict=True))]),
    "weight_lb": (Query(concepts=("weight",), unit="lb"), [
        _rec(i, Category.vital, "Body weight", ("LOINC:29463-7",), d, v, "kg")
        for i, (d, v) in enumerate(zip(DAYS, (70.0, 72.5, 74), strict=True))]),
    "visits": (Query(category=Category.encounter), [
        _rec(i, Category.encounter, "General examination of patient (procedure)", (), d, status="finished",
             details={"provider": "Example Clinic", "clinician": "Dr. Ana Ortiz"}) for i, d in enumerate(DAYS)]),
    "hospital": (Query(category=Category.encounter, filters=Filters(encounter_classes=("emergency", "inpatient"))), [
        _rec(i, Category.encounter, "Emergency room admission (procedure)", (), d, end=date(d.year, d.month, 9),
             details={"class": "EMER", "reason": "Pneumonia"}) for i, d in enumerate(DAYS)]),
    "conditions": (Query(category=Category.condition), [
        _rec(i, Category.condition, label, ("SNOMED:59621000",), d, status=st)
        for i, (d, label, st) in enumerate(zip(DAYS, ("Hypertension", "Asthma", "COVID-19"),
                                               ("active", "active", "resolved"), strict=True))]),
    "allergies": (Query(category=Category.allergy), [
        _rec(i, Category.allergy, f"Allergy to {a}", (), d, status="active", details={"reactions": "Hives"})
        for i, (d, a) in enumerate(zip(DAYS, ("penicillin", "peanuts", "cats"), strict=True))]),
    "medications": (Query(category=Category.medication), [
        _rec(i, Category.medication, m, (), d, status="active", details={"kind": "MedicationRequest"})
        for i, (d, m) in enumerate(zip(DAYS, ("lisinopril 10 MG", "metformin 500 MG", "atorvastatin 20 MG"),
                                       strict=True))]),
    "flu": (Query(concepts=("influenza_vaccine",)), [
        _rec(i, Category.immunization, "Influenza, seasonal", ("CVX:140",), d, status="completed")
        for i, d in enumerate(DAYS)]),
}
OPS = [Operation.latest, Operation.first, Operation.max, Operation.min, Operation.count, Operation.mean,
       Operation.list, Operation.change, Operation.trend, Operation.nth_previous, Operation.exists]


def _result(q: Query, rows: list[Record]) -> QueryResult:
    from healthcoach.records.units import convert

    res = QueryResult(q, target(q, CATALOG, VOCAB), operations.run(rows, q), category_count=7, source_count=1)
    if q.unit:
        for r in rows:
            if r.value is not None and (c := convert(r.value.value, r.value.unit, q.unit)):
                res.conversions[r.id] = c
    return res


def _check(text: str, answer) -> None:  # type: ignore[no-untyped-def]
    assert not re.search(rf"\b1 ({NOUNS})\b|\bone ({NOUNS})\b", text), text
    assert not re.search(rf"\b([2-9]|\d\d+|two|three) ({SINGULAR})\b(?!s)", text), text
    assert not re.search(r"\{[^}]*\}|mm\[Hg\]|10\*3|\b(?:visits|triglycerides) was\b|from entered by you", text), text
    assert "  " not in re.sub(r"\s*\n\s*", " ", text), text
    grounding = evidence_text(answer.records) + " " + answer.general_text
    check = GUARD.check(own_words(text, grounding), grounding, number_tokens(answer.computed))
    assert check.ok, (check.violations, text)


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("op", OPS, ids=lambda o: o.value)
@pytest.mark.parametrize("n", [1, 3])
def test_every_template_with_one_and_with_several(kind: str, op: Operation, n: int) -> None:
    base, rows = KINDS[kind]
    q = base.model_copy(update={"operation": op, "filters": base.filters.model_copy(
        update={"nth": 1 if op is Operation.nth_previous else 0})})
    answer = COMPOSER.compose(_result(q, rows[:n]), TODAY)
    assert answer.text.strip()
    _check(answer.text, answer)


@pytest.mark.parametrize("n", [1, 3])
def test_compare_two_windows_and_two_concepts(n: int) -> None:
    q, rows = KINDS["a1c"]
    spans = (Span.year(2024), Span.year(2026))
    cq = q.model_copy(update={"operation": Operation.compare, "windows": spans})
    groups = [(s.label, [r for r in rows[:n] if s.contains(r.date)]) for s in spans]
    res = QueryResult(cq, target(cq, CATALOG, VOCAB), operations.compare_groups(groups, same_concept=True))
    answer = COMPOSER.compose(res, TODAY)
    _check(answer.text, answer)
    two = Query(concepts=("ldl", "hdl"), operation=Operation.compare)
    ldl = _rec(9, Category.lab, "LDL", ("LOINC:18262-6",), DAYS[0], 104, "mg/dL")
    hdl = _rec(8, Category.lab, "HDL", ("LOINC:2085-9",), DAYS[0], 50, "mg/dL")
    res = QueryResult(two, target(two, CATALOG, VOCAB),
                      operations.compare_groups([("LDL", [ldl]), ("HDL", [hdl][:n])], same_concept=False))
    answer = COMPOSER.compose(res, TODAY)
    _check(answer.text, answer)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_not_found_is_one_line_that_says_what_was_searched(kind: str) -> None:
    q, _rows = KINDS[kind]
    res = QueryResult(q, target(q, CATALOG, VOCAB), None, category_count=1, source_count=1, newest=DAYS[0])
    answer = COMPOSER.compose(res, TODAY)
    assert answer.text.startswith("I found no ") and "among your 1 " in answer.text and "\n" not in answer.text
    _check(answer.text, answer)


def test_a_number_the_executor_did_not_compute_is_rejected() -> None:
    days = [date(2026, 10, 10), date(2025, 11, 12), date(2024, 12, 16), date(2023, 10, 20), date(2022, 11, 18)]
    rows = [_rec(i, Category.lab, "Hemoglobin A1c", ("LOINC:4548-4",), d, 6.1, "%") for i, d in enumerate(days)]
    q = Query(concepts=("a1c",), operation=Operation.count)
    answer = COMPOSER.compose(_result(q, rows), TODAY)
    assert answer.text.startswith("You've had 5 ")
    grounding = evidence_text(answer.records) + " " + answer.general_text
    assert GUARD.check(answer.text, grounding, number_tokens(answer.computed)).ok
    forged = answer.text.replace("You've had 5", "You've had 7")
    assert not GUARD.check(forged, grounding, number_tokens(answer.computed)).ok
    assert not GUARD.check(answer.text, grounding, ()).ok  # the count is grounded only as a computed number
