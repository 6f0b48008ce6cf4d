"""The bundled synthetic person: deterministic, valid FHIR R4, and a truth that matches the bundle."""

from __future__ import annotations

import base64
import json
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from healthcoach.sample import compute_truth, generate_person, write_person
from healthcoach.sample.generator import FLU_CVX

TODAY = date(2026, 11, 1)


@pytest.fixture(scope="module")
def person() -> tuple[dict[str, Any], dict[str, Any]]:
    return generate_person(42, TODAY)


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_same_seed_same_json_and_other_seed_differs() -> None:
    first = json.dumps(generate_person(7, TODAY), sort_keys=True)
    assert first == json.dumps(generate_person(7, TODAY), sort_keys=True)
    assert first != json.dumps(generate_person(8, TODAY), sort_keys=True)


@pytest.mark.parametrize("seed", [42, 1, 2024])
def test_every_resource_validates_as_r4(seed: int) -> None:
    bundle, _ = generate_person(seed, TODAY)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert entry["fullUrl"] == f"urn:uuid:{resource['id']}"
    assert bundle["type"] == "collection"


def test_every_urn_reference_resolves(person: tuple[dict[str, Any], dict[str, Any]]) -> None:
    bundle, _ = person
    urls = {e["fullUrl"] for e in bundle["entry"]}
    text = json.dumps(bundle)
    refs = {part.split('"')[0] for part in text.split('"reference": "')[1:]}
    assert refs and refs <= urls


def test_truth_counts_equal_the_bundle(person: tuple[dict[str, Any], dict[str, Any]]) -> None:
    bundle, truth = person
    assert truth["resource_counts"] == dict(Counter(e["resource"]["resourceType"] for e in bundle["entry"]))
    assert truth["total_resources"] == len(bundle["entry"])
    assert truth == compute_truth(bundle)
    a1c = [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "4548-4"]
    assert truth["hba1c"]["count"] == len(a1c) >= 8
    assert [p["date"] for p in truth["hba1c"]["series"]] == sorted(
        p["date"] for p in truth["hba1c"]["series"]
    )
    latest = max(a1c, key=lambda o: o["effectiveDateTime"])
    assert truth["hba1c"]["latest"]["value"] == latest["valueQuantity"]["value"]
    assert truth["hba1c"]["latest"]["date"] == latest["effectiveDateTime"][:10]
    assert truth["hba1c"]["latest"]["unit"] == "%"


def test_flu_truth_skips_not_done_and_uses_several_codes(
    person: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    bundle, truth = person
    flu = [i for i in resources(bundle, "Immunization") if i["vaccineCode"]["coding"][0]["code"] in FLU_CVX]
    declined = [i for i in flu if i["status"] == "not-done"]
    assert len(declined) == 1
    assert truth["flu_shots"]["count"] == len(flu) - 1
    assert declined[0]["occurrenceDateTime"][:10] not in truth["flu_shots"]["dates"]
    assert len(truth["flu_cvx_codes_used"]) >= 3
    assert truth["flu_shots"]["latest"]["date"] == truth["flu_shots"]["dates"][-1]


def test_the_person_has_every_story_element(person: tuple[dict[str, Any], dict[str, Any]]) -> None:
    bundle, truth = person
    assert truth["name"] == "Maria Lopez" and 1972 <= int(truth["birth_date"][:4]) <= 1980
    assert truth["latest_smoking_status"]["value"] == "Current every day smoker"
    assert [c["display"] for c in truth["pregnancy_conditions"]] == ["Normal pregnancy"]
    assert {"Prediabetes", "Essential hypertension", "Hyperlipidemia"} <= set(truth["active_conditions"])
    assert "Acute bronchitis" not in truth["active_conditions"]
    assert {a["display"] for a in truth["allergies"]} == {"Allergy to penicillin", "Allergy to peanuts"}
    assert "Vitamin D3 1000 UNT Oral Tablet" in truth["active_medications"]
    assert len(resources(bundle, "MedicationStatement")) == 1
    assert {"blood_pressure", "body_weight", "heart_rate", "bmi", "body_height"} <= set(
        truth["latest_vitals"]
    )
    assert set(truth["latest_lipids"]) == {"total_cholesterol", "ldl", "hdl", "triglycerides"}
    assert len({o["serviceProvider"]["display"] for o in resources(bundle, "Encounter")}) == 1
    assert len(resources(bundle, "Organization")) == 2 and len(resources(bundle, "Practitioner")) >= 3


def test_medication_reference_resolves_to_a_bundled_medication(
    person: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    bundle, truth = person
    by_url = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    referenced = [r for r in resources(bundle, "MedicationRequest") if "medicationReference" in r]
    assert len(referenced) == 1
    medication = by_url[referenced[0]["medicationReference"]["reference"]]
    assert medication["resourceType"] == "Medication"
    assert medication["code"]["coding"][0]["code"] == "860975"
    assert medication["code"]["coding"][0]["display"] in truth["active_medications"]


def test_notes_decode_to_plain_text(person: tuple[dict[str, Any], dict[str, Any]]) -> None:
    bundle, _ = person
    notes = resources(bundle, "DocumentReference")
    assert len(notes) >= 3
    for note in notes:
        attachment = note["content"][0]["attachment"]
        assert attachment["contentType"] == "text/plain; charset=utf-8"
        assert len(base64.b64decode(attachment["data"]).decode("utf-8").split(". ")) >= 3


def test_history_spans_over_five_years_and_ends_recently(
    person: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    bundle, _ = person
    starts = [datetime.fromisoformat(e["period"]["start"]).date() for e in resources(bundle, "Encounter")]
    assert (max(starts) - min(starts)).days >= 6 * 365
    assert 0 < (TODAY - max(starts)).days <= 62


def test_write_person_writes_bundle_and_truth(tmp_path: Path) -> None:
    path, truth = write_person(tmp_path, seed=3, today=TODAY)
    assert path == tmp_path / "sample_person.json"
    bundle = json.loads(path.read_text(encoding="utf-8"))
    assert json.loads((tmp_path / "sample_person.truth.json").read_text(encoding="utf-8")) == truth
    assert compute_truth(bundle) == truth


def test_write_person_defaults_to_a_recent_history(tmp_path: Path) -> None:
    _, truth = write_person(tmp_path)
    assert (date.today() - date.fromisoformat(truth["hba1c"]["latest"]["date"])).days <= 62
