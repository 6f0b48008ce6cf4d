"""Grounding check for LLM text: it may only restate what the grounded template answer already said.

Extends the output guard (guards.check_output: diagnostic claims, dose directives, numbers and dates
not in the evidence, after normalising 7.20 == 7.2, "March 5, 2024" == "2024-03-05" == "3/5/2024" and
rounding to the shown precision) with what an LLM adds as failure modes: citations that do not resolve,
no citations at all, and medicine names that are not in the evidence. Any violation means the text is
not shown; an error inside the check fails closed.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Protocol

from pydantic import BaseModel

from healthcoach.compose.citations import Citation, fmt_date, fmt_when
from healthcoach.compose.safe_text import quotable_text
from healthcoach.compose.templates import Answer, number_tokens
from healthcoach.guardrails.output import OutputCheck
from healthcoach.knowledge.drugs import packaged_drugs
from healthcoach.records.models import Record
from healthcoach.records.render import describe

log = logging.getLogger(__name__)

# "[3]", "[1, 4]", "[2-5]", "[1][2]": every number must be one of the answer's citations.
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CITE = re.compile(r"\[\s*(\d+(?:\s*[,;–-]\s*\d+)*)\s*\]")


class GroundingResult(BaseModel, frozen=True):
    """Whether LLM text may be shown; violations read 'kind: detail'."""

    ok: bool
    violations: list[str]

    @property
    def first_kind(self) -> str:
        """The kind of the first violation ('ungrounded_number'), or '' when ok."""
        return self.violations[0].split(":")[0] if self.violations else ""


class OutputChecker(Protocol):
    """The part of Guardrails the grounding check uses (diagnosis, dose and number/date checks, and the
    meaning check of treatment and dose instructions)."""

    def check_output(self, text: str, evidence: str, allowed_numbers: Iterable[str] = ()) -> OutputCheck: ...

    def check_meaning(self, text: str, quotable: str = "", vetted: str = "") -> OutputCheck: ...


def citation_row(c: Citation) -> str:
    """'2026-10-08 (October 8, 2026) | label | value | unit | source': a citation's facts as text."""
    when = c.date or "unknown date"
    if c.date:
        with contextlib.suppress(ValueError):  # a partial date ('2024-03') is shown as written
            when = f"{c.date} ({fmt_date(date.fromisoformat(c.date))})"
    return " | ".join([when, c.label, c.value or "", c.unit or "", c.source])


def answer_evidence(answer: Answer) -> str:
    """Everything the model was shown or may legitimately restate: the checked template text, the
    cited rows, the general (catalog) text, and what the cited records state."""
    parts = [answer.text, answer.general_text]
    parts += [citation_row(c) for c in answer.citations]
    parts.append(evidence_text(answer.records))
    return "\n".join(p for p in parts if p)


def evidence_text(records: Sequence[Record]) -> str:
    """Everything the cited records state, with dates in every format the composer writes."""
    parts = []
    for r in records:
        parts.append(describe(r))
        parts.append(r.model_dump_json(exclude={"source", "user_id", "id"}))
        if r.date:
            parts.append(f"{r.date.isoformat()} {fmt_date(r.date)} {fmt_when(r)}")
    return "\n".join(parts)


def cited_numbers(text: str) -> list[int]:
    """Every citation number in text, ranges expanded ('[2-4]' → 2, 3, 4)."""
    out: list[int] = []
    for m in _CITE.finditer(text):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            bounds = [int(x) for x in re.split(r"\s*[–-]\s*", part)]
            lo, hi = min(bounds), max(bounds)
            # A huge range ("[1-999]") is not expanded: its ends are checked, which already fails it.
            out.extend(range(lo, hi + 1) if hi - lo <= 50 else [lo, hi])
    return out


def claims(text: str) -> list[tuple[str, list[int]]]:
    """(claim, citation numbers) pairs: each marker binds the text before it, back to the previous
    marker or the start of its sentence. Adjacent markers ("6.1% [1][2]") share one claim."""
    out: list[tuple[str, list[int]]] = []
    for sentence in _SENTENCE.split(text):
        start = 0
        for m in _CITE.finditer(sentence):
            segment, ns = sentence[start:m.start()], cited_numbers(m.group(0))
            if out and start and not segment.strip(" ,;:*"):
                out[-1] = (out[-1][0], out[-1][1] + ns)
            else:
                out.append((segment, ns))
            start = m.end()
    return out


def own_words(text: str, evidence: str) -> str:
    """Text without verbatim quotes from the evidence ("Take 1 tablet daily" as prescribed), for
    template answers and LLM text alike: quoting a prescription reports the record; it is not a dose
    directive. Only exact quotes are dropped; anything paraphrased (in the coach's own words) is still
    checked."""
    return re.sub(r'"([^"\n]{1,400})"', lambda m: '""' if m.group(1) in evidence else m.group(0), text)


def medication_names(text: str) -> set[str]:
    """Words in text that name a medicine (by generic stem or a list of common names), lowercased."""
    names, stems = packaged_drugs()  # knowledge/drugs.yaml
    words = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z-]+", text)}
    found = {w for w in words if w in names}
    found |= {m.group(0).lower() for m in stems.finditer(text)}
    return found


def check_grounding(llm_text: str, answer: Answer, guards: OutputChecker) -> GroundingResult:
    """Violations in LLM text against the answer it rephrases (fails closed on any internal error)."""
    try:
        return _check(llm_text, answer, guards)
    except Exception:  # an unchecked text is never shown
        log.exception("grounding check failed; rejecting LLM text")
        return GroundingResult(ok=False, violations=["grounding_error: the check raised"])


def _check(llm_text: str, answer: Answer, guards: OutputChecker) -> GroundingResult:
    text = llm_text.strip()
    if not text:
        return GroundingResult(ok=False, violations=["empty: the model wrote nothing"])
    violations: list[str] = []
    evidence = answer_evidence(answer)
    # Diagnosis and dose language, and every number/date against the evidence: the output guard's
    # rules, shared with the template path so both modes enforce one policy.
    allowed = number_tokens(answer.computed)
    guard = guards.check_output(own_words(text, evidence), evidence, allowed)
    violations += guard.violations
    # What the text means, whatever its words: a model that obeys an instruction hidden in a record
    # paraphrases it ("use twice your usual amount of insulin"); no such sentence passes.
    quotable = "\n".join([quotable_text(answer.records), *(c.value or "" for c in answer.citations)])
    violations += guards.check_meaning(text, quotable, answer.general_text).violations
    known = {c.n for c in answer.citations}
    cited = cited_numbers(text)
    violations += [f"unresolved_citation: [{n}]" for n in sorted(set(cited) - known)]
    # A reply about records that cites nothing cannot be traced to them (and may silently
    # contradict them: "you have no A1c results"), so it is not shown.
    if known and not cited:
        violations.append("missing_citation: the answer cites records but the text cites none")
    violations += _misattributed(text, answer, guards, allowed, known)
    low_evidence = evidence.lower()
    for name in sorted(medication_names(text)):
        if name not in low_evidence:
            violations.append(f"ungrounded_medication: {name}")
    return GroundingResult(ok=not violations, violations=violations)


def _misattributed(text: str, answer: Answer, guards: OutputChecker, allowed: set[str], known: set[int]) -> list[str]:
    """Numbers and dates in a cited claim must come from the records it cites (or the template's own
    counts). Catches a value moved onto the wrong result: SmolLM2 wrote "6.2 % on October 8, 2026 [1]"
    when [1] is 6.1 % and 6.2 % belongs to an older result; every number alone is in the evidence."""
    by_n = {c.n: c for c in answer.citations}
    records = {r.id: r for r in answer.records}
    out: list[str] = []
    for claim, ns in claims(text):
        cited = [by_n[n] for n in ns if n in known]
        if not cited or not claim.strip():
            continue
        parts = [citation_row(c) for c in cited]
        parts += [describe(r) + " " + r.model_dump_json(exclude={"source", "user_id", "id"})
                  for c in cited if (r := records.get(c.record_id)) is not None]
        check = guards.check_output(claim, "\n".join(parts), allowed)
        marker = "[" + ", ".join(str(c.n) for c in cited) + "]"
        for v in check.violations:
            kind, _, detail = v.partition(":")
            if kind in ("ungrounded_number", "ungrounded_date"):
                out.append(f"misattributed_{kind.split('_')[1]}: {detail.strip()} is not in {marker}")
            elif kind == "guard_error":
                out.append(v)
    return out
