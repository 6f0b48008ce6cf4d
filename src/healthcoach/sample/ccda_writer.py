"""The sample person as a patient-portal C-CDA R2.1 CCD ('Download my records'), written from the FHIR Bundle.

Same facts, the portal's own ids, times as C-CDA TS values with their offset. Used to test that a second
format of the same records merges into one timeline. Deterministic: the same bundle gives the same XML.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections import defaultdict

from healthcoach.sample.ccda_entry_writers import ENTRY
from healthcoach.sample.ccda_xml import ID_ROOT, MRN_ROOT, OID, PORTAL, SECTIONS, Doc, Resource, label, ts


def write_ccda(bundle: Resource) -> str:
    """The bundle's person and clinical resources as a CCD (UTF-8 XML text)."""
    d = Doc()
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


def _header(d: Doc, doc: ET.Element, patient: Resource) -> None:
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


def _summary(r: Resource, by_url: dict[str | None, Resource]) -> str:
    when = (r.get("effectiveDateTime") or r.get("authoredOn") or r.get("occurrenceDateTime") or r.get("onsetDateTime")
            or r.get("recordedDate") or (r.get("period") or {}).get("start") or r.get("date") or "")[:10]
    concept = (r.get("code") or r.get("vaccineCode") or r.get("medicationCodeableConcept")
               or (by_url.get((r.get("medicationReference") or {}).get("reference")) or {}).get("code"))
    if concept is None and isinstance(r.get("type"), list):
        concept = r["type"][0]
    what = label(concept if concept is not None else r.get("type"))
    return f"{when} {what}".strip()
