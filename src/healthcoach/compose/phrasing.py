"""Small wording helpers every template shares: plurals, names in a sentence, where a record came
from, values with units as people read them. They exist so no answer says "visits was", "Triglycerides
was" or "from entered by you"."""

from __future__ import annotations

import re
from collections.abc import Sequence

from healthcoach.compose.citations import Citer, fmt_date, fmt_when
from healthcoach.compose.safe_text import shown_text
from healthcoach.records.models import Category, Record
from healthcoach.records.units import Converted, display_value

# What one record of a category is called when counting ("7 A1c tests", "3 flu shots").
COUNT_NOUNS: dict[Category, tuple[str, str]] = {
    Category.lab: ("test", "tests"),
    Category.vital: ("reading", "readings"),
    Category.immunization: ("dose", "doses"),
    Category.procedure: ("procedure", "procedures"),
    Category.encounter: ("visit", "visits"),
    Category.social_history: ("record", "records"),
    Category.condition: ("condition", "conditions"),
    Category.allergy: ("allergy", "allergies"),
    Category.medication: ("medication", "medications"),
    Category.pregnancy: ("record", "records"),
    Category.document: ("note", "notes"),
    Category.wearable: ("day", "days"),
    Category.care_plan: ("plan or goal", "plans and goals"),
}
_WORDS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


_SEMANTIC_TAG = re.compile(r"\s*\((?:procedure|finding|disorder|regime/therapy|situation|record artifact|environment|"
                           r"observable entity|qualifier value|person|event|morphologic abnormality)\)\s*$")


def display_label(label: str) -> str:
    """A record label without its SNOMED semantic tag: 'General examination of patient (procedure)' →
    'General examination of patient'."""
    return _SEMANTIC_TAG.sub("", label) or label


def plural(n: int, one: str, many: str) -> str:
    """'1 visit', '3 visits'."""
    return f"{n} {one if n == 1 else many}"


def count_noun(category: Category | None, n: int) -> str:
    """The noun for n records of a category ('test' or 'tests')."""
    one, many = COUNT_NOUNS.get(category or Category.lab, ("record", "records"))
    return one if n == 1 else many


def is_plural_name(name: str) -> bool:
    """Whether a test name is grammatically plural ('Triglycerides', 'Platelets'), for 'was'/'were'."""
    last = name.split("(")[0].strip().split()[-1].lower() if name.strip() else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is", "sis"))


def was(name: str) -> str:
    """'was' or 'were' for a name."""
    return "were" if is_plural_name(name) else "was"


def from_source(rec: Record) -> str:
    """'from Riverside Family Medicine (FHIR export)', 'from 2 sources: ...' or 'entered by you'."""
    if rec.source.kind == "manual" and len(rec.all_sources()) == 1:
        return "entered by you"
    return f"from {rec.source_display()}"


def when(rec: Record) -> str:
    """'March 22, 2025' (or 'March 2025' for a date known only to the month)."""
    return fmt_when(rec)


def value_of(rec: Record, conversions: dict[str, Converted] | None = None) -> str:
    """A record's value as people read it; with a conversion: '154.3 lb (70 kg as recorded)'."""
    shown = _said(rec) or "recorded"
    conv = (conversions or {}).get(rec.id)
    return f"{conv.text} ({shown} as recorded)" if conv else shown


def cites(records: Sequence[Record], cite: Citer, limit: int = 12) -> str:
    """'[1][2][3]' for up to `limit` records."""
    return "".join(cite(r) for r in records[:limit])


def bullets(lines: Sequence[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


def small(n: int) -> str:
    """Small counts in words ('two'), so they are never mistaken for a measured value."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def visit_line(rec: Record, cite: Citer) -> str:
    """'October 8, 2026: General examination of patient, at Riverside Family Medicine [1]'."""
    where = rec.details.get("provider") or rec.source.organization
    label = display_label(rec.label)
    line = f"{when(rec)}: {label}"
    if rec.end is not None and rec.date is not None and rec.end.date() > rec.date:
        line = f"{when(rec)} to {fmt_date(rec.end.date())}: {label}"
    reason = rec.details.get("reason")
    return line + (f" for {display_label(reason)}" if reason else "") + (f", at {where}" if where else "") + \
        f" {cite(rec)}"


def status_phrase(rec: Record) -> str:
    """'active since September 26, 2023', 'resolved (recorded June 1, 2020)'."""
    status = (rec.status or "recorded").lower()
    if rec.end is not None:
        return f"{status}, from {when(rec)} to {fmt_date(rec.end.date())}"
    if status in ("active", "recurrence", "relapse"):
        return f"{status} since {when(rec)}"
    return f"{status}, recorded {when(rec)}"


def item_line(rec: Record, cite: Citer) -> str:
    """One condition, allergy, medication, vaccine or procedure as a list line."""
    if rec.category is Category.encounter:
        return visit_line(rec, cite)
    if rec.category in (Category.condition, Category.allergy, Category.pregnancy, Category.care_plan):
        extra = f"; reaction: {rec.details['reactions']}" if rec.details.get("reactions") else ""
        if rec.category is Category.care_plan and rec.details.get("reason"):
            extra = f"; for {display_label(rec.details['reason'])}"
        return f"{display_label(rec.label)} ({status_phrase(rec)}{extra}) {cite(rec)}"
    if rec.category is Category.medication:
        verb = {"MedicationRequest": "prescribed", "MedicationStatement": "reported",
                "MedicationAdministration": "given"}.get(rec.details.get("kind", ""), "recorded")
        return f"{rec.label} ({rec.status or 'status not stated'}), {verb} {when(rec)} {cite(rec)}"
    if rec.category in (Category.immunization, Category.procedure):
        return f"{display_label(rec.label)}, {when(rec)} {cite(rec)}"
    return f"{when(rec)}: {display_label(rec.label)} {_said(rec)}".rstrip() + f" {cite(rec)}"


def _said(rec: Record) -> str:
    """The value in readable units; a text value as the record's words (a marked quote when it reads like an
    instruction: record text is data, never the coach's own words)."""
    if rec.value is not None or rec.components:
        return display_value(rec)
    return shown_text(rec.text) if rec.text else ""
