"""The sample C-CDA's entries, one writer per section: results, vital signs, social history, problems,
medications, immunizations, allergies, procedures, encounters and notes, each from its FHIR resource."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Callable

from healthcoach.sample.ccda_xml import MED_STATUS, OID, Doc, Resource, label, ts


def _value(d: Doc, obs: ET.Element, q: Resource) -> None:
    d.el(obs, "value", xsi_type="PQ", value=_num(q["value"]), unit=q.get("code") or q.get("unit") or "1")


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _observation(d: Doc, parent: ET.Element, r: Resource, tmpl: str, code: Resource | None = None,
                 q: Resource | None = None) -> ET.Element:
    obs = d.el(parent, "observation", classCode="OBS", moodCode="EVN")
    d.template(obs, tmpl)
    d.ident(obs, r["id"] + ("/" + code["coding"][0]["code"] if code else ""))
    d.code(obs, "code", code or r["code"])
    d.el(obs, "statusCode", code="completed")
    d.el(obs, "effectiveTime", value=ts(r.get("effectiveDateTime")))
    if q is not None:
        _value(d, obs, q)
    elif r.get("valueQuantity"):
        _value(d, obs, r["valueQuantity"])
    elif r.get("valueCodeableConcept"):
        d.code(obs, "value", r["valueCodeableConcept"], xsi_type="CD")
    for interp in r.get("interpretation", [])[:1]:
        d.code(obs, "interpretationCode", interp)
    for rng in r.get("referenceRange", [])[:1]:
        ivl = d.el(d.el(d.el(obs, "referenceRange"), "observationRange"), "value", xsi_type="IVL_PQ")
        for side in ("low", "high"):
            if side in rng:
                d.el(ivl, side, value=_num(rng[side]["value"]), unit=rng[side].get("code"))
    return obs


def _lab_or_vital(d: Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource], vital: bool) -> None:
    org = d.el(entry, "organizer", classCode="CLUSTER" if vital else "BATTERY", moodCode="EVN")
    d.template(org, "4.26" if vital else "4.1")
    d.ident(org, "org/" + r["id"])
    d.code(org, "code", r["code"])
    d.el(org, "statusCode", code="completed")
    d.el(d.el(org, "effectiveTime"), "low", value=ts(r.get("effectiveDateTime")))
    parts = r.get("component") or [None]
    for comp in parts:
        tmpl = "4.27" if vital else "4.2"
        c = d.el(org, "component")
        if comp is None:
            _observation(d, c, r, tmpl)
        else:
            _observation(d, c, r, tmpl, comp["code"], comp["valueQuantity"])


def _social(d: Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    smoking = any(c.get("code") == "72166-2" for c in r["code"].get("coding", []))
    _observation(d, entry, r, "4.78" if smoking else "4.38")


def _problem(d: Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    status = ((r.get("clinicalStatus") or {}).get("coding") or [{}])[0].get("code", "active")
    act = d.el(entry, "act", classCode="ACT", moodCode="EVN")
    d.template(act, "4.3")
    d.ident(act, "concern/" + r["id"])
    d.el(act, "code", code="CONC", codeSystem="2.16.840.1.113883.5.6", displayName="Concern")
    d.el(act, "statusCode", code="active" if status == "active" else "completed")
    d.time(act, r.get("recordedDate"))
    obs = d.el(d.el(act, "entryRelationship", typeCode="SUBJ"), "observation", classCode="OBS", moodCode="EVN")
    d.template(obs, "4.4")
    d.ident(obs, r["id"])
    d.el(obs, "code", code="55607006", codeSystem=OID["http://snomed.info/sct"], displayName="Problem")
    d.el(obs, "statusCode", code="completed")
    d.time(obs, r.get("onsetDateTime"), r.get("abatementDateTime"))
    d.code(obs, "value", r["code"], xsi_type="CD")
    st = d.el(d.el(obs, "entryRelationship", typeCode="REFR"), "observation", classCode="OBS", moodCode="EVN")
    d.template(st, "4.6")
    d.el(st, "code", code="33999-4", codeSystem=OID["http://loinc.org"], displayName="Status")
    d.el(st, "statusCode", code="completed")
    d.el(st, "value", xsi_type="CD", code={"active": "55561003"}.get(status, "413322009"),
         codeSystem=OID["http://snomed.info/sct"], displayName=status.capitalize())


def _medication(d: Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    concept = r.get("medicationCodeableConcept") or by_url[r["medicationReference"]["reference"]]["code"]
    sa = d.el(entry, "substanceAdministration", classCode="SBADM",
              moodCode="INT" if r["resourceType"] == "MedicationRequest" else "EVN")
    d.template(sa, "4.16")
    d.ident(sa, r["id"])
    dosage = (r.get("dosageInstruction") or r.get("dosage") or [{}])[0]
    d.el(sa, "text").text = dosage.get("text")
    d.el(sa, "statusCode", code=MED_STATUS.get(r["status"], r["status"]))
    start = r.get("authoredOn") or (r.get("effectivePeriod") or {}).get("start")
    et = d.el(sa, "effectiveTime", xsi_type="IVL_TS")
    d.el(et, "low", value=ts(start))
    product = d.el(d.el(sa, "consumable"), "manufacturedProduct", classCode="MANU")
    d.template(product, "4.23")
    d.code(d.el(product, "manufacturedMaterial"), "code", concept)


def _immunization(d: Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    sa = d.el(entry, "substanceAdministration", classCode="SBADM", moodCode="EVN",
              negationInd="true" if r["status"] == "not-done" else "false")
    d.template(sa, "4.52")
    d.ident(sa, r["id"])
    d.el(sa, "statusCode", code="completed")
    d.el(sa, "effectiveTime", value=ts(r.get("occurrenceDateTime")))
    product = d.el(d.el(sa, "consumable"), "manufacturedProduct", classCode="MANU")
    d.template(product, "4.54")
    material = d.el(product, "manufacturedMaterial")
    d.code(material, "code", r["vaccineCode"])
    if r.get("lotNumber"):
        d.el(material, "lotNumberText").text = r["lotNumber"]


ALLERGENS = {"91935009": ("256349002", "Peanut"), "91936005": ("764146007", "Penicillin")}


def _allergy(d: Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    act = d.el(entry, "act", classCode="ACT", moodCode="EVN")
    d.template(act, "4.30")
    d.ident(act, "concern/" + r["id"])
    d.el(act, "code", code="CONC", codeSystem="2.16.840.1.113883.5.6", displayName="Concern")
    d.el(act, "statusCode", code="active")
    d.time(act, r.get("recordedDate"))
    obs = d.el(d.el(act, "entryRelationship", typeCode="SUBJ"), "observation", classCode="OBS", moodCode="EVN")
    d.template(obs, "4.7")
    d.ident(obs, r["id"])
    d.el(obs, "code", code="ASSERTION", codeSystem="2.16.840.1.113883.5.4")
    d.el(obs, "statusCode", code="completed")
    d.time(obs, r.get("recordedDate"))
    d.code(obs, "value", r["code"], xsi_type="CD")
    code, name = ALLERGENS.get(r["code"]["coding"][0]["code"], ("", label(r["code"])))
    entity = d.el(d.el(d.el(obs, "participant", typeCode="CSM"), "participantRole", classCode="MANU"),
                  "playingEntity", classCode="MMAT")
    d.el(entity, "code", code=code or None, codeSystem=OID["http://snomed.info/sct"] if code else None, displayName=name)
    for reaction in r.get("reaction", []):
        rx = d.el(d.el(obs, "entryRelationship", typeCode="MFST", inversionInd="true"), "observation",
                  classCode="OBS", moodCode="EVN")
        d.template(rx, "4.9")
        d.el(rx, "code", code="ASSERTION", codeSystem="2.16.840.1.113883.5.4")
        d.el(rx, "statusCode", code="completed")
        d.code(rx, "value", reaction["manifestation"][0], xsi_type="CD")


def _procedure(d: Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    proc = d.el(entry, "procedure", classCode="PROC", moodCode="EVN")
    d.template(proc, "4.14")
    d.ident(proc, r["id"])
    d.code(proc, "code", r["code"])
    d.el(proc, "statusCode", code="completed")
    period = r.get("performedPeriod")
    if period:
        d.time(proc, period["start"], period.get("end"))
    else:
        d.el(proc, "effectiveTime", value=ts(r.get("performedDateTime")))


def _encounter(d: Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    enc = d.el(entry, "encounter", classCode="ENC", moodCode="EVN")
    d.template(enc, "4.49")
    d.ident(enc, r["id"])
    d.code(enc, "code", r["type"][0])
    d.time(enc, r["period"]["start"], r["period"].get("end"))


def _note(d: Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    act = d.el(entry, "act", classCode="ACT", moodCode="EVN")
    d.template(act, "4.202")
    d.ident(act, r["id"])
    d.code(act, "code", r["type"])
    d.el(act, "text").text = base64.b64decode(r["content"][0]["attachment"]["data"]).decode("utf-8")
    d.el(act, "statusCode", code="completed")
    d.el(act, "effectiveTime", value=ts(((r.get("context") or {}).get("period") or {}).get("start") or r.get("date")))


Writer = Callable[[Doc, ET.Element, Resource, dict[str | None, Resource]], None]
ENTRY: dict[str, Writer] = {
    "allergies": _allergy, "medications": _medication, "problems": _problem, "procedures": _procedure,
    "results": lambda d, e, r, u: _lab_or_vital(d, e, r, u, vital=False),
    "vitals": lambda d, e, r, u: _lab_or_vital(d, e, r, u, vital=True),
    "social": _social, "immunizations": _immunization, "encounters": _encounter, "notes": _note,
}
