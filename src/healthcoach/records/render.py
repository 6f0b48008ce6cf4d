"""Records as people read them: one sentence per record, the code a series groups by, still current or not.

Shared by the chunker, the retriever, the composer and the coach, so it lives beside the records."""

from __future__ import annotations

from healthcoach.records.models import Category, Record

PRIMARY_SYSTEMS = ("LOINC", "CVX", "RxNorm", "SNOMED", "ICD-10", "healthcoach", "OMOP")
ACTIVE = {"active", "recurrence", "relapse", "on-hold", "intended"}


def describe(rec: Record) -> str:
    """One record as a sentence: date, label, value, status, source."""
    when = rec.date.isoformat() if rec.date else "an unknown date"
    kind = {
        Category.lab: "lab result",
        Category.vital: "vital sign",
        Category.immunization: "vaccine",
        Category.medication: "medication",
        Category.allergy: "allergy",
        Category.condition: "condition",
        Category.pregnancy: "pregnancy record",
        Category.procedure: "procedure",
        Category.encounter: "visit",
        Category.social_history: "social history",
        Category.document: "clinical note",
        Category.wearable: "wearable summary",
        Category.care_plan: "care plan or goal",
    }[rec.category]
    value = rec.value_display()
    head = f"{when}: {rec.label}"
    if value and rec.category not in (Category.document, Category.medication):
        head += f" was {value}"
    parts = [f"{head} ({kind}"]
    if rec.status:
        parts.append(f", status {rec.status}")
    parts.append(")")
    text = "".join(parts)
    if rec.category is Category.medication and rec.text:
        text += f". Instructions: {rec.text}"
    if rec.reference_range and rec.reference_range.display():
        text += f". Reference range {rec.reference_range.display()}"
    if rec.interpretation:
        text += f". Flagged {rec.interpretation}"
    for key in ("reason", "reactions", "criticality", "provider"):
        if rec.details.get(key):
            text += f". {key.capitalize()}: {rec.details[key]}"
    return f"{text}. Source: {rec.source_display()}."


def free_texts(rec: Record) -> list[str]:
    """Every piece of free text a record carries from its source (label, note or value text, details,
    component and range texts): what may hold words written by anyone, including instructions."""
    texts = [rec.label, rec.text or "", rec.interpretation or "", *rec.details.values()]
    texts += [c.text or "" for c in rec.components] + [c.label for c in rec.components]
    if rec.reference_range and rec.reference_range.text:
        texts.append(rec.reference_range.text)
    return [t for t in texts if t]


def primary_code(rec: Record) -> str | None:
    """The code a series groups by: the first code of the most specific system present."""
    for system in PRIMARY_SYSTEMS:
        for c in rec.codes:
            if c.system == system:
                return c.key
    return None


def is_active(rec: Record) -> bool:
    """Still current as the source states it (conditions, allergies, medications)."""
    active = (rec.status or "").lower() in ACTIVE
    if rec.category is Category.condition:
        return active and rec.end is None  # an abatement date ends a condition whatever its status
    return active


def in_sentence(name: str) -> str:
    """A display name inside a sentence: 'Blood pressure' → 'blood pressure', 'LDL cholesterol' unchanged."""
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name
