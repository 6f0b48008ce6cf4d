"""Headline-fact check: an LLM reply must lead with the answer the code computed.

Every template (per intent and per typed-query operation) states its answer first: the first sentence
of its first paragraph ("Your most recent vaccine was on **July 31, 2025** [1]", "You've had 8 flu
vaccines, from ... to ...") or, when that paragraph is a list, the listed items. key_facts() reads
those facts as data from the Answer (numbers, dates, listed citations), so the check works for every
intent and operation without per-template code. A reply is kept only when its first sentence that
states a fact states all of the headline's numbers and dates and no other number or date, and, for a
list, names every listed item. Grounding alone cannot catch "the right dates in the wrong roles":
every date in "your last flu shot was December 14, 2023" is in the records, but it is not the latest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from healthcoach.compose.grounding import cited_numbers, claims
from healthcoach.compose.templates import Answer
from healthcoach.guardrails.output import extract_dates

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z*\-\[(])|\n+")
_CITE = re.compile(r"\[\s*\d+(?:\s*[,;–-]\s*\d+)*\s*\]")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_NUMBER = re.compile(r"(?<![A-Za-z\d.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\d])")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+", re.M)
_WORDS = {w: i for i, w in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                      "nine", "ten", "eleven", "twelve"])}
_WORD_RX = re.compile(r"\b(" + "|".join(_WORDS) + r")\b", re.I)
_LABEL_STOP = {"oral", "tablet", "capsule", "with", "from", "that", "this", "the", "and", "for", "your", "other"}


@dataclass(frozen=True)
class KeyFacts:
    """What a reply must state first. kind: 'fact' (numbers and dates of the first sentence), 'list'
    (the items of the first list, by citation number) or 'none' (nothing to lead with: a summary,
    catalog text, help)."""

    kind: str
    numbers: frozenset[Decimal] = frozenset()  # must all be stated (bold values, or the sentence's numbers)
    dates: frozenset[dt.date] = frozenset()  # must all be stated
    allowed_numbers: frozenset[Decimal] = frozenset()  # may also appear in the leading sentence
    items: tuple[tuple[int, str], ...] = ()  # (citation number, label) of each listed item


def facts_in(text: str, words: bool = True) -> tuple[set[dt.date], set[Decimal]]:
    """Dates and numbers stated in text (citation markers are not facts; small counts may be words)."""
    dates, rest = extract_dates(_CITE.sub(" ", text))
    numbers = set()
    for m in _NUMBER.finditer(rest):
        try:
            numbers.add(Decimal(m.group(1).replace(",", "") + (m.group(2) or "")).normalize())
        except InvalidOperation:
            continue
    if words:
        numbers |= {Decimal(_WORDS[m.group(1).lower()]) for m in _WORD_RX.finditer(rest)}
    return dates, numbers


def sentences(text: str) -> list[str]:
    """Sentences and lines of text, in order (empty ones dropped)."""
    return [s for s in _SENTENCE.split(text) if s.strip()]


def key_facts(answer: Answer, intent: str = "") -> KeyFacts:
    """The headline facts of a template answer: what its first paragraph states as the answer."""
    if intent == "record_summary" or not answer.citations:
        return KeyFacts("none")
    first = answer.text.strip().split("\n\n")[0]
    bullets = [line for line in first.splitlines() if _BULLET.match(line)]
    if bullets:
        by_n = {c.n: c.label for c in answer.citations}
        ns = [n for line in bullets for n in cited_numbers(line)[:1]]
        head = first[: _BULLET.search(first).start()]  # type: ignore[union-attr]  # bullets exist
        return KeyFacts("list", allowed_numbers=frozenset(facts_in(head)[1]),
                        items=tuple((n, by_n.get(n, "")) for n in dict.fromkeys(ns)))
    lead = sentences(first)[0]
    dates, numbers = facts_in(lead)
    bold = [facts_in(b)[1] for b in _BOLD.findall(lead)]
    required = set().union(*bold) if any(bold) else numbers
    if not dates and not required:
        return KeyFacts("none")
    return KeyFacts("fact", frozenset(required), frozenset(dates), frozenset(numbers))


def _key_word(label: str) -> str:
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z-]{3,}", label) if w.lower() not in _LABEL_STOP]
    return words[0].lower() if words else ""


def _mentions(text: str, n: int, label: str, cited: set[int], shared: set[str]) -> bool:
    """Whether an item is stated: by its citation, or by its name when no other item shares it."""
    if n in cited:
        return True
    word = _key_word(label)
    return bool(word) and word not in shared and word in text.lower()


def check_labels(llm_text: str, answer: Answer) -> list[str]:
    """A claim cited [n] that names another record's label (and not its own) moves a fact onto the wrong
    record: 'a quadrivalent, preservative free flu shot on <the latest date> [1]' when [1] was another
    product. Only exact labels are compared, so a paraphrase is not flagged."""
    by_n = {c.n: c.label.lower() for c in answer.citations if c.label}
    out = []
    for claim, ns in claims(llm_text):
        low, own = claim.lower(), [by_n[n] for n in ns if n in by_n]
        if not own or any(label in low for label in own):
            continue
        others = {label for m, label in by_n.items() if m not in ns and label in low
                  and not any(label in o for o in own)}
        if others:
            out.append(f"misattributed_label: {sorted(others)[0]!r} is not what [{', '.join(map(str, ns))}] records")
    return out


def check_headline(llm_text: str, answer: Answer, intent: str = "") -> list[str]:
    """Violations ('headline_missing: ...', 'headline_other: ...'); empty when the reply leads with
    the computed answer."""
    facts = key_facts(answer, intent)
    labels = check_labels(llm_text, answer)
    if facts.kind == "none" or labels:
        return labels
    if facts.kind == "list":
        cited = set(cited_numbers(llm_text))
        words = Counter(_key_word(label) for _n, label in facts.items)
        shared = {w for w, k in words.items() if k > 1}
        missing = [f"[{n}]" for n, label in facts.items if not _mentions(llm_text, n, label, cited, shared)]
        found = _BULLET.search(llm_text)
        head = llm_text[: found.start()] if found else (sentences(llm_text) or [""])[0]
        counts = sorted(str(n) for n in facts_in(head)[1] - facts.allowed_numbers)  # "(5):" over four items
        out = [f"headline_missing: listed item {', '.join(missing)} not stated"] if missing else []
        return out + ([f"headline_other: {', '.join(counts)} stated as the count"] if counts else [])
    lead = next((s for s in sentences(llm_text) if any(facts_in(s))), "")
    if not lead:
        return ["headline_missing: the reply states no fact"]
    dates, numbers = facts_in(lead)
    out = []
    lost = sorted(str(d) for d in facts.dates - dates) + sorted(str(n) for n in facts.numbers - numbers)
    if lost:
        out.append(f"headline_missing: {', '.join(lost)} not in the first sentence")
    # Template counts may be written as digits or words, so words are allowed extras, never required ones.
    other = sorted(str(d) for d in dates - facts.dates)
    other += sorted(str(n) for n in facts_in(lead, words=False)[1] - facts.allowed_numbers)
    if other:
        out.append(f"headline_other: {', '.join(other)} stated as the answer")
    return out
