"""C-CDA R2.1 adapter: CCDs, discharge summaries, progress notes, care plans (HL7 CDA XML) → Records.

The document is streamed with iterparse: the header (patient, custodian, dates) is read first, then each
body section is mapped and freed, so memory holds one section at a time. Sections are recognised by
template id (ccda_entries.SECTION_KINDS). Every countable unit of a known section (a result or vital-sign
observation, a medication, an immunization, an allergy or problem observation, a procedure, an encounter,
a social-history observation, a plan-of-care entry, a note) becomes one record or one counted skip whose
reason starts with the category it would have had ('lab: no value given'). A section without entries,
or one whose entries are not imported, is kept as one note (a document record) with its narrative text,
so nothing a person can read in the document is lost.
"""

from __future__ import annotations

import hashlib
import io
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree.ElementTree import Element

from healthcoach.errors import IngestError
from healthcoach.records import ccda_types as ct
from healthcoach.records.base import AdapterResult, PatientInfo
from healthcoach.records.ccda_context import SectionContext, Skip
from healthcoach.records.ccda_entries import SECTION_KINDS, map_section_entries
from healthcoach.records.files import RawFile, iter_files
from healthcoach.records.limits import ReadBudget
from healthcoach.records.models import Category, Record, Source, record_id

SSN_OID = "2.16.840.1.113883.4.1"  # never used as an identity key: it would put an SSN in the database
GENDERS = {"M": "male", "F": "female", "UN": "other"}


def is_ccda(head: bytes | str) -> bool:
    """True when the start of a file (bytes or text) looks like an HL7 CDA document."""
    text = head[:8192].decode("utf-8", errors="replace") if isinstance(head, bytes) else head[:8192]
    return "ClinicalDocument" in text and ct.NS in text


def load_ccda(path: Path, user_id: str, limits: ReadBudget | int) -> tuple[AdapterResult, list[str]]:
    """Load one C-CDA .xml file, or every C-CDA document in a folder or .zip; returns (result, files read)."""
    result, names = AdapterResult(), []
    for raw in iter_files(path, limits, {".xml"}):
        if not is_ccda(raw.data):
            if path.is_file() and not path.suffix.lower() == ".zip":
                raise IngestError(f"{raw.name}: not a C-CDA document (no HL7 ClinicalDocument root)")
            result.skip("file: XML that is not a C-CDA document (ignored)")
            continue
        result.extend(parse_ccda(raw, user_id))
        names.append(raw.name)
    if not names:
        raise IngestError(f"{path.name}: no C-CDA documents found")
    return result, names


@dataclass
class _Header:
    doc_key: str = ""
    title: str | None = None
    organization: str | None = None
    when: ct.When | None = None
    patient: PatientInfo | None = None
    sections: int = 0
    used_ids: set[str] = field(default_factory=set)


def parse_ccda(raw: RawFile, user_id: str) -> AdapterResult:
    """Map one C-CDA document to records; malformed XML raises IngestError naming the file and position."""
    if b"<!ENTITY" in raw.data[:65536]:
        raise IngestError(f"{raw.name}: XML entity declarations are not accepted in a C-CDA document")
    result = AdapterResult()
    head = _Header(doc_key="sha-" + hashlib.sha256(raw.data).hexdigest()[:20])  # until the document's <id> says
    file = raw.name.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
    path: list[str] = []
    try:
        for event, elem in ET.iterparse(io.BytesIO(raw.data), events=("start", "end")):
            if event == "start":
                path.append(ct.local(elem))
                if len(path) == 1 and path[0] != "ClinicalDocument":
                    raise IngestError(f"{raw.name}: not a C-CDA document (root element is {path[0]!r})")
                continue
            depth, name = len(path), path.pop()
            if depth == 2:
                _header_part(name, elem, head)
                if name != "component":
                    elem.clear()
            elif name == "section":
                _section(elem, head, user_id, file, result)
                if depth == 5:  # a top-level body section: done with it (nested ones are cleared with it)
                    elem.clear()
    except ET.ParseError as exc:
        line, col = exc.position
        raise IngestError(f"{raw.name}: not well-formed XML at line {line}, column {col}; the file may be "
                          "truncated") from exc
    if head.patient is not None:
        result.patients.append(head.patient)
    result.resources_seen["ClinicalDocument"] += 1
    if head.sections == 0:
        result.warnings.append(f"{raw.name}: a C-CDA document with no structured body sections")
    return result


def _header_part(name: str, elem: Element, head: _Header) -> None:
    if name == "id" and elem.get("root"):
        head.doc_key = f"{elem.get('root', '')}:{elem.get('extension', '')}".strip(":")
    elif name == "title":
        head.title = " ".join("".join(elem.itertext()).split()) or None
    elif name == "effectiveTime" and head.when is None:
        head.when = ct.parse_ts(elem.get("value"))
    elif name == "recordTarget":
        head.patient = _patient(elem)
    elif name == "custodian":
        org = elem.find(ct.q("assignedCustodian/representedCustodianOrganization/name"))
        head.organization = _text(org) or head.organization
    elif name == "author" and head.organization is None:
        head.organization = _text(elem.find(ct.q("assignedAuthor/representedOrganization/name")))
    elif name == "componentOf":
        start, _, _ = ct.effective(elem.find(ct.q("encompassingEncounter/effectiveTime")))
        head.when = start or head.when


def _text(elem: Element | None) -> str | None:
    return " ".join("".join(elem.itertext()).split()) or None if elem is not None else None


def _patient(target: Element) -> PatientInfo:
    role = target.find(ct.q("patientRole"))
    if role is None:
        raise IngestError("recordTarget has no patientRole: the document does not say whose it is")
    ids = [i for i in role.findall(ct.q("id")) if i.get("root") and i.get("root") != SSN_OID and not i.get("nullFlavor")]
    pid = ids[0] if ids else None
    patient = role.find(ct.q("patient"))
    name = born = gender = None
    if patient is not None:
        names = patient.findall(ct.q("name"))
        chosen = next((n for n in names if n.get("use") == "L"), names[0] if names else None)
        if chosen is not None:
            given = [_text(g) for g in chosen.findall(ct.q("given")) if g.get("qualifier") != "CL"]
            family = _text(chosen.find(ct.q("family")))
            name = " ".join(p for p in [*given, family] if p) or None
        birth = patient.find(ct.q("birthTime"))
        when = ct.parse_ts(birth.get("value")) if birth is not None else None
        born = when.day if when and when.precision in ("day", "time") else None
        g = patient.find(ct.q("administrativeGenderCode"))
        gender = GENDERS.get(g.get("code", "")) if g is not None else None
    if pid is None:
        key = "ccda:" + hashlib.sha256(f"{name}|{born}".encode()).hexdigest()[:16]
        return PatientInfo(key=key, name=name, birth_date=born, gender=gender)
    return PatientInfo(key=f"ccda:{pid.get('root')}:{pid.get('extension', '')}", name=name, birth_date=born,
                       gender=gender, issuer=pid.get("root"))


def _section(sec: Element, head: _Header, user_id: str, file: str, result: AdapterResult) -> None:
    head.sections += 1
    roots = ct.template_ids(sec)
    kind = next((SECTION_KINDS[r] for r in roots if r in SECTION_KINDS), None)
    code = ct.concept(sec.find(ct.q("code")), {})
    title = _text(sec.find(ct.q("title"))) or code.label or "Section"
    text, refs = ct.narrative(sec.find(ct.q("text")))
    ctx = SectionContext(user_id=user_id, file=file, doc_key=head.doc_key, organization=head.organization,
                         title=title, refs=refs, doc_when=head.when, used_ids=head.used_ids, index=head.sections,
                         section_roots=roots)
    entries = sec.findall(ct.q("entry"))
    result.resources_seen[f"section: {kind or 'other'}"] += 1
    if entries and kind is not None:
        map_section_entries(kind, entries, ctx, result)
        return
    if entries:
        result.skip(f"{title} section: coded entries not imported (its text is kept as a note)", len(entries))
    try:
        result.records.append(_note(sec, ctx, code, text))
    except Skip as exc:
        result.skip(f"document: {exc}")


def _note(sec: Element, ctx: SectionContext, code: ct.Concept, text: str) -> Record:
    """A section read as a note: its title, its LOINC section code, its narrative, the document's date."""
    if sec.get("nullFlavor"):
        raise Skip(f"a section marked 'no information' ({sec.get('nullFlavor')})")
    if not text.strip():
        raise Skip("a section with no text")
    rid = ctx.unique_id(f"section{ctx.index}")
    when = ctx.doc_when
    details = {"section": ctx.title, "kind": "C-CDA section"}
    if when and when.precision in ("year", "month"):
        details["date_precision"] = when.precision
    return Record(
        id=record_id(ctx.user_id, "ccda", "Section", rid), user_id=ctx.user_id, category=Category.document,
        label=ctx.title.strip().capitalize() if ctx.title.isupper() else ctx.title, codes=ct.clinical_codes(code),
        text=text, start=when.at if when else None, date=when.day if when else None, details=details,
        source=Source(kind="ccda", organization=ctx.organization, file=ctx.file, resource_type="Section",
                      resource_id=rid),
    )
