"""The sample person as a patient-portal C-CDA R2.1 CCD ('Download my records'), written from the FHIR Bundle.

Same facts, the portal's own ids, times as C-CDA TS values with their offset. Used to test that a second
format of the same records merges into one timeline. Deterministic: the same bundle gives the same XML.
"""

from __future__ import annotations

import base64
import hashlib
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable
from typing import Any

Resource = dict[str, Any]
NS = "urn:hl7-org:v3"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OID = {"http://loinc.org": "2.16.840.1.113883.6.1", "http://snomed.info/sct": "2.16.840.1.113883.6.96",
       "http://www.nlm.nih.gov/research/umls/rxnorm": "2.16.840.1.113883.6.88",
       "http://hl7.org/fhir/sid/cvx": "2.16.840.1.113883.12.292"}
PORTAL = "Riverside Family Medicine patient portal"
ID_ROOT = "2.16.840.1.113883.19.5.99999.1"  # HL7's example OID arc: never a real organisation's
MRN_ROOT = "2.16.840.1.113883.19.5.99999.2"
T = "2.16.840.1.113883.10.20.22."
SECTIONS = [  # key, section template, LOINC section code, title
    ("allergies", "2.6.1", "48765-2", "Allergies and adverse reactions"),
    ("medications", "2.1.1", "10160-0", "Medications"),
    ("problems", "2.5.1", "11450-4", "Problems"),
    ("procedures", "2.7.1", "47519-4", "Procedures"),
    ("results", "2.3.1", "30954-2", "Results"),
    ("vitals", "2.4.1", "8716-3", "Vital signs"),
    ("social", "2.17", "29762-2", "Social history"),
    ("immunizations", "2.2.1", "11369-6", "Immunizations"),
    ("encounters", "2.22.1", "46240-8", "Encounters"),
    ("notes", "2.65", "28650-0", "Notes"),
]
MED_STATUS = {"stopped": "aborted", "on-hold": "suspended", "cancelled": "cancelled"}


def ts(fhir: str | None) -> str | None:
    """'2025-03-22T09:30:00-05:00' → '20250322093000-0500'; '2025-03-22' → '20250322'."""
    if not fhir:
        return None
    day = fhir[:10].replace("-", "")
    if len(fhir) <= 10:
        return day
    clock = fhir[11:19].replace(":", "")
    zone = fhir[19:].replace(":", "").replace("Z", "+0000")
    return day + clock + zone


class _Doc:
    def __init__(self) -> None:
        ET.register_namespace("", NS)
        ET.register_namespace("xsi", XSI)

    @staticmethod
    def el(parent: ET.Element | None, tag: str, **attrs: str | None) -> ET.Element:
        clean = {("{" + XSI + "}type" if k == "xsi_type" else k): v for k, v in attrs.items() if v is not None}
        qname = f"{{{NS}}}{tag}"
        return ET.SubElement(parent, qname, clean) if parent is not None else ET.Element(qname, clean)

    def code(self, parent: ET.Element, tag: str, concept: Resource | None, **extra: str) -> ET.Element:
        coding = (concept or {}).get("coding") or [{}]
        first = coding[0]
        return self.el(parent, tag, code=first.get("code"), codeSystem=OID.get(first.get("system", "")),
                       displayName=first.get("display") or (concept or {}).get("text"), **extra)

    def ident(self, parent: ET.Element, fhir_id: str) -> None:
        self.el(parent, "id", root=ID_ROOT, extension=hashlib.sha256(f"portal|{fhir_id}".encode()).hexdigest()[:16])

    def template(self, parent: ET.Element, suffix: str) -> None:
        self.el(parent, "templateId", root=T + suffix, extension="2015-08-01")

    def time(self, parent: ET.Element, start: str | None, end: str | None = None) -> None:
        et = self.el(parent, "effectiveTime")
        self.el(et, "low", value=ts(start), nullFlavor=None if start else "UNK")
        if end:
            self.el(et, "high", value=ts(end))


def write_ccda(bundle: Resource) -> str:
    """The bundle's person and clinical resources as a CCD (UTF-8 XML text)."""
    d = _Doc()
    res = [e["resource"] for e in bundle.get("entry", [])]
    by_url = {e.get("fullUrl"): e["resource"] for e in bundle.get("entry", [])}
    patient = next(r for r in res if r["resourceType"] == "Patient")
    doc = d.el(None, "ClinicalDocument")
    d.el(doc, "realmCode", code="US")
    d.el(doc, "typeId", root="2.16.840.1.113883.1.3", extension="POCD_HD000040")
    d.el(doc, "templateId", root="2.16.840.1.113883.10.20.22.1.1", extension="2015-08-01")
    d.el(doc, "templateId", root="2.16.840.1.113883.10.20.22.1.2", extension="2015-08-01")
    d.ident(doc, bundle.get("id", "bundle"))
    d.el(doc, "code", code="34133-9", codeSystem=OID["http://loinc.org"], displayName="Summary of episode note")
    d.el(d.el(doc, "title"), "content").text = "Continuity of Care Document"
    d.el(doc, "effectiveTime", value=ts(bundle.get("timestamp")))
    _header(d, doc, patient)
    body = d.el(d.el(doc, "component"), "structuredBody")
    grouped = _group(res)
    for key, tmpl, loinc, title in SECTIONS:
        items = grouped.get(key) or []
        if not items:
            continue
        sec = d.el(d.el(body, "component"), "section")
        d.template(sec, tmpl)
        d.el(sec, "code", code=loinc, codeSystem=OID["http://loinc.org"], displayName=title)
        d.el(sec, "title").text = title
        table = d.el(d.el(sec, "text"), "list")
        for r in items:
            d.el(table, "item").text = _summary(r, by_url)
        for r in items:
            ENTRY[key](d, d.el(sec, "entry", typeCode="DRIV"), r, by_url)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(doc, encoding="unicode") + "\n"


def _header(d: _Doc, doc: ET.Element, patient: Resource) -> None:
    role = d.el(d.el(doc, "recordTarget"), "patientRole")
    d.el(role, "id", root=MRN_ROOT, extension="RFM-" + hashlib.sha256(patient["id"].encode()).hexdigest()[:8])
    p = d.el(role, "patient")
    name = patient["name"][0]
    nm = d.el(p, "name", use="L")
    for g in name.get("given", []):
        d.el(nm, "given").text = g
    d.el(nm, "family").text = name["family"]
    d.el(p, "administrativeGenderCode", code={"female": "F", "male": "M"}.get(patient.get("gender", ""), "UN"),
         codeSystem="2.16.840.1.113883.5.1")
    d.el(p, "birthTime", value=ts(patient["birthDate"]))
    author = d.el(d.el(doc, "author"), "assignedAuthor")
    d.el(author, "id", root=ID_ROOT, extension="portal")
    d.el(d.el(author, "representedOrganization"), "name").text = PORTAL
    org = d.el(d.el(d.el(doc, "custodian"), "assignedCustodian"), "representedCustodianOrganization")
    d.el(org, "id", root=ID_ROOT, extension="rfm")
    d.el(org, "name").text = PORTAL


def _group(res: list[Resource]) -> dict[str, list[Resource]]:
    out: dict[str, list[Resource]] = defaultdict(list)
    kinds = {"AllergyIntolerance": "allergies", "MedicationRequest": "medications", "MedicationStatement": "medications",
             "Condition": "problems", "Procedure": "procedures", "Immunization": "immunizations",
             "Encounter": "encounters", "DocumentReference": "notes"}
    for r in res:
        if r["resourceType"] == "Observation":
            cats = {c.get("code") for cat in r.get("category", []) for c in cat.get("coding", [])}
            out["vitals" if "vital-signs" in cats else "results" if "laboratory" in cats else "social"].append(r)
        elif r["resourceType"] in kinds:
            out[kinds[r["resourceType"]]].append(r)
    return out


def _label(concept: Resource | None) -> str:
    return str((concept or {}).get("text") or ((concept or {}).get("coding") or [{}])[0].get("display") or "")


def _summary(r: Resource, by_url: dict[str | None, Resource]) -> str:
    when = (r.get("effectiveDateTime") or r.get("authoredOn") or r.get("occurrenceDateTime") or r.get("onsetDateTime")
            or r.get("recordedDate") or (r.get("period") or {}).get("start") or r.get("date") or "")[:10]
    concept = (r.get("code") or r.get("vaccineCode") or r.get("medicationCodeableConcept")
               or (by_url.get((r.get("medicationReference") or {}).get("reference")) or {}).get("code"))
    if concept is None and isinstance(r.get("type"), list):
        concept = r["type"][0]
    what = _label(concept if concept is not None else r.get("type"))
    return f"{when} {what}".strip()


def _value(d: _Doc, obs: ET.Element, q: Resource) -> None:
    d.el(obs, "value", xsi_type="PQ", value=_num(q["value"]), unit=q.get("code") or q.get("unit") or "1")


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _observation(d: _Doc, parent: ET.Element, r: Resource, tmpl: str, code: Resource | None = None,
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


def _lab_or_vital(d: _Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource], vital: bool) -> None:
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


def _social(d: _Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    smoking = any(c.get("code") == "72166-2" for c in r["code"].get("coding", []))
    _observation(d, entry, r, "4.78" if smoking else "4.38")


def _problem(d: _Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
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


def _medication(d: _Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
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


def _immunization(d: _Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
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


def _allergy(d: _Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
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
    code, name = ALLERGENS.get(r["code"]["coding"][0]["code"], ("", _label(r["code"])))
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


def _procedure(d: _Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
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


def _encounter(d: _Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    enc = d.el(entry, "encounter", classCode="ENC", moodCode="EVN")
    d.template(enc, "4.49")
    d.ident(enc, r["id"])
    d.code(enc, "code", r["type"][0])
    d.time(enc, r["period"]["start"], r["period"].get("end"))


def _note(d: _Doc, entry: ET.Element, r: Resource, by_url: dict[str | None, Resource]) -> None:
    act = d.el(entry, "act", classCode="ACT", moodCode="EVN")
    d.template(act, "4.202")
    d.ident(act, r["id"])
    d.code(act, "code", r["type"])
    d.el(act, "text").text = base64.b64decode(r["content"][0]["attachment"]["data"]).decode("utf-8")
    d.el(act, "statusCode", code="completed")
    d.el(act, "effectiveTime", value=ts(((r.get("context") or {}).get("period") or {}).get("start") or r.get("date")))


Writer = Callable[[_Doc, ET.Element, Resource, dict[str | None, Resource]], None]
ENTRY: dict[str, Writer] = {
    "allergies": _allergy, "medications": _medication, "problems": _problem, "procedures": _procedure,
    "results": lambda d, e, r, u: _lab_or_vital(d, e, r, u, vital=False),
    "vitals": lambda d, e, r, u: _lab_or_vital(d, e, r, u, vital=True),
    "social": _social, "immunizations": _immunization, "encounters": _encounter, "notes": _note,
}
