"""Records → a FHIR R4 collection Bundle that healthcoach (or any FHIR reader) reads back to the same facts.

Each Record becomes one minimal resource of its source type with the same id, codes, label (as code.text),
values, units, components, dates, status and text, so re-ingesting the Bundle gives the same answers.
Records from non-FHIR sources (wearables, manual entries) become Observations.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from healthcoach.privacy.fhir_datatypes import attachment, concept, org, quantity, texts, timing, when
from healthcoach.records.models import Category, Quantity, Record
from healthcoach.store.schema import UserRow

Json = dict[str, Any]
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
OBS_CATEGORY = {Category.vital: "vital-signs", Category.lab: "laboratory", Category.social_history: "social-history",
                Category.wearable: "activity"}


def observation(rec: Record, ctx: _Ctx) -> Json:
    res: Json = {"status": rec.status or "unknown", "code": concept(rec.codes, rec.label), "subject": ctx.subject}
    cat = OBS_CATEGORY.get(rec.category)
    if cat:
        res["category"] = [{"coding": [{"system": TERMINOLOGY + "observation-category", "code": cat}]}]
    if rec.details.get("date_basis") == "issued" and rec.start:
        res["issued"] = rec.start.isoformat()
    else:
        res.update(timing(rec, "effective"))
    if rec.value is not None:
        res["valueQuantity"] = quantity(rec.value)
    elif rec.text is not None:
        res["valueString"] = rec.text
    comps = []
    for c in rec.components:
        comp: Json = {"code": concept(c.codes, c.label)}
        if c.value is not None:
            comp["valueQuantity"] = quantity(c.value)
        elif c.text is not None:
            comp["valueString"] = c.text
        comps.append(comp)
    if comps:
        res["component"] = comps
    rr = rec.reference_range
    if rr is not None:
        rng: Json = {}
        if rr.low is not None:
            rng["low"] = quantity(Quantity(value=rr.low, unit=rr.unit))
        if rr.high is not None:
            rng["high"] = quantity(Quantity(value=rr.high, unit=rr.unit))
        if rr.text:
            rng["text"] = rr.text
        res["referenceRange"] = [rng]
    if rec.interpretation:
        res["interpretation"] = texts(rec.interpretation)
    if rec.source.organization:
        res["performer"] = [org(rec)]
    return res


def condition(rec: Record, ctx: _Ctx) -> Json:
    res: Json = {"code": concept(rec.codes, rec.label), "subject": ctx.subject, **timing(rec, "onset")}
    if "onsetPeriod" in res:  # abatement is the end; onset is the start only
        res["onsetDateTime"] = res.pop("onsetPeriod").get("start")
    if rec.end is not None:
        res["abatementDateTime"] = rec.end.isoformat()
    if rec.status:
        res["clinicalStatus"] = {"coding": [{"system": TERMINOLOGY + "condition-clinical", "code": rec.status}]}
    if rec.details.get("verification"):
        res["verificationStatus"] = {"coding": [{"system": TERMINOLOGY + "condition-ver-status",
                                                 "code": rec.details["verification"]}]}
    if rec.details.get("recorded"):
        res["recordedDate"] = rec.details["recorded"]
    return res


def medication(rec: Record, ctx: _Ctx) -> Json:
    kind = ctx.rtype
    res: Json = {"status": rec.status or "unknown", "subject": ctx.subject,
                 "medicationCodeableConcept": concept(rec.codes, rec.label)}
    if rec.details.get("reason"):
        res["reasonCode"] = texts(rec.details["reason"])
    if kind == "MedicationRequest":
        res["intent"] = rec.details.get("intent") or "order"
        if when(rec):
            res["authoredOn"] = when(rec)
        if rec.text:
            res["dosageInstruction"] = texts(rec.text)
        if rec.source.organization:
            res["requester"] = org(rec)
    else:
        res.update(timing(rec, "effective"))
        if rec.text:
            res["dosage"] = texts(rec.text) if kind == "MedicationStatement" else {"text": rec.text}
    return res


def immunization(rec: Record, ctx: _Ctx) -> Json:
    res: Json = {"status": rec.status or "completed", "vaccineCode": concept(rec.codes, rec.label),
                 "patient": ctx.subject}
    if rec.text:  # the source gave the occurrence as text; its start came from `recorded`
        res["occurrenceString"] = rec.text
        if rec.start:
            res["recorded"] = rec.start.isoformat()
    elif when(rec):
        res["occurrenceDateTime"] = when(rec)
    if rec.details.get("lot"):
        res["lotNumber"] = rec.details["lot"]
    if rec.details.get("site"):
        res["site"] = {"text": rec.details["site"]}
    if rec.source.organization:  # the reader takes an immunization's organisation from location.display
        res["location"] = {"display": rec.source.organization}
    return res


def allergy(rec: Record, ctx: _Ctx) -> Json:
    res: Json = {"patient": ctx.subject, "code": concept(rec.codes, rec.label), **timing(rec, "onset")}
    res.pop("onsetPeriod", None)
    if rec.start and "onsetDateTime" not in res:
        res["onsetDateTime"] = when(rec)
    if rec.status:
        res["clinicalStatus"] = {"coding": [{"system": TERMINOLOGY + "allergyintolerance-clinical",
                                             "code": rec.status}]}
    for key in ("criticality", "type"):
        if rec.details.get(key):
            res[key] = rec.details[key]
    if rec.details.get("allergy_category"):
        res["category"] = rec.details["allergy_category"].split(", ")
    if rec.details.get("reactions"):
        res["reaction"] = [{"manifestation": texts(r)} for r in rec.details["reactions"].split(", ")]
    return res


def procedure(rec: Record, ctx: _Ctx) -> Json:
    res: Json = {"status": rec.status or "unknown", "subject": ctx.subject, "code": concept(rec.codes, rec.label),
                 **timing(rec, "performed")}
    if rec.details.get("reason"):
        res["reasonCode"] = texts(rec.details["reason"])
    if rec.source.organization:
        res["performer"] = [{"actor": org(rec)}]
    return res


def encounter(rec: Record, ctx: _Ctx) -> Json:
    res: Json = {"status": rec.status or "unknown", "subject": ctx.subject,
                 "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                           "code": rec.details.get("class") or "AMB"},
                 "type": [concept(rec.codes, rec.label)]}
    period = {k: v for k, v in (("start", when(rec)), ("end", rec.end.isoformat() if rec.end else None)) if v}
    if period:
        res["period"] = period
    if rec.details.get("reason"):
        res["reasonCode"] = texts(rec.details["reason"])
    provider = rec.details.get("provider") or rec.source.organization
    if provider:
        res["serviceProvider"] = {"display": provider}
    if rec.details.get("clinician"):
        res["participant"] = [{"individual": {"display": rec.details["clinician"]}}]
    return res


def report(rec: Record, ctx: _Ctx) -> Json:
    res: Json = {"status": rec.status or "unknown", "subject": ctx.subject, "code": concept(rec.codes, rec.label),
                 **timing(rec, "effective")}
    results = [ctx.ref_of[r] for r in rec.related if r in ctx.ref_of]
    if results:
        res["result"] = [{"reference": r} for r in results]
    if rec.text:
        res["presentedForm"] = [attachment(rec.text)]
    if rec.source.organization:
        res["performer"] = [org(rec)]
    return res


def document(rec: Record, ctx: _Ctx) -> Json:
    res: Json = {"status": rec.status or "current", "subject": ctx.subject, "type": concept(rec.codes, rec.label),
                 "content": [{"attachment": attachment(rec.text or "")}]}
    if when(rec):
        res["context"] = {"period": {"start": when(rec)}}
    if rec.details.get("author"):
        res["author"] = [{"display": rec.details["author"]}]
    if rec.source.organization:
        res["custodian"] = {"display": rec.source.organization}
    return res


def care_plan(rec: Record, ctx: _Ctx) -> Json:
    res: Json = {"status": rec.status or "unknown", "intent": "plan", "subject": ctx.subject, "title": rec.label,
                 "category": [concept(rec.codes, rec.label)]}
    period = {k: v for k, v in (("start", when(rec)), ("end", rec.end.isoformat() if rec.end else None)) if v}
    if period:
        res["period"] = period
    if rec.text:
        res["activity"] = [{"detail": {"status": "unknown", "code": {"text": a}}} for a in rec.text.split("; ")]
    return res


def goal(rec: Record, ctx: _Ctx) -> Json:
    res: Json = {"lifecycleStatus": rec.status or "active", "subject": ctx.subject,
                 "description": concept(rec.codes, rec.label)}
    if rec.date:
        res["startDate"] = rec.date.isoformat()
    if rec.details.get("achievement"):
        res["achievementStatus"] = {"text": rec.details["achievement"]}
    return res


class _Ctx:
    def __init__(self, subject: Json, ref_of: dict[str, str]) -> None:
        self.subject, self.ref_of, self.rtype = subject, ref_of, ""


MAPPERS: dict[str, Callable[[Record, _Ctx], Json]] = {
    "Observation": observation, "Condition": condition, "MedicationRequest": medication,
    "MedicationStatement": medication, "MedicationAdministration": medication, "Immunization": immunization,
    "AllergyIntolerance": allergy, "Procedure": procedure, "Encounter": encounter, "DiagnosticReport": report,
    "DocumentReference": document, "CarePlan": care_plan, "Goal": goal,
}


def patient_resource(user: UserRow) -> Json:
    """The profile's Patient: same id as the one first ingested, name and birth date."""
    key = user.patient_key or ""
    pid = key.split(":", 1)[1] if key.startswith("fhir:") else ""
    res: Json = {"resourceType": "Patient", "id": pid if FHIR_ID.match(pid) else "patient"}
    if user.patient_name:
        given, _, family = user.patient_name.rpartition(" ")
        res["name"] = [{"text": user.patient_name, **({"given": given.split()} if given else {}),
                        **({"family": family} if family else {})}]
    if user.birth_date:
        res["birthDate"] = user.birth_date
    return res


def to_bundle(user: UserRow, records: Sequence[Record]) -> Json:
    """A FHIR R4 collection Bundle: the Patient, then one resource per record."""
    pat = patient_resource(user)
    ids: dict[str, tuple[str, str]] = {}
    taken: set[tuple[str, str]] = set()
    for rec in records:
        rtype = rec.source.resource_type if rec.source.resource_type in MAPPERS else "Observation"
        rid = rec.source.resource_id
        if not FHIR_ID.match(rid) or (rtype, rid) in taken:
            rid = rec.id
        taken.add((rtype, rid))
        ids[rec.id] = (rtype, rid)
    ctx = _Ctx({"reference": f"Patient/{pat['id']}"}, {k: f"{t}/{i}" for k, (t, i) in ids.items()})
    entries = [{"resource": pat}]
    for rec in records:
        ctx.rtype, rid = ids[rec.id]
        res = MAPPERS[ctx.rtype](rec, ctx)
        entries.append({"resource": {"resourceType": ctx.rtype, "id": rid, **res}})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}
