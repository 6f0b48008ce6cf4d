"""A person's FHIR R4 Bundle as a compact text summary for a system message: what a generic assistant would be
given to answer record questions. Read straight from the raw JSON (no product parsing), one line per resource:
`Type | date | what | value | status`, newest first.

Everything current is kept (allergies, conditions, medications with their status; the newest value of every
observation code; every vaccine); older values of each code follow, `per_code` at most, then procedures
and visits, until `max_chars`. What did not fit is counted in the last line, so the cut is visible."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

Resource = dict[str, Any]
Line = tuple[str, str, str]  # (date, group key, text)


def _display(concept: Any) -> str:
    if not isinstance(concept, dict):
        return ""
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
    return str(concept.get("text") or "")


def _code(concept: Any) -> str:
    codings = concept.get("coding") if isinstance(concept, dict) else None
    return str(codings[0].get("code", "")) if codings else _display(concept)


def _date(resource: Resource, *fields: str) -> str:
    for name in fields:
        value = resource.get(name)
        if isinstance(value, dict):
            value = value.get("start") or value.get("end")
        if isinstance(value, str) and value:
            return value[:10]
    return ""


def _quantity(q: Any) -> str:
    if not isinstance(q, dict) or q.get("value") is None:
        return ""
    value = q["value"]
    text = f"{value:g}" if isinstance(value, float) else str(value)
    unit = q.get("unit") or q.get("code") or ""
    return f"{q.get('comparator', '')}{text} {unit}".strip()


def _value(obs: Resource) -> str:
    if "valueQuantity" in obs:
        return _quantity(obs["valueQuantity"])
    if "valueCodeableConcept" in obs:
        return _display(obs["valueCodeableConcept"])
    for key in ("valueString", "valueBoolean", "valueInteger"):
        if key in obs:
            return str(obs[key])
    parts = [f"{_display(c.get('code'))} "
             f"{_quantity(c.get('valueQuantity')) or _display(c.get('valueCodeableConcept'))}"
             for c in obs.get("component") or []]
    return "; ".join(p.strip() for p in parts if p.strip())


def _status(resource: Resource) -> str:
    for name in ("clinicalStatus", "verificationStatus"):
        if isinstance(resource.get(name), dict):
            return _code(resource[name])
    return str(resource.get("status") or "")


def _medication(req: Resource, by_ref: dict[str, Resource]) -> str:
    if "medicationCodeableConcept" in req:
        return _display(req["medicationCodeableConcept"])
    ref = (req.get("medicationReference") or {}).get("reference", "")
    med = by_ref.get(ref) or by_ref.get(ref.split("/")[-1]) or {}
    return _display(med.get("code")) or ref


def _line(kind: str, when: str, what: str, value: str = "", status: str = "") -> str:
    return " | ".join([kind, when or "undated", what, value, status]).rstrip(" |")


def _lines(resource: Resource, by_ref: dict[str, Resource]) -> tuple[int, Line] | None:
    """(priority group, line) for one resource; None for resource types a summary leaves out."""
    kind = resource.get("resourceType")
    if kind == "Observation":
        when = _date(resource, "effectiveDateTime", "effectivePeriod", "issued")
        what = _display(resource.get("code"))
        return 3, (when, f"obs:{_code(resource.get('code'))}", _line(kind, when, what, _value(resource),
                                                                       _status(resource)))
    if kind == "Immunization":
        when = _date(resource, "occurrenceDateTime", "occurrenceString")
        vaccine = resource.get("vaccineCode")
        return 2, (when, f"imm:{when}:{_code(vaccine)}", _line(kind, when, _display(vaccine), "",
                                                                _status(resource)))
    if kind in ("Condition", "AllergyIntolerance"):
        when = _date(resource, "onsetDateTime", "recordedDate", "onsetPeriod")
        ended = _date(resource, "abatementDateTime", "abatementPeriod")
        what = _display(resource.get("code")) + (f" (ended {ended})" if ended else "")
        extra = resource.get("criticality", "") if kind == "AllergyIntolerance" else ""
        return 1, (when, f"{kind}:{_code(resource.get('code'))}",
                   _line(kind, when, what, extra, _status(resource)))
    if kind in ("MedicationRequest", "MedicationStatement"):
        when = _date(resource, "authoredOn", "effectiveDateTime", "effectivePeriod")
        dose = "; ".join(str(d.get("text")) for d in resource.get("dosageInstruction") or [] if d.get("text"))
        what = _medication(resource, by_ref)
        return 1, (when, f"med:{what}", _line(kind, when, what, dose, _status(resource)))
    if kind == "Procedure":
        when = _date(resource, "performedDateTime", "performedPeriod")
        return 4, (when, f"proc:{when}:{_code(resource.get('code'))}",
                   _line(kind, when, _display(resource.get("code")), "", _status(resource)))
    if kind == "Encounter":
        when = _date(resource, "period")
        kind_of = (resource.get("class") or {}).get("code", "")
        what = _display((resource.get("type") or [{}])[0]) or str(kind_of)
        return 5, (when, f"enc:{when}", _line(kind, when, what, "", _status(resource)))
    return None


def _patient(resources: Iterable[Resource]) -> str:
    for r in resources:
        if r.get("resourceType") == "Patient":
            name = (r.get("name") or [{}])[0]
            full = " ".join([*(name.get("given") or []), str(name.get("family") or "")]).strip()
            born = r.get("birthDate", "unknown")
            return f"Patient | {full or 'unnamed'} | born {born} | {r.get('gender', '')}"
    return "Patient | unknown"


def fhir_summary(bundle: Resource, per_code: int = 3, max_chars: int = 16000) -> str:
    """The summary text (see the module docstring)."""
    resources = [e.get("resource") or {} for e in bundle.get("entry") or []]
    by_ref = {k: r for e, r in zip(bundle.get("entry") or [], resources, strict=True)
              for k in (e.get("fullUrl", ""), f"{r.get('resourceType')}/{r.get('id')}", str(r.get("id")))}
    groups: dict[int, dict[str, list[Line]]] = defaultdict(lambda: defaultdict(list))
    for r in resources:
        found = _lines(r, by_ref)
        if found:
            groups[found[0]][found[1][1]].append(found[1])
    ordered: list[str] = []
    older: list[str] = []
    for priority in sorted(groups):
        keep = 1 if priority == 1 else per_code
        heads = []
        for entries in groups[priority].values():
            entries.sort(key=lambda line: line[0], reverse=True)
            heads.append(entries[0])
            older.extend(text for _, _, text in entries[1:keep] if priority == 3)
        heads.sort(key=lambda line: line[0], reverse=True)
        ordered.extend(text for _, _, text in heads)
        if priority == 3:  # older values of each observation code come right after every newest one
            ordered.extend(sorted(older, key=lambda t: t.split(" | ")[1], reverse=True))
    header = [f"Health records of this person (FHIR R4 summary, one line per resource: type | date | what | "
              f"value | status; newest first). {_patient(resources)}"]
    out, size = header, len(header[0])
    for i, text in enumerate(ordered):
        if size + len(text) + 1 > max_chars:
            out.append(f"({len(ordered) - i} older or less important entries not shown)")
            break
        out.append(text)
        size += len(text) + 1
    return "\n".join(out)
