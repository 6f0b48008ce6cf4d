"""Code systems, code tables and FHIR helpers of the synthetic person (see healthcoach.sample.generator)."""

from __future__ import annotations

from datetime import date
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
FLU_CVX = frozenset({
    "15", "16", "88", "111", "125", "126", "127", "128", "135", "140", "141", "144", "149", "150", "151", "153",
    "155", "158", "160", "161", "166", "168", "171", "185", "186", "194", "197", "200", "201", "202", "205", "231",
})
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


def cc(system: str, code: str, display: str, text: str | None = None) -> Resource:
    """A CodeableConcept with one coding."""
    return {"coding": [{"system": system, "code": code, "display": display}], "text": text or display}


def dt(day: date, clock: str = "09:30") -> str:
    """A FHIR dateTime on day at clock, in the person's time zone."""
    return f"{day.isoformat()}T{clock}:00{TZ}"
