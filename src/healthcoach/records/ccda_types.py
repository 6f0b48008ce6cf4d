"""Reading C-CDA (HL7 CDA R2) datatypes tolerantly: CD/CE codes with translations and nullFlavor, PQ/CD/ST
values, TS/IVL_TS dates with time-zone offsets and partial precision, and the section narrative."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from xml.etree.ElementTree import Element

from healthcoach.records.models import Code, Quantity, ReferenceRange, format_number

NS = "urn:hl7-org:v3"
H = f"{{{NS}}}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# Code-system OIDs → the short names used everywhere else (models.SYSTEMS uses the FHIR URIs).
OIDS: dict[str, str] = {
    "2.16.840.1.113883.6.1": "LOINC",
    "2.16.840.1.113883.6.96": "SNOMED",
    "2.16.840.1.113883.6.88": "RxNorm",
    "2.16.840.1.113883.12.292": "CVX",
    "2.16.840.1.113883.6.90": "ICD-10",
    "2.16.840.1.113883.6.3": "ICD-10",
    "2.16.840.1.113883.6.4": "ICD-10-PCS",
    "2.16.840.1.113883.6.103": "ICD-9",
    "2.16.840.1.113883.6.104": "ICD-9",
    "2.16.840.1.113883.6.12": "CPT",
    "2.16.840.1.113883.6.285": "HCPCS",
    "2.16.840.1.113883.6.69": "NDC",
    "2.16.840.1.113883.4.9": "UNII",
    "2.16.840.1.113883.3.26.1.1": "NCI",
    "2.16.840.1.113883.6.259": "HSLOC",
    "2.16.840.1.113883.6.101": "NUCC",
}
# Labels for a few codes documents often send without a displayName.
KNOWN_LABELS = {"LOINC:72166-2": "Tobacco smoking status", "LOINC:85354-9": "Blood pressure",
                "LOINC:4548-4": "Hemoglobin A1c/Hemoglobin.total in Blood"}
# Coding systems whose codes identify a clinical concept (HL7 structural codes like ASSERTION do not).
CLINICAL_SYSTEMS = frozenset(OIDS.values())
TS_RE = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$")
PRECISION = {4: "year", 6: "month", 8: "day"}


def q(path: str) -> str:
    """An ElementTree path with every step in the HL7 v3 namespace: 'entry/act' → '{urn..}entry/{urn..}act'."""
    return "/".join(step if step in (".", "..", "*") else H + step for step in path.split("/"))


def local(elem: Element) -> str:
    """The element name without its namespace."""
    return elem.tag.rsplit("}", 1)[-1]


def template_ids(elem: Element) -> set[str]:
    """The templateId roots of an element (extensions, the version dates, are ignored)."""
    return {t.get("root", "") for t in elem.findall(q("templateId"))}


def attr_text(elem: Element | None, refs: dict[str, str]) -> str | None:
    """The text of an element: its own characters, or the narrative it references (<reference value="#id"/>)."""
    if elem is None:
        return None
    ref = elem.find(q("reference"))
    if ref is not None and (ref.get("value") or "").startswith("#"):
        found = refs.get(ref.get("value", "")[1:])
        if found:
            return found
    text = " ".join("".join(elem.itertext()).split())
    return text or None


@dataclass(frozen=True)
class Concept:
    """A CD/CE: its codes (main code first, then translations), a label, and whether it said 'no information'."""

    codes: tuple[Code, ...]
    label: str | None
    null: bool


def concept(elem: Element | None, refs: dict[str, str]) -> Concept:
    """Codes and label of a code/value element; nullFlavor codes are dropped but translations and text kept."""
    if elem is None:
        return Concept((), None, True)
    codes: list[Code] = []
    label: str | None = None
    for c in [elem, *elem.findall(q("translation"))]:
        code, oid = (c.get("code") or "").strip(), c.get("codeSystem") or ""
        if code and not c.get("nullFlavor"):
            codes.append(Code(system=OIDS.get(oid, f"urn:oid:{oid}" if oid else "local"), code=code,
                              display=c.get("displayName")))
        label = label or c.get("displayName")
    original = attr_text(elem.find(q("originalText")), refs)
    label = label or next((KNOWN_LABELS[c.key] for c in codes if c.key in KNOWN_LABELS), None)
    return Concept(tuple(codes), original or label or (codes[0].code if codes else None),
                   bool(elem.get("nullFlavor")) and not codes)


def clinical_codes(c: Concept) -> tuple[Code, ...]:
    """Only the codes of real code systems (LOINC, SNOMED ...), not HL7 structural vocabularies."""
    return tuple(x for x in c.codes if x.system in CLINICAL_SYSTEMS)


@dataclass(frozen=True)
class When:
    """A parsed TS: the instant (UTC-aware), the calendar date as written, and its precision."""

    at: datetime
    day: date
    precision: str  # year | month | day | time


def parse_ts(raw: str | None) -> When | None:
    """'20120910', '201209271300-0500', '1999' → When; None for a nullFlavor or an unreadable value."""
    if not raw:
        return None
    m = TS_RE.match(raw.strip())
    if not m:
        return None
    year, month, day, hour, minute, sec, tz = m.groups()
    try:
        d = date(int(year), int(month or 1), int(day or 1))
        zone = UTC
        if tz:
            sign = 1 if tz[0] == "+" else -1
            zone = timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])))
        at = datetime(d.year, d.month, d.day, int(hour or 0), int(minute or 0), int(sec or 0), tzinfo=zone)
    except ValueError:
        return None
    digits = len(raw.strip().split(".")[0].split("+")[0].split("-")[0])
    return When(at, d, PRECISION.get(digits, "time"))


def effective(elem: Element | None) -> tuple[When | None, When | None, bool]:
    """(start, end, unreadable) of an effectiveTime (TS value, IVL_TS low/high/center); PIVL frequencies are
    not dates and are ignored. `unreadable` says a value was present but could not be read."""
    if elem is None:
        return None, None, False
    bad = False

    def read(e: Element | None) -> When | None:
        nonlocal bad
        if e is None or e.get("value") is None:
            return None
        w = parse_ts(e.get("value"))
        bad = bad or w is None
        return w

    if "PIVL" in (elem.get(XSI_TYPE) or "") or "EIVL" in (elem.get(XSI_TYPE) or ""):
        return None, None, False
    start = read(elem) or read(elem.find(q("low"))) or read(elem.find(q("center")))
    end = read(elem.find(q("high")))
    return start or end, end, bad


def effective_times(parent: Element) -> tuple[When | None, When | None, bool]:
    """The first dated effectiveTime of an act (substanceAdministrations have a second, PIVL, one)."""
    for et in parent.findall(q("effectiveTime")):
        start, end, bad = effective(et)
        if start or end or bad:
            return start, end, bad
    return None, None, False


def quantity(elem: Element | None) -> Quantity | None:
    """A PQ (or INT/REAL) value with its UCUM unit; None for nullFlavor or a value that is not a number."""
    if elem is None or elem.get("nullFlavor") or elem.get("value") is None:
        return None
    try:
        v = float(elem.get("value", ""))
    except ValueError:
        return None
    unit = elem.get("unit")
    return Quantity(value=v, unit=None if unit in (None, "", "1") else unit)


@dataclass(frozen=True)
class Value:
    """An observation's value: a quantity, a text (coded or string), or a value code."""

    quantity: Quantity | None = None
    text: str | None = None
    code: Code | None = None
    null: bool = False


def value(elem: Element | None, refs: dict[str, str]) -> Value:
    """Read <value xsi:type=...>: PQ/INT/REAL → quantity; CD/CE/CO → display text + code; ST/ED → text;
    BL → yes/no; IVL_PQ → 'low-high unit' text; a nullFlavor → null."""
    if elem is None:
        return Value()
    xtype = (elem.get(XSI_TYPE) or "").split(":")[-1]
    if elem.get("nullFlavor") and xtype not in ("CD", "CE", "CO", "CV"):
        return Value(null=True)
    if xtype in ("PQ", "INT", "REAL", "MO"):
        qty = quantity(elem)
        return Value(quantity=qty, null=qty is None)
    if xtype in ("CD", "CE", "CO", "CV"):
        c = concept(elem, refs)
        return Value(text=c.label, code=c.codes[0] if c.codes else None, null=c.label is None)
    if xtype == "BL":
        return Value(text={"true": "yes", "false": "no"}.get(elem.get("value", "")), null=elem.get("value") is None)
    if xtype == "IVL_PQ":
        low, high = quantity(elem.find(q("low"))), quantity(elem.find(q("high")))
        text = (f"{format_number(low.value)}-{high.display()}" if low and high else
                f">= {low.display()}" if low else f"<= {high.display()}" if high else None)
        return Value(text=text, null=text is None)
    text = attr_text(elem, refs)
    return Value(text=text, null=text is None)


def reference_range(obs: Element) -> ReferenceRange | None:
    """The first referenceRange: IVL_PQ low/high, or its text."""
    rng = obs.find(q("referenceRange/observationRange"))
    if rng is None:
        return None
    val = rng.find(q("value"))
    low = quantity(val.find(q("low"))) if val is not None else None
    high = quantity(val.find(q("high"))) if val is not None else None
    text_elem = rng.find(q("text"))
    text = " ".join("".join(text_elem.itertext()).split()) if text_elem is not None else None
    if not (low or high or text):
        return None
    return ReferenceRange(low=low.value if low else None, high=high.value if high else None,
                          unit=(low or high).unit if (low or high) else None, text=text or None)  # type: ignore[union-attr]


BLOCKS = {"paragraph", "tr", "item", "br", "caption", "content_block", "list", "table", "thead", "tbody"}


def narrative(text_elem: Element | None) -> tuple[str, dict[str, str]]:
    """A section's <text> as plain text (table rows on lines, cells joined by ' | '), plus ID → text of every
    element with an ID (what entries' <reference value="#id"/> point to)."""
    if text_elem is None:
        return "", {}
    refs: dict[str, str] = {}
    for el in text_elem.iter():
        ident = el.get("ID")
        if ident:
            refs[ident] = " ".join("".join(el.itertext()).split())
    lines: list[str] = []
    _flatten(text_elem, lines)
    out = "\n".join(line for line in (" ".join(x.split()) for x in lines) if line)
    return out, refs


def _flatten(elem: Element, lines: list[str]) -> None:
    name = local(elem)
    if name == "tr":
        cells = [" ".join("".join(c.itertext()).split()) for c in elem if local(c) in ("td", "th")]
        lines.append(" | ".join(c for c in cells if c))
        return
    if elem.text and elem.text.strip():
        _append(lines, elem.text)
    for child in elem:
        if local(child) in BLOCKS:
            lines.append("")
        _flatten(child, lines)
        if local(child) in BLOCKS:
            lines.append("")
        if child.tail and child.tail.strip():
            _append(lines, child.tail)


def _append(lines: list[str], text: str) -> None:
    if lines and lines[-1]:
        lines[-1] += " " + text.strip()
    else:
        lines.append(text.strip())
