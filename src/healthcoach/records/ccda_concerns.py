"""C-CDA allergy and problem observations, read from inside their concern acts (allergy concern, problem
concern, admission and discharge diagnoses): the allergen or problem, its dates, status and reactions."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from healthcoach.records import ccda_types as ct
from healthcoach.records.ccda_context import SectionContext, Skip, negated, related_values, status_code
from healthcoach.records.ccda_types import q
from healthcoach.records.fhir_map import PREGNANCY_SNOMED, PREGNANCY_WORDS
from healthcoach.records.models import Category, Record

# Allergy observation values that only say "an allergy" (the allergen then names it).
GENERIC_ALLERGY = {"419199007", "416098002", "414285001", "420134006", "418038007", "419511003", "418471000",
                   "235719002", "59037007", "426232007", "232347008"}
CONCERN_STATUS = {"active": "active", "completed": "resolved", "suspended": "inactive", "aborted": "inactive"}


def map_allergy(obs: Element, act: Element | None, ctx: SectionContext, kind: str, pos: str) -> Record:
    """An allergy: the allergen (participant CSM), the kind of reaction, status, reactions, severity."""
    if negated(obs):
        raise Skip("allergy: states an allergy is absent (e.g. no known allergies)")
    allergen = ct.concept(obs.find(q("participant/participantRole/playingEntity/code")), ctx.refs)
    if not allergen.label:
        allergen = ct.concept(None, {}) if obs.find(q("participant")) is None else allergen
        name = obs.find(q("participant/participantRole/playingEntity/name"))
        allergen = ct.Concept(allergen.codes, ct.attr_text(name, ctx.refs), allergen.null)
    kind_of = ct.concept(obs.find(q("value")), ctx.refs)
    generic = not kind_of.codes or any(c.code in GENERIC_ALLERGY for c in kind_of.codes)
    label = (f"Allergy to {allergen.label}" if allergen.label else kind_of.label) if generic else kind_of.label
    codes = (() if generic else ct.clinical_codes(kind_of)) + ct.clinical_codes(allergen)
    statuses = related_values(obs, ctx, {"2.16.840.1.113883.10.20.22.4.28"})
    status = statuses[0].lower() if statuses else CONCERN_STATUS.get(status_code(act) or "") if act is not None else None
    start = ct.effective(obs.find(q("effectiveTime")))
    if start[0] is None and act is not None:
        start = ct.effective(act.find(q("effectiveTime")))
    reactions = related_values(obs, ctx, {"2.16.840.1.113883.10.20.22.4.9"})
    severity = [t for r in [*obs.iter(ct.H + "observation"), *(act.iter(ct.H + "observation") if act is not None else [])]
                if "2.16.840.1.113883.10.20.22.4.8" in ct.template_ids(r)
                for t in [ct.value(r.find(q("value")), ctx.refs).text] if t]
    return ctx.record(
        obs, pos, "Allergy", Category.allergy, label, start, codes=codes, status=status,
        details={"reactions": ", ".join(reactions), "severity": severity[0] if severity else None,
                 "criticality": next(iter(related_values(obs, ctx, {"2.16.840.1.113883.10.20.22.4.145"})), None),
                 "allergy_category": kind_of.label if generic else None},
    )


def map_problem(obs: Element, act: Element | None, ctx: SectionContext, kind: str, pos: str) -> Record:
    """A problem or diagnosis: SNOMED/ICD-10 value, onset and resolution dates, status."""
    if negated(obs):
        raise Skip("condition: stated as absent")
    problem = ct.concept(obs.find(q("value")), ctx.refs)
    codes = ct.clinical_codes(problem)
    label = problem.label or ct.attr_text(obs.find(q("text")), ctx.refs)
    pregnancy = any(c.system == "SNOMED" and c.code in PREGNANCY_SNOMED for c in codes) or any(
        c.system == "ICD-10" and c.code.upper().startswith("O") for c in codes) or bool(label and PREGNANCY_WORDS.search(label))
    start, end, bad = ct.effective(obs.find(q("effectiveTime")))
    statuses = related_values(obs, ctx, {"2.16.840.1.113883.10.20.22.4.6"})
    status = statuses[0].lower() if statuses else "resolved" if end else (
        CONCERN_STATUS.get(status_code(act) or "") if act is not None else None)
    return ctx.record(
        obs, pos, "Problem", Category.pregnancy if pregnancy else Category.condition, label, (start, end, bad),
        codes=codes, status=status,
        details={"section": ctx.title, "type": ct.concept(obs.find(q("code")), ctx.refs).label},
    )
