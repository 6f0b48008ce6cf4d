"""FHIR R4 datatypes written from the canonical model: CodeableConcept, Quantity, dateTime, Attachment."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from healthcoach.records.models import SYSTEMS, Code, Quantity, Record

Json = dict[str, Any]
UCUM = "http://unitsofmeasure.org"
URI_OF = {short: uri for uri, short in reversed(list(SYSTEMS.items()))}  # first URI listed wins


def concept(codes: Sequence[Code], text: str | None) -> Json:
    """A CodeableConcept with every coding and the record's label as its text."""
    out: Json = {}
    coding = []
    for c in codes:
        item: Json = {"code": c.code}
        if c.system != "local":
            item["system"] = URI_OF.get(c.system, c.system)
        if c.display:
            item["display"] = c.display
        coding.append(item)
    if coding:
        out["coding"] = coding
    if text:
        out["text"] = text
    return out


def quantity(q: Quantity) -> Json:
    """A FHIR Quantity (UCUM coded when there is a unit)."""
    out: Json = {"value": q.value}
    if q.unit:
        out.update(unit=q.unit, system=UCUM, code=q.unit)
    if q.comparator:
        out["comparator"] = q.comparator
    return out


def when(rec: Record) -> str | None:
    """The clinical start as FHIR dateTime, keeping a year or month precision the source had."""
    if rec.start is None:
        return None
    precision = rec.details.get("date_precision")
    if precision == "year" and rec.date:
        return f"{rec.date.year:04d}"
    if precision == "month" and rec.date:
        return f"{rec.date.year:04d}-{rec.date.month:02d}"
    return rec.start.isoformat()


def timing(rec: Record, prefix: str) -> Json:
    """<prefix>DateTime, or <prefix>Period when the record has an end."""
    start = when(rec)
    if rec.end is not None:
        period = {"start": start, "end": rec.end.isoformat()} if start else {"end": rec.end.isoformat()}
        return {f"{prefix}Period": period}
    return {f"{prefix}DateTime": start} if start else {}


def texts(*items: str | None) -> list[Json]:
    return [{"text": t} for t in items if t]


def org(rec: Record) -> Json:
    """The source organisation as a display-only Organization reference (no directory entry is invented)."""
    return {"type": "Organization", "display": rec.source.organization}


def attachment(text: str) -> Json:
    return {"contentType": "text/plain; charset=utf-8", "data": base64.b64encode(text.encode()).decode()}
