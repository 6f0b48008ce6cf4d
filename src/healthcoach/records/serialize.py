"""The JSON shape of a record that the CLI and the API both print, and how a bare code is looked up."""

from __future__ import annotations

from healthcoach.records.models import Record

CODE_SYSTEMS = ("LOINC", "CVX", "SNOMED", "RxNorm", "ICD-10", "OMOP", "healthcoach")


def record_json(rec: Record) -> dict[str, object]:
    """The CLI/API JSON shape of a record."""
    return {
        "id": rec.id,
        "category": str(rec.category),
        "label": rec.label,
        "codes": [c.key for c in rec.codes],
        "value": rec.value.value if rec.value else (rec.value_display() or None),
        "unit": rec.value.unit if rec.value else None,
        "date": rec.date.isoformat() if rec.date else None,
        "status": rec.status,
        "source": rec.source_display(),
        "sources": [s.display() for s in rec.all_sources()],
        "conflicts": list(rec.conflicts),
    }


def code_keys(codes: list[str]) -> list[str] | None:
    """'4548-4' matches it in any code system; 'LOINC:4548-4' only there (None: no code filter)."""
    if not codes:
        return None
    return [c if ":" in c else f"{system}:{c}" for c in codes for system in CODE_SYSTEMS]
