"""Templates × concepts × people -> QA items with expected answers (and counts of what was skipped).

For each (template, concept, person) the window's words (a year, a date, N months) are chosen from that
person's own data with a seed derived from the ids, so the suite is the same on every run. Each person
gets ``per_person`` of the template's phrasings, rotating, so every phrasing is used across people.
An item's split (dev/test) is a hash of its id.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from healthcoach.evals.qa_suite import Concept, Suite, Template
from healthcoach.evals.truth import facts, lists
from healthcoach.evals.truth.expected import Expected
from healthcoach.evals.truth.facts import Answer, Skip
from healthcoach.evals.truth.fhir_raw import RawPerson, Row
from healthcoach.evals.truth.windows import Window, choose, choose_pair

GENERIC = {"a", "an", "the", "my", "of", "to", "and", "or", "any", "shot", "shots", "vaccine", "vaccines", "vaccination",
           "test", "level", "visit", "visits", "status", "trips", "result", "results", "record", "records", "blood",
           "high", "total", "serum", "screening", "pill", "d"}
# when a person has nothing at all of a kind, "no allergies in your records" answers "am I allergic to X?"
CATEGORY_WORDS = {"allergy": ["allergies", "allergy"], "condition": ["conditions"], "medication": ["medications", "meds"],
                  "immunization": ["vaccines", "vaccinations", "immunizations"], "procedure": ["procedures"],
                  "encounter": ["visits", "encounters"], "observation": []}
NEED = {"latest": 1, "first": 2, "min": 2, "max": 2, "count": 1, "mean": 2, "list": 1, "change": 2, "trend": 3,
        "exists": 0}


class Item(BaseModel):
    """One question to one person, with its expected answer."""

    model_config = ConfigDict(extra="forbid")

    id: str
    person: str = Field(description="The eval user id.")
    template: str
    operation: str
    concept: str
    window: str = Field(description="Window kind (ever, year, since, ...).")
    window_label: str
    unit: str | None = None
    source: str
    split: str
    question: str
    history: list[str] = Field(default_factory=list)
    expected: Expected


def seed_of(*parts: str) -> int:
    """A stable seed from ids."""
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:12], 16)


def split_of(item_id: str) -> str:
    """dev or test, by a hash of the item id (about half each)."""
    return "dev" if int(hashlib.sha256(item_id.encode()).hexdigest(), 16) % 2 == 0 else "test"


def _answer(t: Template, c: Concept, rows: list[Row], today: date, seed: int, contrast: list[Row]
            ) -> tuple[Answer, Window | None, str]:
    """The expected answer, the window used and its label (raises Skip)."""
    op, label = t.operation, c.names["default"]
    if t.status == "current":
        if op == "list":
            return lists.current_list(rows, label, t.allow_empty), None, "current"
        if op == "count":
            return lists.current_count(rows, label), None, "current"
        rows = [r for r in rows if lists.is_current(r)]
    if op == "compare":
        pair = choose_pair(t.window, rows, today, seed)
        if pair is None:
            raise Skip("no pair of windows with data")
        a, b = pair
        return facts.compare(a.rows(rows), b.rows(rows), c, t.unit), None, f"{a.label} vs {b.label}"
    need = 0 if t.allow_empty or op == "exists" else NEED.get(op, t.nth or 1)
    w = choose(t.window, rows, today, seed, need)
    if w is None:
        raise Skip(f"no {t.window} window with {need}+ results")
    inside = w.rows(rows) if t.window not in ("ever", "current") else list(rows)
    if contrast and op in ("latest", "first") and inside and contrast[-1 if op == "latest" else 0].when == \
            inside[-1 if op == "latest" else 0].when:
        raise Skip(f"same answer as for {t.contrast}")
    if op == "latest":
        if t.window not in ("ever", "current") and inside and inside[-1].when == rows[-1].when:
            raise Skip("the window's latest is the overall latest (would not test the window)")
        return facts.at_group(inside, c, t.unit, -1, "latest"), w, w.label
    if op == "first":
        return facts.at_group(inside, c, t.unit, 0, "first"), w, w.label
    if op == "nth_previous":
        return facts.at_group(inside, c, t.unit, -(t.nth or 2), f"result {t.nth} back"), w, w.label
    if op in ("min", "max"):
        return facts.extreme(inside, c, t.unit, op == "max"), w, w.label
    if op == "count":
        return facts.count(inside, c, label), w, w.label
    if op == "mean":
        return facts.mean(inside, c, t.unit), w, w.label
    if op == "change":
        return facts.change(inside, c, t.unit, t.baseline or "first", seed), w, w.label
    if op == "trend":
        return facts.trend(inside, c), w, w.label
    if op == "exists":
        return facts.exists(inside, label), w, w.label
    if op == "list":
        return lists.window_list(rows, w, label, t.allow_empty), w, w.label
    raise ValueError(f"unknown operation {op}")


def topic_words(c: Concept) -> list[str]:
    """The distinctive words of a concept's names ('flu shot', 'seasonal influenza vaccine' -> flu, influenza,
    seasonal)."""
    words = {w.strip("()?,.").lower() for name in c.names.values() for w in name.split()}
    return sorted(w for w in words if w and w not in GENERIC)


def build_items(suite: Suite, people: Sequence[RawPerson]) -> tuple[list[Item], Counter[str]]:
    """Every item of the suite over the people, and skip counts keyed 'template/concept: reason'."""
    items: list[Item] = []
    skips: Counter[str] = Counter()
    for t in suite.templates:
        for cid in t.concepts:
            c = suite.concepts[cid]
            for person in people:
                seed = seed_of(t.id, cid, person.key)
                contrast = facts.concept_rows(person, suite.concepts[t.contrast]) if t.contrast else []
                try:
                    answer, window, label = _answer(t, c, facts.concept_rows(person, c), suite.today, seed, contrast)
                    if c.ambiguous_codes:
                        broad = c.model_copy(update={"codes": c.codes + c.ambiguous_codes, "ambiguous_codes": []})
                        other = _answer(t, broad, facts.concept_rows(person, broad), suite.today, seed, contrast)
                        if other[0].expected != answer.expected:
                            raise Skip("the answer depends on the concept's ambiguous codes")
                except Skip as why:
                    skips[f"{t.id}/{cid}: {why}"] += 1
                    continue
                words = dict(window.params) if window else {}
                if t.operation == "compare":
                    y1, _, y2 = label.partition(" vs ")
                    words.update(year=y1, year2=y2)
                words.update(answer.params)
                if answer.expected.kind in ("not_found", "count"):
                    category = CATEGORY_WORDS[c.kind] if not person.of_kind(c.kind) else []
                    answer.expected.topic = sorted({*topic_words(c), *category})
                n = len(t.phrasings)
                for k in range(min(t.per_person, n)):
                    idx = (seed + k) % n
                    p = t.phrasings[idx]
                    fill = dict(words, name=c.name_for(p.source))
                    item_id = f"{t.id}.{cid}.{person.key}.{idx}"
                    items.append(Item(
                        id=item_id, person=person.key, template=t.id, operation=t.operation, concept=cid,
                        window=t.window, window_label=label, unit=t.unit, source=p.source, split=split_of(item_id),
                        question=p.text.format(**fill), history=[h.format(**fill) for h in p.history],
                        expected=answer.expected))
    return items, skips
