"""CarePlan and Goal → Records (category care_plan): what the care team planned and aimed for, with its
status and dates. Kept beside records/fhir.py, whose MAPPERS registry points here."""

from __future__ import annotations

from typing import Any

from healthcoach.records import fhir as _fhir
from healthcoach.records import fhir_types as ft
from healthcoach.records.models import Category, Record

Json = dict[str, Any]
# Category codes that name the kind of document, not the plan ("assess-plan", "Care plan (record artifact)").
_GENERIC = {"assess-plan", "734163000"}


def map_care_plan(res: Json, ctx: Any) -> Record:
    """A CarePlan: labelled by its most specific category (else its title), with its activities."""
    cats = [c for cat in res.get("category") or [] for c in ft.codes(cat) if c.code not in _GENERIC and c.display]
    label = cats[-1].display if cats else res.get("title") or res.get("description")
    activities = [ft.label((a.get("detail") or {}).get("code")) for a in res.get("activity") or [] if isinstance(a, dict)]
    addresses = [ctx.resolve(ft.ref(a)) for a in res.get("addresses") or []]
    reason = next((ft.label(r.get("code")) for r in addresses if isinstance(r, dict)), None)
    period = res.get("period") or {}
    start, end = period.get("start"), period.get("end")
    return _fhir._base(
        res, ctx, Category.care_plan, label, start, end, codes=tuple(cats), status=res.get("status"),
        text="; ".join(dict.fromkeys(a for a in activities if a)) or None,
        details={"kind": "CarePlan", "reason": reason},
    )


def map_goal(res: Json, ctx: Any) -> Record:
    """A Goal: its description, lifecycle status and start date; achievement when stated."""
    achievement = ft.label(res.get("achievementStatus"))
    return _fhir._base(
        res, ctx, Category.care_plan, ft.label(res.get("description")), res.get("startDate") or res.get("statusDate"),
        codes=ft.codes(res.get("description")), status=res.get("lifecycleStatus"),
        details={"kind": "Goal", "achievement": achievement},
    )
