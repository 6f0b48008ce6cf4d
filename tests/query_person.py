"""June, a small synthetic person (FHIR R4) shaped to exercise typed queries: ties, a week-long emergency
stay, medications active during 2020, a diabetic kidney disorder, social findings, results in 2016 and
2023. Every value is a literal here, so tests compute their truth from these lists, not from the product."""

from __future__ import annotations

from typing import Any

import fhir_factory as F

Json = dict[str, Any]
LOINC, SNOMED, RXNORM, CVX = ("http://loinc.org", "http://snomed.info/sct",
                              "http://www.nlm.nih.gov/research/umls/rxnorm", "http://hl7.org/fhir/sid/cvx")
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"

# (LOINC, display, unit, [(date, value)]), the raw truth tests read.
A1C = [("2019-03-01", 6.4), ("2021-03-01", 6.2), ("2023-03-01", 6.0), ("2025-10-01", 5.9)]
CHOLESTEROL = [("2016-05-02", 212.0), ("2023-09-01", 188.0), ("2025-10-01", 190.0)]
LDL = [("2025-06-01", 118.0), ("2026-10-01", 104.0)]
TRIGLYCERIDES = [("2026-10-01", 150.0)]
WEIGHT = [("2020-06-10", 74.0), ("2023-09-01", 72.5), ("2025-10-01", 70.0)]
BP = [("2016-05-02", 171, 98), ("2020-06-10", 171, 98), ("2023-09-01", 130, 85), ("2025-10-01", 128, 80)]
HEIGHT = [("2025-10-01", 165.1)]
TEMPERATURE = [("2025-10-01", 37.0)]
EGFR = [("2025-10-01", 88.0)]
PHQ9 = [("2025-10-01", 4.0)]
VISITS = [  # (id, class, type, start, end, reason)
    ("v1", "AMB", "General examination of patient (procedure)", "2016-05-02T09:00:00Z", "2016-05-02T09:30:00Z", None),
    ("v2", "AMB", "General examination of patient (procedure)", "2020-06-10T09:00:00Z", "2020-06-10T09:30:00Z", None),
    ("v3", "EMER", "Emergency room admission (procedure)", "2023-03-03T22:00:00Z", "2023-03-10T12:00:00Z",
     "Pneumonia"),
    ("v4", "AMB", "General examination of patient (procedure)", "2023-09-01T09:00:00Z", "2023-09-01T09:30:00Z", None),
    ("v5", "AMB", "General examination of patient (procedure)", "2025-10-01T09:00:00Z", "2025-10-01T09:30:00Z", None),
]
CLINICIAN = "Dr. Ana Ortiz"
# (name, RxNorm, status, authored): four of them were current at some time in 2020.
MEDS = [("lisinopril 10 MG Oral Tablet", "314076", "active", "2019-05-01"),
        ("metformin hydrochloride 500 MG Oral Tablet", "860975", "active", "2018-04-01"),
        ("atorvastatin 20 MG Oral Tablet", "617310", "stopped", "2020-02-01"),
        ("amlodipine 5 MG Oral Tablet", "197361", "completed", "2020-07-01"),
        ("simvastatin 10 MG Oral Tablet", "314231", "stopped", "2017-01-05"),
        ("cetirizine 10 MG Oral Tablet", "1014676", "active", "2021-04-01")]
MEDS_IN_2020 = {"lisinopril 10 MG Oral Tablet", "metformin hydrochloride 500 MG Oral Tablet",
                "atorvastatin 20 MG Oral Tablet", "amlodipine 5 MG Oral Tablet"}
SOCIAL = [("160903007", "Full-time employment (finding)"), ("224299000", "Received higher education (finding)"),
          ("706893006", "Victim of intimate partner abuse (finding)")]


def obs(oid: str, code: str, display: str, when: str, value: float, unit: str, cat: str = "laboratory") -> Json:
    return {"resourceType": "Observation", "id": oid, "status": "final",
            "category": [{"coding": [{"system": OBS_CAT, "code": cat}]}],
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
            "subject": {"reference": "Patient/p1"}, "effectiveDateTime": f"{when}T09:15:00Z",
            "encounter": {"reference": "urn:uuid:v1"},
            "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}


def series(prefix: str, code: str, display: str, unit: str, rows: list[tuple[str, float]],
           cat: str = "laboratory") -> list[Json]:
    return [obs(f"{prefix}{i}", code, display, d, v, unit, cat) for i, (d, v) in enumerate(rows)]


def encounter(vid: str, klass: str, kind: str, start: str, end: str, reason: str | None) -> Json:
    res: Json = {"resourceType": "Encounter", "id": vid, "status": "finished",
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": klass},
                 "type": [{"coding": [{"system": SNOMED, "code": "185349003", "display": kind}], "text": kind}],
                 "subject": {"reference": "Patient/p1"}, "period": {"start": start, "end": end},
                 "participant": [{"individual": {"reference": "Practitioner/dr1", "display": CLINICIAN}}]}
    if reason:
        res["reasonCode"] = [{"coding": [{"system": SNOMED, "code": "233604007", "display": reason}]}]
    return res


def med(mid: str, name: str, rxnorm: str, status: str, authored: str) -> Json:
    return {"resourceType": "MedicationRequest", "id": mid, "status": status, "intent": "order",
            "subject": {"reference": "Patient/p1"}, "authoredOn": f"{authored}T10:00:00Z",
            "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": rxnorm, "display": name}]},
            "dosageInstruction": [{"text": "Take 1 tablet by mouth once daily"}]}


def allergy(aid: str, code: str, display: str, onset: str) -> Json:
    return {"resourceType": "AllergyIntolerance", "id": aid,
            "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                           "code": "active"}]},
            "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
            "patient": {"reference": "Patient/p1"}, "onsetDateTime": onset}


def bp(i: int, when: str, sys_v: float, dia_v: float) -> Json:
    res = F.blood_pressure(f"bp{i}", sys_v, dia_v, f"{when}T09:10:00Z")
    return res


def june_bundle() -> Json:
    """The whole person as one FHIR Bundle."""
    res: list[Json] = [F.patient("p1", born="1970-02-11", name="June Park")]
    res += [encounter(*v) for v in VISITS]
    res += series("a1c", "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", A1C)
    res += series("chol", "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", CHOLESTEROL)
    res += series("ldl", "18262-6", "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay", "mg/dL", LDL)
    res += series("tg", "2571-8", "Triglycerides", "mg/dL", TRIGLYCERIDES)
    res += series("egfr", "33914-3", "Glomerular filtration rate/1.73 sq M.predicted", "mL/min/{1.73_m2}", EGFR)
    res += series("wt", "29463-7", "Body weight", "kg", WEIGHT, "vital-signs")
    res += series("ht", "8302-2", "Body height", "cm", HEIGHT, "vital-signs")
    res += series("tmp", "8310-5", "Body temperature", "Cel", TEMPERATURE, "vital-signs")
    res += series("phq", "44261-6", "PHQ-9 total score", "{score}", PHQ9, "survey")
    res += [bp(i, d, s, di) for i, (d, s, di) in enumerate(BP)]
    res += [med(f"m{i}", *m) for i, m in enumerate(MEDS)]
    res += [allergy("al1", "91936005", "Allergy to penicillin", "2001-01-01"),
            allergy("al2", "91935009", "Allergy to peanuts", "1985-06-01")]
    res += [F.condition("c1", "127013003", "Diabetic renal disease (disorder)", "2021-05-01"),
            F.condition("c2", "59621000", "Essential hypertension (disorder)", "2016-05-02"),
            F.condition("c3", "254837009", "Malignant neoplasm of breast (disorder)", "2012-03-01", "resolved"),
            F.condition("c4", "840539006", "COVID-19", "2020-12-01", "resolved")]
    res[-1]["abatementDateTime"] = "2020-12-20"
    res[-2]["abatementDateTime"] = "2014-06-01"
    res += [F.condition(f"s{i}", code, label, "2016-05-02") for i, (code, label) in enumerate(SOCIAL)]
    res += [{"resourceType": "Immunization", "id": f"flu{i}", "status": "completed",
             "vaccineCode": {"coding": [{"system": CVX, "code": "140", "display": "Influenza, seasonal"}]},
             "patient": {"reference": "Patient/p1"}, "occurrenceDateTime": f"{y}-10-15T10:00:00Z"}
            for i, y in enumerate((2020, 2022, 2024))]
    res += [{"resourceType": "CarePlan", "id": "cp1", "status": "active", "intent": "order",
             "category": [{"coding": [{"system": "http://hl7.org/fhir/us/core/CodeSystem/careplan-category",
                                       "code": "assess-plan"}]},
                          {"coding": [{"system": SNOMED, "code": "698360004",
                                       "display": "Diabetes self management plan (record artifact)"}]}],
             "subject": {"reference": "Patient/p1"}, "period": {"start": "2021-05-01T10:00:00Z"},
             "addresses": [{"reference": "urn:uuid:c1"}],
             "activity": [{"detail": {"status": "in-progress", "code": {"coding": [
                 {"system": SNOMED, "code": "160670007", "display": "Diabetic diet (finding)"}]}}}]},
            {"resourceType": "Goal", "id": "g1", "lifecycleStatus": "active",
             "description": {"text": "Hemoglobin A1c total in Blood < 7.0"}, "subject": {"reference": "Patient/p1"},
             "startDate": "2021-05-01"}]
    res += [{"resourceType": "Procedure", "id": "pr1", "status": "completed",
             "code": {"coding": [{"system": SNOMED, "code": "73761001", "display": "Colonoscopy"}]},
             "subject": {"reference": "Patient/p1"}, "performedDateTime": "2022-02-02T10:00:00Z"}]
    return F.bundle(*res)
