"""All 15 shared Synthea bundles ingest cleanly and the stored facts equal the ground truth."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from conftest import require_shared
from healthcoach.container import Stores
from healthcoach.records.models import Record
from shared_data import user_for


@pytest.fixture(scope="module")
def population(shared_population):  # type: ignore[no-untyped-def]
    return shared_population


def latest(stores: Stores, user: str, keys: list[str]) -> Record | None:
    found = stores.records.query(user, code_keys=keys, limit=1)
    return found[0] if found else None


def test_every_bundle_ingests_without_errors(population: Any) -> None:
    _stores, facts, reports = population
    assert len(facts) == 15
    for p in facts:
        report = reports[user_for(p)]
        assert report.total_records > 0
        assert not [w for w in report.warnings if "skipped" in w], report.warnings


def test_latest_hba1c_value_unit_and_date_equal_the_facts(population: Any) -> None:
    stores, facts, _ = population
    for p in facts:
        rec = latest(stores, user_for(p), ["LOINC:4548-4"])
        truth = p["hba1c"]["latest"]
        if truth is None:
            assert rec is None, p["name"]
            continue
        assert rec is not None and rec.value is not None, p["name"]
        assert (rec.value.value, rec.value.unit, rec.date.isoformat()) == (  # type: ignore[union-attr]
            truth["value"], truth["unit"], truth["date"]), p["name"]
        series = stores.records.query(user_for(p), code_keys=["LOINC:4548-4"])
        assert len(series) == p["hba1c"]["count"]


def test_latest_flu_shot_date_equals_the_facts(population: Any) -> None:
    stores, facts, _ = population
    flu = ["CVX:" + c for c in json.loads((require_shared("data/fhir") / "facts.json").read_text())["flu_cvx_codes"]]
    for p in facts:
        shots = [r for r in stores.records.query(user_for(p), code_keys=flu)
                 if r.status not in ("not-done", "entered-in-error")]
        truth = p["flu_shots"]
        assert len(shots) == truth["count"], p["name"]
        if truth["latest"]:
            assert shots[0].date.isoformat() == truth["latest"]["date"], p["name"]  # type: ignore[union-attr]


def test_stored_counts_equal_bundle_counts_minus_reported_skips(population: Any) -> None:
    stores, facts, reports = population
    for p in facts:
        user = user_for(p)
        skipped: Counter[str] = Counter()
        for reason, n in reports[user].skipped.items():
            skipped[reason.split(":", 1)[0]] += n
        stored = stores.records.resource_type_counts(user)
        for rtype, n in p["resource_counts"].items():
            assert stored.get(rtype, 0) == n - skipped.get(rtype, 0), (p["name"], rtype)


def test_reingest_of_a_shared_bundle_changes_nothing(population: Any) -> None:
    stores, facts, _ = population
    p = facts[3]
    user = user_for(p)
    before = (stores.records.snapshot(user), stores.vectors.count(user))
    again = stores.ingestor.ingest(user, [require_shared("data/fhir") / p["file"]])
    assert again.new == 0 and again.embedded == 0 and again.vectors_upserted == 0
    assert (stores.records.snapshot(user), stores.vectors.count(user)) == before
