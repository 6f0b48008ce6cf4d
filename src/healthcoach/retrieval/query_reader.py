"""Reads a question into a typed Query, on top of the planner's Plan (concepts, category, window,
follow-ups): the operation, unit, visit kind, status, asked-for field and label words come from the
vocabulary in knowledge/query_words.yaml. Deterministic: the same words always give the same Query."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from healthcoach.knowledge.catalog import Catalog
from healthcoach.knowledge.vocabulary import Operation, Vocabulary
from healthcoach.records.models import Category
from healthcoach.records.render import in_sentence
from healthcoach.records.units import CONVERTIBLE
from healthcoach.retrieval.planner import Intent, Plan
from healthcoach.retrieval.query import Filters, Query, Span
from healthcoach.retrieval.selection import SPELLS

# Window words are not operation words: "last year" is a window, "last" alone means latest.
_WINDOW_WORDS = re.compile(r"\b(?:last|past|previous|this|since|in|during|from|between)\s+(?:\d+\s+)?"
                           r"(?:years?|months?|weeks?|days?|visits?|results?|readings?|tests?|times?)\b")
_LAST_N = re.compile(r"\b(?:last|past|previous|latest)\s+(\d+|two|three|four|five|six|seven|eight|nine|ten)\s+"
                     r"(?:(?!(?:days?|weeks?|months?|years?)\b)[a-z0-9]+\s+){0,3}?(?:visits?|results?|readings?|tests?|measurements?|appointments?|times?|values?|doses?)\b")
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_YEAR = re.compile(r"\b(19\d\d|20\d\d)\b")
_PRESENT = re.compile(r"\b(?:am i|i m|im|do i have|currently|current|now|active|right now|these days)\b")
_ALLERGIC_TO = re.compile(r"\ballergic to (?:any )?(?:a |an |the )?([a-z][a-z ]{1,40}?)\s*$")
_EXISTS_TERM = re.compile(r"^(?:have|did|do|was|were|am) i (?:ever )?(?:had|have|been|get|got|gotten|go|gone)?\s*"
                          r"(?:diagnosed with |treated for |tested for |a |an |any |the |my )*"
                          r"(?:history of |record of )?(?:a |an |any )?([a-z][a-z ]{2,40}?)\s*(?:before|ever)?$")
_CHANGE_BASE = (("previous", re.compile(r"\bsince (?:my |the )?(?:last|previous|prior) (?:one|time|test|result|"
                                        r"reading|visit|check)\b|\bsince last time\b")),
                ("first", re.compile(r"\bsince (?:my |the )?(?:very )?first\b")))
# A question is about the visits themselves ("when was I last at the doctor's?", "did I go to the
# hospital?") only with one of these, and not when it asks what was said or written at one.
_ABOUT_VISITS = re.compile(r"\b(?:when|how many|how often|last|latest|most recent|first|list|all|did i (?:go|see|visit|"
                           r"end up)|have i (?:been|seen|gone|visited|had)|was i (?:at|in|admitted|seen|taken)|"
                           r"times|ever)\b")
_ABOUT_WORDS = re.compile(r"\b(?:say|said|tell|told|recommend\w*|advis\w*|talk\w*|discuss\w*|notes?|write|wrote|"
                          r"think|thought|about|why|prescrib\w*)\b")
_VISIT_KIND = re.compile(r"\b([a-z]{4,}) (?:visits?|appointments?|check ?ups?|encounters?)\b")
_NOT_KINDS = {"last", "latest", "first", "recent", "next", "doctor", "every", "most", "many", "were", "your", "this",
              "that", "what", "which", "list", "show", "previous", "past", "earlier", "emergency", "wellness"}
_STOP_TERMS = {"anything", "something", "any allergies", "allergies", "records", "it", "that", "this"}


class QueryReader:
    """Turns (message, plan) into a Query."""

    def __init__(self, catalog: Catalog, vocab: Vocabulary, preferred_units: Mapping[str, str] | None = None) -> None:
        """`preferred_units` maps a quantity (mass, length, temperature, glucose) to the unit id a user
        wants answers in when the question does not say."""
        self.catalog, self.vocab = catalog, vocab
        self.preferred = dict(preferred_units or {})

    def read(self, message: str, plan: Plan, today: date, history: Sequence[Query] = ()) -> Query:
        """The typed query for a message, given the plan the planner made of it."""
        text = self.vocab.fix_typos(message)
        bare = _WINDOW_WORDS.sub(" ", text)
        hits = self.vocab.operations(bare)
        concepts = tuple(plan.concepts)
        category = plan.category if not concepts else None
        field = self.vocab.field(text)
        classes = self.vocab.encounter_classes(text)
        if not concepts and (field or (category is None and self.vocab.mentions_visit(text)
                                       and _ABOUT_VISITS.search(text) and not _ABOUT_WORDS.search(text))):
            category = Category.encounter
        op, words = self._operation(plan, hits, concepts)
        window = Span.of(plan.window)
        if m := _LAST_N.search(text):
            n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS[m.group(1)]
            window = Span(last_n=n, label=f"your last {n}")
            if op is Operation.latest:
                op = Operation.list
        kind = _VISIT_KIND.search(text) if category is Category.encounter and not classes else None
        filters = Filters(
            encounter_classes=classes if category is Category.encounter else (),
            terms=(kind.group(1),) if kind and kind.group(1) not in _NOT_KINDS else (),
            field="clinician" if field else "value",
            nth=plan.offset,
            higher_is_better=any(c in self.vocab.data.higher_is_better for c in concepts),
        )
        q = Query(concepts=concepts, category=category, operation=op, window=window, filters=filters,
                  words=tuple(words))
        q = self._status_and_terms(q, text)
        q = self._windows(q, text, today, plan)
        q = self._unit(q, text)
        if not q.has_target and history and (hits or q.unit):
            prev = history[-1]
            q = q.model_copy(update={"concepts": prev.concepts, "category": prev.category,
                                     "filters": q.filters.model_copy(update={
                                         "encounter_classes": prev.filters.encounter_classes,
                                         "terms": prev.filters.terms})})
            if op is Operation.latest and not hits:
                q = q.model_copy(update={"operation": prev.operation})
        return q.model_copy(update={"alternatives": self._alternatives(q)})

    # operation --------------------------------------------------------------------------------
    def _operation(self, plan: Plan, hits: list[tuple[Operation, str]], concepts: tuple[str, ...]
                   ) -> tuple[Operation, list[str]]:
        if plan.offset:
            return Operation.nth_previous, ["before that"]
        if hits:
            op, phrase = hits[0]
            if self.vocab.is_judgement(phrase) and any(c in self.vocab.data.higher_is_better for c in concepts):
                op = Operation.min if op is Operation.max else Operation.max
            return op, [p for _, p in hits]
        default = {Intent.history: Operation.list, Intent.list: Operation.list,
                   Intent.category_summary: Operation.list}.get(plan.intent, Operation.latest)
        if plan.window is not None and concepts:
            default = Operation.list  # a window without an operation word: what is in the window
        return default, []

    def _status_and_terms(self, q: Query, text: str) -> Query:
        f = q.filters
        status = self.vocab.status(text)
        if q.category in SPELLS or (q.concepts and self.catalog.concepts[q.concepts[0]].category in SPELLS):
            if status == "resolved":
                f = f.model_copy(update={"status": "resolved"})
            elif q.operation in (Operation.list, Operation.count) and q.window.is_ever and _PRESENT.search(text):
                f = f.model_copy(update={"status": "active"})
        if not q.concepts and (m := _ALLERGIC_TO.search(text)) and m.group(1).strip() not in _STOP_TERMS:
            return q.model_copy(update={"category": Category.allergy, "operation": Operation.exists,
                                        "filters": f.model_copy(update={"terms": (m.group(1).strip(),)})})
        if q.operation is Operation.exists and not q.concepts and q.category in SPELLS and _PRESENT.search(text):
            # "what conditions do I have?", "do I have any allergies?": the current list.
            return q.model_copy(update={"operation": Operation.list, "filters": f.model_copy(
                update={"status": "active" if q.window.is_ever else f.status})})
        m = _EXISTS_TERM.search(re.sub(r"\?", "", text).strip())
        if q.operation is Operation.exists and not q.concepts and q.category is None and m \
                and m.group(1) not in _STOP_TERMS and not re.search(r"\b(?:in|on|at|since|during)\b", m.group(1)):
            f = f.model_copy(update={"terms": (m.group(1).strip(),)})
        return q.model_copy(update={"filters": f})

    def _windows(self, q: Query, text: str, today: date, plan: Plan) -> Query:
        """compare: two windows ('in 2016 and 2023', 'than last year'); change: a baseline."""
        if q.operation is Operation.compare:
            years = sorted({int(y) for y in _YEAR.findall(text)})
            if len(years) >= 2:
                spans = (Span.year(years[0]), Span.year(years[-1]))
                return q.model_copy(update={"windows": spans, "window": Span()})
            if q.window.start is not None and len(q.concepts) < 2:
                latest = Span(label="your latest")
                return q.model_copy(update={"windows": (q.window, latest), "window": Span()})
        if q.operation is Operation.change:
            for kind, rx in _CHANGE_BASE:
                if rx.search(text):
                    return q.model_copy(update={"filters": q.filters.model_copy(update={"baseline": kind})})
            if q.window.start is not None and re.search(r"\bsince\b", text):
                return q.model_copy(update={"window": Span(), "filters": q.filters.model_copy(
                    update={"baseline": "date", "baseline_date": q.window.start})})
            return q.model_copy(update={"filters": q.filters.model_copy(update={"baseline": "first"})})
        return q

    def _unit(self, q: Query, text: str) -> Query:
        asked = self.vocab.unit(text)
        if asked is not None:
            return q.model_copy(update={"unit": asked[0], "words": (*q.words, asked[1])})
        if q.concepts:
            for quantity, concept_ids in CONVERTIBLE.items():
                if q.concepts[0] in concept_ids and quantity in self.preferred:
                    return q.model_copy(update={"unit": self.preferred[quantity]})
        return q

    def _alternatives(self, q: Query) -> tuple[str, ...]:
        """Other readings worth offering ('list my visits' after the latest visit)."""
        out: list[str] = []
        if q.category is Category.encounter and q.operation is Operation.latest and q.filters.field == "value":
            out.append("list my visits")
        if q.operation in (Operation.max, Operation.min) and q.concepts:
            other = "lowest" if q.operation is Operation.max else "highest"
            out.append(f"my {other} {in_sentence(self.catalog.concepts[q.concepts[0]].name)}")
        if q.operation is Operation.latest and q.concepts and q.window.is_ever:
            out.append(f"my {in_sentence(self.catalog.concepts[q.concepts[0]].name)} history")
        return tuple(out)
