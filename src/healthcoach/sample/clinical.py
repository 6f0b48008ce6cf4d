"""The clinical events of the synthetic person's chart: labs, vitals, conditions, medicines, vaccines,
procedures and notes, one method per kind of event."""

from __future__ import annotations

import base64
from datetime import date

from healthcoach.sample.codes import (
    CVX,
    INTERP,
    LABS,
    LOINC,
    RXNORM,
    SMOKING,
    SNOMED,
    UCUM,
    VITALS,
    Resource,
    cc,
    dt,
)
from healthcoach.sample.person import Person


class Chart(Person):
    """A person whose methods each write the resources of one kind of clinical event."""

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
            interpretation=[cc(INTERP, flag, words)],
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
                    "code": cc(LOINC, "8480-6", "Systolic blood pressure"),
                    "valueQuantity": self.quantity(systolic, "mm[Hg]"),
                },
                {
                    "code": cc(LOINC, "8462-4", "Diastolic blood pressure"),
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
            valueCodeableConcept=cc(SNOMED, *SMOKING[smoking]),
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
                "category": [cc("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")],
                "code": cc(LOINC, "57698-3", "Lipid panel with direct LDL - Serum or Plasma"),
                "subject": self.patient,
                "encounter": enc,
                "effectiveDateTime": dt(day),
                "issued": dt(day, "16:00"),
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
            "clinicalStatus": cc(
                "http://terminology.hl7.org/CodeSystem/condition-clinical",
                "resolved" if abated else "active",
                "Resolved" if abated else "Active",
            ),
            "verificationStatus": cc(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"
            ),
            "category": [
                cc(
                    "http://terminology.hl7.org/CodeSystem/condition-category",
                    category,
                    category.replace("-", " ").title(),
                )
            ],
            "code": cc(SNOMED, code, display),
            "subject": self.patient,
            "encounter": enc,
            "onsetDateTime": dt(onset),
            "recordedDate": dt(onset),
        }
        if abated:
            cond["abatementDateTime"] = dt(abated)
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
            "authoredOn": dt(day),
            "requester": self.gp,
            "dosageInstruction": [
                {
                    "sequence": 1,
                    "text": sig,
                    "timing": timing,
                    "route": cc(SNOMED, "26643006", "Oral route"),
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
            req["medicationCodeableConcept"] = cc(RXNORM, rxcui, display)
        return self.b.add(req)

    def immunize(self, day: date, cvx: str, display: str, where: str, status: str = "completed") -> None:
        imm: Resource = {
            "resourceType": "Immunization",
            "status": status,
            "vaccineCode": cc(CVX, cvx, display),
            "patient": self.patient,
            "occurrenceDateTime": dt(day, "11:00"),
            "primarySource": True,
            "location": {"display": where},
        }
        if status == "not-done":
            imm["statusReason"] = cc(
                "http://terminology.hl7.org/CodeSystem/v3-ActReason", "PATOBJ", "patient objection"
            )
        else:
            imm["lotNumber"] = f"FL{self.rng.randint(10000, 99999)}"
            imm["site"] = cc("http://terminology.hl7.org/CodeSystem/v3-ActSite", "LA", "left arm")
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
            "code": cc(SNOMED, code, display),
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
                "type": cc(LOINC, loinc, display),
                "category": [
                    cc(
                        "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category",
                        "clinical-note",
                        "Clinical Note",
                    )
                ],
                "subject": self.patient,
                "date": dt(day, "17:00"),
                "author": [author],
                "description": title,
                "content": [
                    {
                        "attachment": {
                            "contentType": "text/plain; charset=utf-8",
                            "title": title,
                            "data": base64.b64encode(text.encode("utf-8")).decode("ascii"),
                            "creation": dt(day, "17:00"),
                        }
                    }
                ],
                "context": {"encounter": [enc], "period": {"start": dt(day), "end": dt(day, "10:15")}},
            }
        )
