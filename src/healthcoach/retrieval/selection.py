"""Which records a query is about: its target (codes, categories, label words) fetched from the record
store in SQL (user, codes, categories, window, newest first), then narrowed by what SQL cannot see
(visit kind, condition status, medications active during a window)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from healthcoach.knowledge.catalog import Catalog
from healthcoach.knowledge.vocabulary import Vocabulary
from healthcoach.records.models import CATEGORY_TITLES, Category, Record
from healthcoach.records.render import is_active
from healthcoach.retrieval.query import Query, Span
from healthcoach.store.records import RecordStore

NOT_GIVEN = {"not-done", "entered-in-error", "cancelled"}
# Categories a bare word ("did I ever have pneumonia?") is looked for in.
TERM_CATEGORIES = (Category.condition, Category.procedure, Category.immunization, Category.allergy,
                   Category.medication, Category.pregnancy)
# Lists where "in 2020" means "active at some time in 2020", not "started in 2020".
SPELLS = (Category.medication, Category.condition, Category.allergy, Category.care_plan)
NOUNS = {Category.lab: "results", Category.vital: "readings", Category.social_history: "records",
         Category.immunization: "doses", Category.procedure: "procedures", Category.condition: "records",
         Category.encounter: "visits", Category.allergy: "records", Category.medication: "records"}


@dataclass(frozen=True)
class Target:
    """What to fetch: code keys, categories and label words; `name` says it in words."""

    code_keys: frozenset[str]
    categories: tuple[Category, ...]
    terms: tuple[str, ...]
    name: str  # 'Hemoglobin A1c results', 'emergency visits or hospital stays', 'allergies to penicillin'
    category: Category | None  # the scope a not-found answer counts ('among your 96 lab results')


def visit_name(vocab: Vocabulary, classes: tuple[str, ...]) -> str:
    """'visits', 'emergency visits or hospital stays'."""
    if not classes:
        return "visits"
    return " or ".join(vocab.encounter_class(c).name + "s" for c in classes)


def target(q: Query, catalog: Catalog, vocab: Vocabulary) -> Target:
    """The records a query names, in words."""
    concepts = [c for cid in q.concepts if (c := catalog.get(cid)) is not None]
    if concepts:
        keys: set[str] = set()
        terms: list[str] = []
        for c in concepts:
            keys |= set(c.code_keys)
            terms += vocab.label_terms(c.id)
        first = concepts[0]
        noun = NOUNS.get(first.category, "records")
        name = " and ".join(c.name for c in concepts)
        name = f"{name} {noun}" if first.category in (Category.lab, Category.vital, Category.social_history) else name
        return Target(frozenset(keys), (first.category,), tuple(terms), name, first.category)
    if q.category is Category.encounter:
        name = visit_name(vocab, q.filters.encounter_classes)
        if q.filters.terms:
            name = f"{' '.join(q.filters.terms)} {name}"
        return Target(frozenset(), (Category.encounter,), q.filters.terms, name, Category.encounter)
    if q.category is not None:
        title = CATEGORY_TITLES[q.category].lower()
        if q.filters.terms:
            return Target(frozenset(), (q.category,), q.filters.terms,
                          f"{title} matching '{' '.join(q.filters.terms)}'", q.category)
        return Target(frozenset(), (q.category,), (), title, q.category)
    words = " ".join(q.filters.terms)
    return Target(frozenset(), TERM_CATEGORIES, q.filters.terms, f"records of '{words}'", None)


def _active_span(rec: Record) -> tuple[date | None, date | None]:
    """When a medication, condition or allergy was current: from its start to its end; still current
    (no end) when the source says it is active; a single day when it stopped without an end date."""
    first = rec.date
    if rec.end is not None:
        return first, rec.end.date()
    return first, None if is_active(rec) else first


def fetch(store: RecordStore, user_id: str, t: Target, span: Span, spells: bool) -> list[Record]:
    """The target's records in a span, newest first (SQL does user, codes, categories, window, order)."""
    kw: dict[str, object] = {}
    if span.start and not spells:
        kw["since"] = _midnight(span.start)
    if span.end and not spells:
        kw["until"] = _midnight(span.end)
    found: dict[str, Record] = {}
    if t.code_keys:
        for r in store.query(user_id, code_keys=t.code_keys, **kw):  # type: ignore[arg-type]
            found[r.id] = r
    if t.terms or not t.code_keys:
        for r in store.query(user_id, categories=list(t.categories), label_terms=list(t.terms) or None,
                             **kw):  # type: ignore[arg-type]
            if not t.terms or _has_term(r.label, t.terms):
                found.setdefault(r.id, r)
    rows = sorted(found.values(), key=lambda r: (r.start is None, -(r.start.timestamp() if r.start else 0), r.id))
    if spells:
        rows = [r for r in rows if span.overlaps(*_active_span(r))]
    return rows


def _has_term(label: str, terms: tuple[str, ...]) -> bool:
    """Whether a label holds a term at a word start ('Diabetic renal disease' has 'diabet')."""
    low = label.lower()
    return any(re.search(rf"(?<![a-z]){re.escape(t.lower())}", low) for t in terms)


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def narrow(rows: list[Record], q: Query, vocab: Vocabulary, social: bool) -> list[Record]:
    """What SQL cannot filter: not-given records, visit kind, status, social findings, last N."""
    out = [r for r in rows if (r.status or "").lower() not in NOT_GIVEN]
    if q.filters.encounter_classes:
        kinds = [vocab.encounter_class(c) for c in q.filters.encounter_classes]
        out = [r for r in out if any(k.matches(r.details.get("class"), r.label) for k in kinds)]
    if q.filters.status == "active":
        out = [r for r in out if is_active(r)]
    elif q.filters.status == "resolved":
        out = [r for r in out if not is_active(r)]
    if not social:
        out = [r for r in out if not (r.category is Category.condition and vocab.is_social_finding(r.label))]
    if q.window.last_n:
        out = out[: q.window.last_n]
    return out


def latest_per_label(records: list[Record]) -> list[Record]:
    """The newest record of each distinct label (records newest first)."""
    seen: dict[str, Record] = {}
    for r in records:
        seen.setdefault(r.label.lower(), r)
    return list(seen.values())
