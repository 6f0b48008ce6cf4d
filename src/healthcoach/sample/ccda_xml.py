"""A tiny HL7 v3 XML builder for the sample C-CDA: namespaced elements, codes from FHIR codings, TS values."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
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


class Doc:
    """Builds namespaced CDA elements."""

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


def label(concept: Resource | None) -> str:
    """The text a person reads for a CodeableConcept."""
    return str((concept or {}).get("text") or ((concept or {}).get("coding") or [{}])[0].get("display") or "")
