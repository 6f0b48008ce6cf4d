"""Record-QA eval: questions built from ground truth, asked through Coach.ask, scored for exact facts,
right record cited and invented numbers; beside a naive vector-only baseline over raw FHIR JSON."""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from healthcoach.compose.citations import fmt_date
from healthcoach.compose.grounding import evidence_text
from healthcoach.compose.reply import Reply
from healthcoach.errors import ConfigError
from healthcoach.records.models import Record, format_number

FACTS = ("a1c", "flu", "ldl", "total_cholesterol", "blood_pressure", "weight", "smoking", "medications",
         "allergies", "conditions")
LIST_FACTS = {"medications", "allergies", "conditions"}
_COUNT_PHRASES = re.compile(
    r"\(\d+\)|\bshowing \d+ of \d+\b|\b\d+ (?:more|earlier|other|on record|records?|sources?|nights?|days?)\b|"
    r"\byou have \d+\b|\[\d+\]|\bamong (?:your )?\d+\b|\bof \d+ \w+ recorded\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")


class PhrasingFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int
    facts: dict[str, list[str]]


def load_phrasings(path: Path) -> dict[str, list[str]]:
    """Phrasings per fact, validated (every fact present, at least 5 phrasings each)."""
    try:
        data = PhrasingFile.model_validate(yaml.safe_load(path.read_text()))
    except Exception as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    for fact in FACTS:
        if len(data.facts.get(fact, [])) < 5:
            raise ConfigError(f"{path}: fact '{fact}' needs at least 5 phrasings")
    return data.facts


@dataclass(frozen=True)
class Expected:
    """The truth for one fact of one person: a value+date, or a list of names (empty list = none)."""

    fact: str
    value: str | None = None  # as the coach should display it: '5.4', '112/71', 'Never smoker'
    day: date | None = None
    items: tuple[str, ...] | None = None


@dataclass
class Case:
    person: str
    user_id: str
    fact: str
    question: str
    expected: Expected


@dataclass
class Outcome:
    case: Case
    exact: bool
    cited: bool | None  # None for list facts with nothing to cite
    invented: list[str]
    latency_ms: float
    answer: str


def _num(v: float) -> str:
    return format_number(v)


def expected_facts(truth: dict[str, Any]) -> dict[str, Expected]:
    """Expected answers from a facts.json patient entry (or the bundled person's truth: same shape)."""
    out: dict[str, Expected] = {}
    latest = truth.get("hba1c", {}).get("latest")
    out["a1c"] = Expected("a1c", _num(latest["value"]), date.fromisoformat(latest["date"])) if latest else Expected("a1c")
    flu = truth.get("flu_shots", {}).get("latest")
    out["flu"] = Expected("flu", None, date.fromisoformat(flu["date"])) if flu else Expected("flu")
    lipids = truth.get("latest_lipids", {})
    for key in ("ldl", "total_cholesterol"):
        v = lipids.get(key)
        out[key] = Expected(key, _num(v["value"]), date.fromisoformat(v["date"])) if v else Expected(key)
    vitals = truth.get("latest_vitals", {})
    bp = vitals.get("blood_pressure")
    out["blood_pressure"] = Expected(
        "blood_pressure", f"{_num(round(bp['systolic']))}/{_num(round(bp['diastolic']))}",
        date.fromisoformat(bp["date"])) if bp else Expected("blood_pressure")
    w = vitals.get("body_weight")
    out["weight"] = Expected("weight", _num(w["value"]), date.fromisoformat(w["date"])) if w else Expected("weight")
    sm = truth.get("latest_smoking_status")
    out["smoking"] = Expected("smoking", sm["value"], date.fromisoformat(sm["date"])) if sm else Expected("smoking")
    meds = truth.get("active_medications")
    if meds is None:
        meds = [m["medication"] for m in truth.get("medications", []) if "active" in m.get("statuses", [])]
    out["medications"] = Expected("medications", items=tuple(sorted(set(meds))))
    out["allergies"] = Expected("allergies", items=tuple(sorted({a["display"] if isinstance(a, dict) else a
                                                                 for a in truth.get("allergies", [])})))
    out["conditions"] = Expected("conditions", items=tuple(sorted(set(truth.get("active_conditions", [])))))
    return out


def build_cases(people: Iterable[tuple[str, str, dict[str, Any]]], phrasings: dict[str, list[str]]) -> list[Case]:
    """Cases for (person name, user id, truth) × facts × phrasings."""
    cases = []
    for person, user, truth in people:
        for fact, exp in expected_facts(truth).items():
            for q in phrasings[fact]:
                cases.append(Case(person, user, fact, q, exp))
    return cases


def invented_numbers(reply: Reply, cited: list[Record]) -> list[str]:
    """Numbers in the answer that no cited record states (counts the coach computed are excluded)."""
    text = _COUNT_PHRASES.sub(" ", reply.text)
    text = re.sub(r"\b(?:January|February|March|April|May|June|July|August|September|October|November|December)"
                  r" \d{1,2}, \d{4}\b", " ", text)
    text = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", " ", text)
    evidence = evidence_text(cited)
    allowed = {_num(float(n)) for n in _NUMBER.findall(evidence)}
    return [n for n in _NUMBER.findall(text) if _num(float(n)) not in allowed]


def score(case: Case, reply: Reply, cited: list[Record], latency_ms: float) -> Outcome:
    """Exact fact, right record cited, invented numbers for one reply."""
    exp, text = case.expected, reply.text
    if exp.items is not None:
        listed = {c.label for c in reply.citations}
        exact = listed == set(exp.items) if exp.items else (not reply.citations and "no " in text.lower())
        cited_ok: bool | None = all(any(c.label == i for c in reply.citations) for i in exp.items) if exp.items else None
    elif exp.day is None:
        exact = not reply.citations and "no " in text.lower()
        cited_ok = None
    else:
        first = text.split("\n\n")[0]
        exact = fmt_date(exp.day) in first and (exp.value is None or exp.value in first)
        # The right record is cited in the answer's first paragraph (several can share the latest time).
        cited_ok = any(c.date == exp.day.isoformat() and f"[{c.n}]" in first and (
            exp.value is None or exp.value == c.value or exp.value in f"{c.value}") for c in reply.citations)
    return Outcome(case, exact, cited_ok, invented_numbers(reply, cited), latency_ms, text)


Ask = Callable[[str, str], tuple[Reply, list[Record]]]


def run_cases(cases: list[Case], ask: Ask) -> list[Outcome]:
    """Ask every case once (after one warm-up)."""
    if cases:
        ask(cases[0].user_id, cases[0].question)
    out = []
    for c in cases:
        t0 = time.perf_counter()
        reply, cited = ask(c.user_id, c.question)
        out.append(score(c, reply, cited, (time.perf_counter() - t0) * 1000))
    return out


@dataclass
class Summary:
    n: int
    exact: float
    cited: float
    invented: int
    p50_ms: float
    p95_ms: float
    by_fact: dict[str, float] = field(default_factory=dict)


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return round(s[min(len(s) - 1, int(round(q * (len(s) - 1))))], 2)


def summarize(outcomes: list[Outcome]) -> Summary:
    """Accuracy, citation correctness, invented numbers and latency over outcomes."""
    cited = [o.cited for o in outcomes if o.cited is not None]
    by_fact: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        by_fact[o.case.fact].append(o.exact)
    lat = [o.latency_ms for o in outcomes]
    return Summary(
        n=len(outcomes),
        exact=round(sum(o.exact for o in outcomes) / max(1, len(outcomes)), 4),
        cited=round(sum(cited) / max(1, len(cited)), 4),
        invented=sum(len(o.invented) for o in outcomes),
        p50_ms=pct(lat, 0.5),
        p95_ms=pct(lat, 0.95),
        by_fact={k: round(sum(v) / len(v), 4) for k, v in sorted(by_fact.items())},
    )
