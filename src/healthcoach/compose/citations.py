"""Citations: every fact in an answer carries [n], resolving to a record id, date and source."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from healthcoach.records.models import Record, format_number
from healthcoach.records.units import display_unit, display_value


class Citation(BaseModel):
    """One cited record, as the API and CLI show it."""

    n: int = Field(description="The [n] marker used in the answer text.")
    record_id: str
    date: str | None = Field(None, description="Clinical date (YYYY-MM-DD) as written in the source.")
    label: str
    value: str | None = Field(None, description="The value as stated: '5.4', '128/82', 'Never smoker'.")
    unit: str | None = None
    source: str
    category: str


class Citer:
    """Numbers citations in order of first use; citing the same record twice reuses its number."""

    def __init__(self) -> None:
        self._by_id: dict[str, Citation] = {}
        self.records: list[Record] = []

    def __call__(self, rec: Record) -> str:
        """'[n]' for a record."""
        if rec.id not in self._by_id:
            value: str | None
            unit: str | None = display_unit(rec.value.unit) or None if rec.value else None
            if rec.value is not None and not rec.components:
                value = format_number(rec.value.value)
            else:  # the displayed value already carries its unit ('420 min', '128/82 mmHg'): never twice
                value, unit = display_value(rec) or None, None
            self._by_id[rec.id] = Citation(
                n=len(self._by_id) + 1,
                record_id=rec.id,
                date=rec.date.isoformat() if rec.date else None,
                label=rec.label,
                value=(value[:200] if value else None),
                unit=unit,
                source=rec.source_display(),
                category=str(rec.category),
            )
            self.records.append(rec)
        return f"[{self._by_id[rec.id].n}]"

    @property
    def citations(self) -> list[Citation]:
        return sorted(self._by_id.values(), key=lambda c: c.n)


def fmt_date(d: date | None) -> str:
    """'March 22, 2025'."""
    return f"{d:%B} {d.day}, {d.year}" if d else "an unknown date"


def fmt_when(rec: Record) -> str:
    """A record's date as precisely as its source gave it: 'March 22, 2025', 'November 1999' or '1999'."""
    precision = rec.details.get("date_precision")
    if rec.date and precision == "year":
        return str(rec.date.year)
    if rec.date and precision == "month":
        return f"{rec.date:%B} {rec.date.year}"
    return fmt_date(rec.date)
