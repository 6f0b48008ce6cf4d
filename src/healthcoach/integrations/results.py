"""What a look-up tool returns: records with their ids, clinical dates and sources, and a plain sentence.

The same shapes go out through MCP (structured tool results) and LangChain (Document metadata)."""

from __future__ import annotations

from datetime import date as Date

from pydantic import BaseModel, Field

from healthcoach.compose.citations import Citation
from healthcoach.compose.reply import Reply
from healthcoach.records.models import Record
from healthcoach.records.render import describe


class RecordRef(BaseModel):
    """One record as a tool result carries it: enough to cite it and to find it again."""

    record_id: str = Field(description="Stable id of the record (same id in citations and the audit log).")
    date: Date | None = Field(None, description="Clinical date as written in the source (never lastUpdated).")
    category: str = Field(description="allergy, medication, immunization, lab, vital, condition, ...")
    label: str = Field(description="What the record is about: 'Hemoglobin A1c', 'Influenza vaccine'.")
    value: str | None = Field(None, description="As stated: '6.1 %', '128/82 mmHg', 'Never smoker'.")
    status: str | None = None
    text: str | None = Field(None, description="Text the record holds (dosage instructions, a note).")
    source: str = Field(description="Where it came from: 'Riverside Family Medicine (FHIR export)'.")
    source_file: str | None = Field(None, description="Export file name (no directories).")
    resource: str = Field(description="Source resource type and id: 'Observation/abc-123'.")
    codes: list[str] = Field(default_factory=list, description="'LOINC:4548-4', 'CVX:140', ...")
    sentence: str = Field(description="The record as one readable sentence (date, label, value, source).")

    @classmethod
    def of(cls, rec: Record) -> RecordRef:
        """The reference for a record."""
        return cls(record_id=rec.id, date=rec.date, category=str(rec.category), label=rec.label,
                   value=rec.value_display() or None, status=rec.status, text=rec.text,
                   source=rec.source.display(), source_file=rec.source.file,
                   resource=f"{rec.source.resource_type}/{rec.source.resource_id}",
                   codes=rec.code_keys(), sentence=describe(rec))


class ToolResult(BaseModel):
    """A look-up's answer: a sentence, the records behind it, and the safety verdict."""

    text: str = Field(description="The answer in words; [n] markers refer to `citations` (ask_coach).")
    records: list[RecordRef] = Field(default_factory=list, description="Every record the answer rests on.")
    total: int = Field(0, description="How many records matched; `records` may be a shown subset.")
    truncated: bool = Field(False, description="True when more records matched than are listed.")
    as_of: Date | None = Field(None, description="Newest clinical date among the records.")
    citations: list[Citation] = Field(default_factory=list, description="ask_coach: the [n] citations.")
    blocked: bool = Field(False, description="True when a safety policy redirected an argument.")
    category: str = Field("allowed", description="Safety category acted on (emergency, treatment, ...).")
    action: str = Field("answer", description="answer, redirect or escalate (emergency help first).")
    warnings: list[str] = Field(default_factory=list, description="records_not_used, unknown_concept, ...")

    @classmethod
    def listing(cls, text: str, records: list[Record], limit: int, warnings: list[str] | None = None
                ) -> ToolResult:
        """A result listing records (newest first as given), at most `limit`, saying so when cut."""
        shown = records[:limit]
        dated = [r.date for r in shown if r.date]
        return cls(text=text, records=[RecordRef.of(r) for r in shown], total=len(records),
                   truncated=len(records) > limit, as_of=max(dated) if dated else None,
                   warnings=list(warnings or []))

    @classmethod
    def of_reply(cls, reply: Reply, records: dict[str, Record]) -> ToolResult:
        """The coach's Reply as a tool result: its text, citations and verdict, and the cited records."""
        cited = [records[c.record_id] for c in reply.citations if c.record_id in records]
        return cls(text=reply.text, records=[RecordRef.of(r) for r in cited], total=len(cited),
                   as_of=reply.as_of, citations=reply.citations, blocked=reply.blocked,
                   category=reply.category, action=reply.action, warnings=list(reply.warnings))
