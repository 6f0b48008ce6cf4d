"""C-CDA entries → Records: which units each section kind counts, and one mapper per kind of unit.

A unit is what becomes one record (or one counted skip): results and vital signs count each observation
of an organizer; allergies and problems each observation inside a concern act; medications each
substanceAdministration (also inside a discharge-medication act); the other kinds count each entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from xml.etree.ElementTree import Element

from healthcoach.records import bp
from healthcoach.records import ccda_types as ct
from healthcoach.records.base import AdapterResult
from healthcoach.records.ccda_concerns import map_allergy, map_problem
from healthcoach.records.ccda_context import SectionContext, Skip, display_name, negated, status_code
from healthcoach.records.ccda_plan import map_note, map_plan
from healthcoach.records.ccda_types import q
from healthcoach.records.fhir_map import PREGNANCY_LOINC
from healthcoach.records.models import Category, Record

_S = "2.16.840.1.113883.10.20.22.2."
SECTION_KINDS: dict[str, str] = {
    **{_S + s: "results" for s in ("3", "3.1")},
    **{_S + s: "vitals" for s in ("4", "4.1")},
    **{_S + s: "medications" for s in ("1", "1.1", "11", "11.1", "44", "38")},
    **{_S + s: "immunizations" for s in ("2", "2.1")},
    **{_S + s: "allergies" for s in ("6", "6.1")},
    **{_S + s: "problems" for s in ("5", "5.1", "20", "24", "43")},
    **{_S + s: "procedures" for s in ("7", "7.1")},
    **{_S + s: "encounters" for s in ("22", "22.1")},
    _S + "17": "social",
    **{_S + s: "plan" for s in ("10", "58", "60", "61")},
    "2.16.840.1.113883.10.20.21.2.3": "plan",  # interventions
    _S + "65": "notes",
}
CATEGORY = {"results": Category.lab, "vitals": Category.vital, "medications": Category.medication,
            "immunizations": Category.immunization, "allergies": Category.allergy, "problems": Category.condition,
            "procedures": Category.procedure, "encounters": Category.encounter,
            "social": Category.social_history, "plan": Category.document, "notes": Category.document}
RESOURCE = {"results": "Result", "vitals": "Vital sign", "medications": "Medication", "immunizations": "Immunization",
            "allergies": "Allergy", "problems": "Problem", "procedures": "Procedure", "encounters": "Encounter",
            "social": "Social history", "plan": "Plan of care", "notes": "Note"}
UNIT_PATHS = {
    "results": ("organizer/component/observation", "observation"),
    "vitals": ("organizer/component/observation", "observation"),
    "medications": ("substanceAdministration", "act/entryRelationship/substanceAdministration"),
    "immunizations": ("substanceAdministration",),
    "allergies": ("act/entryRelationship/observation", "observation"),
    "problems": ("act/entryRelationship/observation", "observation"),
    "procedures": ("procedure", "observation", "act"),
    "encounters": ("encounter",),
    "social": ("observation",),
    "plan": ("*",),
    "notes": ("act",),
}
# Inside a concern act, the observations that are units; others (severity, status) only describe them.
UNIT_TEMPLATES = {"allergies": {"2.16.840.1.113883.10.20.22.4.7"}, "problems": {"2.16.840.1.113883.10.20.22.4.4"}}
PREGNANCY_TEMPLATE = "2.16.840.1.113883.10.20.15.3.8"
MED_STATUS = {"aborted": "stopped", "suspended": "on-hold", "cancelled": "cancelled", "nullified": "entered-in-error"}


def units(kind: str, entries: list[Element]) -> Iterator[tuple[str, Element, Element | None]]:
    """(position, unit, its container: organizer or act) for every countable unit of a section's entries."""
    for e_i, entry in enumerate(entries):
        u_i = 0
        for path in UNIT_PATHS[kind]:
            for found in entry.findall(q(path) if path != "*" else "*"):
                container = None
                if "/" in path:
                    container = entry.find(q(path.split("/")[0]))
                    roots = ct.template_ids(found)
                    if kind in UNIT_TEMPLATES and roots and not roots & UNIT_TEMPLATES[kind]:
                        continue  # a severity or status observation hung on the concern: it describes the unit
                yield f"e{e_i}u{u_i}", found, container
                u_i += 1


def map_section_entries(kind: str, entries: list[Element], ctx: SectionContext, result: AdapterResult) -> None:
    """Map every unit of a section; each becomes one record or one skip counted under its category."""
    mapper = MAPPERS[kind]
    vitals: list[tuple[Element | None, Record]] = []
    found_any = False
    for position, elem, container in units(kind, entries):
        found_any = True
        result.resources_seen[RESOURCE[kind]] += 1
        try:
            rec = mapper(elem, container, ctx, kind, f"s{ctx.index}{position}")
        except Skip as exc:
            result.skip(str(exc))
            continue
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            result.skip(f"{CATEGORY[kind]}: essential fields unreadable")
            if len(result.warnings) < 20:
                result.warnings.append(f"{ctx.file}: {ctx.title} entry skipped ({type(exc).__name__})")
            continue
        if kind == "vitals":
            vitals.append((container, rec))
        else:
            result.records.append(rec)
    if not found_any:
        result.skip(f"{ctx.title} section: entries of a kind not imported", len(entries))
    if vitals:
        result.records.extend(fold_blood_pressure(vitals, result))
    if ctx.bad_dates:
        result.warnings.append(f"{ctx.file}: {ctx.bad_dates} unreadable date(s) in the {ctx.title} section; "
                               "those entries are kept without that date")


def fold_blood_pressure(vitals: list[tuple[Element | None, Record]], result: AdapterResult) -> list[Record]:
    """Systolic and diastolic observations of one organizer become one blood-pressure record (as in FHIR)."""
    groups: dict[int, dict[str, Record]] = {}
    for container, rec in vitals:
        which = bp.part(rec)
        if container is not None and which:
            groups.setdefault(id(container), {}).setdefault(which, rec)
    pairs = [g for g in groups.values() if len(g) == 2]
    diastolic = {g["diastolic"].id for g in pairs}
    systolic = {g["systolic"].id: g for g in pairs}
    out: list[Record] = []
    for _, rec in vitals:
        if rec.id in diastolic:
            result.skip("vital: diastolic blood pressure folded into its blood-pressure record")
        elif rec.id in systolic:
            out.append(bp.fold(rec, systolic[rec.id]["diastolic"]))
        else:
            out.append(rec)
    return out


def map_observation(obs: Element, container: Element | None, ctx: SectionContext, kind: str, pos: str) -> Record:
    """A result, vital-sign or social-history observation: code, PQ/CD/ST value, range, interpretation."""
    category = CATEGORY[kind]
    code = ct.concept(obs.find(q("code")), ctx.refs)
    codes = ct.clinical_codes(code)
    if PREGNANCY_TEMPLATE in ct.template_ids(obs) or any(c.code in PREGNANCY_LOINC for c in codes):
        category = Category.pregnancy
    val = ct.value(obs.find(q("value")), ctx.refs)
    if val.quantity is None and not val.text:
        v_elem = obs.find(q("value"))
        flavor = (v_elem if v_elem is not None else obs).get("nullFlavor")
        raise Skip(f"{category}: no value given" + (f" (nullFlavor {flavor})" if flavor else ""))
    when = ct.effective(obs.find(q("effectiveTime")))
    if when[0] is None and container is not None:
        when = ct.effective(container.find(q("effectiveTime")))
    interp = obs.find(q("interpretationCode"))
    panel = ct.concept(container.find(q("code")), ctx.refs).label if container is not None else None
    return ctx.record(
        obs, pos, RESOURCE[kind], category, code.label, when, codes=codes, value=val.quantity, text=val.text,
        reference_range=ct.reference_range(obs), status=status_code(obs),
        interpretation=(interp.get("displayName") or interp.get("code")) if interp is not None else None,
        details={"panel": panel if kind == "results" else None,
                 "value_code": val.code.key if val.code else None},
    )


def map_medication(sa: Element, container: Element | None, ctx: SectionContext, kind: str, pos: str) -> Record:
    """A medication (substanceAdministration): RxNorm drug, dates, status, the sig text."""
    material = sa.find(q("consumable/manufacturedProduct/manufacturedMaterial"))
    drug = ct.concept(material.find(q("code")) if material is not None else None, ctx.refs)
    name = ct.attr_text(material.find(q("name")), ctx.refs) if material is not None else None
    stated = status_code(sa) or ""
    status = "not-taken" if negated(sa) else MED_STATUS.get(stated, stated) or None
    reason = next((v.text for rel in sa.findall(q("entryRelationship/observation"))
                   if (v := ct.value(rel.find(q("value")), ctx.refs)).text and
                   "2.16.840.1.113883.10.20.22.4.19" in ct.template_ids(rel)), None)
    return ctx.record(
        sa, pos, RESOURCE[kind], Category.medication, drug.label or name, ct.effective_times(sa), codes=ct.clinical_codes(drug),
        status=status, text=ct.attr_text(sa.find(q("text")), ctx.refs) or _sig(sa),
        details={"kind": "intended" if sa.get("moodCode") == "INT" else "taken", "reason": reason,
                 "section": ctx.title},
    )


def _sig(sa: Element) -> str | None:
    dose = ct.quantity(sa.find(q("doseQuantity")))
    unit = sa.find(q("administrationUnitCode"))
    route = sa.find(q("routeCode"))
    period = sa.find(q("effectiveTime/period"))
    parts = [
        " ".join(p for p in (dose.display() if dose else "", unit.get("displayName", "") if unit is not None else "")
                 if p),
        (route.get("displayName") or "").replace(" Route of Administration", "").lower() if route is not None else "",
        f"every {period.get('value')} {period.get('unit', '')}".strip() if period is not None and period.get("value")
        else "",
    ]
    return ", ".join(p for p in parts if p) or None


def map_immunization(sa: Element, container: Element | None, ctx: SectionContext, kind: str, pos: str) -> Record:
    """A vaccine (CVX) given, or not given (negationInd)."""
    material = sa.find(q("consumable/manufacturedProduct/manufacturedMaterial"))
    vaccine = ct.concept(material.find(q("code")) if material is not None else None, ctx.refs)
    lot = material.find(q("lotNumberText")) if material is not None else None
    status = "not-done" if negated(sa) else (status_code(sa) or "completed")
    return ctx.record(
        sa, pos, RESOURCE[kind], Category.immunization, vaccine.label, ct.effective_times(sa),
        codes=ct.clinical_codes(vaccine), status=status,
        details={"lot": ct.attr_text(lot, {}), "route": display_name(sa.find(q("routeCode")))},
    )


def map_procedure(proc: Element, container: Element | None, ctx: SectionContext, kind: str, pos: str) -> Record:
    """A procedure (procedure, observation or act entry)."""
    if negated(proc):
        raise Skip("procedure: stated as not done")
    code = ct.concept(proc.find(q("code")), ctx.refs)
    status = status_code(proc)
    status = {"active": "in-progress", "aborted": "stopped", "cancelled": "not-done"}.get(status or "", status)
    if proc.get("moodCode", "EVN") != "EVN":
        status = "planned"
    site = proc.find(q("targetSiteCode"))
    return ctx.record(
        proc, pos, RESOURCE[kind], Category.procedure, code.label, ct.effective(proc.find(q("effectiveTime"))),
        codes=ct.clinical_codes(code), status=status,
        details={"site": site.get("displayName") if site is not None else None},
    )


def map_encounter(enc: Element, container: Element | None, ctx: SectionContext, kind: str, pos: str) -> Record:
    """A visit: type, dates, place, reason."""
    code = ct.concept(enc.find(q("code")), ctx.refs)
    klass = next((c.code for c in code.codes if c.system == "urn:oid:2.16.840.1.113883.5.4"), None)
    place = enc.find(q("participant/participantRole/playingEntity/name"))
    org = enc.find(q("performer/assignedEntity/representedOrganization/name"))
    reason = next((v.text for rel in enc.findall(q("entryRelationship/observation"))
                   if (v := ct.value(rel.find(q("value")), ctx.refs)).text), None)
    return ctx.record(
        enc, pos, RESOURCE[kind], Category.encounter, code.label or "Visit", ct.effective(enc.find(q("effectiveTime"))),
        codes=tuple(c for c in ct.clinical_codes(code)), status="finished" if enc.get("moodCode", "EVN") == "EVN"
        else "planned",
        details={"class": klass, "reason": reason, "provider": ct.attr_text(org, {}) or ct.attr_text(place, {})},
    )


Mapper = Callable[[Element, "Element | None", SectionContext, str, str], Record]
MAPPERS: dict[str, Mapper] = {
    "results": map_observation, "vitals": map_observation, "social": map_observation,
    "medications": map_medication, "immunizations": map_immunization, "allergies": map_allergy,
    "problems": map_problem, "procedures": map_procedure, "encounters": map_encounter,
    "plan": map_plan, "notes": map_note,
}
