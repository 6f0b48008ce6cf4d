"""Reading FHIR datatypes (CodeableConcept, Quantity, dateTime, Reference) tolerantly into the canonical model."""

from __future__ import annotations

import base64
import binascii
import math
from datetime import UTC, date, datetime
from typing import Any

from healthcoach.records.models import Code, Component, Quantity, ReferenceRange, system_name

Json = dict[str, Any]
# Clinical dates outside these years are sentinels or typos ("9999-12-31" means "no end" in some systems);
# they are read as no date, so date arithmetic downstream can never overflow.
MIN_YEAR, MAX_YEAR = 1800, 2200


def codes(concept: Json | None) -> tuple[Code, ...]:
    """All codings of a CodeableConcept."""
    if not isinstance(concept, dict):
        return ()
    out = []
    for c in concept.get("coding") or []:
        if isinstance(c, dict) and c.get("code") is not None:
            out.append(Code(system=system_name(c.get("system")), code=str(c["code"]), display=c.get("display")))
    return tuple(out)


def label(concept: Json | None) -> str | None:
    """The text a person would read: CodeableConcept.text, else the first coding's display."""
    if not isinstance(concept, dict):
        return None
    if concept.get("text"):
        return str(concept["text"])
    for c in concept.get("coding") or []:
        if isinstance(c, dict) and c.get("display"):
            return str(c["display"])
    for c in concept.get("coding") or []:
        if isinstance(c, dict) and c.get("code"):
            return str(c["code"])
    return None


def first_label(concepts: Any) -> str | None:
    """Label of the first CodeableConcept in a list."""
    if isinstance(concepts, list):
        for c in concepts:
            text = label(c)
            if text:
                return text
    return None


def quantity(q: Json | None) -> Quantity | None:
    """A FHIR Quantity; the UCUM code is preferred over the human unit."""
    if not isinstance(q, dict) or q.get("value") is None:
        return None
    try:
        value = float(q["value"])
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(value):  # "NaN", "Infinity" or "1e400" written as a string: not a measurement
        return None
    unit = q.get("code") if q.get("system") == "http://unitsofmeasure.org" and q.get("code") else q.get("unit")
    return Quantity(value=value, unit=unit or q.get("code"), comparator=q.get("comparator"))


def parse_datetime(raw: Any) -> tuple[datetime, date, str] | None:
    """(instant in UTC-aware form, calendar date as written, precision) for a FHIR date/dateTime/instant;
    None when it is not one, or lies outside MIN_YEAR..MAX_YEAR."""
    if not isinstance(raw, str) or len(raw) < 4:
        return None
    try:
        parsed = _parse_datetime(raw.strip())
    except (ValueError, OverflowError):
        return None
    return parsed if MIN_YEAR <= parsed[1].year <= MAX_YEAR else None


def out_of_range(raw: Any) -> bool:
    """True for a well-formed date outside MIN_YEAR..MAX_YEAR ("9999-12-31")."""
    if not isinstance(raw, str) or len(raw) < 4:
        return False
    try:
        year = _parse_datetime(raw.strip())[1].year
    except (ValueError, OverflowError):
        return False
    return not MIN_YEAR <= year <= MAX_YEAR


def _parse_datetime(text: str) -> tuple[datetime, date, str]:
    if len(text) == 4:
        d = date(int(text), 1, 1)
        return datetime(d.year, 1, 1, tzinfo=UTC), d, "year"
    if len(text) == 7:
        d = date(int(text[:4]), int(text[5:7]), 1)
        return datetime(d.year, d.month, 1, tzinfo=UTC), d, "month"
    if len(text) == 10:
        d = date.fromisoformat(text)
        return datetime(d.year, d.month, d.day, tzinfo=UTC), d, "day"
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    # The calendar date is the one written in the source (the patient's local date), not the UTC date.
    return dt, date.fromisoformat(text[:10]), "time"


def period_start_end(resource: Json, prefix: str) -> tuple[Any, Any]:
    """Raw start/end of '<prefix>DateTime' or '<prefix>Period' (also Instant/String)."""
    if resource.get(f"{prefix}DateTime") is not None:
        return resource[f"{prefix}DateTime"], None
    if resource.get(f"{prefix}Instant") is not None:
        return resource[f"{prefix}Instant"], None
    period = resource.get(f"{prefix}Period")
    if isinstance(period, dict):
        return period.get("start") or period.get("end"), period.get("end")
    return None, None


def components(resource: Json) -> tuple[Component, ...]:
    """Observation.component (blood pressure systolic/diastolic, survey items)."""
    out = []
    for comp in resource.get("component") or []:
        if not isinstance(comp, dict):
            continue
        text = label(comp.get("valueCodeableConcept")) or comp.get("valueString")
        out.append(
            Component(
                label=label(comp.get("code")) or "component",
                codes=codes(comp.get("code")),
                value=quantity(comp.get("valueQuantity")),
                text=str(text) if text is not None else None,
            )
        )
    return tuple(out)


def reference_range(resource: Json) -> ReferenceRange | None:
    """The first reference range, as the lab stated it."""
    ranges = resource.get("referenceRange") or []
    if not ranges or not isinstance(ranges[0], dict):
        return None
    rr = ranges[0]
    low, high = quantity(rr.get("low")), quantity(rr.get("high"))
    if not (low or high or rr.get("text")):
        return None
    return ReferenceRange(
        low=low.value if low else None,
        high=high.value if high else None,
        unit=low.unit if low else (high.unit if high else None),
        text=rr.get("text"),
    )


def ref(value: Any) -> str | None:
    """The reference string of a Reference."""
    if isinstance(value, dict) and isinstance(value.get("reference"), str):
        return str(value["reference"])
    return None


def ref_display(value: Any) -> str | None:
    """The display text of a Reference."""
    if isinstance(value, dict) and value.get("display"):
        return str(value["display"])
    return None


def attachment_text(att: Json) -> str | None:
    """Decoded text of a text/* attachment (base64 data); None for binary content."""
    ctype = str(att.get("contentType") or "text/plain").lower()
    if not ctype.startswith("text/"):
        return None
    data = att.get("data")
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data, validate=False).decode("utf-8", errors="replace").strip()
    except (binascii.Error, ValueError):
        return None


def patient_issuer(res: Json) -> str | None:
    """Who assigned the patient's record number: the system of its MR identifier (else its first one that
    is not a national id). None when the Patient carries no identifier."""
    ids = [i for i in res.get("identifier") or [] if isinstance(i, dict) and i.get("system")
           and "ssn" not in str(i["system"]).lower()]
    mr = [i for i in ids if any(c.code == "MR" for c in codes(i.get("type")))]
    return str((mr or ids)[0]["system"]) if (mr or ids) else None

