"""C-CDA plan-of-care items (plan of treatment, health concerns, goals, interventions, outcomes) and notes.

Plan items are kept as notes (document records) named for what they are ('Planned: Colonoscopy',
'Goal: Weight loss (>= 10 %)'). Their codes go to details, not to `codes`: a planned HbA1c test must never
be read back as an HbA1c result.
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from healthcoach.records import ccda_types as ct
from healthcoach.records.ccda_context import SectionContext, Skip
from healthcoach.records.ccda_types import q
from healthcoach.records.models import Category, Record

_S = "2.16.840.1.113883.10.20.22.2."
PREFIX = {_S + "58": "Health concern", _S + "60": "Goal", _S + "61": "Outcome",
          "2.16.840.1.113883.10.20.21.2.3": "Intervention"}
PLANNED_MOODS = {"INT", "RQO", "PRMS", "PRP", "ARQ", "APT"}
# Codes that only say what kind of act this is; the related entries then say what it is about.
GENERIC = {"75310-3", "362956003", "281694009", "ASSERTION"}
NOT_CONTENT = {"2.16.840.1.113883.10.20.22.4.143", "2.16.840.1.113883.10.20.22.4.122"}  # priority, entry ref


def _related(elem: Element, ctx: SectionContext) -> list[str]:
    out: list[str] = []
    for rel in elem.findall(q("entryRelationship")):
        for child in rel:
            if ct.template_ids(child) & NOT_CONTENT:
                continue
            val = ct.value(child.find(q("value")), ctx.refs)
            label = val.text if val.text and ct.local(child) == "observation" else None
            label = label or ct.concept(child.find(q("code")), ctx.refs).label
            if label and label not in out:
                out.append(label)
    return out


def _status(elem: Element) -> str | None:
    sc = elem.find(q("statusCode"))
    return sc.get("code") if sc is not None else None


def map_plan(elem: Element, container: Element | None, ctx: SectionContext, kind: str, pos: str) -> Record:
    """One plan-of-care entry as a note: 'Planned: Colonoscopy', 'Health concern: Pneumonia; Cough'."""
    code = ct.concept(elem.find(q("code")), ctx.refs)
    mood = elem.get("moodCode", "EVN")
    prefix = next((PREFIX[r] for r in ctx.section_roots if r in PREFIX), None)
    if prefix is None:
        prefix = "Goal" if mood == "GOL" else "Planned" if mood in PLANNED_MOODS else "Care plan"
    generic = not code.codes or any(c.code in GENERIC for c in code.codes)
    what = "; ".join(_related(elem, ctx)) if generic else code.label
    what = what or code.label
    val = ct.value(elem.find(q("value")), ctx.refs)
    if what and val.text and not generic:
        what = f"{what} ({val.text})"
    elif what and val.quantity and not generic:
        what = f"{what} ({val.quantity.display()})"
    if not what:
        raise Skip("document: a plan-of-care entry with no code or text")
    label = f"{prefix}: {what}"
    return ctx.record(
        elem, pos, "Plan of care", Category.document, label, ct.effective(elem.find(q("effectiveTime"))),
        text=ct.attr_text(elem.find(q("text")), ctx.refs) or label,
        status="planned" if mood in PLANNED_MOODS else _status(elem),
        details={"kind": "plan of care", "section": ctx.title,
                 "code": " ".join(c.key for c in ct.clinical_codes(code)) or None},
    )


def map_note(act: Element, container: Element | None, ctx: SectionContext, kind: str, pos: str) -> Record:
    """A Note Activity: its type (LOINC), text and date."""
    code = ct.concept(act.find(q("code")), ctx.refs)
    text = ct.attr_text(act.find(q("text")), ctx.refs)
    if not text:
        raise Skip("document: a note with no text")
    when = ct.effective(act.find(q("effectiveTime")))
    if when[0] is None:
        author_time = act.find(q("author/time"))
        when = (ct.parse_ts(author_time.get("value")) if author_time is not None else None), None, False
    return ctx.record(act, pos, "Note", Category.document, code.label or ctx.title, when,
                      codes=ct.clinical_codes(code), text=text, status=_status(act),
                      details={"section": ctx.title})
