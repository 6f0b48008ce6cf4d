"""The executor: runs a typed Query on the record store and returns the records it used.

Selection is SQL (one user; codes or categories; window; newest first), narrowing and the operation run
over typed records. Nothing found is a result too: it says what was searched, across how many records
and sources, and the closest thing that does exist (the same test outside the window, a related test,
a record with the same words), so the answer can be honest in one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from healthcoach.knowledge.catalog import Catalog
from healthcoach.knowledge.vocabulary import Operation, Vocabulary
from healthcoach.records.models import Category, Record
from healthcoach.records.units import Converted, can_convert, convert
from healthcoach.retrieval import operations
from healthcoach.retrieval.operations import OpResult
from healthcoach.retrieval.query import Query, Span
from healthcoach.retrieval.selection import SPELLS, Target, fetch, latest_per_label, narrow, target
from healthcoach.store.records import RecordStore

# Plan intents whose answers are not record look-ups (explanations, tips, summaries, wearable days).
NOT_LOOKUPS = {"explain_concept", "wellness_guidance", "record_summary", "help", "explain_results",
               "wearable_summary"}
# Operations that analyse the person's own values: "is my LDL better or worse than last year?" is a
# comparison of records even though "better" also reads as a request for tips.
ANALYSES = {Operation.compare, Operation.change, Operation.trend, Operation.max, Operation.min, Operation.mean,
            Operation.count, Operation.first}
# Words too common to suggest a 'closest' record by ('blood' would match half of a lab panel).
_GENERIC = {"level", "levels", "test", "tests", "blood", "serum", "count", "score", "total", "result", "results",
            "screening", "vaccine", "shot", "type", "rate", "panel", "value", "reading", "check", "plasma",
            "urine", "ratio", "index", "disease", "disorder", "history", "mean", "cell", "cells"}


@dataclass
class QueryResult:
    """A query's answer material: what was found (or not), what was searched, and what is closest."""

    query: Query
    target: Target
    op: OpResult | None
    category_count: int = 0
    source_count: int = 0
    newest: date | None = None
    closest: list[Record] = field(default_factory=list)
    closest_kind: str = ""  # outside_window, related, same_words, recorded_items
    closest_name: str = ""
    conversions: dict[str, Converted] = field(default_factory=dict)
    unit_note: str = ""


class Executor:
    """Runs queries for one store, catalog and vocabulary."""

    def __init__(self, store: RecordStore, catalog: Catalog, vocab: Vocabulary) -> None:
        self.store, self.catalog, self.vocab = store, catalog, vocab

    def takes(self, user_id: str, q: Query, intent: str) -> bool:
        """Whether this query is answered by the executor (else the intent templates answer it):
        every operation beyond latest/list/'before that', conversions, visit kinds, who-questions,
        label words, lists in a window, and anything with no matching records (honest not-found)."""
        if not q.has_target or (intent in NOT_LOOKUPS and not (
                intent == "wellness_guidance" and q.operation in ANALYSES)):
            return False
        if q.operation not in (Operation.latest, Operation.list, Operation.nth_previous):
            return True
        f = q.filters
        if q.unit or f.encounter_classes or f.field != "value" or f.terms or q.category is Category.encounter \
                or q.window.last_n:
            return True
        if q.operation is Operation.list and not q.window.is_ever:
            return True  # lists in a window: spells for medications/conditions, the window's dates grounded
        return bool(q.concepts) and not self._any(user_id, target(q, self.catalog, self.vocab), q.window)

    def _any(self, user_id: str, t: Target, span: Span) -> bool:
        """Whether any record has the target's codes in the span (one indexed SQL row; cheap)."""
        if not t.code_keys:
            return True
        since = datetime(span.start.year, span.start.month, span.start.day, tzinfo=UTC) if span.start else None
        until = datetime(span.end.year, span.end.month, span.end.day, tzinfo=UTC) if span.end else None
        return bool(self.store.query(user_id, code_keys=t.code_keys, since=since, until=until, limit=1))

    def run(self, user_id: str, q: Query) -> QueryResult:
        """Execute a query for one user."""
        t = target(q, self.catalog, self.vocab)
        if q.operation is Operation.compare:
            op = self._compare(user_id, q, t)
            result = QueryResult(q, t, op if op.records else None)
        else:
            rows = self._rows(user_id, q, t, q.window)
            result = QueryResult(q, t, operations.run(rows, q) if rows else None)
        if result.op is None or not result.op.records:  # counts and neighbours only for an honest not-found
            self._context(user_id, result)
            self._closest(user_id, result)
        self._convert(result)
        return result

    # selection --------------------------------------------------------------------------------
    def _rows(self, user_id: str, q: Query, t: Target, span: Span) -> list[Record]:
        spells = t.category in SPELLS and not span.is_ever
        rows = fetch(self.store, user_id, t, span, spells)
        rows = narrow(rows, q, self.vocab, social=bool(q.concepts))
        if t.category in SPELLS and q.operation in (Operation.list, Operation.count, Operation.exists):
            rows = latest_per_label(rows)
        return rows

    def _compare(self, user_id: str, q: Query, t: Target) -> OpResult:
        groups: list[tuple[str, list[Record]]] = []
        if len(q.concepts) >= 2 and not q.windows:
            for cid in q.concepts[:2]:
                sub = q.model_copy(update={"concepts": (cid,)})
                one = target(sub, self.catalog, self.vocab)
                groups.append((self.catalog.concepts[cid].name, self._rows(user_id, sub, one, q.window)))
            return operations.compare_groups(groups, same_concept=False)
        spans = q.windows or (q.window,)
        if len(spans) == 2 and spans[1].is_ever:  # "than last year": that window against the latest result
            every = self._rows(user_id, q, t, Span())
            latest = every[:1]
            older = [r for r in self._rows(user_id, q, t, spans[0]) if not latest or r.start != latest[0].start]
            label = spans[0].label
            if not older and latest and spans[0].start and spans[0].contains(latest[0].date):
                # The latest result is itself from that window: compare it with the one before the window.
                older = [r for r in every if r.date and r.date < spans[0].start]
                label = f"before {spans[0].label}"
            return operations.compare_groups([(label, older), (spans[1].label, latest)], same_concept=True)
        for span in spans:
            groups.append((span.label, self._rows(user_id, q, t, span)))
        return operations.compare_groups(groups, same_concept=True)

    # context ----------------------------------------------------------------------------------
    def _context(self, user_id: str, result: QueryResult) -> None:
        counts = self.store.record_counts(user_id)
        cat = result.target.category
        result.category_count = counts.get(str(cat), 0) if cat else sum(counts.values())
        result.source_count = len(self.store.sources(user_id))
        newest = self.store.query(user_id, categories=[cat] if cat else None, limit=1)
        result.newest = newest[0].date if newest else None

    def _closest(self, user_id: str, result: QueryResult) -> None:
        """The nearest thing that exists: the same records outside the window, a related concept's
        latest record, records whose label shares a word, or (for 'allergic to X') what is listed."""
        q, t = result.query, result.target
        if not q.window.is_ever or q.windows:
            rows = self._rows(user_id, q.model_copy(update={"operation": Operation.list}), t, Span())
            if rows:
                result.closest, result.closest_kind = self._nearest(rows, q.window), "outside_window"
                return
        for cid in q.concepts:
            concept = self.catalog.get(cid)
            # Related concepts of the same kind first: a related condition before a related lab test.
            if concept is None:
                continue
            related = sorted(concept.related, key=lambda r: self.catalog.concepts[r].category is not concept.category)
            if concept.category in (Category.condition, Category.allergy):
                # "Do I have diabetes?" may point to a related condition, never to a lab value to interpret.
                related = [r for r in related if self.catalog.concepts[r].category is concept.category]
            for rel in related:
                found = self.store.query(user_id, code_keys=self.catalog.codes_for(rel), limit=1)
                if found:
                    result.closest, result.closest_kind = found, "related"
                    result.closest_name = self.catalog.concepts[rel].name
                    return
        words = self._significant_words(q)
        if words:
            # Only records no catalog concept claims: another known test is not "the closest" (asked for
            # A1c, Hemoglobin is a different test), while a Vitamin D3 prescription for "vitamin D" is.
            found = [r for r in self.store.query(user_id, label_terms=words, limit=20)
                     if r.category not in (Category.document, Category.wearable)
                     and not any(self.catalog.by_code(k) for k in r.code_keys())]
            if found:
                result.closest, result.closest_kind = latest_per_label(found)[:3], "same_words"
                return
        if q.category is not None and q.category is not Category.encounter:
            listed = narrow(self.store.query(user_id, categories=[q.category]), q.model_copy(
                update={"filters": q.filters.model_copy(update={"status": "any"})}), self.vocab, social=False)
            result.closest, result.closest_kind = latest_per_label(listed)[:10], "recorded_items"

    def _significant_words(self, q: Query) -> list[str]:
        names: list[str] = list(q.filters.terms)
        for cid in q.concepts:
            concept = self.catalog.get(cid)
            if concept is not None:
                names += [concept.name, *concept.synonyms[:3]]
        words = {w.strip("(),.").lower() for n in names for w in n.split()}
        return sorted(w for w in words if len(w) >= 4 and w.isalpha() and w not in _GENERIC)

    @staticmethod
    def _nearest(rows: list[Record], span: Span) -> list[Record]:
        """The newest record before the window and the oldest after it."""
        before = [r for r in rows if r.date and span.start and r.date < span.start]
        after = [r for r in rows if r.date and span.end and r.date >= span.end]
        return [r for r in (before[:1] + after[-1:]) if r]

    def _convert(self, result: QueryResult) -> None:
        q, op = result.query, result.op
        if not q.unit or op is None:
            return
        cid = q.concepts[0] if q.concepts else ""
        if not can_convert(cid, q.unit):
            name = self.catalog.concepts[cid].name if cid in self.catalog.concepts else "this"
            result.unit_note = f"{name} is shown as recorded; a conversion to {q.unit} does not apply to it"
            return
        for rec in [*op.records, *op.baseline, *op.used[:50], *(r for _, rs in op.groups for r in rs)]:
            if rec.value is not None and rec.id not in result.conversions:
                converted = convert(rec.value.value, rec.value.unit, q.unit)
                if converted is not None:
                    result.conversions[rec.id] = converted
