"""The record-QA half of `healthcoach eval remote`: the record questions of `eval qa` sent to an endpoint that
gets the person's records the way a generic assistant would, as a FHIR summary in the system message, and
scored with `eval qa`'s own scorer (evals.qa.score) beside this project's coach on the same questions.

A generic endpoint returns plain text, so before scoring its reply is read the way the scorer needs it: dates
in any common form are written the way the scorer compares them ("2025-03-27", "03/27/2025", "27 Mar 2025" all
become "March 27, 2025"), and for list questions the records of that kind the reply names are its citations.
An endpoint that returns citations itself (this project's server, in its `healthcoach` field) is scored on
those. "Right record cited" is reported only for endpoints that cite."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from healthcoach.compose.citations import Citation, fmt_date
from healthcoach.compose.reply import Reply
from healthcoach.evals.fhir_summary import fhir_summary
from healthcoach.evals.qa import LIST_FACTS, Case, Outcome, score
from healthcoach.evals.remote_client import ChatEndpoint, Message
from healthcoach.records.models import Category, Record
from healthcoach.retrieval.timewindow import MONTHS
from healthcoach.store.records import RecordStore

SYSTEM = ("You are a helpful assistant. These are the user's own health records. Answer their question from "
          "the records, giving the value and its date.\n\n{records}")
LIST_CATEGORIES = {"medications": [Category.medication], "allergies": [Category.allergy],
                   "conditions": [Category.condition, Category.pregnancy]}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})(?:T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?\b")
_US = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?: of)? ({_MONTH})\.?,? (\d{{4}})\b", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b({_MONTH})\.? (\d{{1,2}})(?:st|nd|rd|th)?,? (\d{{4}})\b", re.IGNORECASE)


def _written(year: str, month: int, day: str, original: str) -> str:
    try:
        return fmt_date(date(int(year), month, int(day)))
    except ValueError:
        return original  # not a real date: leave it as written


def normalise_dates(text: str) -> str:
    """Dates in common forms rewritten as 'March 27, 2025' (the form the QA scorer compares)."""
    text = _ISO.sub(lambda m: _written(m[1], int(m[2]), m[3], m[0]), text)
    text = _US.sub(lambda m: _written(m[3], int(m[1]), m[2], m[0]), text)
    text = _DAY_MONTH.sub(lambda m: _written(m[3], MONTHS[m[2].lower()], m[1], m[0]), text)
    return _MONTH_DAY.sub(lambda m: _written(m[3], MONTHS[m[1].lower()], m[2], m[0]), text)


def _core(label: str) -> str:
    """A label without its trailing qualifier: 'Prediabetes (finding)' -> 'prediabetes'."""
    return re.sub(r"\s*\([^)]*\)\s*$", "", label).strip().lower()


def named_records(text: str, records: Sequence[Record]) -> list[Record]:
    """The records a reply names (by label, without '(finding)'-style qualifiers), each label once."""
    low = " ".join(text.lower().split())
    seen: dict[str, Record] = {}
    for r in records:
        core = _core(r.label)
        if core and core in low:
            seen.setdefault(r.label, r)
    return list(seen.values())


def citations_of(extra: dict[str, Any]) -> list[Citation] | None:
    """Citations an endpoint returned itself (healthcoach's `healthcoach.citations`), or None."""
    ours = extra.get("healthcoach")
    found = ours.get("citations") if isinstance(ours, dict) else None
    return [Citation.model_validate(c) for c in found] if isinstance(found, list) else None


@dataclass
class PersonContext:
    """One person as the endpoint sees them (the summary) and as the scorer checks them (their records)."""

    user_id: str
    summary: str
    records: list[Record]


def person_context(user_id: str, bundle: Path, store: RecordStore, max_chars: int) -> PersonContext:
    """The FHIR summary of a person's bundle and their ingested records."""
    summary = fhir_summary(json.loads(bundle.read_text(encoding="utf-8")), max_chars=max_chars)
    return PersonContext(user_id, summary, store.query(user_id))


def endpoint_outcome(case: Case, text: str, extra: dict[str, Any], latency_ms: float, person: PersonContext
                     ) -> Outcome:
    """Score one endpoint reply with eval qa's scorer (see the module docstring for how text is read)."""
    text = normalise_dates(text)
    given = citations_of(extra)
    if given is not None:
        by_id = {r.id: r for r in person.records}
        cited = [by_id[c.record_id] for c in given if c.record_id in by_id]
        return score(case, Reply(text=text, citations=given, intent="remote"), cited, latency_ms)
    citations: list[Citation] = []
    if case.fact in LIST_FACTS:
        kinds = LIST_CATEGORIES[case.fact]
        named = named_records(text, [r for r in person.records if r.category in kinds])
        citations = [Citation(n=i, record_id=r.id, label=r.label, source="named in the reply",
                              category=str(r.category)) for i, r in enumerate(named, start=1)]
    # Numbers are checked against everything the endpoint was given (all of this person's records).
    outcome = score(case, Reply(text=text, citations=citations, intent="remote"), person.records, latency_ms)
    outcome.cited = None  # no citations of its own: "right record cited" does not apply
    return outcome


def run_endpoint_qa(cases: Sequence[Case], people: dict[str, PersonContext], endpoint: ChatEndpoint,
                    concurrency: int = 1, keys: dict[str, str] | None = None,
                    progress: Callable[[int, int], None] | None = None
                    ) -> tuple[list[Outcome], list[dict[str, str]]]:
    """Ask the endpoint every case (the person's summary as the system message); (outcomes, errors)."""
    conversations: list[list[Message]] = [
        [{"role": "system", "content": SYSTEM.format(records=people[c.user_id].summary)},
         {"role": "user", "content": c.question}] for c in cases]
    per_case_keys = [keys.get(c.user_id) for c in cases] if keys else None
    answers = endpoint.ask_all(conversations, concurrency, keys=per_case_keys, progress=progress)
    outcomes, errors = [], []
    for case, answer in zip(cases, answers, strict=True):
        if answer.ok:
            person = people[case.user_id]
            outcomes.append(endpoint_outcome(case, answer.text, answer.extra, answer.latency_ms, person))
        else:
            errors.append({"person": case.person, "question": case.question, "error": answer.error or ""})
    return outcomes, errors


def spread(cases: Sequence[Case], limit: int | None) -> list[Case]:
    """At most `limit` cases spread evenly over the list (every fact and person keeps a share), grouped by
    person so an endpoint that caches a prompt prefix reuses each person's records."""
    chosen = list(cases) if not limit or limit >= len(cases) else [
        cases[round(i * len(cases) / limit)] for i in range(limit)]
    order = {u: i for i, u in enumerate(dict.fromkeys(c.user_id for c in chosen))}
    return sorted(chosen, key=lambda c: order[c.user_id])

