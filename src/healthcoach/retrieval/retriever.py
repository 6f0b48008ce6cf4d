"""Retriever: structured look-ups in the record store for resolved concepts and categories (complete,
newest first), hybrid search for everything else. Always exactly one user."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from healthcoach.knowledge.catalog import Catalog
from healthcoach.records.models import CATEGORY_TITLES, Category, Record
from healthcoach.records.render import is_active, primary_code
from healthcoach.retrieval.evidence import Evidence, Section
from healthcoach.retrieval.hybrid import HybridSearch, relevant
from healthcoach.retrieval.planner import Intent, Plan
from healthcoach.retrieval.wearable import wearable_evidence
from healthcoach.store.records import RecordStore

NOT_GIVEN = {"not-done", "entered-in-error", "cancelled"}
CONDITION_TYPES = {"Condition", "Problem", "condition_occurrence"}  # FHIR, C-CDA, OMOP
SUMMARY_SECTIONS: list[tuple[Category, str]] = [
    (Category.condition, "Active conditions"),
    (Category.medication, "Active medications"),
    (Category.allergy, "Allergies"),
    (Category.lab, "Recent lab results"),
    (Category.social_history, "Social history"),
    (Category.immunization, "Immunizations"),
    (Category.encounter, "Last visits"),
]


def latest_per_code(records: Iterable[Record]) -> list[Record]:
    """The newest record of each concept (records must be newest first)."""
    seen: dict[str, Record] = {}
    for r in records:
        seen.setdefault(primary_code(r) or r.label.lower(), r)
    return list(seen.values())


def latest_per_label(records: Iterable[Record]) -> list[Record]:
    """The newest record of each distinct label (e.g. one line per medication)."""
    seen: dict[str, Record] = {}
    for r in records:
        seen.setdefault(r.label.lower(), r)
    return list(seen.values())


class Retriever:
    """Finds the evidence for a plan."""

    def __init__(self, store: RecordStore, catalog: Catalog, hybrid: HybridSearch, list_limit: int = 10,
                 top_k: int = 8, social: Callable[[str], bool] | None = None,
                 min_similarity: float = 0.0) -> None:
        """`social` tells a social finding filed as a condition ('Full-time employment (finding)') by its
        label; such findings are shown under social history, never as conditions. Search hits below
        `min_similarity` (cosine, question vs chunk) are not shown: no filler."""
        self.store, self.catalog, self.hybrid = store, catalog, hybrid
        self.list_limit, self.top_k = list_limit, top_k
        self.social = social or (lambda _label: False)
        self.min_similarity = min_similarity

    def retrieve(self, user_id: str, plan: Plan, message: str, today: date) -> Evidence:
        """Evidence for a plan; `message` is used only for hybrid search."""
        handler = {
            Intent.latest_value: self._values,
            Intent.history: self._values,
            Intent.last_event: self._events,
            Intent.list: self._list,
            Intent.category_summary: self._category,
            Intent.record_summary: self._summary,
            Intent.explain_concept: self._values,
            Intent.explain_results: self._results,
            Intent.wellness_guidance: self._related,
            Intent.wearable_summary: self._wearable,
        }.get(plan.intent)
        if handler is None:
            return self._search(user_id, plan, message) if plan.intent is Intent.search else Evidence(plan)
        ev = handler(user_id, plan, today)
        self._context(user_id, ev)
        return ev

    # structured ---------------------------------------------------------------------------------
    def _codes(self, plan: Plan) -> set[str]:
        keys: set[str] = set()
        for cid in plan.concepts:
            concept = self.catalog.get(cid)
            if concept is not None:
                keys |= set(concept.code_keys)
                for comp in concept.components:
                    keys |= set(comp.codes)
        return keys

    def _priority(self, plan: Plan, rec: Record) -> int:
        """Rank of a record's code in the concept's own code order (its preferred codes first)."""
        keys = set(rec.code_keys())
        for cid in plan.concepts:
            concept = self.catalog.get(cid)
            for i, code in enumerate(concept.codes if concept else ()):
                if code in keys:
                    return i
        return 999

    def _query(self, user_id: str, plan: Plan, **kw: object) -> list[Record]:
        w = plan.window
        return self.store.query(user_id, since=w.since if w else None, until=w.until if w else None, **kw)  # type: ignore[arg-type]

    def _values(self, user_id: str, plan: Plan, today: date) -> Evidence:
        codes = self._codes(plan)
        found = self._query(user_id, plan, code_keys=codes) if codes else []
        found.sort(key=lambda r: (-(r.start.timestamp() if r.start else 0.0), self._priority(plan, r), r.id))
        if plan.intent is not Intent.explain_concept:
            found = [r for r in found if (r.status or "") not in NOT_GIVEN]
        names = ", ".join(self.catalog.concepts[c].name for c in plan.concepts if c in self.catalog.concepts)
        return Evidence(plan, records=found, total=len(found), searched=f"{names} results")

    def _events(self, user_id: str, plan: Plan, today: date) -> Evidence:
        codes = self._codes(plan)
        if codes:
            found = self._query(user_id, plan, code_keys=codes)
            what = ", ".join(self.catalog.concepts[c].name for c in plan.concepts)
        else:
            cat = plan.category or Category.encounter
            found = self._query(user_id, plan, categories=[cat])
            what = CATEGORY_TITLES[cat].lower()
        given = [r for r in found if (r.status or "").lower() not in NOT_GIVEN]
        return Evidence(plan, records=given, total=len(given), searched=what, inactive=len(found) - len(given))

    def _list(self, user_id: str, plan: Plan, today: date) -> Evidence:
        cat = plan.category or Category.medication
        cats = [cat, Category.pregnancy] if cat is Category.condition else [cat]
        found = self._query(user_id, plan, categories=cats)
        if cat is Category.pregnancy:
            found = [r for r in found if r.source.resource_type in CONDITION_TYPES] or found
        if plan.terms:
            terms = [t.lower() for t in plan.terms]
            chosen = [r for r in found if any(t in r.label.lower() for t in terms)]
            return Evidence(plan, records=latest_per_label(chosen), total=len(latest_per_label(chosen)),
                            searched=f"medication records for {', '.join(plan.terms)}")
        social: list[Record] = []
        if cat is Category.condition:
            social = [r for r in latest_per_label(found) if r.category is Category.condition and self.social(r.label)]
            found = [r for r in found if r not in social]
        if cat in (Category.medication, Category.condition, Category.allergy, Category.care_plan):
            distinct = latest_per_label(found)
            active = [r for r in distinct if is_active(r)]
            if cat is Category.condition and plan.concepts:
                codes = self._codes(plan)
                active = [r for r in distinct if codes & set(r.code_keys())]
            ev = Evidence(plan, records=active, total=len(active), inactive=len(distinct) - len(active),
                          searched=f"{CATEGORY_TITLES[cat].lower()} records")
            current = [r for r in social if is_active(r)]
            if current and not plan.concepts:  # listed apart: work, school and safety are not conditions
                ev.sections.append(Section("Social history", current, len(current)))
            if cat is Category.allergy:
                ev.snippets = [("", r) for r in distinct if r not in active]
            return ev
        if cat is Category.immunization:
            given = [r for r in found if (r.status or "").lower() not in NOT_GIVEN]
            distinct = latest_per_code(given)
            return Evidence(plan, records=distinct, total=len(distinct), searched="vaccine records")
        return Evidence(plan, records=found, total=len(found), searched=f"{CATEGORY_TITLES[cat].lower()} records")

    def _category(self, user_id: str, plan: Plan, today: date) -> Evidence:
        cat = plan.category or Category.lab
        found = self._query(user_id, plan, categories=[cat])
        latest = latest_per_code(found) if cat in (Category.lab, Category.vital, Category.social_history) else found
        return Evidence(plan, records=latest, total=len(latest), searched=f"{CATEGORY_TITLES[cat].lower()} records")

    def _results(self, user_id: str, plan: Plan, today: date) -> Evidence:
        labs = self._query(user_id, plan, categories=[Category.lab])
        labs = [r for r in labs if r.value is not None or r.text]
        if not labs:
            return Evidence(plan, searched="lab results")
        newest = labs[0].date or today
        # The latest round of tests: everything within 30 days of the newest lab result.
        recent = [r for r in labs if r.date and r.date >= newest - timedelta(days=30)]
        latest = latest_per_code(recent)
        return Evidence(plan, records=latest, total=len(latest), searched="lab results")

    def _related(self, user_id: str, plan: Plan, today: date) -> Evidence:
        out: list[Record] = []
        for cid in plan.concepts:
            concept = self.catalog.get(cid)
            if concept is None or not concept.code_keys:
                continue
            found = self.store.query(user_id, code_keys=concept.code_keys, limit=1)
            out.extend(found)
        return Evidence(plan, records=out, total=len(out), searched="related results")

    def _wearable(self, user_id: str, plan: Plan, today: date) -> Evidence:
        return wearable_evidence(self.store.query(user_id, categories=[Category.wearable]), plan, today)

    def _summary(self, user_id: str, plan: Plan, today: date) -> Evidence:
        ev = Evidence(plan, searched="all records")
        for cat, title in SUMMARY_SECTIONS:
            sub = Plan(Intent.list, category=cat, window=plan.window)
            if cat is Category.lab:
                part = self._results(user_id, Plan(Intent.explain_results, category=cat), today)
            elif cat is Category.encounter:
                visits = self._query(user_id, sub, categories=[cat])
                part = Evidence(sub, records=visits, total=len(visits))
            elif cat is Category.social_history:
                part = self._social(user_id, sub)
            else:
                part = self._list(user_id, sub, today)
            ev.sections.append(Section(title, part.records, part.total))
            ev.records.extend(part.records[: self.list_limit])
        ev.total = sum(s.total for s in ev.sections)
        return ev

    def _social(self, user_id: str, plan: Plan) -> Evidence:
        """Social history for a summary: current social findings and the latest smoking status."""
        conditions = latest_per_label(self._query(user_id, plan, categories=[Category.condition]))
        found = [r for r in conditions if self.social(r.label) and is_active(r)]
        smoking = self.catalog.get("smoking_status")
        if smoking is not None:
            found += self.store.query(user_id, code_keys=smoking.code_keys, limit=1)
        return Evidence(plan, records=found, total=len(found))

    def _context(self, user_id: str, ev: Evidence) -> None:
        """Counts for honest 'not found' answers: what was searched, across how many sources, up to when."""
        counts = self.store.record_counts(user_id)
        cat = ev.plan.category
        ev.category_count = counts.get(str(cat), 0) if cat else sum(counts.values())
        ev.source_count = len(self.store.sources(user_id))
        newest = self.store.query(user_id, categories=[cat] if cat else None, limit=1)
        ev.newest = newest[0].date if newest else None

    # look-ups for the planner and the coach's redirects -----------------------------------------
    def medication_names(self, user_id: str) -> list[str]:
        """The first word of each medication label ('metformin'), so the planner knows the user's medicines."""
        names = set()
        for r in self.store.query(user_id, categories=[Category.medication]):
            words = [w for w in r.label.replace("/", " ").split() if w.isalpha() and len(w) > 3]
            if words:
                names.add(words[0].lower())
        return sorted(names)

    def mentioned_or_active_meds(self, user_id: str, message: str) -> list[Record]:
        """The medications a message names, else the active ones (at most 10), newest of each label."""
        meds = latest_per_label(self.store.query(user_id, categories=[Category.medication]))
        low = message.lower()
        named = [r for r in meds if any(w.lower() in low for w in r.label.split() if w.isalpha() and len(w) > 3)]
        return (named or [r for r in meds if is_active(r)])[:10]

    def mentioned_records(self, user_id: str, message: str) -> list[Record]:
        """The newest record of each of the (at most 3) concepts a message mentions."""
        out: list[Record] = []
        for concept, _ in self.catalog.find(message)[:3]:
            if concept.code_keys:
                out.extend(self.store.query(user_id, code_keys=concept.code_keys, limit=1))
        return out

    # search -----------------------------------------------------------------------------------
    def _search(self, user_id: str, plan: Plan, message: str) -> Evidence:
        hits = [h for h in self.hybrid.search(user_id, message, k=self.top_k)
                if relevant(message, h, self.min_similarity)]
        ids = [str(h.metadata.get("record_ids", "")).split(",")[0] for h in hits]
        records = self.store.get_records(user_id, [i for i in ids if i])
        ev = Evidence(plan, searched="your records")
        for h, rid in zip(hits, ids, strict=True):
            rec = records.get(rid) if h.metadata.get("kind") == "record" else None
            ev.snippets.append((h.text, rec))
            if rec is not None and rec not in ev.records:
                ev.records.append(rec)
        ev.total = len(ev.snippets)
        self._context(user_id, ev)
        return ev
