"""Tiny hand-written FHIR resources for adapter and bad-input tests (synthetic, no real people)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

Json = dict[str, Any]


def patient(pid: str = "p1", born: str = "1980-04-02", name: str = "Test Person") -> Json:
    given, family = name.split(" ", 1)
    return {"resourceType": "Patient", "id": pid, "birthDate": born, "gender": "female",
            "name": [{"given": [given], "family": family}]}


def a1c(oid: str, value: float, when: str, pid: str = "p1") -> Json:
    return {
        "resourceType": "Observation", "id": oid, "status": "final",
        "meta": {"lastUpdated": "2030-01-01T00:00:00Z"},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "laboratory"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4", "display": "Hemoglobin A1c"}]},
        "subject": {"reference": f"Patient/{pid}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"},
        "referenceRange": [{"low": {"value": 4.0, "unit": "%"}, "high": {"value": 5.6, "unit": "%"}}],
    }


def blood_pressure(oid: str, sys_v: float, dia_v: float, when: str) -> Json:
    def comp(code: str, v: float) -> Json:
        return {"code": {"coding": [{"system": "http://loinc.org", "code": code}]},
                "valueQuantity": {"value": v, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org",
                                  "code": "mm[Hg]"}}

    return {
        "resourceType": "Observation", "id": oid, "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                  "code": "vital-signs"}]}],
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure panel"}]},
        "subject": {"reference": "Patient/p1"}, "effectiveDateTime": when,
        "component": [comp("8480-6", sys_v), comp("8462-4", dia_v)],
    }


def med_request_by_reference(rid: str, med_full_url: str) -> Json:
    return {"resourceType": "MedicationRequest", "id": rid, "status": "active", "intent": "order",
            "subject": {"reference": "Patient/p1"}, "medicationReference": {"reference": med_full_url},
            "authoredOn": "2024-02-01T10:00:00-05:00",
            "dosageInstruction": [{"text": "Take 1 tablet by mouth twice daily"}]}


def medication(mid: str) -> Json:
    return {"resourceType": "Medication", "id": mid, "code": {"coding": [
        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "860975",
         "display": "metformin hydrochloride 500 MG Oral Tablet"}]}}


def note(did: str, text: str, when: str = "2024-02-01T10:00:00Z", pid: str = "p1") -> Json:
    return {"resourceType": "DocumentReference", "id": did, "status": "current",
            "type": {"coding": [{"system": "http://loinc.org", "code": "11506-3", "display": "Progress note"}]},
            "subject": {"reference": f"Patient/{pid}"}, "date": when,
            "content": [{"attachment": {"contentType": "text/plain",
                                        "data": base64.b64encode(text.encode()).decode()}}]}


def condition(cid: str, code: str, display: str, onset: str, status: str = "active", pid: str = "p1") -> Json:
    return {"resourceType": "Condition", "id": cid,
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                           "code": status}]},
            "code": {"coding": [{"system": "http://snomed.info/sct", "code": code, "display": display}]},
            "subject": {"reference": f"Patient/{pid}"}, "onsetDateTime": onset}


def bundle(*resources: Json, btype: str = "collection") -> Json:
    return {"resourceType": "Bundle", "type": btype,
            "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]}


def write(path: Path, obj: Json | str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(obj, bytes):
        path.write_bytes(obj)
    else:
        path.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return path
