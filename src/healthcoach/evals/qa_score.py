"""Scoring one reply against an expected answer (truth.expected.Expected), without the product's helpers.

A reply is correct when it states what the expected answer requires (see Expected) in any ordinary
form: values at the precision shown (154.3 lb for 154.32), dates in ISO or written form, the count
as a number, every item of a list (or an honest "showing N of M" for long lists), direction words for
changes and trends, and a plain "not in your records" for what isn't there. Separately, every number
the reply states must come from the cited records, the question, or the expected computed values;
anything else is an invented number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from healthcoach.evals import qa_text as tx
from healthcoach.evals.truth.expected import Expected, Reading
from healthcoach.evals.truth.units import CONVERSIONS

CONVERTED_REL = 0.0015  # a conversion factor rounded differently (18 vs 18.0156) is still right
LONG_LIST = 10


@dataclass(frozen=True)
class Cited:
    """What the scorer needs of one citation: its [n], label and the record's own text (every field)."""

    n: int
    label: str
    evidence: str


@dataclass
class Verdict:
    """The outcome for one reply: correct or not, why not, and invented numbers."""

    correct: bool
    reasons: list[str] = field(default_factory=list)
    invented: list[str] = field(default_factory=list)


def _has_number(text: str, value: float, decimals: int, unit: str | None) -> bool:
    rel = CONVERTED_REL if unit else 0.0
    if unit == "ft_in":
        return any(tx.matches(s, value, 0, rel) for s in tx.heights_in(text))
    return any(tx.matches(s, value, decimals, rel) for s in tx.numbers_in(text))


def _reading_problems(text: str, r: Reading, unit: str | None, dates: set[date], need_date: bool = True) -> list[str]:
    out = []
    for v, d in zip(r.numbers, r.decimals, strict=True):
        if not _has_number(text, v, d, unit):
            out.append(f"value {v:.{max(d, 1)}f} not stated")
    if r.text and tx.norm_name(r.text) not in tx.norm_name(text):
        out.append(f"'{r.text}' not stated")
    if need_date and r.dates and not dates & {date.fromisoformat(d) for d in r.dates}:
        out.append(f"date {' or '.join(r.dates[:3])}{' ...' if len(r.dates) > 3 else ''} not stated")
    return out


def _lead_problems(text: str, readings: Sequence[Reading], unit: str | None, asked_dates: set[date]) -> list[str]:
    """A value answer leads with the asked result: the first date it states (other than the question's own
    dates) is the expected one, and the expected values come no later than that date's paragraph. A reading
    without dates (a mean) must be stated in the first paragraph."""
    dated = [r for r in readings if r.dates]
    if not dated:
        lead = tx.first_paragraph(text)
        return [p for r in readings for p in _reading_problems(lead, r, unit, set(), need_date=False)]
    spans = [(pos, d) for pos, d in tx.date_spans(text) if d not in asked_dates]
    wanted = {date.fromisoformat(d) for r in dated for d in r.dates}
    if not spans:
        return [f"date {' or '.join(sorted(d.isoformat() for d in wanted)[:3])} not stated"]
    pos, first = spans[0]
    if first not in wanted:
        shown = " or ".join(sorted(d.isoformat() for d in wanted)[:3])
        return [f"leads with {first.isoformat()}, expected {shown}"]
    lead = tx.paragraph_at(text, pos)
    return [p for r in readings for p in _reading_problems(lead, r, unit, set(), need_date=False)]


def _named(item: str, text_norm: str, cited: Sequence[Cited], text: str) -> bool:
    key = tx.norm_name(item)
    return key in text_norm or any(tx.norm_name(c.label) == key and f"[{c.n}]" in text for c in cited)


def _truncated_honestly(text: str, total: int) -> bool:
    return total > LONG_LIST and any(int(m.group(2)) == total
                                     for m in re.finditer(r"\b(\d+) of (\d+)\b", text))


def _items_problems(text: str, exp: Expected, cited: Sequence[Cited], dates: set[date], asked_dates: set[date]
                    ) -> list[str]:
    norm = tx.norm_name(text)
    missing = [i for i in exp.items if not _named(i, norm, cited, text)]
    missing += [d for d in exp.item_dates if date.fromisoformat(d) not in dates]
    total = exp.count if exp.count is not None else len(exp.items) + len(exp.item_dates)
    out = []
    if missing and not _truncated_honestly(text, total):
        out.append(f"missing {len(missing)} of {total}: {', '.join(missing[:5])}")
    if exp.window:
        lo, hi = date.fromisoformat(exp.window[0]), date.fromisoformat(exp.window[1])
        known = {date.fromisoformat(d) for d in exp.window_dates}
        extra = sorted(d for d in dates - known - asked_dates if lo <= d <= hi)
        if extra:
            out.append(f"lists something on {', '.join(d.isoformat() for d in extra[:3])} that is not on record "
                       "in the window")
    for f in exp.forbidden:
        key = tx.norm_name(f)
        lines = [ln for ln in text.splitlines() if key in tx.norm_name(ln)]
        lines += [ln for c in cited if tx.norm_name(c.label) == key for ln in text.splitlines() if f"[{c.n}]" in ln]
        if any(not tx.PAST_WORDS.search(ln) for ln in lines):
            out.append(f"lists '{f}' as current")
    return out


def _direction_problem(text: str, expected: str | None, required: bool) -> list[str]:
    if expected is None:
        return []
    said = tx.direction_of(text)
    if said is None:
        return [f"no direction stated (expected {expected})"] if required else []
    return [] if said == expected else [f"direction {said}, expected {expected}"]


def check(exp: Expected, text: str, cited: Sequence[Cited], asked: Iterable[str] = ()) -> list[str]:
    """What the reply fails to state correctly ([] = correct)."""
    dates = tx.dates_in(text)
    asked_dates = {d for a in asked for d in tx.dates_in(a)}
    if exp.kind == "value":
        return _lead_problems(text, exp.readings, exp.unit, asked_dates)
    if exp.kind == "count":
        n = exp.count or 0
        ok = n in tx.counts_in(text) or (n == 0 and _not_found_about(tx.first_paragraph(text), exp.topic))
        return [] if ok else [f"count {n} not stated"]
    if exp.kind == "items":
        return _items_problems(text, exp, cited, dates, asked_dates)
    if exp.kind == "change":
        assert exp.start and exp.end and exp.delta is not None
        out = _direction_problem(text, exp.direction, required=True)
        if exp.direction != "same":
            tol_decimals = exp.delta_decimals
            stated = tx.numbers_in(text) if exp.unit != "ft_in" else tx.heights_in(text)
            if not any(abs(s.value - abs(exp.delta)) <= max(0.5 * 10.0 ** -s.decimals, 10.0 ** -tol_decimals) + 1e-9
                       for s in stated):
                out.append(f"change of {abs(exp.delta):.{max(tol_decimals, 1)}f} not stated")
        out += _reading_problems(text, exp.start, exp.unit, dates, need_date=False)
        out += _reading_problems(text, exp.end, exp.unit, dates, need_date=False)
        return out
    if exp.kind == "trend":
        assert exp.start and exp.end
        return (_direction_problem(text, exp.direction, required=True)
                + _reading_problems(text, exp.start, exp.unit, dates, need_date=False)
                + _reading_problems(text, exp.end, exp.unit, dates, need_date=False))
    if exp.kind == "compare":
        out = []
        for i, group in enumerate(exp.groups):
            several = len(group) > 1  # then each value with its date, to tie it to its window
            missing = [r for r in group if _reading_problems(text, r, exp.unit, dates, need_date=several)]
            if missing:
                out.append(f"{len(missing)} of {len(group)} results of window {i + 1} not stated")
        return out + _direction_problem(text, exp.direction, required=True)
    if exp.kind == "exists":
        if tx.says_not_found(tx.first_sentence(text)):
            return ["says not found, but it is in the records"]
        days = {date.fromisoformat(d) for r in exp.readings for d in r.dates}
        norm = tx.norm_name(text)
        if dates & days or any(_named(i, norm, cited, text) for i in exp.items):
            return []
        return ["neither a date nor the record named"]
    lead = tx.first_paragraph(text)
    if not tx.says_not_found(lead):
        return ["does not open by saying it is not in the records"]
    if not _not_found_about(lead, exp.topic):
        return [f"says not found, but not about {' / '.join(exp.topic[:4])}"]
    return []


def _not_found_about(lead: str, topic: Sequence[str]) -> bool:
    """A not-found statement that names the concept asked about (any of its words)."""
    if not tx.says_not_found(lead):
        return False
    words = set(re.findall(r"[a-z0-9][a-z0-9-]*", lead.lower()))
    return not topic or any(w in words or w in lead.lower().split() for w in topic)


def _allowed(exp: Expected) -> list[float]:
    vals = list(exp.computed)
    for r in [*exp.readings, *(g for group in exp.groups for g in group), exp.start, exp.end]:
        if r is not None:
            vals += r.numbers
    if exp.count is not None:
        vals.append(float(exp.count))
    if exp.delta is not None:
        vals.append(abs(exp.delta))
    return vals


def invented_numbers(text: str, cited: Sequence[Cited], exp: Expected, asked: Iterable[str]) -> list[str]:
    """Numbers in the reply that no cited record, question or expected computed value accounts for.
    Years, citation markers, dates, display counts ('3 of 12', '5 more'), crisis lines and numbers inside
    names ('Type 2 diabetes') are not health values."""
    grounds = [float(s.value) for t in [*(c.evidence for c in cited), *asked] for s in tx.numbers_in(t)]
    grounds += _allowed(exp)
    converted = [v * f + o for v in grounds for f, o, _, _ in CONVERSIONS.values()]
    body = tx.NOT_VALUES.sub(" ", tx.DISPLAY_COUNTS.sub(" ", text))
    heights = tx.heights_in(body)
    body = tx.FEET_INCHES.sub(" ", body)
    out = []
    for s in tx.numbers_in(body) + heights:
        if s.decimals == 0 and 1900 <= s.value <= 2100:
            continue
        if any(tx.matches(s, g) for g in grounds) or any(tx.matches(s, g, 0, CONVERTED_REL) for g in converted):
            continue
        out.append(f"{s.value:.{s.decimals}f}")
    return out


def score(exp: Expected, text: str, cited: Sequence[Cited], asked: Iterable[str], blocked: bool = False) -> Verdict:
    """Correctness and invented numbers for one reply. A not-found answer with an invented value is wrong."""
    questions = list(asked)
    invented = invented_numbers(text, cited, exp, questions)
    if blocked:
        return Verdict(False, ["redirected by a safety policy"], invented)
    reasons = check(exp, text, cited, questions)
    if exp.kind == "not_found" and invented:
        reasons.append(f"states values not in the records: {', '.join(invented[:5])}")
    return Verdict(not reasons, reasons, invented)
