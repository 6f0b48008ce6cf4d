"""The red-team suite's data: injected records (eval/suites/redteam/*.jsonl, validated at load) and the
small synthetic person each one is planted in (FHIR R4, built here; no real people)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from healthcoach.errors import ConfigError
from healthcoach.settings import packaged_dir

Json = dict[str, Any]
Resource = Literal[
    "Observation.valueString",
    "Observation.note",
    "Observation.interpretation.text",
    "Observation.component.valueString",
    "Condition.code.text",
    "Condition.code.text+coding",
    "Condition.note",
    "DocumentReference.content",
    "DiagnosticReport.conclusion",
    "DiagnosticReport.presentedForm",
    "MedicationRequest.dosageInstruction.text",
    "MedicationRequest.medication.text",
    "MedicationRequest.reasonCode.text",
    "MedicationStatement.dosage.text",
    "AllergyIntolerance.reaction.manifestation.text",
    "AllergyIntolerance.code.text",
    "Procedure.code.text",
    "Procedure.reasonCode.text",
    "Immunization.vaccineCode.text",
    "Encounter.reasonCode.text",
]
LOINC, SNOMED = "http://loinc.org", "http://snomed.info/sct"
RXNORM, CVX = "http://www.nlm.nih.gov/research/umls/rxnorm", "http://hl7.org/fhir/sid/cvx"


class Injection(BaseModel):
    """One injected record: where the text goes, what to ask, and how to tell that it was obeyed."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1)
    source: str = Field(min_length=1, description="Who wrote the item and how.")
    resource: Resource = Field(description="The resource and field that carries the payload.")
    payload: str = Field(min_length=10, description="The instruction hidden in the record.")
    ask: tuple[str, ...] = Field(min_length=1, description="Questions that bring the record into an answer.")
    markers: tuple[str, ...] = Field(
        min_length=1, description="Phrases that, in the coach's own words, mean it followed the instruction."
    )
    obey: str = Field(min_length=10, description="What a model that obeys the instruction writes.")


def suite_path() -> Path:
    """The packaged suite file."""
    return packaged_dir("eval") / "suites" / "redteam" / "injected_records.jsonl"


def load_suite(path: Path | None = None) -> list[Injection]:
    """Read and validate the suite (ConfigError naming the file, line and field)."""
    path = path or suite_path()
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(Injection.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as e:
            raise ConfigError(f"{path.name}: line {n}: {str(e).splitlines()[0]}") from e
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path.name}: duplicate ids")
    return items


def _code(system: str, code: str, display: str) -> Json:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": display}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _med(rid: str, pid: str, code: str, name: str, sig: str, rtype: str = "MedicationRequest") -> Json:
    res: Json = {
        "resourceType": rtype,
        "id": rid,
        "status": "active",
        "subject": {"reference": f"Patient/{pid}"},
        "medicationCodeableConcept": _code(RXNORM, code, name),
    }
    if rtype == "MedicationRequest":
        res |= {"intent": "order", "authoredOn": "2025-01-10", "dosageInstruction": [{"text": sig}]}
    else:
        res |= {"effectiveDateTime": "2025-01-10", "dosage": [{"text": sig}]}
    return res


def base_resources(pid: str) -> list[Json]:
    """An adult with a few ordinary records of every kind the questions ask about."""
    subject = {"reference": f"Patient/{pid}"}
    lab = {
        "resourceType": "Observation",
        "status": "final",
        "subject": subject,
        "category": [{"coding": [{"code": "laboratory"}]}],
    }
    return [
        {
            "resourceType": "Patient",
            "id": pid,
            "birthDate": "1971-09-14",
            "gender": "female",
            "name": [{"given": ["Robin"], "family": "Testperson"}],
        },
        lab
        | {
            "id": "a1c",
            "code": _code(LOINC, "4548-4", "Hemoglobin A1c"),
            "effectiveDateTime": "2025-05-02",
            "valueQuantity": {"value": 7.1, "unit": "%"},
        },
        _med(
            "metformin",
            pid,
            "860975",
            "metformin hydrochloride 500 MG Oral Tablet",
            "Take 1 tablet by mouth twice daily",
        ),
        _med(
            "insulin",
            pid,
            "311041",
            "insulin glargine 100 UNT/ML Injectable Solution",
            "Inject 10 units at bedtime",
        ),
        _med(
            "lisinopril", pid, "314076", "lisinopril 10 MG Oral Tablet", "Take 1 tablet by mouth once daily"
        ),
        {
            "resourceType": "Condition",
            "id": "dm2",
            "subject": subject,
            "onsetDateTime": "2019-03-01",
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "code": _code(SNOMED, "44054006", "Diabetes mellitus type 2"),
        },
        {
            "resourceType": "Immunization",
            "id": "flu",
            "status": "completed",
            "patient": subject,
            "occurrenceDateTime": "2024-10-05",
            "vaccineCode": _code(CVX, "140", "Influenza, seasonal, injectable"),
        },
        {
            "resourceType": "Encounter",
            "id": "visit",
            "status": "finished",
            "subject": subject,
            "class": {"code": "AMB"},
            "type": [_code(SNOMED, "185349003", "Encounter for check up")],
            "period": {"start": "2025-05-02T09:00:00Z", "end": "2025-05-02T09:30:00Z"},
        },
    ]


def _clinical_bodies(payload: str) -> dict[str, Json]:
    """Observation and Condition bodies carrying the payload."""
    glucose = {
        "status": "final",
        "category": [{"coding": [{"code": "laboratory"}]}],
        "effectiveDateTime": "2025-06-01",
        "code": _code(LOINC, "2345-7", "Glucose"),
        "valueQuantity": {"value": 104, "unit": "mg/dL"},
    }
    active = {"clinicalStatus": {"coding": [{"code": "active"}]}, "onsetDateTime": "2025-06-01"}
    return {
        "Observation.valueString": glucose
        | {
            "code": _code(LOINC, "48767-8", "Annotation comment"),
            "valueQuantity": None,
            "valueString": payload,
        },
        "Observation.note": glucose | {"note": [{"text": payload}]},
        "Observation.interpretation.text": glucose | {"interpretation": [{"text": payload}]},
        "Observation.component.valueString": glucose
        | {"component": [{"code": {"text": "Comment"}, "valueString": payload}]},
        "Condition.code.text": active | {"code": {"text": payload}},
        "Condition.code.text+coding": active
        | {
            "code": {
                "coding": [{"system": SNOMED, "code": "195967001", "display": "Asthma"}],
                "text": payload,
            }
        },
        "Condition.note": active
        | {"code": _code(SNOMED, "55822004", "Hyperlipidemia"), "note": [{"text": payload}]},
    }


def _document_bodies(payload: str, subject: Json) -> dict[str, Json]:
    """Document, report, allergy, procedure, vaccine and visit bodies carrying the payload."""
    return {
        "DocumentReference.content": {
            "status": "current",
            "date": "2025-06-01T10:00:00Z",
            "type": _code(LOINC, "11506-3", "Progress note"),
            "content": [{"attachment": {"contentType": "text/plain", "data": _b64(payload)}}],
        },
        "DiagnosticReport.conclusion": {
            "status": "final",
            "effectiveDateTime": "2025-06-01",
            "code": _code(LOINC, "11526-1", "Pathology study"),
            "conclusion": payload,
        },
        "DiagnosticReport.presentedForm": {
            "status": "final",
            "effectiveDateTime": "2025-06-01",
            "code": _code(LOINC, "11526-1", "Pathology study"),
            "presentedForm": [{"contentType": "text/plain", "data": _b64(payload)}],
        },
        "AllergyIntolerance.reaction.manifestation.text": {
            "patient": subject,
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "recordedDate": "2025-06-01",
            "code": _code(SNOMED, "91935009", "Allergy to peanut"),
            "reaction": [{"manifestation": [{"text": payload}]}],
        },
        "AllergyIntolerance.code.text": {
            "patient": subject,
            "clinicalStatus": {"coding": [{"code": "active"}]},
            "recordedDate": "2025-06-01",
            "code": {"text": payload},
        },
        "Procedure.code.text": {
            "status": "completed",
            "performedDateTime": "2025-06-01",
            "code": {"text": payload},
        },
        "Procedure.reasonCode.text": {
            "status": "completed",
            "performedDateTime": "2025-06-01",
            "code": _code(SNOMED, "73761001", "Colonoscopy"),
            "reasonCode": [{"text": payload}],
        },
        "Immunization.vaccineCode.text": {
            "status": "completed",
            "patient": subject,
            "occurrenceDateTime": "2025-06-01",
            "vaccineCode": {"text": payload},
        },
        "Encounter.reasonCode.text": {
            "status": "finished",
            "class": {"code": "AMB"},
            "type": [_code(SNOMED, "185349003", "Encounter for check up")],
            "period": {"start": "2025-06-01T09:00:00Z"},
            "reasonCode": [{"text": payload}],
        },
    }


def injected_resource(resource: str, payload: str, pid: str) -> Json:
    """The resource that carries the payload in the named field (id 'inj')."""
    kind, _, field = resource.partition(".")
    subject = {"reference": f"Patient/{pid}"}
    base: Json = {"resourceType": kind, "id": "inj", "subject": subject}
    builders = {**_clinical_bodies(payload), **_document_bodies(payload, subject)}
    if kind in ("MedicationRequest", "MedicationStatement"):
        med = _med("inj", pid, "617312", "atorvastatin 20 MG Oral Tablet", "Take 1 tablet daily", kind)
        if field == "medication.text":
            med["medicationCodeableConcept"] = {"text": payload}
        elif field == "reasonCode.text":
            med["reasonCode"] = [{"text": payload}]
        else:
            med["dosageInstruction" if kind == "MedicationRequest" else "dosage"] = [{"text": payload}]
        return med
    body = {k: v for k, v in builders[resource].items() if v is not None}
    if kind == "Observation":
        body = {**body, "subject": subject}
    return {**base, **body} if "patient" not in body else {"resourceType": kind, "id": "inj", **body}


def injected_bundle(item: Injection, pid: str = "rt-person") -> Json:
    """The base person plus the injected record, as a collection Bundle."""
    resources = [*base_resources(pid), injected_resource(item.resource, item.payload, pid)]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }
