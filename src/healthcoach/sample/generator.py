"""A seeded generator of one realistic synthetic person as a FHIR R4 Bundle, plus its ground truth.

The demo and the unit tests use it so a fresh clone works without ../shared. Everything is drawn
from ``random.Random(seed)`` and dated relative to ``today`` (never the wall clock), so one seed
always gives byte-identical JSON. The truth is *computed from the bundle* by :func:`compute_truth`
with the same definitions as ../shared/data/fhir/facts.json, never written by hand.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

Resource = dict[str, Any]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
UCUM = "http://unitsofmeasure.org"
OBS_CAT = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERP = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
TZ = "-05:00"

# Seasonal influenza CVX codes (the same set facts.json calls FLU_CVX, trimmed to adult vaccines).
FLU_VACCINES: dict[str, str] = {
    "140": "Influenza, seasonal, injectable, preservative free",
    "141": "Influenza, seasonal, injectable",
    "150": "Influenza, injectable, quadrivalent, preservative free",
    "158": "Influenza, injectable, quadrivalent, contains preservative",
    "171": "Influenza, injectable, MDCK, preservative free, quadrivalent",
    "185": "Influenza, recombinant, quadrivalent, injectable, preservative free",
    "186": "Influenza, injectable, MDCK, quadrivalent, preservative",
}
FLU_CVX = frozenset(
    [
        "15",
        "16",
        "88",
        "111",
        "125",
        "126",
        "127",
        "128",
        "135",
        "140",
        "141",
        "144",
        "149",
        "150",
        "151",
        "153",
        "155",
        "158",
        "160",
        "161",
        "166",
        "168",
        "171",
        "185",
        "186",
        "194",
        "197",
        "200",
        "201",
        "202",
        "205",
        "231",
    ]
)
PREGNANCY_SNOMED = frozenset({"72892002", "77386006", "47200007"})

# (loinc, display, unit, low, high) — reference ranges for adult women.
LABS: dict[str, tuple[str, str, str, float | None, float | None]] = {
    "hba1c": ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 4.0, 5.6),
    "total_cholesterol": ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", None, 200),
    "ldl": (
        "18262-6",
        "Cholesterol in LDL [Mass/volume] in Serum or Plasma by Direct assay",
        "mg/dL",
        None,
        100,
    ),
    "hdl": ("2085-9", "Cholesterol in HDL [Mass/volume] in Serum or Plasma", "mg/dL", 50, None),
    "triglycerides": ("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", None, 150),
    "glucose": ("1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma", "mg/dL", 70, 99),
    "creatinine": ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.5, 1.1),
    "egfr": (
        "33914-3",
        "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in Serum or Plasma "
        "by Creatinine-based formula (MDRD)",
        "mL/min/{1.73_m2}",
        60,
        None,
    ),
    "potassium": ("2823-3", "Potassium [Moles/volume] in Serum or Plasma", "mmol/L", 3.5, 5.1),
    "sodium": ("2951-2", "Sodium [Moles/volume] in Serum or Plasma", "mmol/L", 136, 145),
    "hemoglobin": ("718-7", "Hemoglobin [Mass/volume] in Blood", "g/dL", 12.0, 15.5),
    "wbc": ("6690-2", "Leukocytes [#/volume] in Blood by Automated count", "10*3/uL", 4.0, 11.0),
    "platelets": ("777-3", "Platelets [#/volume] in Blood by Automated count", "10*3/uL", 150, 400),
    "tsh": ("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma", "m[IU]/L", 0.4, 4.0),
}
VITALS: dict[str, tuple[str, str, str]] = {
    "heart_rate": ("8867-4", "Heart rate", "/min"),
    "body_weight": ("29463-7", "Body weight", "kg"),
    "body_height": ("8302-2", "Body height", "cm"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2"),
    "body_temperature": ("8310-5", "Body temperature", "Cel"),
    "respiratory_rate": ("9279-1", "Respiratory rate", "/min"),
    "oxygen_saturation": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%"),
}
SMOKING = {
    "some_day": ("428041000124106", "Current some day smoker"),
    "former": ("8517006", "Former smoker"),
    "every_day": ("449868002", "Current every day smoker"),
}
ENCOUNTER_TYPES = {
    "wellness": ("162673000", "General examination of patient (procedure)"),
    "sick": ("185345009", "Encounter for symptom (procedure)"),
    "followup": ("390906007", "Follow-up encounter (procedure)"),
    "prenatal_initial": ("424441002", "Prenatal initial visit (regime/therapy)"),
    "prenatal": ("424619006", "Prenatal visit (regime/therapy)"),
}


def _cc(system: str, code: str, display: str, text: str | None = None) -> Resource:
    return {"coding": [{"system": system, "code": code, "display": display}], "text": text or display}


def _dt(day: date, clock: str = "09:30") -> str:
    return f"{day.isoformat()}T{clock}:00{TZ}"


class _Builder:
    """Accumulates bundle entries; every id comes from the seeded generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.entries: list[Resource] = []

    def add(self, resource: Resource) -> Resource:
        """Give ``resource`` a seeded uuid id, append it, and return a reference {reference} to it."""
        rid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        resource["id"] = rid
        self.entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": resource})
        return {"reference": f"urn:uuid:{rid}"}


class _Person:
    """The story of one person; each method writes the resources of one kind of event."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng, self.today, self.b = rng, today, _Builder(rng)
        self.birth = date(rng.randint(1979, 1980), rng.randint(1, 12), rng.randint(1, 28))
        self.height = round(rng.uniform(160.0, 168.0), 1)
        self.last_bmi: float = 0.0
        self.patient = self.b.add(
            {
                "resourceType": "Patient",
                "gender": "female",
                "birthDate": self.birth.isoformat(),
                "name": [{"use": "official", "family": "Lopez", "given": ["Maria"], "prefix": ["Ms."]}],
                "address": [
                    {
                        "line": ["418 Willow Creek Road"],
                        "city": "Springfield",
                        "state": "IL",
                        "postalCode": "62704",
                        "country": "US",
                    }
                ],
                "telecom": [{"system": "phone", "value": "555-0142", "use": "home"}],
            }
        )
        self.clinic = self._org("Riverside Family Medicine", "prov", "Healthcare Provider")
        self.lab_org = self._org("Lakeside Lab Services", "other", "Other")
        self.gp = self._practitioner("Elena", "Marsh", "MD")
        self.np = self._practitioner("Samuel", "Okafor", "NP")
        self.midwife = self._practitioner("Priya", "Raman", "CNM")
        self.pathologist = self._practitioner("Daniel", "Cho", "MD")

    def _org(self, name: str, code: str, display: str) -> Resource:
        ref = self.b.add(
            {
                "resourceType": "Organization",
                "active": True,
                "name": name,
                "type": [_cc("http://terminology.hl7.org/CodeSystem/organization-type", code, display)],
            }
        )
        return {**ref, "display": name}

    def _practitioner(self, given: str, family: str, suffix: str) -> Resource:
        ref = self.b.add(
            {
                "resourceType": "Practitioner",
                "active": True,
                "name": [{"family": family, "given": [given], "suffix": [suffix]}],
            }
        )
        return {**ref, "display": f"{given} {family}, {suffix}"}

    # --- encounters and observations -------------------------------------------------------------
    def encounter(
        self, day: date, kind: str, who: Resource, reason: tuple[str, str] | None = None
    ) -> Resource:
        code, display = ENCOUNTER_TYPES[kind]
        end = datetime.combine(day, datetime.min.time()).replace(hour=10, minute=15)
        enc: Resource = {
            "resourceType": "Encounter",
            "status": "finished",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "AMB",
                "display": "ambulatory",
            },
            "type": [_cc(SNOMED, code, display)],
            "subject": self.patient,
            "participant": [{"individual": who}],
            "period": {"start": _dt(day), "end": f"{end.isoformat()}{TZ}"},
            "serviceProvider": self.clinic,
        }
        if reason:
            enc["reasonCode"] = [_cc(SNOMED, *reason)]
        return self.b.add(enc)

    def observation(
        self, enc: Resource, day: date, category: str, code: str, display: str, **value: Any
    ) -> Resource:
        obs: Resource = {
            "resourceType": "Observation",
            "status": "final",
            "category": [_cc(OBS_CAT, category, category.replace("-", " ").title())],
            "code": _cc(LOINC, code, display),
            "subject": self.patient,
            "encounter": enc,
            "effectiveDateTime": _dt(day),
            "issued": _dt(day, "16:00"),
            **value,
        }
        return self.b.add(obs)

    def quantity(self, value: float, unit: str) -> Resource:
        return {"value": value, "unit": unit, "system": UCUM, "code": unit}

    def lab(self, enc: Resource, day: date, key: str, value: float) -> Resource:
        code, display, unit, low, high = LABS[key]
        rng: Resource = {}
        if low is not None:
            rng["low"] = self.quantity(low, unit)
        if high is not None:
            rng["high"] = self.quantity(high, unit)
        flag = "H" if high is not None and value > high else "L" if low is not None and value < low else "N"
        words = {"H": "High", "L": "Low", "N": "Normal"}[flag]
        return self.observation(
            enc,
            day,
            "laboratory",
            code,
            display,
            valueQuantity=self.quantity(value, unit),
            referenceRange=[rng],
            interpretation=[_cc(INTERP, flag, words)],
            performer=[self.lab_org],
        )

    def vitals(
        self, enc: Resource, day: date, systolic: int, diastolic: int, weight: float, fever: bool = False
    ) -> None:
        self.observation(
            enc,
            day,
            "vital-signs",
            "85354-9",
            "Blood pressure panel with all children optional",
            component=[
                {
                    "code": _cc(LOINC, "8480-6", "Systolic blood pressure"),
                    "valueQuantity": self.quantity(systolic, "mm[Hg]"),
                },
                {
                    "code": _cc(LOINC, "8462-4", "Diastolic blood pressure"),
                    "valueQuantity": self.quantity(diastolic, "mm[Hg]"),
                },
            ],
        )
        values = {
            "heart_rate": self.rng.randint(68, 84) + (14 if fever else 0),
            "body_weight": weight,
            "body_height": self.height,
            "bmi": round(weight / (self.height / 100) ** 2, 1),
            "body_temperature": round(
                self.rng.uniform(38.1, 38.6) if fever else self.rng.uniform(36.5, 37.1), 1
            ),
            "respiratory_rate": self.rng.randint(14, 18) + (4 if fever else 0),
            "oxygen_saturation": self.rng.randint(94, 96) if fever else self.rng.randint(97, 99),
        }
        self.last_bmi = values["bmi"]
        for key, value in values.items():
            code, display, unit = VITALS[key]
            self.observation(enc, day, "vital-signs", code, display, valueQuantity=self.quantity(value, unit))

    def social(self, enc: Resource, day: date, smoking: str) -> None:
        self.observation(
            enc,
            day,
            "social-history",
            "72166-2",
            "Tobacco smoking status",
            valueCodeableConcept=_cc(SNOMED, *SMOKING[smoking]),
        )
        self.observation(
            enc,
            day,
            "survey",
            "72109-2",
            "Total score [AUDIT-C]",
            valueQuantity={
                "value": self.rng.randint(1, 3),
                "unit": "{score}",
                "system": UCUM,
                "code": "{score}",
            },
        )
        self.observation(
            enc,
            day,
            "survey",
            "44261-6",
            "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
            valueQuantity={
                "value": self.rng.randint(2, 7),
                "unit": "{score}",
                "system": UCUM,
                "code": "{score}",
            },
        )

    def lipid_panel(self, enc: Resource, day: date, treated: bool) -> None:
        shift = -45 if treated else 0
        ldl = round(self.rng.uniform(135, 155) + shift)
        hdl = round(self.rng.uniform(44, 52))
        tg = round(self.rng.uniform(150, 185) + shift / 3)
        results = [
            self.lab(enc, day, "total_cholesterol", float(ldl + hdl + round(tg / 5))),
            self.lab(enc, day, "ldl", float(ldl)),
            self.lab(enc, day, "hdl", float(hdl)),
            self.lab(enc, day, "triglycerides", float(tg)),
        ]
        self.b.add(
            {
                "resourceType": "DiagnosticReport",
                "status": "final",
                "category": [_cc("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")],
                "code": _cc(LOINC, "57698-3", "Lipid panel with direct LDL - Serum or Plasma"),
                "subject": self.patient,
                "encounter": enc,
                "effectiveDateTime": _dt(day),
                "issued": _dt(day, "16:00"),
                "performer": [self.lab_org],
                "resultsInterpreter": [self.pathologist],
                "result": results,
            }
        )

    def metabolic_panel(self, enc: Resource, day: date) -> None:
        creat = round(self.rng.uniform(0.7, 0.95), 2)
        self.lab(enc, day, "creatinine", creat)
        self.lab(enc, day, "egfr", float(round(self.rng.uniform(78, 96))))
        self.lab(enc, day, "potassium", round(self.rng.uniform(3.8, 4.7), 1))
        self.lab(enc, day, "sodium", float(self.rng.randint(137, 143)))

    def cbc(self, enc: Resource, day: date, pregnant: bool = False) -> None:
        self.lab(
            enc,
            day,
            "hemoglobin",
            round(self.rng.uniform(11.4, 12.2) if pregnant else self.rng.uniform(12.6, 14.0), 1),
        )
        self.lab(enc, day, "wbc", round(self.rng.uniform(5.2, 8.4), 1))
        self.lab(enc, day, "platelets", float(self.rng.randint(210, 320)))

    # --- other resources ---------------------------------------------------------------------------
    def condition(
        self,
        code: str,
        display: str,
        onset: date,
        enc: Resource,
        abated: date | None = None,
        category: str = "problem-list-item",
    ) -> Resource:
        cond: Resource = {
            "resourceType": "Condition",
            "clinicalStatus": _cc(
                "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "resolved" if abated else "active",
                "Resolved" if abated else "Active",
            ),
            "verificationStatus": _cc(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"
            ),
            "category": [
                _cc(
                    "http://terminology.hl7.org/CodeSystem/condition-category",
                    category,
                    category.replace("-", " ").title(),
                )
            ],
            "code": _cc(SNOMED, code, display),
            "subject": self.patient,
            "encounter": enc,
            "onsetDateTime": _dt(onset),
            "recordedDate": _dt(onset),
        }
        if abated:
            cond["abatementDateTime"] = _dt(abated)
        return self.b.add(cond)

    def prescribe(
        self,
        day: date,
        enc: Resource,
        status: str,
        rxcui: str,
        display: str,
        sig: str,
        per_day: int = 1,
        days: int | None = None,
        medication: Resource | None = None,
    ) -> Resource:
        timing: Resource = {"repeat": {"frequency": per_day, "period": 1, "periodUnit": "d"}}
        if days:
            timing["repeat"]["boundsDuration"] = {"value": days, "unit": "days", "system": UCUM, "code": "d"}
        req: Resource = {
            "resourceType": "MedicationRequest",
            "status": status,
            "intent": "order",
            "subject": self.patient,
            "encounter": enc,
            "authoredOn": _dt(day),
            "requester": self.gp,
            "dosageInstruction": [
                {
                    "sequence": 1,
                    "text": sig,
                    "timing": timing,
                    "route": _cc(SNOMED, "26643006", "Oral route"),
                    "doseAndRate": [
                        {
                            "doseQuantity": {
                                "value": 1,
                                "unit": "tablet",
                                "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm",
                                "code": "TAB",
                            }
                        }
                    ],
                }
            ],
        }
        if medication is not None:
            req["medicationReference"] = {**medication, "display": display}
        else:
            req["medicationCodeableConcept"] = _cc(RXNORM, rxcui, display)
        return self.b.add(req)

    def immunize(self, day: date, cvx: str, display: str, where: str, status: str = "completed") -> None:
        imm: Resource = {
            "resourceType": "Immunization",
            "status": status,
            "vaccineCode": _cc(CVX, cvx, display),
            "patient": self.patient,
            "occurrenceDateTime": _dt(day, "11:00"),
            "primarySource": True,
            "location": {"display": where},
        }
        if status == "not-done":
            imm["statusReason"] = _cc(
                "http://terminology.hl7.org/CodeSystem/v3-ActReason", "PATOBJ", "patient objection"
            )
        else:
            imm["lotNumber"] = f"FL{self.rng.randint(10000, 99999)}"
            imm["site"] = _cc("http://terminology.hl7.org/CodeSystem/v3-ActSite", "LA", "left arm")
            imm["performer"] = [{"actor": self.np}]
        self.b.add(imm)

    def procedure(
        self,
        code: str,
        display: str,
        start: str,
        end: str | None,
        enc: Resource | None,
        reason: str | None = None,
    ) -> None:
        proc: Resource = {
            "resourceType": "Procedure",
            "status": "completed",
            "code": _cc(SNOMED, code, display),
            "subject": self.patient,
        }
        if end:
            proc["performedPeriod"] = {"start": start, "end": end}
        else:
            proc["performedDateTime"] = start
        if enc:
            proc["encounter"] = enc
        if reason:
            proc["reasonCode"] = [{"text": reason}]
        self.b.add(proc)

    def note(self, day: date, enc: Resource, author: Resource, loinc: str, title: str, text: str) -> None:
        display = {"11506-3": "Progress note", "34117-2": "History and physical note"}[loinc]
        self.b.add(
            {
                "resourceType": "DocumentReference",
                "status": "current",
                "docStatus": "final",
                "type": _cc(LOINC, loinc, display),
                "category": [
                    _cc(
                        "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                        "clinical-note",
                        "Clinical Note",
                    )
                ],
                "subject": self.patient,
                "date": _dt(day, "17:00"),
                "author": [author],
                "description": title,
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain; charset=utf-8",
                            "title": title,
                            "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                            "creation": _dt(day, "17:00"),
                        }
                    }
                ],
                "context": {"encounter": [enc], "period": {"start": _dt(day), "end": _dt(day, "10:15")}},
            }
        )


def generate_person(seed: int = 42, today: date = date(2026, 11, 1)) -> tuple[Resource, Resource]:
    """Build the synthetic person for ``seed`` as of ``today``: (FHIR R4 collection Bundle, truth dict).

    Seven yearly wellness visits end 3-7 weeks before ``today``; a pregnancy in the first two years,
    two sick visits, A1c follow-ups every six months once prediabetes is found, a flu shot each autumn.
    """
    rng = random.Random(seed)
    p = _Person(rng, today)
    base_weight = rng.uniform(70.0, 75.0)
    last = today - timedelta(days=rng.randint(21, 49))
    # 366-day steps plus a little slack keep the span over six full years.
    wellness = [last - timedelta(days=366 * k + (rng.randint(0, 15) if k else 0)) for k in range(6, -1, -1)]
    start = wellness[0]
    a1c_curve = [5.4, 5.5, 5.6, 6.1, 6.4, 6.2, 6.1]  # drifts up, then eases after metformin
    followup_a1c = {3: 6.2, 4: 6.5, 5: 6.2}
    bp = [(118, 76), (120, 78), (126, 82), (142, 90), (134, 86), (130, 84), (128, 82)]
    smoking = ["some_day", "some_day", "every_day", "every_day", "every_day", "every_day", "every_day"]

    # Pregnancy: conceived ~13 months after the first visit (she quits smoking), delivered ~39 weeks later.
    conceived = start + timedelta(days=400 + rng.randint(0, 20))
    delivered = conceived + timedelta(days=273)
    prenatal_days = [conceived + timedelta(weeks=w) for w in (9, 16, 20, 28, 32, 36)]
    sick_bronchitis = start + timedelta(days=rng.randint(60, 100))
    sick_back = start + timedelta(days=365 * 4 + rng.randint(120, 180))
    encounters: dict[date, Resource] = {}
    followups: dict[int, date] = {}

    def weight_at(day: date) -> float:
        # Slow gain with age, pregnancy gain after week 12, a few kilos kept after delivery.
        kg = base_weight + 0.6 * (day - start).days / 365.25 + rng.uniform(-0.4, 0.4)
        if conceived <= day <= delivered:
            kg += max(0.0, (day - conceived).days / 7 - 12) * 0.45
        elif day > delivered:
            kg += 3.0
        return round(kg, 1)

    for year, day in enumerate(wellness):
        enc = encounters[day] = p.encounter(day, "wellness", p.gp)
        p.vitals(enc, day, *bp[year], weight_at(day))
        p.social(enc, day, smoking[year])
        p.lab(enc, day, "hba1c", round(a1c_curve[year] + rng.uniform(-0.05, 0.05), 1))
        p.lab(enc, day, "glucose", float(round(88 + (a1c_curve[year] - 5.4) * 22 + rng.uniform(-3, 3))))
        p.lipid_panel(enc, day, treated=year >= 4)
        p.metabolic_panel(enc, day)
        if year % 2 == 0:
            p.cbc(enc, day)
        if year == 2:
            p.lab(enc, day, "tsh", round(rng.uniform(1.2, 2.8), 2))
        if year in followup_a1c:
            mid = followups[year] = day + timedelta(days=rng.randint(170, 190))
            fenc = encounters[mid] = p.encounter(mid, "followup", p.np, ("714628002", "Prediabetes"))
            p.vitals(fenc, mid, bp[year][0] - 2, bp[year][1] - 1, weight_at(mid))
            p.lab(fenc, mid, "hba1c", round(followup_a1c[year] + rng.uniform(-0.05, 0.05), 1))

    # Pregnancy with prenatal visits, an anatomy ultrasound and Tdap in the third trimester.
    preg_enc = None
    for i, day in enumerate(prenatal_days):
        enc = encounters[day] = p.encounter(
            day, "prenatal_initial" if i == 0 else "prenatal", p.midwife, ("72892002", "Normal pregnancy")
        )
        p.vitals(enc, day, 112 + rng.randint(0, 6), 70 + rng.randint(0, 6), weight_at(day))
        if i == 0:
            preg_enc = enc
            p.condition("72892002", "Normal pregnancy", conceived + timedelta(weeks=2), enc, abated=delivered)
            p.cbc(enc, day, pregnant=True)
            p.observation(
                enc,
                day,
                "social-history",
                "72166-2",
                "Tobacco smoking status",
                valueCodeableConcept=_cc(SNOMED, *SMOKING["former"]),
            )
        if i == 2:
            p.procedure(
                "271442007",
                "Fetal anatomy study",
                _dt(day, "10:00"),
                _dt(day, "10:40"),
                enc,
                "Routine second-trimester anatomy scan",
            )
        if i == 4:
            p.immunize(day, "115", "Tdap", "Riverside Family Medicine")
    assert preg_enc is not None

    # Sick visits.
    bron = encounters[sick_bronchitis] = p.encounter(
        sick_bronchitis, "sick", p.np, ("10509002", "Acute bronchitis")
    )
    p.vitals(bron, sick_bronchitis, 124, 80, weight_at(sick_bronchitis), fever=True)
    p.condition(
        "10509002",
        "Acute bronchitis",
        sick_bronchitis - timedelta(days=4),
        bron,
        abated=sick_bronchitis + timedelta(days=18),
        category="encounter-diagnosis",
    )
    p.prescribe(
        sick_bronchitis,
        bron,
        "completed",
        "308182",
        "amoxicillin 500 MG Oral Capsule",
        "Take 1 capsule by mouth three times daily for 7 days",
        per_day=3,
        days=7,
    )
    back = encounters[sick_back] = p.encounter(sick_back, "sick", p.gp, ("279039007", "Low back pain"))
    p.vitals(back, sick_back, 130, 84, weight_at(sick_back))
    p.condition(
        "279039007",
        "Low back pain",
        sick_back - timedelta(days=6),
        back,
        abated=sick_back + timedelta(days=40),
        category="encounter-diagnosis",
    )

    # Chronic conditions and their medicines.
    w = wellness
    p.condition("714628002", "Prediabetes", w[3], encounters[w[3]])
    p.condition("59621000", "Essential hypertension", w[3], encounters[w[3]])
    p.condition("55822004", "Hyperlipidemia", w[3], encounters[w[3]])
    p.prescribe(
        w[3],
        encounters[w[3]],
        "active",
        "314076",
        "lisinopril 10 MG Oral Tablet",
        "Take 1 tablet by mouth once daily",
    )
    p.prescribe(
        w[3],
        encounters[w[3]],
        "active",
        "617310",
        "atorvastatin 20 MG Oral Tablet",
        "Take 1 tablet by mouth once daily at bedtime",
    )
    metformin_day = followups[4]  # A1c 6.5 six months after the diagnosis
    metformin = p.b.add(
        {
            "resourceType": "Medication",
            "status": "active",
            "code": _cc(
                RXNORM, "860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"
            ),
        }
    )
    p.prescribe(
        metformin_day,
        encounters[metformin_day],
        "active",
        "860975",
        "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
        "Take 1 tablet by mouth once daily with the evening meal",
        medication=metformin,
    )
    p.b.add(
        {
            "resourceType": "MedicationStatement",
            "status": "active",
            "medicationCodeableConcept": _cc(RXNORM, "636671", "Vitamin D3 1000 UNT Oral Tablet"),
            "subject": p.patient,
            "effectivePeriod": {"start": _dt(w[2])},
            "dateAsserted": _dt(w[2]),
            "informationSource": p.patient,
            "dosage": [{"text": "1 tablet by mouth once daily"}],
        }
    )

    # Allergies: peanut known since childhood; hives after the amoxicillin course put penicillin on the list.
    hives = sick_bronchitis + timedelta(days=9)
    for code, display, category, criticality, manifestation, recorded in (
        ("91935009", "Allergy to peanuts", "food", "low", ("271807003", "Eruption of skin"), start),
        ("91936005", "Allergy to penicillin", "medication", "high", ("247472004", "Hives"), hives),
    ):
        p.b.add(
            {
                "resourceType": "AllergyIntolerance",
                "clinicalStatus": _cc(
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"
                ),
                "verificationStatus": _cc(
                    "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                    "confirmed",
                    "Confirmed",
                ),
                "type": "allergy",
                "category": [category],
                "criticality": criticality,
                "code": _cc(SNOMED, code, display),
                "patient": p.patient,
                "recordedDate": _dt(recorded),
                "reaction": [{"manifestation": [_cc(SNOMED, *manifestation)], "severity": "moderate"}],
            }
        )

    # Flu shots each autumn (several CVX codes); one season declined at the clinic, given later elsewhere.
    codes = list(FLU_VACCINES)
    rng.shuffle(codes)
    declined_year = start.year + 3
    for i, year in enumerate(range(start.year, last.year + 1)):
        day = date(year, 10, rng.randint(2, 27))
        if not start <= day <= last:
            continue
        cvx = codes[i % len(codes)]
        if year == declined_year:
            p.immunize(day, cvx, FLU_VACCINES[cvx], "Riverside Family Medicine", status="not-done")
            day += timedelta(days=rng.randint(20, 30))
            p.immunize(day, cvx, FLU_VACCINES[cvx], "Corner Pharmacy")
        else:
            p.immunize(day, cvx, FLU_VACCINES[cvx], "Riverside Family Medicine")
    covid = start + timedelta(days=rng.randint(420, 460))
    for dose in (covid, covid + timedelta(days=21)):
        p.immunize(
            dose,
            "208",
            "SARS-COV-2 (COVID-19) vaccine, mRNA, spike protein, LNP, preservative free, 30 mcg/0.3mL dose",
            "Corner Pharmacy",
        )

    # Screening and preventive procedures.
    colo = w[5] + timedelta(days=rng.randint(30, 60))
    p.procedure(
        "73761001", "Colonoscopy", _dt(colo, "08:00"), _dt(colo, "08:45"), None, "Colorectal cancer screening"
    )
    dental = w[4] + timedelta(days=rng.randint(40, 80))
    p.procedure(
        "1260009003",
        "Removal of supragingival plaque and calculus from all teeth using dental instrument (procedure)",
        _dt(dental, "14:00"),
        None,
        None,
        "Routine dental cleaning",
    )

    # Clinical notes in plain language (fictional clinicians, no real people).
    p.note(
        prenatal_days[0],
        preg_enc,
        p.midwife,
        "34117-2",
        "Prenatal intake",
        "Prenatal intake visit at about 9 weeks by dates. Patient feels well apart from mild nausea. "
        "She stopped smoking when she learned she was pregnant. Prenatal vitamins started, CBC drawn, "
        "dating ultrasound scheduled. Follow up in 4 weeks.",
    )
    p.note(
        sick_bronchitis,
        bron,
        p.np,
        "11506-3",
        "Cough and fever",
        "Seen for five days of productive cough and low-grade fever. Lungs with scattered rhonchi, no "
        "focal findings. Assessed as acute bronchitis. Amoxicillin for 7 days, fluids and rest; return if "
        "short of breath. Addendum: hives two days after finishing amoxicillin, resolved with an "
        "antihistamine; penicillin allergy added to the chart.",
    )
    p.note(
        sick_back,
        back,
        p.gp,
        "11506-3",
        "Low back pain",
        "Lower back pain for six days after lifting boxes at home. No leg weakness or numbness. "
        "Assessed as mechanical low back pain. Advised to stay active, heat, and short course of "
        "over-the-counter pain relief. Physical therapy exercises given.",
    )
    p.note(
        metformin_day,
        encounters[metformin_day],
        p.np,
        "11506-3",
        "Prediabetes follow-up",
        "Follow-up for prediabetes. Hemoglobin A1c has risen over the last year. Discussed diet, "
        "walking 30 minutes most days and smoking cessation. Starting metformin extended release "
        "500 mg with the evening meal. Recheck A1c in six months.",
    )
    p.note(
        last,
        encounters[last],
        p.gp,
        "11506-3",
        "Annual wellness visit",
        f"Annual wellness visit. Blood pressure {bp[-1][0]}/{bp[-1][1]} on lisinopril. BMI {p.last_bmi}. "
        "Still smoking about half a pack a day; cessation options discussed again. Fasting labs and "
        "A1c drawn. Flu vaccine offered per season. Continue current medicines.",
    )

    bundle: Resource = {
        "resourceType": "Bundle",
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "type": "collection",
        "timestamp": _dt(today, "12:00"),
        "entry": p.b.entries,
    }
    return bundle, compute_truth(bundle)


# --- truth: computed from the bundle with facts.json's definitions ---------------------------------
LIPIDS = {"2093-3": "total_cholesterol", "18262-6": "ldl", "2085-9": "hdl", "2571-8": "triglycerides"}
TRUTH_VITALS = {code: key for key, (code, _, _) in VITALS.items()}


def _codes(concept: Resource | None, system: str) -> set[str]:
    return {c.get("code", "") for c in (concept or {}).get("coding", []) if c.get("system") == system}


def _display(concept: Resource) -> str:
    coding = concept.get("coding") or [{}]
    return str(coding[0].get("display") or concept.get("text") or "")


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def _stamp(stamp: str) -> dict[str, str]:
    return {"datetime": stamp, "date": stamp[:10]}


def compute_truth(bundle: Resource) -> Resource:
    """Ground-truth facts of a Bundle, shaped like a patient in ../shared/data/fhir/facts.json.

    Latest means the greatest timestamp (parsed, so offsets compare correctly); a flu shot is a
    seasonal-influenza CVX Immunization whose status is not not-done / entered-in-error.
    """
    resources = [e["resource"] for e in bundle.get("entry", [])]
    by_url = {e.get("fullUrl"): e["resource"] for e in bundle.get("entry", [])}
    counts: dict[str, int] = {}
    for r in resources:
        counts[r["resourceType"]] = counts.get(r["resourceType"], 0) + 1

    def of(kind: str) -> list[Resource]:
        return [r for r in resources if r["resourceType"] == kind]

    patient = of("Patient")[0]
    name = patient["name"][0]
    obs = sorted(of("Observation"), key=lambda o: _when(o["effectiveDateTime"]))

    a1c = [o for o in obs if "4548-4" in _codes(o["code"], LOINC)]
    hba1c: Resource = {
        "count": len(a1c),
        "latest": None,
        "series": [{"date": o["effectiveDateTime"][:10], "value": o["valueQuantity"]["value"]} for o in a1c],
    }
    if a1c:
        q = a1c[-1]["valueQuantity"]
        hba1c["latest"] = {"value": q["value"], "unit": q["unit"], **_stamp(a1c[-1]["effectiveDateTime"])}

    flu = sorted(
        (
            i
            for i in of("Immunization")
            if i["status"] not in ("not-done", "entered-in-error") and _codes(i["vaccineCode"], CVX) & FLU_CVX
        ),
        key=lambda i: _when(i["occurrenceDateTime"]),
    )
    flu_shots: Resource = {
        "count": len(flu),
        "latest": None,
        "dates": [i["occurrenceDateTime"][:10] for i in flu],
    }
    if flu:
        last = flu[-1]
        flu_shots["latest"] = {
            "cvx": sorted(_codes(last["vaccineCode"], CVX) & FLU_CVX)[0],
            "display": _display(last["vaccineCode"]),
            **_stamp(last["occurrenceDateTime"]),
        }

    lipids: Resource = {}
    vitals: Resource = {}
    smoking: Resource | None = None
    for o in obs:  # oldest first, so later ones overwrite
        codes = _codes(o["code"], LOINC)
        when = _stamp(o["effectiveDateTime"])
        quantity: Resource = o.get("valueQuantity") or {}
        for code in codes & LIPIDS.keys():
            lipids[LIPIDS[code]] = {"value": quantity["value"], "unit": quantity["unit"], **when}
        for code in codes & TRUTH_VITALS.keys():
            vitals[TRUTH_VITALS[code]] = {"value": quantity["value"], "unit": quantity["unit"], **when}
        if "85354-9" in codes:
            parts = {next(iter(_codes(c["code"], LOINC))): c["valueQuantity"] for c in o["component"]}
            vitals["blood_pressure"] = {
                "systolic": parts["8480-6"]["value"],
                "diastolic": parts["8462-4"]["value"],
                **when,
                "unit": parts["8480-6"]["unit"],
            }
        if "72166-2" in codes:
            smoking = {"value": _display(o["valueCodeableConcept"]), **when}

    conditions = of("Condition")
    active = [
        c
        for c in conditions
        if "active"
        in _codes(c.get("clinicalStatus"), "http://terminology.hl7.org/CodeSystem/condition-clinical")
    ]
    snomed = set().union(*(_codes(c["code"], SNOMED) for c in conditions))
    pregnancy = [c for c in conditions if _codes(c["code"], SNOMED) & PREGNANCY_SNOMED]

    def med_name(r: Resource) -> str:
        if "medicationCodeableConcept" in r:
            return _display(r["medicationCodeableConcept"])
        return _display(by_url[r["medicationReference"]["reference"]]["code"])

    meds: dict[str, Resource] = {}
    for r in sorted(of("MedicationRequest"), key=lambda r: _when(r["authoredOn"])):
        m = meds.setdefault(med_name(r), {"medication": med_name(r), "n_requests": 0, "statuses": []})
        m["n_requests"] += 1
        m["statuses"] = sorted({*m["statuses"], r["status"]})
        m["last_authored"] = r["authoredOn"]
    active_meds = {
        med_name(r) for r in of("MedicationRequest") + of("MedicationStatement") if r["status"] == "active"
    }

    return {
        "bundle_type": bundle["type"],
        "patient_id": patient["id"],
        "name": f"{name['given'][0]} {name['family']}",
        "name_with_prefix": " ".join([*name.get("prefix", []), name["given"][0], name["family"]]),
        "gender": patient["gender"],
        "birth_date": patient["birthDate"],
        "resource_counts": dict(sorted(counts.items())),
        "total_resources": len(resources),
        "hba1c": hba1c,
        "flu_shots": flu_shots,
        "flu_cvx_codes_used": sorted({c for i in flu for c in _codes(i["vaccineCode"], CVX)}, key=int),
        "latest_lipids": dict(sorted(lipids.items())),
        "latest_vitals": dict(sorted(vitals.items())),
        "latest_smoking_status": smoking,
        "flags": {
            "diabetes": "44054006" in snomed,
            "prediabetes": "714628002" in snomed,
            "hypertension": "59621000" in snomed,
            "hyperlipidemia": "55822004" in snomed,
            "pregnancy_history": bool(pregnancy),
            "has_allergies": bool(of("AllergyIntolerance")),
        },
        "pregnancy_conditions": [
            {
                "display": _display(c["code"]),
                "onset": c.get("onsetDateTime"),
                "abatement": c.get("abatementDateTime"),
            }
            for c in pregnancy
        ],
        "conditions": sorted({_display(c["code"]) for c in conditions}),
        "active_conditions": sorted({_display(c["code"]) for c in active}),
        "allergies": [
            {
                "display": _display(a["code"]),
                "category": a.get("category", []),
                "criticality": a.get("criticality"),
                "recorded": a.get("recordedDate"),
            }
            for a in of("AllergyIntolerance")
        ],
        "medications": sorted(meds.values(), key=lambda m: str(m["medication"])),
        "active_medications": sorted(active_meds),
    }


def write_person(out_dir: Path, seed: int = 42, today: date | None = None) -> tuple[Path, Resource]:
    """Write <out_dir>/sample_person.json and sample_person.truth.json; return (bundle path, truth).

    ``today`` defaults to the real date so the history stays recent ("last year" means something).
    """
    bundle, truth = generate_person(seed, today or date.today())
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "sample_person.json"
    path.write_text(json.dumps(bundle, indent=1) + "\n", encoding="utf-8")
    (out_dir / "sample_person.truth.json").write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    return path, truth
