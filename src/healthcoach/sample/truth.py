"""Ground truth of a synthetic person, computed from the Bundle with the definitions of
../shared/data/fhir/facts.json (never written by hand)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from healthcoach.sample.codes import CVX, FLU_CVX, LOINC, PREGNANCY_SNOMED, SNOMED, VITALS, Resource

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
    flu = sorted(
        (
            i
            for i in of("Immunization")
            if i["status"] not in ("not-done", "entered-in-error") and _codes(i["vaccineCode"], CVX) & FLU_CVX
        ),
        key=lambda i: _when(i["occurrenceDateTime"]),
    )
    lipids, vitals, smoking = _latest_observations(obs)
    return {
        "bundle_type": bundle["type"],
        "patient_id": patient["id"],
        "name": f"{name['given'][0]} {name['family']}",
        "name_with_prefix": " ".join([*name.get("prefix", []), name["given"][0], name["family"]]),
        "gender": patient["gender"],
        "birth_date": patient["birthDate"],
        "resource_counts": dict(sorted(counts.items())),
        "total_resources": len(resources),
        "hba1c": _hba1c(obs),
        "flu_shots": _flu_shots(flu),
        "flu_cvx_codes_used": sorted({c for i in flu for c in _codes(i["vaccineCode"], CVX)}, key=int),
        "latest_lipids": dict(sorted(lipids.items())),
        "latest_vitals": dict(sorted(vitals.items())),
        "latest_smoking_status": smoking,
        **_conditions(of("Condition"), bool(of("AllergyIntolerance"))),
        "allergies": [
            {
                "display": _display(a["code"]),
                "category": a.get("category", []),
                "criticality": a.get("criticality"),
                "recorded": a.get("recordedDate"),
            }
            for a in of("AllergyIntolerance")
        ],
        **_medications(of("MedicationRequest"), of("MedicationStatement"), by_url),
    }


def _hba1c(obs: list[Resource]) -> Resource:
    a1c = [o for o in obs if "4548-4" in _codes(o["code"], LOINC)]
    hba1c: Resource = {
        "count": len(a1c),
        "latest": None,
        "series": [{"date": o["effectiveDateTime"][:10], "value": o["valueQuantity"]["value"]} for o in a1c],
    }
    if a1c:
        q = a1c[-1]["valueQuantity"]
        hba1c["latest"] = {"value": q["value"], "unit": q["unit"], **_stamp(a1c[-1]["effectiveDateTime"])}
    return hba1c


def _flu_shots(flu: list[Resource]) -> Resource:
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
    return flu_shots


def _latest_observations(obs: list[Resource]) -> tuple[Resource, Resource, Resource | None]:
    """The latest lipids, vitals and smoking status (obs oldest first, so later ones overwrite)."""
    lipids: Resource = {}
    vitals: Resource = {}
    smoking: Resource | None = None
    for o in obs:
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
    return lipids, vitals, smoking


def _conditions(conditions: list[Resource], has_allergies: bool) -> Resource:
    """flags, pregnancy_conditions, conditions and active_conditions."""
    active = [
        c
        for c in conditions
        if "active"
        in _codes(c.get("clinicalStatus"), "http://terminology.hl7.org/CodeSystem/condition-clinical")
    ]
    snomed = set().union(*(_codes(c["code"], SNOMED) for c in conditions))
    pregnancy = [c for c in conditions if _codes(c["code"], SNOMED) & PREGNANCY_SNOMED]
    return {
        "flags": {
            "diabetes": "44054006" in snomed,
            "prediabetes": "714628002" in snomed,
            "hypertension": "59621000" in snomed,
            "hyperlipidemia": "55822004" in snomed,
            "pregnancy_history": bool(pregnancy),
            "has_allergies": has_allergies,
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
    }


def _medications(requests: list[Resource], statements: list[Resource], by_url: dict[Any, Resource]) -> Resource:
    """medications (per name: requests, statuses, last authored) and active_medications."""

    def med_name(r: Resource) -> str:
        if "medicationCodeableConcept" in r:
            return _display(r["medicationCodeableConcept"])
        return _display(by_url[r["medicationReference"]["reference"]]["code"])

    meds: dict[str, Resource] = {}
    for r in sorted(requests, key=lambda r: _when(r["authoredOn"])):
        m = meds.setdefault(med_name(r), {"medication": med_name(r), "n_requests": 0, "statuses": []})
        m["n_requests"] += 1
        m["statuses"] = sorted({*m["statuses"], r["status"]})
        m["last_authored"] = r["authoredOn"]
    active_meds = {med_name(r) for r in requests + statements if r["status"] == "active"}
    return {
        "medications": sorted(meds.values(), key=lambda m: str(m["medication"])),
        "active_medications": sorted(active_meds),
    }
