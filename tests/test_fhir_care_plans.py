"""CarePlan and Goal resources become care_plan records (label, status, dates, activities, what they
address) and survive an export → re-ingest round trip."""

from __future__ import annotations

import json

import query_person as P
from healthcoach.privacy.fhir_export import to_bundle
from healthcoach.records.fhir import parse_fhir_files
from healthcoach.records.files import RawFile
from healthcoach.records.models import Category
from healthcoach.store.schema import UserRow


def _records(bundle: dict) -> list:  # type: ignore[type-arg]
    result = parse_fhir_files([RawFile("june.json", json.dumps(bundle).encode())], "june")
    assert not any(k.startswith(("CarePlan", "Goal")) for k in result.skipped), result.skipped
    return [r for r in result.records if r.category is Category.care_plan]


def test_care_plans_and_goals_are_read() -> None:
    plans = {r.source.resource_type: r for r in _records(P.june_bundle())}
    plan, goal = plans["CarePlan"], plans["Goal"]
    assert plan.label == "Diabetes self management plan (record artifact)" and plan.status == "active"
    assert plan.text == "Diabetic diet (finding)" and plan.details["reason"] == "Diabetic renal disease (disorder)"
    assert plan.date and plan.date.isoformat() == "2021-05-01"
    assert goal.label == "Hemoglobin A1c total in Blood < 7.0" and goal.status == "active"
    assert goal.date and goal.date.isoformat() == "2021-05-01"


def test_care_plans_round_trip_through_export() -> None:
    first = _records(P.june_bundle())
    user = UserRow(id="june", patient_key="fhir:p1")
    again = _records(to_bundle(user, first))
    key = lambda r: (r.source.resource_type, r.label, r.status, r.date, r.text)  # noqa: E731
    assert sorted(map(key, again)) == sorted(map(key, first))
