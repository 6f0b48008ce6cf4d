"""Record text as the coach may show it: quoted, never in its own words; left out where safety text is.

Free text from records (notes, comments, document text, dosage instructions, even a label) may say
anything, including instructions. Templates quote it ('the record's note says: "..."'), and redirects and
the output guard's fallback show only what is structured: a safe label, codes, values, status and dates.
"""

from __future__ import annotations

from healthcoach.compose.citations import fmt_date
from healthcoach.guardrails.record_text import instruction_like, quote_record
from healthcoach.ingest.flags import KIND, safe_label
from healthcoach.records.models import Record
from healthcoach.records.render import free_texts, primary_code

__all__ = ["instruction_like", "quotable_text", "safe_label", "safe_line", "safe_value", "shown_text"]


def shown_text(text: str, limit: int = 300) -> str:
    """Record text for an answer: as it is, or as a marked quote when it reads like an instruction."""
    if instruction_like(text):
        return quote_record(text, limit)
    return text[:limit]


def safe_value(rec: Record) -> str:
    """The measured value only ('6.1 %', '128/82 mmHg'); never text written in the record."""
    if rec.value is None and not any(c.value for c in rec.components):
        return ""
    return rec.value_display()


def safe_line(rec: Record) -> str:
    """One record without any of its free text: date, label, code, value, status, source."""
    code = primary_code(rec)
    head = f"{fmt_date(rec.date)}: {safe_label(rec)}" + (f" ({code.replace(':', ' ')})" if code else "")
    value = safe_value(rec)
    kind = KIND.get(str(rec.category), "record")
    status = f", status {rec.status}" if rec.status and not instruction_like(rec.status) else ""
    source = rec.source.display()
    source = source if not instruction_like(source) else rec.source.kind
    return f"{head}{' was ' + value if value else ''} ({kind}{status}). Source: {source}."


def quotable_text(records: list[Record]) -> str:
    """The records' own words, for the output guard: a marked quote of these is the record speaking."""
    return "\n".join(t for r in records for t in free_texts(r))
