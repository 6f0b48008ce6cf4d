"""The FHIR adapter maps what providers export into records a person can trust."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import fhir_factory as F
from healthcoach.records.fhir import parse_fhir_files
from healthcoach.records.files import iter_files
from healthcoach.records.models import Category


def parse(path: Path, user: str = "ann"):  # type: ignore[no-untyped-def]
    return parse_fhir_files(iter_files(path, 10**8), user)


def test_lab_uses_clinical_date_not_last_updated(tmp_path: Path) -> None:
    result = parse(F.write(tmp_path / "b.json", F.bundle(F.patient(), F.a1c("o1", 6.1, "2024-05-02T08:00:00-05:00"))))
    (rec,) = result.records
    assert rec.category is Category.lab
    assert rec.value is not None and (rec.value.value, rec.value.unit) == (6.1, "%")
    assert rec.date.isoformat() == "2024-05-02"  # the date as written, not meta.lastUpdated (2030)
    assert rec.reference_range is not None and rec.reference_range.display() == "4-5.6 %"
    assert [c.key for c in rec.codes] == ["LOINC:4548-4"]
    assert result.skipped == {"Patient: identity (kept in the profile, not a record)": 1}


def test_blood_pressure_components_read_as_systolic_over_diastolic(tmp_path: Path) -> None:
    result = parse(F.write(tmp_path / "b.json", F.bundle(F.blood_pressure("bp", 128.4, 81.6, "2024-05-02"))))
    (rec,) = result.records
    assert rec.category is Category.vital
    assert rec.value_display() == "128/82 mmHg"


def test_medication_reference_resolves_by_urn_uuid(tmp_path: Path) -> None:
    b = F.bundle(F.medication("m1"), F.med_request_by_reference("r1", "urn:uuid:m1"))
    result = parse(F.write(tmp_path / "b.json", b))
    (rec,) = result.records
    assert rec.category is Category.medication
    assert rec.label == "metformin hydrochloride 500 MG Oral Tablet"
    assert rec.text == "Take 1 tablet by mouth twice daily"
    assert rec.status == "active"


def test_missing_medication_reference_is_a_counted_skip(tmp_path: Path) -> None:
    result = parse(F.write(tmp_path / "b.json", F.bundle(F.med_request_by_reference("r1", "Medication/nowhere"))))
    assert result.records == []
    assert result.skipped == {"MedicationRequest: its Medication reference is not in the export": 1}


def test_document_text_is_decoded(tmp_path: Path) -> None:
    result = parse(F.write(tmp_path / "b.json", F.bundle(F.note("d1", "Patient feels well. Walks daily."))))
    (rec,) = result.records
    assert rec.category is Category.document and rec.text == "Patient feels well. Walks daily."


def test_pregnancy_conditions_go_to_pregnancy(tmp_path: Path) -> None:
    b = F.bundle(F.condition("c1", "72892002", "Normal pregnancy", "2019-01-01"),
                 F.condition("c2", "59621000", "Essential hypertension", "2020-01-01"))
    cats = {r.label: r.category for r in parse(F.write(tmp_path / "b.json", b)).records}
    assert cats == {"Normal pregnancy": Category.pregnancy, "Essential hypertension": Category.condition}


def test_ndjson_folder_and_zip_give_the_same_records(tmp_path: Path) -> None:
    resources = [F.patient(), F.a1c("o1", 6.1, "2024-05-02"), F.a1c("o2", 5.9, "2023-05-02")]
    nd = F.write(tmp_path / "bulk" / "Observation.ndjson", "\n".join(json.dumps(r) for r in resources[1:]))
    F.write(tmp_path / "bulk" / "Patient.ndjson", json.dumps(resources[0]))
    z = tmp_path / "export.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(nd, "Observation.ndjson")
    single = F.write(tmp_path / "single" / "o1.json", resources[1])
    assert {r.id for r in parse(tmp_path / "bulk").records} == {r.id for r in parse(z).records} | set()
    assert len(parse(tmp_path / "bulk").records) == 2
    assert [r.value.value for r in parse(single).records if r.value] == [6.1]


def test_stable_ids_depend_on_user_and_resource(tmp_path: Path) -> None:
    path = F.write(tmp_path / "b.json", F.bundle(F.a1c("o1", 6.1, "2024-05-02")))
    assert parse(path, "ann").records[0].id == parse(path, "ann").records[0].id
    assert parse(path, "ann").records[0].id != parse(path, "bob").records[0].id
