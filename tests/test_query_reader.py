"""Questions read into typed queries (concept × operation × window × unit × filters), follow-ups included.
Pure reading: no store, so every row is one line of what a person asked and what the coach understood."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from healthcoach.compose.query_engine import QueryEngine
from healthcoach.knowledge.catalog import load_catalog, load_wellness
from healthcoach.knowledge.vocabulary import load_vocabulary
from healthcoach.retrieval.planner import Planner
from healthcoach.retrieval.query import Query
from healthcoach.retrieval.query_reader import QueryReader

TODAY = date(2026, 11, 23)
CATALOG = load_catalog()
VOCAB = load_vocabulary(catalog=CATALOG)
PLANNER = Planner(CATALOG, load_wellness(catalog=CATALOG))


def engine(preferred: dict[str, str] | None = None) -> QueryEngine:
    return QueryEngine(PLANNER, QueryReader(CATALOG, VOCAB, preferred), None, None)  # type: ignore[arg-type]


def read(q: str, history: list[str] | None = None, **kw: Any) -> Query:
    plan = PLANNER.plan(q, TODAY, history or [])
    return engine(kw.get("preferred")).read(q, plan, TODAY, history or [])


@pytest.mark.parametrize(("question", "expected"), [
    ("What was my worst blood pressure?", {"concepts": ("blood_pressure",), "operation": "max"}),
    ("what was my best HDL?", {"concepts": ("hdl",), "operation": "max"}),  # more HDL is the usual aim
    ("my lowest HDL ever", {"concepts": ("hdl",), "operation": "min"}),
    ("my very first cholesterol result", {"concepts": ("total_cholesterol",), "operation": "first"}),
    ("has my A1c improved since my first test?", {"operation": "change", "baseline": "first"}),
    ("has my a1c gone down since last time?", {"operation": "change", "baseline": "previous"}),
    ("how has my weight changed since 2022?", {"operation": "change", "baseline": "date",
                                               "baseline_date": date(2022, 1, 1)}),
    ("how many A1c tests have I had?", {"concepts": ("a1c",), "operation": "count"}),
    ("hw mnay a1c tests", {"concepts": ("a1c",), "operation": "count"}),
    ("my average glucose in 2024", {"concepts": ("glucose",), "operation": "mean", "start": date(2024, 1, 1)}),
    ("my weight in pounds", {"concepts": ("weight",), "operation": "latest", "unit": "lb"}),
    ("my glucose in mmol/L", {"concepts": ("glucose",), "unit": "mmol/L"}),
    ("is my blood pressure going up or down?", {"concepts": ("blood_pressure",), "operation": "trend"}),
    ("compare my cholesterol in 2016 and 2023", {"operation": "compare", "windows": ("in 2016", "in 2023")}),
    ("Is my LDL better or worse than last year?", {"operation": "compare",
                                                   "windows": ("last year (2025)", "your latest")}),
    ("compare my LDL and HDL", {"concepts": ("ldl", "hdl"), "operation": "compare"}),
    ("my last 3 A1c results", {"concepts": ("a1c",), "operation": "list", "last_n": 3}),
    ("what was my A1c in 2023?", {"concepts": ("a1c",), "operation": "list", "start": date(2023, 1, 1)}),
    ("when was I last at the doctor's?", {"category": "encounter", "operation": "latest"}),
    ("Did I go to the hospital in 2023?", {"category": "encounter", "operation": "exists",
                                           "classes": ("emergency", "inpatient")}),
    ("how many times did I see the doctor in 2025?", {"category": "encounter", "operation": "count"}),
    ("when was my last checkup?", {"category": "encounter", "classes": ("wellness",)}),
    ("what happened at my prenatal visit?", {"category": "encounter", "terms": ("prenatal",)}),
    ("Who is my doctor?", {"category": "encounter", "field": "clinician"}),
    ("what did the doctor say about my back pain?", {"category": None}),  # a search, not a visit list
    ("Did I have COVID?", {"concepts": ("covid19",), "operation": "exists"}),
    ("Do I have a history of cancer?", {"concepts": ("cancer",), "operation": "exists"}),
    ("Do I have diabetes?", {"concepts": ("type_2_diabetes",), "operation": "exists"}),
    ("Am I allergic to penicillin?", {"category": "allergy", "operation": "exists", "terms": ("penicillin",)}),
    ("How many allergies do I have?", {"category": "allergy", "operation": "count", "status": "active"}),
    ("what conditions do I have?", {"category": "condition", "operation": "list", "status": "active"}),
    ("did I ever have pneumonia?", {"category": None, "operation": "exists", "terms": ("pneumonia",)}),
    ("what meds was I on in 2020", {"category": "medication", "operation": "list", "start": date(2020, 1, 1)}),
    ("What's my vitamin D level?", {"concepts": ("vitamin_d",)}),
])
def test_questions_read_as_typed_queries(question: str, expected: dict[str, Any]) -> None:
    q = read(question)
    got = {
        "concepts": q.concepts, "operation": q.operation.value, "unit": q.unit,
        "category": q.category.value if q.category else None, "classes": q.filters.encounter_classes,
        "terms": q.filters.terms, "field": q.filters.field, "status": q.filters.status,
        "baseline": q.filters.baseline, "baseline_date": q.filters.baseline_date, "start": q.window.start,
        "last_n": q.window.last_n, "windows": tuple(s.label for s in q.windows),
    }
    assert {k: got[k] for k in expected} == expected, q.model_dump(exclude_defaults=True)


def test_follow_ups_take_their_subject_from_the_conversation() -> None:
    assert read("and the lowest?", ["what was my highest blood pressure?"]).concepts == ("blood_pressure",)
    assert read("and the lowest?", ["what was my highest blood pressure?"]).operation.value == "min"
    in_lb = read("in pounds?", ["what's my weight?"])
    assert (in_lb.concepts, in_lb.unit) == (("weight",), "lb")
    assert read("how many have I had?", ["what's my A1c?"]).operation.value == "count"
    before = read("and before that?", ["What's my A1c?"])
    assert before.operation.value == "nth_previous" and before.filters.nth == 1


def test_a_preferred_unit_applies_when_the_question_names_none() -> None:
    assert read("what's my weight?", preferred={"mass": "lb"}).unit == "lb"
    assert read("what's my weight in kg?", preferred={"mass": "lb"}).unit == "kg"
    assert read("what's my A1c?", preferred={"mass": "lb"}).unit is None


def test_same_words_same_query() -> None:
    assert len({read("what was my hieghest bp in 2024?").model_dump_json() for _ in range(5)}) == 1


def test_the_query_is_plain_json() -> None:
    q = read("compare my cholesterol in 2016 and 2023")
    again = Query.model_validate_json(q.model_dump_json())
    assert again == q
