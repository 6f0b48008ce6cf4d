"""Export: every file present and readable, a valid FHIR R4 collection Bundle that re-ingests to the same records."""

from __future__ import annotations

import json
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

import fhir_factory as F
from healthcoach.container import Stores
from healthcoach.errors import NotFound
from healthcoach.privacy import ExportError, export_user, list_audit
from healthcoach.records.models import Record

FILES = {"README.md", "profile.json", "records.json", "fhir_bundle.json", "conversations.json", "audit.json"}


def edge_cases() -> list[dict[str, Any]]:
    """Resources that exercise partial dates, periods, text occurrences, reports with results, statuses."""
    obs = F.a1c("o-year", 6.4, "2019")
    glucose = {**F.a1c("o-glu", 99, "2024-05-02T08:00:00-04:00"), "code": {"coding": [
        {"system": "http://loinc.org", "code": "2345-7", "display": "Glucose"}]}, "interpretation": [{"text": "Normal"}]}
    smoke = {"resourceType": "Observation", "id": "sm1", "status": "final", "subject": {"reference": "Patient/p1"},
             "category": [{"coding": [{"code": "social-history"}]}], "effectiveDateTime": "2023-01-05",
             "code": {"coding": [{"system": "http://loinc.org", "code": "72166-2"}], "text": "Tobacco smoking status"},
             "valueCodeableConcept": {"text": "Never smoker"}}
    report = {"resourceType": "DiagnosticReport", "id": "r1", "status": "final", "subject": {"reference": "Patient/p1"},
              "code": {"coding": [{"system": "http://loinc.org", "code": "24323-8"}], "text": "Metabolic panel"},
              "effectiveDateTime": "2024-05-02T08:00:00-04:00", "result": [{"reference": "Observation/o-glu"}]}
    statement = {"resourceType": "MedicationStatement", "id": "ms1", "status": "completed",
                 "subject": {"reference": "Patient/p1"}, "effectivePeriod": {"start": "2020-01-01", "end": "2021-06-30"},
                 "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                           "code": "197361", "display": "amlodipine 5 MG"}]},
                 "dosage": [{"text": "one daily"}]}
    shot = {"resourceType": "Immunization", "id": "i1", "status": "completed", "patient": {"reference": "Patient/p1"},
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "140"}], "text": "Flu"},
            "occurrenceString": "autumn 2018", "recorded": "2018-10-15", "lotNumber": "LOT7",
            "location": {"display": "Corner Pharmacy"}}
    allergy = {"resourceType": "AllergyIntolerance", "id": "al1", "patient": {"reference": "Patient/p1"},
               "clinicalStatus": {"coding": [{"code": "active"}]}, "criticality": "high", "type": "allergy",
               "category": ["medication"], "code": {"text": "Penicillin"}, "recordedDate": "2010-03-01",
               "reaction": [{"manifestation": [{"text": "Hives"}]}, {"manifestation": [{"text": "Wheeze"}]}]}
    resolved = F.condition("c1", "195662009", "Acute viral pharyngitis", "2022-02-01", status="resolved")
    resolved["abatementDateTime"] = "2022-02-10"
    return [F.patient(), obs, glucose, smoke, report, statement, shot, allergy, resolved,
            F.blood_pressure("bp1", 121, 79, "2024-05-02T08:05:00-04:00"),
            F.note("d1", "Walks 30 minutes daily.\nSleeps well."),
            F.med_request_by_reference("mr1", "urn:uuid:m1"), F.medication("m1")]


@pytest.fixture
def stores(make_stores: Callable[..., Stores]) -> Stores:
    return make_stores()


def ingest(stores: Stores, path: Path, user: str = "ann") -> dict[str, Record]:
    stores.ingestor.ingest(user, [path])
    return {r.id: r for r in stores.records.query(user)}


def same_facts(a: Record, b: Record) -> bool:
    """Equal in everything but the file name (and the organisation, which the reader takes from encounters)."""
    exclude = {"source": {"file", "organization"}}
    return bool(a.model_dump(exclude=exclude) == b.model_dump(exclude=exclude))


def validate_bundle(bundle: dict[str, Any]) -> None:
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    for entry in bundle["entry"]:
        res = entry["resource"]
        get_fhir_model_class(res["resourceType"]).model_validate(res)  # raises on any invalid resource
    Bundle.model_validate(bundle)


def test_export_folder_is_complete_owner_only_and_valid_r4(stores: Stores, tmp_path: Path,
                                                           sample_bundle: tuple[Path, dict[str, object]]) -> None:
    records = ingest(stores, sample_bundle[0])
    out = export_user(stores, "ann", tmp_path / "export")
    assert {p.name for p in out.iterdir()} == FILES
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.iterdir())
    assert len(json.loads((out / "records.json").read_text())) == len(records)
    profile = json.loads((out / "profile.json").read_text())
    assert profile["birth_date"] == sample_bundle[1]["birth_date"] and profile["consent"]["use_records_in_chat"] is False
    readme = (out / "README.md").read_text()
    assert all(name in readme for name in FILES - {"README.md"})
    assert list_audit(stores.records, "ann")[-1].action == "export"
    assert list_audit(stores.records, "ann")[-1].detail["records"] == len(records)
    bundle = json.loads((out / "fhir_bundle.json").read_text())
    validate_bundle(bundle)  # every resource, then the Bundle
    types = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert {"Patient", "Observation", "Condition", "MedicationRequest", "MedicationStatement", "Immunization",
            "AllergyIntolerance", "Procedure", "Encounter", "DocumentReference", "DiagnosticReport"} <= types
    assert len(bundle["entry"]) == len(records) + 1


def test_sample_reingests_to_the_same_records(stores: Stores, make_stores: Callable[..., Stores], tmp_path: Path,
                                              sample_bundle: tuple[Path, dict[str, object]]) -> None:
    before = ingest(stores, sample_bundle[0])
    out = export_user(stores, "ann", tmp_path / "e")
    after = ingest(make_stores(), out / "fhir_bundle.json")
    assert set(after) == set(before)  # same stable ids: same user, source kind, resource type and id
    assert [i for i in before if not same_facts(before[i], after[i])] == []


def test_edge_cases_round_trip_and_validate(stores: Stores, make_stores: Callable[..., Stores],
                                            tmp_path: Path) -> None:
    before = ingest(stores, F.write(tmp_path / "edge.json", F.bundle(*edge_cases())))
    out = export_user(stores, "ann", tmp_path / "edge.zip")
    with zipfile.ZipFile(out) as zf:
        assert set(zf.namelist()) == FILES
        bundle = json.loads(zf.read("fhir_bundle.json"))
        (tmp_path / "unzipped").mkdir()
        zf.extractall(tmp_path / "unzipped")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    validate_bundle(bundle)
    after = ingest(make_stores(), tmp_path / "unzipped" / "fhir_bundle.json")
    assert set(after) == set(before)
    assert [before[i].label for i in before if not same_facts(before[i], after[i])] == []
    shot = next(r for r in after.values() if r.label == "Flu")
    assert shot.source.organization == "Corner Pharmacy" and shot.text == "autumn 2018"


def test_conversations_and_audit_are_exported(stores: Stores, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from healthcoach.store.schema import AuditRow, ConversationRow, MessageRow

    stores.records.ensure_user("ann")
    now = datetime.now(UTC)
    with stores.records.session() as s:
        s.add(ConversationRow(id="c1", user_id="ann", created_at=now))
        s.add(MessageRow(conversation_id="c1", user_id="ann", role="user", text="How is my sleep?", at=now))
        s.add(AuditRow(user_id="ann", at=now, action="ask", detail=json.dumps({"question": "How is my sleep?"})))
    out = export_user(stores, "ann", tmp_path / "e")
    convs = json.loads((out / "conversations.json").read_text())
    assert convs[0]["id"] == "c1" and convs[0]["messages"][0]["text"] == "How is my sleep?"
    assert json.loads((out / "audit.json").read_text())[0]["detail"]["question"] == "How is my sleep?"


def test_export_refuses_to_overwrite_and_unknown_users(stores: Stores, tmp_path: Path) -> None:
    stores.records.ensure_user("ann")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("keep me")
    with pytest.raises(ExportError):
        export_user(stores, "ann", tmp_path / "full")
    (tmp_path / "a.zip").write_text("keep me")
    with pytest.raises(ExportError):
        export_user(stores, "ann", tmp_path / "a.zip")
    with pytest.raises(NotFound):
        export_user(stores, "nobody", tmp_path / "new")
    assert (tmp_path / "full" / "x").read_text() == "keep me" and not (tmp_path / "new").exists()
