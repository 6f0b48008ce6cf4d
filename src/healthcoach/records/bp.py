"""Systolic and diastolic sent as two observations (C-CDA, OMOP) become one blood-pressure record, as FHIR
sends it: LOINC 85354-9 with both readings as components, so '128/82 mmHg' reads and matches as one."""

from __future__ import annotations

from healthcoach.records.models import Code, Component, Record

PARTS = {"8480-6": "systolic", "8462-4": "diastolic"}
PANEL = Code(system="LOINC", code="85354-9", display="Blood pressure panel with all children optional")


def part(rec: Record) -> str | None:
    """'systolic' or 'diastolic' for a single reading with a value, else None."""
    if rec.value is None:
        return None
    return next((PARTS[c.code] for c in rec.codes if c.system == "LOINC" and c.code in PARTS), None)


def fold(systolic: Record, diastolic: Record) -> Record:
    """The systolic record (its id, time and source) carrying both readings as components."""
    comps = tuple(Component(label=r.label, codes=r.codes, value=r.value) for r in (systolic, diastolic))
    return systolic.model_copy(update={"label": "Blood pressure", "value": None, "components": comps,
                                       "reference_range": None, "codes": (PANEL,)})
