"""FHIR R4 resources → Records, one mapper per resource type (the parsing and counting is in records.fhir).

A mapper returns exactly one record or raises Skip with the reason that is counted."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from healthcoach.records import fhir_types as ft
from healthcoach.records.models import Category, Record, Source, record_id

Json = dict[str, Any]

OBS_CATEGORY = {
    "vital-signs": Category.vital,
    "laboratory": Category.lab,
    "social-history": Category.social_history,
    "survey": Category.social_history,
}
# Pregnancy-related conditions: SNOMED concepts Synthea and EHRs use, ICD-10 chapter O, and wording.
PREGNANCY_SNOMED = {"72892002", "47200007", "79586000", "169826009", "77386006", "15938005", "19169002",
                    "156073000", "398254007", "198992004", "199006004", "36813001", "82661006"}
PREGNANCY_WORDS = re.compile(
    r"pregnan|miscarriage|eclampsia|gestation|antepartum|postpartum|fetus|fetal|preterm labor|"
    r"tubal|ectopic|abortion|childbirth|delivery \(procedure\)",
    re.I,
)
PREGNANCY_LOINC = {"82810-3", "11449-6", "11778-8", "49051-6"}


class Skip(Exception):
    """A resource that cannot become a record; the message is the counted reason."""


@dataclass
class Context:
    """What the mappers of one ingest share: the user, the file, and every resource by reference."""

    user_id: str
    file: str
    index: dict[str, Json] = field(default_factory=dict)  # "Type/id", "urn:uuid:id", fullUrl → resource
    org_of_encounter: dict[str, str] = field(default_factory=dict)

    def resolve(self, reference: str | None) -> Json | None:
        if not reference:
            return None
        return self.index.get(reference) or self.index.get(reference.split("/_history")[0])

    def rid(self, resource_type: str, resource_id: str) -> str:
        return record_id(self.user_id, "fhir", resource_type, resource_id)


def org_name(ctx: Context, reference: Any) -> str | None:
    org = ctx.resolve(ft.ref(reference))
    return str(org["name"]) if org and org.get("name") else None


def _source(res: Json, ctx: Context) -> Source:
    org = ctx.org_of_encounter.get(ft.ref(res.get("encounter") or res.get("context")) or "")
    if not org:
        for key in ("performer", "location", "custodian", "requester", "recorder"):
            val = res.get(key)
            val = val[0] if isinstance(val, list) and val else val
            val = val.get("actor", val) if isinstance(val, dict) else val
            typed_org = isinstance(val, dict) and val.get("type") == "Organization"
            org = ft.ref_display(val) if key in ("location", "custodian") or typed_org else None
            if org:
                break
    return Source(
        kind="fhir", organization=org, file=ctx.file, resource_type=res["resourceType"], resource_id=_res_id(res)
    )


def _res_id(res: Json) -> str:
    if res.get("id"):
        return str(res["id"])
    return "sha-" + hashlib.sha256(json.dumps(res, sort_keys=True).encode()).hexdigest()[:20]


def _base(res: Json, ctx: Context, category: Category, label: str | None, start_raw: Any, end_raw: Any = None,
          **kw: Any) -> Record:
    if not label:
        raise Skip("no code or text to say what it is")
    if kw.get("status") is not None:
        kw["status"] = str(kw["status"])
    if ft.out_of_range(start_raw):
        raise Skip(f"date out of range (before {ft.MIN_YEAR} or after {ft.MAX_YEAR})")
    start = ft.parse_datetime(start_raw)
    end = ft.parse_datetime(end_raw)  # an end of 9999-12-31 (a common "no end") reads as open
    details = {k: str(v) for k, v in (kw.pop("details", None) or {}).items() if v not in (None, "", [])}
    if start and start[2] not in ("time", "day"):
        details["date_precision"] = start[2]
    return Record(
        id=ctx.rid(res["resourceType"], _res_id(res)),
        user_id=ctx.user_id,
        category=category,
        label=label,
        start=start[0] if start else None,
        end=end[0] if end else None,
        date=start[1] if start else None,
        details=details,
        source=_source(res, ctx),
        **kw,
    )


def _status(concept: Any) -> str | None:
    if isinstance(concept, str):
        return concept
    c = ft.codes(concept)
    return c[0].code if c else ft.label(concept)


def map_observation(res: Json, ctx: Context) -> Record:
    cats = {c.code for cat in res.get("category") or [] for c in ft.codes(cat)}
    codes = ft.codes(res.get("code"))
    category = next((OBS_CATEGORY[c] for c in cats if c in OBS_CATEGORY), Category.lab)
    if any(c.code in PREGNANCY_LOINC for c in codes):
        category = Category.pregnancy
    start, end = ft.period_start_end(res, "effective")
    text = ft.label(res.get("valueCodeableConcept")) or res.get("valueString")
    if text is None and res.get("valueBoolean") is not None:
        text = "yes" if res["valueBoolean"] else "no"
    value = ft.quantity(res.get("valueQuantity"))
    if value is None and isinstance(res.get("valueInteger"), int):
        value = ft.quantity({"value": res["valueInteger"]})
    interp = ft.first_label(res.get("interpretation"))
    return _base(
        res, ctx, category, ft.label(res.get("code")), start or res.get("issued"), end,
        codes=codes, value=value, text=str(text) if text is not None else None,
        components=ft.components(res), reference_range=ft.reference_range(res), interpretation=interp,
        status=res.get("status"),
        details={"date_basis": None if start else "issued"},
    )


def map_condition(res: Json, ctx: Context) -> Record:
    codes = ft.codes(res.get("code"))
    label = ft.label(res.get("code"))
    pregnancy = any(c.code in PREGNANCY_SNOMED for c in codes if c.system == "SNOMED") or any(
        c.system == "ICD-10" and c.code.upper().startswith("O") for c in codes
    ) or bool(label and PREGNANCY_WORDS.search(label))
    start, _ = ft.period_start_end(res, "onset")
    end, _ = ft.period_start_end(res, "abatement")
    return _base(
        res, ctx, Category.pregnancy if pregnancy else Category.condition, label,
        start or res.get("recordedDate"), end, codes=codes, status=_status(res.get("clinicalStatus")),
        details={"verification": _status(res.get("verificationStatus")), "recorded": res.get("recordedDate")},
    )


def map_medication(res: Json, ctx: Context) -> Record:
    concept = res.get("medicationCodeableConcept")
    if concept is None:
        reference = ft.ref(res.get("medicationReference"))
        med = ctx.resolve(reference)
        if med is None:
            if ft.ref_display(res.get("medicationReference")):
                concept = {"text": ft.ref_display(res.get("medicationReference"))}
            else:
                raise Skip("its Medication reference is not in the export")
        else:
            concept = med.get("code")
    rtype = res["resourceType"]
    if rtype == "MedicationRequest":
        start_raw, end_raw = res.get("authoredOn"), None
    else:
        start_raw, end_raw = ft.period_start_end(res, "effective")
    dosage = [d.get("text") for d in (res.get("dosageInstruction") or res.get("dosage") or []) if isinstance(d, dict)]
    if isinstance(res.get("dosage"), dict):
        dosage = [res["dosage"].get("text")]
    reason = ft.first_label(res.get("reasonCode"))
    return _base(
        res, ctx, Category.medication, ft.label(concept), start_raw, end_raw, codes=ft.codes(concept),
        status=res.get("status"), text="; ".join(d for d in dosage if d) or None,
        details={"kind": rtype, "intent": res.get("intent"), "reason": reason},
    )


def map_immunization(res: Json, ctx: Context) -> Record:
    start, _ = ft.period_start_end(res, "occurrence")
    return _base(
        res, ctx, Category.immunization, ft.label(res.get("vaccineCode")), start or res.get("recorded"),
        codes=ft.codes(res.get("vaccineCode")), status=res.get("status"),
        text=res.get("occurrenceString"),
        details={"lot": res.get("lotNumber"), "site": ft.label(res.get("site"))},
    )


def map_allergy(res: Json, ctx: Context) -> Record:
    start, _ = ft.period_start_end(res, "onset")
    reactions = [
        ft.first_label(r.get("manifestation")) for r in res.get("reaction") or [] if isinstance(r, dict)
    ]
    return _base(
        res, ctx, Category.allergy, ft.label(res.get("code")), start or res.get("recordedDate"),
        codes=ft.codes(res.get("code")), status=_status(res.get("clinicalStatus")),
        details={
            "criticality": res.get("criticality"),
            "type": res.get("type"),
            "allergy_category": ", ".join(res.get("category") or []),
            "reactions": ", ".join(r for r in reactions if r),
        },
    )


def map_procedure(res: Json, ctx: Context) -> Record:
    start, end = ft.period_start_end(res, "performed")
    return _base(
        res, ctx, Category.procedure, ft.label(res.get("code")), start, end, codes=ft.codes(res.get("code")),
        status=res.get("status"), details={"reason": ft.first_label(res.get("reasonCode"))},
    )


def map_encounter(res: Json, ctx: Context) -> Record:
    period = res.get("period") or {}
    label = ft.first_label(res.get("type")) or (res.get("class") or {}).get("display")
    klass = res.get("class") or {}
    return _base(
        res, ctx, Category.encounter, label or "Visit", period.get("start"), period.get("end"),
        codes=tuple(c for t in res.get("type") or [] for c in ft.codes(t)), status=res.get("status"),
        details={
            "class": klass.get("code") if isinstance(klass, dict) else None,
            "reason": ft.first_label(res.get("reasonCode")),
            "provider": ctx.org_of_encounter.get(f"Encounter/{res.get('id')}"),
            "clinician": next((ft.ref_display(p.get("individual")) for p in res.get("participant") or []
                               if isinstance(p, dict) and ft.ref_display(p.get("individual"))), None),
        },
    )


def map_report(res: Json, ctx: Context) -> Record:
    start, end = ft.period_start_end(res, "effective")
    related = []
    for r in res.get("result") or []:
        target = ctx.resolve(ft.ref(r))
        if target is not None:
            related.append(ctx.rid("Observation", _res_id(target)))
    texts = [ft.attachment_text(a) for a in res.get("presentedForm") or [] if isinstance(a, dict)]
    note = "\n\n".join(t for t in texts if t) or res.get("conclusion")
    category = Category.lab if related or not note else Category.document
    return _base(
        res, ctx, category, ft.label(res.get("code")), start or res.get("issued"), end,
        codes=ft.codes(res.get("code")), status=res.get("status"), text=note, related=tuple(related),
        details={"kind": "DiagnosticReport"},
    )


def map_document(res: Json, ctx: Context) -> Record:
    context = res.get("context") or {}
    period = context.get("period") or {} if isinstance(context, dict) else {}
    texts = [ft.attachment_text(c.get("attachment") or {}) for c in res.get("content") or [] if isinstance(c, dict)]
    text = "\n\n".join(t for t in texts if t)
    if not text:
        raise Skip("no text attachment to read (binary or external content)")
    return _base(
        res, ctx, Category.document, ft.label(res.get("type")) or res.get("description") or "Clinical note",
        period.get("start") or res.get("date"), None, codes=ft.codes(res.get("type")), status=res.get("status"),
        text=text, details={"author": next((ft.ref_display(a) for a in res.get("author") or []), None)},
    )


# CarePlan category codes that name the kind of document, not the plan ("assess-plan").
_GENERIC_PLAN = {"assess-plan", "734163000"}


def map_care_plan(res: Json, ctx: Context) -> Record:
    """A CarePlan: labelled by its most specific category (else its title), with its activities."""
    cats = [c for cat in res.get("category") or [] for c in ft.codes(cat) if c.code not in _GENERIC_PLAN and c.display]
    label = cats[-1].display if cats else res.get("title") or res.get("description")
    activities = [ft.label((a.get("detail") or {}).get("code")) for a in res.get("activity") or [] if isinstance(a, dict)]
    addressed = [ctx.resolve(ft.ref(a)) for a in res.get("addresses") or []]
    reason = next((ft.label(r.get("code")) for r in addressed if isinstance(r, dict)), None)
    period = res.get("period") or {}
    return _base(
        res, ctx, Category.care_plan, label, period.get("start"), period.get("end"), codes=tuple(cats),
        status=res.get("status"), text="; ".join(dict.fromkeys(a for a in activities if a)) or None,
        details={"kind": "CarePlan", "reason": reason},
    )


def map_goal(res: Json, ctx: Context) -> Record:
    """A Goal: its description, lifecycle status and start date; achievement when stated."""
    return _base(
        res, ctx, Category.care_plan, ft.label(res.get("description")), res.get("startDate") or res.get("statusDate"),
        codes=ft.codes(res.get("description")), status=res.get("lifecycleStatus"),
        details={"kind": "Goal", "achievement": ft.label(res.get("achievementStatus"))},
    )


MAPPERS: dict[str, Callable[[Json, Context], Record]] = {
    "Observation": map_observation,
    "Condition": map_condition,
    "MedicationRequest": map_medication,
    "MedicationStatement": map_medication,
    "MedicationAdministration": map_medication,
    "Immunization": map_immunization,
    "AllergyIntolerance": map_allergy,
    "Procedure": map_procedure,
    "Encounter": map_encounter,
    "DiagnosticReport": map_report,
    "DocumentReference": map_document,
    "CarePlan": map_care_plan,
    "Goal": map_goal,
}
